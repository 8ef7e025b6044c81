"""Writes of Consultation desk: keyword-only functions, one transaction each, returning the model.

Capacity. A place is taken with one conditional UPDATE of the session row
(`booked = booked + 1 WHERE status = 'scheduled' AND booked < capacity - held_for_vip`). On
Postgres concurrent UPDATEs of the same row wait for each other and re-check the WHERE clause on
the committed row (READ COMMITTED), so 20 consultants pressing "book" for the last place get one
booking: the others update 0 rows and are told the place was just taken. No lock is held beyond
the booking's own transaction; the check constraint `session_not_overbooked` is the last guard.

Reschedule. A booking is moved to the other session (same row, an event records from/to), not
cancelled and re-created: the client has one appointment whose history stays on one page, the
slip and the timeline keep the same number, and the conversion figures count one booking. The
reminder's idempotency key names the session, so the moved booking gets a fresh reminder.
"""

import datetime
import functools
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ExpressionWrapper, F, IntegerField, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt import consent
from clientmgmt import services as client_services
from clientmgmt.selectors import consent_recorded
from messaging import rules as messaging_rules
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose, SmsTemplate
from zhongdu import phones, vms
from zhongdu.models import ClinicSession
from zhongdu.roles import CONSULTANT
from zhongdu.services import create_once, notify_role
from zhongdu.workcalendar import WorkCalendar

from .models import Booking, BookingEvent, BookingPolicy, Enquiry, PublicRequestAttempt, Recall

logger = logging.getLogger(__name__)
Status = Booking.Status

# Every allowed move, in one place. The front desk's check-in sets ARRIVED; the end-of-day sweep
# sets NO_SHOW. Cancelled, arrived and no-show are final: a no-show who comes back is rebooked.
TRANSITIONS: dict[str, set[str]] = {
    Status.BOOKED: {Status.ARRIVED, Status.CANCELLED, Status.NO_SHOW},
    Status.ARRIVED: set(),
    Status.CANCELLED: set(),
    Status.NO_SHOW: set(),
}

REMINDER_HOUR = 18  # the evening before, hospital time


def booking_policy_set_vip_share(*, percent: int) -> BookingPolicy:
    """The share of each session held for VIPs, as the VIP policy in force says."""
    policy = BookingPolicy.current()
    if policy.vip_share_percent != percent:
        policy.vip_share_percent = percent
        policy.save()
    return policy


class SessionFull(ValidationError):
    """The place was just taken (or the session closed). `alternatives` are the next free ones."""

    def __init__(self, message, *, alternatives=()):
        super().__init__(message, code="session_full")
        self.alternatives = list(alternatives)


class IllegalTransition(ValidationError):
    pass


# --- Capacity -----------------------------------------------------------------------


def _take_place(*, session_id: int, vip: bool) -> bool:
    """One conditional UPDATE; True if a place was taken. Call inside the booking's transaction."""
    rows = ClinicSession.objects.filter(pk=session_id, status=ClinicSession.Status.SCHEDULED)
    if vip:
        rows = rows.filter(booked__lt=F("capacity"))
    else:
        share = BookingPolicy.current().vip_share_percent
        # Integer division on both Postgres and SQLite: the held places are rounded down.
        free_for_all = ExpressionWrapper(
            F("capacity") - F("capacity") * Value(share) / Value(100), output_field=IntegerField()
        )
        rows = rows.filter(booked__lt=free_for_all)
    return rows.update(booked=F("booked") + 1) == 1


def _give_back_place(*, session_id: int) -> None:
    ClinicSession.objects.filter(pk=session_id, booked__gt=0).update(booked=F("booked") - 1)


def _session_full(session, *, client, vip) -> SessionFull:
    from .selectors import sessions_next_free  # selectors import services' constants

    return SessionFull(
        _("That place was just taken. Please choose another session."),
        alternatives=sessions_next_free(session=session, vip=vip),
    )


def _check_vip(*, client, vip: bool) -> None:
    if vip and not client.is_vip:
        raise ValidationError(_("Only VIP clients may book the places held for VIPs."))


# --- Bookings -----------------------------------------------------------------------


def booking_create(
    *,
    client,
    session,
    kind: str,
    by,
    vip: bool = False,
    note: str = "",
    enquiry: Enquiry | None = None,
    request_key: str = "",
    source: str = Booking.Source.DESK,
) -> Booking:
    """Book `client` into `session`, or raise SessionFull with the next free sessions.

    VIP bookings may use the places held back for VIPs and are marked priority. `enquiry` is the
    enquiry the booking is made from (the call screen's "booked"): it must be the client's, or a
    prospect's from the client's number, which the booking attaches to the client. The analysis
    counts a linked enquiry as converted (consult.stats). The same form sent twice
    (`request_key`, its one-time key) returns the booking it made the first time. A booking the
    client made on the portal (`source`) is told to the consultants at once (booking_tell_desk).
    """
    _check_vip(client=client, vip=vip)
    if source not in Booking.Source.values:
        raise ValidationError(_("Unknown source of booking."))
    if kind not in Booking.Kind.values:
        raise ValidationError(_("Unknown kind of booking."))
    if enquiry is not None and not enquiry.is_from(client):
        raise ValidationError(_("That enquiry is not from this client."))
    write = functools.partial(
        _booking_write,
        client=client,
        session=session,
        kind=kind,
        by=by,
        vip=vip,
        note=note,
        enquiry=enquiry,
        request_key=request_key,
        source=source,
    )
    return create_once(Booking, request_key, write)[0]


def _booking_write(
    *, client, session, kind, by, vip, note, enquiry, request_key, source
) -> Booking:
    try:
        with transaction.atomic():
            if not _take_place(session_id=session.pk, vip=vip):
                raise _session_full(session, client=client, vip=vip)
            booking = Booking.objects.create(
                client=client,
                session=session,
                kind=kind,
                priority=vip,
                note=note[:300],
                enquiry=enquiry,
                created_by=by,
                request_key=request_key,
                source=source,
            )
            BookingEvent.objects.create(
                booking=booking,
                action=BookingEvent.Action.CREATED,
                to_status=Status.BOOKED,
                to_session=session,
                actor=by,
            )
            booking.session.refresh_from_db(fields=["booked"])
            _sms_confirmation(booking)
            _reminder(booking)
            _recalls_rebooked(booking)
            enquiries_attach_to_client(client=client)
            if source == Booking.Source.PORTAL:
                booking_tell_desk(booking=booking, text=gettext_lazy("Booked online"))
    except IntegrityError:
        raise ValidationError(_("This client already has a booking in this session.")) from None
    return booking


def booking_set_status(*, booking, new_status: str, by, detail: str = "") -> Booking:
    """Move a booking to `new_status` and record the change. Cancelling gives the place back and
    cancels the messages not sent yet, in the same transaction.

    Locks the booking row (SELECT ... FOR UPDATE) so that two people cancelling at once give the
    place back once.
    """
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if new_status not in TRANSITIONS.get(locked.status, set()):
            raise IllegalTransition(
                _("A booking cannot go from %(from)s to %(to)s.")
                % {"from": Status(locked.status).label, "to": Status(new_status).label}
            )
        from_status = locked.status
        fields = {"status": new_status, "updated_at": timezone.now()}
        if new_status == Status.CANCELLED:
            fields["cancel_reason"] = detail[:200]
            _give_back_place(session_id=locked.session_id)
            _sms_cancel(locked, detail=_("Booking cancelled"), actor=by)
        Booking.objects.filter(pk=locked.pk).update(**fields)
        BookingEvent.objects.create(
            booking=locked,
            action=BookingEvent.Action.STATUS,
            from_status=from_status,
            to_status=new_status,
            detail=detail[:300],
            actor=by,
        )
    booking.refresh_from_db()
    return booking


def booking_cancel(*, booking, reason: str, by) -> Booking:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the cancellation."))
    return booking_set_status(booking=booking, new_status=Status.CANCELLED, by=by, detail=reason)


def booking_reschedule(*, booking, session, by, reason: str) -> Booking:
    """Move a live booking to another session: take a place there, give the old one back, cancel
    the old reminder and queue a fresh one; all in one transaction. The reason is required (the
    history says why the appointment moved), as for a cancellation."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for moving the booking."))
    if session.pk == booking.session_id:
        raise ValidationError(_("Choose a different session."))
    try:
        with transaction.atomic():
            locked = Booking.objects.select_for_update().select_related("client").get(pk=booking.pk)
            if locked.status != Status.BOOKED:
                raise IllegalTransition(_("Only a booked appointment can be rescheduled."))
            vip = locked.priority and locked.client.is_vip
            if not _take_place(session_id=session.pk, vip=vip):
                raise _session_full(session, client=locked.client, vip=vip)
            old_session_id = locked.session_id
            _give_back_place(session_id=old_session_id)
            _sms_cancel_reminders(locked, detail=_("Booking rescheduled"), actor=by)
            Booking.objects.filter(pk=locked.pk).update(session=session, updated_at=timezone.now())
            BookingEvent.objects.create(
                booking=locked,
                action=BookingEvent.Action.RESCHEDULED,
                from_status=Status.BOOKED,
                to_status=Status.BOOKED,
                from_session_id=old_session_id,
                to_session=session,
                detail=reason[:300],
                actor=by,
            )
            locked.refresh_from_db()
            _reminder(locked)
    except IntegrityError:
        raise ValidationError(_("This client already has a booking in this session.")) from None
    booking.refresh_from_db()
    return booking


def booking_tell_desk(*, booking, text) -> int:
    """Tell every consultant at once (the badge of their in-app notifications, on every page)
    of a booking the client made or changed themselves on the portal: `text` (what happened, a
    lazy string), the date, time and department, with a link to the booking; in the hospital's
    language, whichever language the client reads. Call it inside the change's transaction: a
    change that rolls back tells nobody. Returns how many were told."""
    session = booking.session
    with translation.override(settings.LANGUAGE_CODE):
        line = _(
            "%(what)s on the online portal: %(date)s %(time)s %(department)s (booking #%(id)s)"
        ) % {
            "what": str(text),
            "date": f"{session.date:%Y-%m-%d}",
            "time": f"{session.start_time:%H:%M}",
            "department": session.department.name,
            "id": booking.pk,
        }
    return notify_role(role=CONSULTANT, text=line, url=booking.get_absolute_url())


# --- SMS ----------------------------------------------------------------------------


def _confirmation_key(booking_id) -> str:
    return f"booking:{booking_id}:confirmation"


def _reminder_key(booking) -> str:
    """`booking:<id>:reminder:<session id>`: a moved booking gets a fresh reminder. A booking
    moved back to a session it had before finds that key cancelled (cancelled is final), so the
    key then also names the number of moves."""
    key = f"booking:{booking.pk}:reminder:{booking.session_id}"
    if OutboxMessage.objects.filter(idempotency_key=key).exists():
        moves = booking.events.filter(action=BookingEvent.Action.RESCHEDULED).count()
        key = f"{key}:{moves}"
    return key


def session_starts_at(session) -> datetime.datetime:
    tz = timezone.get_default_timezone()
    return datetime.datetime.combine(session.date, session.start_time, tzinfo=tz)


def reminder_due_at(session) -> datetime.datetime:
    """18:00 hospital time on the day before the session."""
    tz = timezone.get_default_timezone()
    day_before = session.date - datetime.timedelta(days=1)
    return datetime.datetime.combine(day_before, datetime.time(REMINDER_HOUR), tzinfo=tz)


def _sms_values(booking) -> dict:
    session = booking.session
    return {
        "name": booking.client.name,
        "date": f"{session.date:%Y-%m-%d}",
        "time": f"{session.start_time:%H:%M}",
        "department": session.department.name,
        "floor": session.department.floor,
        "expert": session.expert.name,
    }


def _template_available(code: str) -> bool:
    if SmsTemplate.objects.filter(code=code, active=True).exists():
        return True
    logger.info("No active SMS template %s: booking message skipped", code)
    return False


def _sms_confirmation(booking) -> None:
    if not _template_available("booking_confirmation"):
        return
    messaging.outbox_enqueue(
        idempotency_key=_confirmation_key(booking.pk),
        purpose=Purpose.BOOKING_CONFIRMATION,
        client=booking.client,
        template_code="booking_confirmation",
        values=_sms_values(booking),
        expires_at=session_starts_at(booking.session),
    )


# The voice reminder's template (a voice template: the TTS code approved at the voice provider).
VOICE_REMINDER_TEMPLATE = "booking_reminder_voice"


def reminder_by_voice(client) -> bool:
    """Does the client's booking reminder go by telephone (语音通知)? For a client who chose
    voice notifications, or who has no mobile to text (only a landline) and did not refuse
    them; only to numbers the voice service calls (the mainland's)."""
    if not vms.serves(client.phone):
        return False
    recorded = consent_recorded(client, consent.SERVICE_VOICE)
    return recorded is True or (recorded is None and not phones.classify(client.phone).mobile)


def _reminder(booking) -> None:
    """A reminder the evening before; none when that evening has passed (the confirmation that
    was just sent says the same thing). By voice for the clients it suits (reminder_by_voice);
    when the voice template cannot be read (not approved at the provider, no TTS code, none
    at all) the reminder falls back to SMS, or, for a client with no mobile to text, to a call
    by staff (a callback task)."""
    due = reminder_due_at(booking.session)
    if due <= timezone.now():
        return
    client = booking.client
    key = _reminder_key(booking)
    written = {
        "purpose": Purpose.BOOKING_REMINDER,
        "client": client,
        "values": _sms_values(booking),
        "send_after": due,
        "expires_at": session_starts_at(booking.session),
    }
    if reminder_by_voice(client):
        if messaging.template_available(VOICE_REMINDER_TEMPLATE):
            message = messaging.outbox_enqueue(
                idempotency_key=key, template_code=VOICE_REMINDER_TEMPLATE, **written
            )
            if message.held and message.error_code == messaging_rules.NOT_APPROVED:
                # Recorded as such on the voice message: the SMS, or staff, take over.
                reminder_voice_fallback(message)
            return
        if not phones.classify(client.phone).mobile:
            _reminder_by_staff(booking, due)
            return
    if not _template_available("booking_reminder"):
        return
    messaging.outbox_enqueue(idempotency_key=key, template_code="booking_reminder", **written)


def _reminder_by_staff(booking, due) -> None:
    """No voice template to read and no mobile to text: staff call the client (one open
    callback task per number, however often asked)."""
    callback_for_caller(
        phone=booking.client.phone, at=timezone.now(), due_at=due, client=booking.client
    )


def reminder_voice_fallback(message) -> None:
    """A voice reminder held as not approved (as it was written, or as it was to be called: its
    template refused at the provider since; messaging.services.register_voice_fallback): the
    SMS reminder at the same time, or a call by staff for a client with no mobile. Safe to run
    again (the SMS's key derives from the voice one; one open callback task per number)."""
    from .selectors import booking_for_reminder  # imported where used, as _session_full does

    booking = booking_for_reminder(message.idempotency_key)
    if booking is None or booking.status != Status.BOOKED:
        return
    due = max(message.send_after, timezone.now())
    if not phones.classify(booking.client.phone).mobile:
        _reminder_by_staff(booking, due)
        return
    if not _template_available("booking_reminder"):
        return
    messaging.outbox_enqueue(
        idempotency_key=messaging.voice_fallback_key(message.idempotency_key),
        purpose=Purpose.BOOKING_REMINDER,
        client=booking.client,
        template_code="booking_reminder",
        values=_sms_values(booking),
        send_after=due,
        expires_at=message.expires_at or session_starts_at(booking.session),
    )


def booking_confirm(*, booking, by=None, detail: str = "") -> bool:
    """The client confirmed they will come (pressed 1 on the reminder call): recorded on the
    booking's history once per session. False when nothing was recorded: already confirmed for
    this session, or the booking is no longer booked (cancelled, moved on)."""
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != Status.BOOKED:
            return False
        confirmed = locked.events.filter(
            action=BookingEvent.Action.CONFIRMED, to_session_id=locked.session_id
        )
        if confirmed.exists():
            return False
        BookingEvent.objects.create(
            booking=locked,
            action=BookingEvent.Action.CONFIRMED,
            to_session_id=locked.session_id,  # confirmed for this session, not a later one
            detail=detail[:300],
            actor=by,
        )
    return True


def _sms_cancel_reminders(booking, *, detail, actor) -> None:
    keys = OutboxMessage.objects.filter(
        idempotency_key__startswith=f"booking:{booking.pk}:reminder:",
        status=OutboxMessage.Status.PENDING,
    ).values_list("idempotency_key", flat=True)
    for key in list(keys):
        messaging.outbox_cancel(idempotency_key=key, detail=detail, actor=actor)


def _sms_cancel(booking, *, detail, actor) -> None:
    """A cancelled booking gets no reminder, nor its confirmation if that has not gone yet."""
    messaging.outbox_cancel(
        idempotency_key=_confirmation_key(booking.pk), detail=detail, actor=actor
    )
    _sms_cancel_reminders(booking, detail=detail, actor=actor)


# --- Enquiries ----------------------------------------------------------------------

# The public booking-request page: at most this many submissions an hour from one address,
# and for one phone number (a person may correct a typo, not flood the queue).
PUBLIC_LIMIT_PER_IP = 5
PUBLIC_LIMIT_PER_PHONE = 3
PUBLIC_LIMIT_WINDOW = datetime.timedelta(hours=1)


class RateLimited(ValidationError):
    pass


def _check_enquiry(enquiry: Enquiry) -> None:
    if enquiry.client is None and not (enquiry.prospect_name or enquiry.prospect_phone):
        raise ValidationError(_("Enter the caller's name or phone number."))
    if enquiry.outcome == Enquiry.Outcome.CALL_BACK and not enquiry.call_back_date:
        raise ValidationError(_("Give the date to call back."))
    if enquiry.outcome == Enquiry.Outcome.REFERRED and enquiry.referred_expert is None:
        raise ValidationError(_("Choose the expert the caller was referred to."))


def enquiry_create(
    *,
    by,
    outcome: str,
    client=None,
    prospect_name: str = "",
    prospect_phone: str = "",
    contact_channel: str = Enquiry.ContactChannel.PHONE,
    direction: str = Enquiry.Direction.INBOUND,
    marketing_channel=None,
    department=None,
    topic: str = "",
    question: str = "",
    answer: str = "",
    referred_expert=None,
    call_back_date=None,
    duration_seconds: int = 0,
    follows: Enquiry | None = None,
    request_key: str = "",
) -> Enquiry:
    """Record what a consultant did with a caller. A client's enquiry keeps no prospect
    details (the client record has them). `follows` is the queued enquiry this one answers (a
    call-back made, an online request called): it is marked handled in the same transaction.
    The same form sent twice (`request_key`, its one-time key) records one enquiry.

    A prospect who books is first registered through the client form (the view sends the
    consultant there), so the client record is made once, with its duplicate checks.
    """
    if outcome not in Enquiry.Outcome.values:
        raise ValidationError(_("Choose the outcome of the enquiry."))
    enquiry = Enquiry(
        client=client,
        prospect_name="" if client else (prospect_name or "").strip()[:50],
        prospect_phone="" if client else phones.normalise(prospect_phone),
        contact_channel=contact_channel,
        direction=direction,
        marketing_channel=marketing_channel,
        department=department,
        topic=topic[:200],
        question=question,
        answer=answer,
        referred_expert=referred_expert,
        outcome=outcome,
        call_back_date=call_back_date if outcome == Enquiry.Outcome.CALL_BACK else None,
        duration_seconds=max(int(duration_seconds or 0), 0),
        consultant=by,
        request_key=request_key,
    )
    _check_enquiry(enquiry)

    def write():
        enquiry.save()
        if follows is not None:
            enquiry_mark_handled(enquiry=follows, by=by)
        if client is not None:
            enquiries_attach_to_client(client=client)
        return enquiry

    with transaction.atomic():
        return create_once(Enquiry, request_key, write)[0]


def enquiries_attach_to_client(*, client) -> int:
    """A prospect's earlier enquiries from this client's mobile number become the client's (the
    caller was registered since): they count for the client's conversion and show on their
    timeline. Call inside the transaction that books or records for the client. The consents
    the person gave on the public page become the client's, with the notice version they were
    shown and the time they gave them (a later answer on record stays in force); marketing is
    not among them (consent.Purpose.from_public_page: the page does not prove whose number was
    typed), the consultant confirms it with the person."""
    if not client.phone:
        return 0
    theirs = Enquiry.objects.filter(client__isnull=True, prospect_phone=client.phone)
    given = list(
        theirs.exclude(consents={})
        .order_by("created_at")
        .values_list("consents", "notice_version", "created_at")
    )
    attached = theirs.update(client=client, prospect_name="", prospect_phone="")
    for consents, notice_version, at in given:
        for purpose in consents:
            if purpose not in consent.PURPOSES or not consent.PURPOSES[purpose].from_public_page:
                continue
            try:
                client_services.consent_grant(
                    client=client,
                    purpose=purpose,
                    channel=consent.Channel.PUBLIC_PAGE,
                    method=consent.Method.WEB,
                    notice_version=notice_version,
                    at=at,
                )
            except ValidationError:
                continue  # a purpose that needs one the client withdrew: their answer stands
    return attached


def enquiry_mark_handled(*, enquiry: Enquiry, by) -> Enquiry:
    """Take an enquiry off the queue. Idempotent: the first hand to mark it is kept."""
    Enquiry.objects.filter(pk=enquiry.pk, handled=False).update(
        handled=True, handled_at=timezone.now(), handled_by=by
    )
    enquiry.refresh_from_db(fields=["handled", "handled_at", "handled_by"])
    return enquiry


def public_request_allowed(*, ip: str | None, phone: str = "") -> bool:
    """Fewer than the hour's limit of submissions from this address and for this phone."""
    since = timezone.now() - PUBLIC_LIMIT_WINDOW
    recent = PublicRequestAttempt.objects.filter(at__gte=since)
    if ip and recent.filter(ip=ip).count() >= PUBLIC_LIMIT_PER_IP:
        return False
    return not (phone and recent.filter(phone=phone).count() >= PUBLIC_LIMIT_PER_PHONE)


def public_request_attempt(*, ip: str | None, phone: str = "") -> PublicRequestAttempt:
    return PublicRequestAttempt.objects.create(ip=ip, phone=phone[:20])


def enquiry_request_create(
    *,
    name: str,
    phone: str,
    department=None,
    preferred_date=None,
    message: str = "",
    ip=None,
    request_key: str = "",
    consents: dict | None = None,
    notice_version: str = "",
) -> Enquiry:
    """An online booking request from the public page: an unhandled online-form enquiry in the
    consultants' queue, or RateLimited. Never looks the caller up among clients: the page must
    reveal nothing about who is one. The page sent twice (`request_key`, its one-time key) makes
    one request and counts one attempt. The consents given on the page ({purpose: True}, with
    the privacy notice's version shown) stay on the request until it is attached to a client
    (enquiries_attach_to_client)."""
    phone = phones.normalise(phone)
    with transaction.atomic():
        return create_once(
            Enquiry,
            request_key,
            lambda: _request_write(
                name=name,
                phone=phone,
                department=department,
                preferred_date=preferred_date,
                message=message,
                ip=ip,
                request_key=request_key,
                consents={code: True for code, given in (consents or {}).items() if given},
                notice_version=notice_version,
            ),
        )[0]


def _request_write(
    *, name, phone, department, preferred_date, message, ip, request_key, consents, notice_version
):
    if not public_request_allowed(ip=ip, phone=phone):
        raise RateLimited(
            _(
                "We have already received your request. Please wait for our call, "
                "or try again in an hour."
            ),
            code="rate_limited",
        )
    public_request_attempt(ip=ip, phone=phone)
    return Enquiry.objects.create(
        prospect_name=name.strip()[:50],
        prospect_phone=phone,
        contact_channel=Enquiry.ContactChannel.ONLINE_FORM,
        direction=Enquiry.Direction.INBOUND,
        department=department,
        preferred_date=preferred_date,
        question=message,
        request_key=request_key,
        consents=consents,
        notice_version=notice_version[:20],
    )


# --- No-shows and recall ------------------------------------------------------------

# A day is over at this hour, hospital time: the sweep leaves today's bookings alone before it
# (the front desk may still check a late client in).
DAY_OVER_HOUR = 21
NO_SHOW_BATCH = 200
# The third unreachable attempt closes a recall.
RECALL_MAX_ATTEMPTS = 3

RecallStatus = Recall.Status

# Every allowed move of a recall. An unreachable attempt keeps it open (a new date, one more
# attempt); reached waits for the new booking, which rebooks it; rebooked and closed are final.
RECALL_TRANSITIONS: dict[str, set[str]] = {
    RecallStatus.OPEN: {RecallStatus.REACHED, RecallStatus.REBOOKED, RecallStatus.CLOSED},
    RecallStatus.REACHED: {RecallStatus.REBOOKED, RecallStatus.CLOSED},
    RecallStatus.REBOOKED: set(),
    RecallStatus.CLOSED: set(),
}

RECALL_REBOOK = "rebook"
RECALL_CLOSE = "close"


def last_day_over(now=None) -> datetime.date:
    """The last day whose sessions are all over: today from 21:00 hospital time, else
    yesterday."""
    now = timezone.localtime(now)
    if now.hour >= DAY_OVER_HOUR:
        return now.date()
    return now.date() - datetime.timedelta(days=1)


def _recall_for(booking: Booking) -> Recall:
    today = timezone.localdate()
    due = max(booking.session.date + datetime.timedelta(days=1), today)
    recall, _created = Recall.objects.get_or_create(
        booking=booking, defaults={"client_id": booking.client_id, "next_attempt_on": due}
    )
    return recall


def booking_mark_no_shows(*, day: datetime.date, by=None, batch_size: int = NO_SHOW_BATCH) -> int:
    """Every booking still booked for a session on `day` or earlier becomes a no-show (through
    booking_set_status, so it has its history event) with an open recall. Returns the number of
    no-shows made.

    Only days that are over are swept: `day` is brought back to last_day_over(), so a run
    before 21:00 never touches today's bookings. Sessions the hospital cancelled are left
    alone. Safe to re-run and to run twice at once: each booking is locked and re-checked in its
    own transaction, and a recall is made once per booking (one-to-one). Works in batches of
    `batch_size` ids, so a long backlog never holds a large result or a long transaction.
    """
    day = min(day, last_day_over())
    candidates = Booking.objects.filter(status=Status.BOOKED, session__date__lte=day).exclude(
        session__status=ClinicSession.Status.CANCELLED
    )
    done = 0
    last_pk = 0
    while True:
        ids = list(
            candidates.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_pk = ids[-1]
        for booking in Booking.objects.filter(pk__in=ids).select_related("session"):
            try:
                with transaction.atomic():
                    booking_set_status(
                        booking=booking,
                        new_status=Status.NO_SHOW,
                        by=by,
                        detail=_("Not checked in by the end of the day"),
                    )
                    _recall_for(booking)
            except IllegalTransition:
                continue  # checked in or cancelled meanwhile
            done += 1
    # No-shows recorded another way (by hand) get their recall too.
    orphans = Booking.objects.filter(
        status=Status.NO_SHOW, session__date__lte=day, recall__isnull=True
    ).select_related("session")
    while batch := list(orphans[:batch_size]):
        for booking in batch:
            _recall_for(booking)
    if done:
        logger.info("Marked %s bookings up to %s as no-shows", done, day)
    return done


def recall_set_status(*, recall: Recall, new_status: str, by, **fields) -> Recall:
    """Move a locked recall along RECALL_TRANSITIONS and record who did it."""
    if new_status not in RECALL_TRANSITIONS.get(recall.status, set()):
        raise IllegalTransition(
            _("A recall cannot go from %(from)s to %(to)s.")
            % {"from": RecallStatus(recall.status).label, "to": RecallStatus(new_status).label}
        )
    recall.status = new_status
    recall.handled_by = by
    recall.handled_at = timezone.now()
    if new_status != RecallStatus.OPEN:
        recall.next_attempt_on = None
    for name, value in fields.items():
        setattr(recall, name, value)
    recall.save()
    return recall


def _add_note(recall: Recall, note: str, *, by) -> None:
    note = (note or "").strip()
    if not note:
        return
    who = (by.get_full_name() or by.get_username()) if by else ""
    stamp = f"{timezone.localtime():%Y-%m-%d %H:%M} {who}".strip()
    line = f"{stamp}: {note[:500]}"
    recall.notes = f"{recall.notes}\n{line}" if recall.notes else line


def recall_record_attempt(
    *,
    recall: Recall,
    reached: bool,
    by,
    reason: str = "",
    action: str = "",
    note: str = "",
    seen_attempts: int | None = None,
) -> Recall:
    """Record one call to a no-show or a caller.

    Reached: the reason is required and the consultant either rebooks (the recall waits as
    reached until the new booking rebooks it) or closes it. Unreachable: one more attempt and
    the next one tomorrow; the third unreachable attempt closes the recall. `seen_attempts`: the
    attempts the form showed; another attempt recorded since (a double click, a second tab) is
    refused rather than counted twice.
    """
    callback = recall.kind == Recall.Kind.CALLBACK
    if reached and not callback:
        if reason not in Recall.Reason.values:
            raise ValidationError(_("Choose the reason the client gave."))
        if action not in (RECALL_REBOOK, RECALL_CLOSE):
            raise ValidationError(_("Choose whether to rebook the client or close the recall."))
    with transaction.atomic():
        locked = Recall.objects.select_for_update().get(pk=recall.pk)
        if locked.status != RecallStatus.OPEN:
            raise IllegalTransition(_("This recall has already been dealt with."))
        if seen_attempts is not None and seen_attempts != locked.attempts:
            raise IllegalTransition(_("This call was already recorded."))
        locked.attempts += 1
        if locked.first_attempt_at is None:
            locked.first_attempt_at = timezone.now()
        _add_note(locked, note, by=by)
        if reached and callback:
            # Called back: what the caller wanted is recorded on the call screen next.
            recall_set_status(
                recall=locked, new_status=RecallStatus.CLOSED, by=by, reached_at=timezone.now()
            )
        elif reached:
            new_status = RecallStatus.REACHED if action == RECALL_REBOOK else RecallStatus.CLOSED
            recall_set_status(
                recall=locked,
                new_status=new_status,
                by=by,
                reason=reason,
                reached_at=timezone.now(),
            )
        elif locked.attempts >= RECALL_MAX_ATTEMPTS:
            recall_set_status(recall=locked, new_status=RecallStatus.CLOSED, by=by)
        else:
            if callback:
                # A caller who rang is tried again within the working hour.
                locked.due_at = WorkCalendar.load().add_working_hours(
                    timezone.now(), CALLBACK_RETRY_HOURS
                )
                locked.next_attempt_on = timezone.localdate(locked.due_at)
            else:
                locked.next_attempt_on = timezone.localdate() + datetime.timedelta(days=1)
            locked.handled_by = by
            locked.handled_at = timezone.now()
            locked.save()
    recall.refresh_from_db()
    return recall


# --- Callbacks (a voicemail, an abandoned or a missed call of the hotline) -----------------

# An unreachable caller is tried again this many working hours later.
CALLBACK_RETRY_HOURS = 1


def callback_for_caller(*, phone: str, at, due_at, client=None, assign=None) -> Recall | None:
    """The open callback task for the caller on `phone`, made if there is none: one per caller
    however often they rang. None when the caller was reached since `at` (called back, or got
    through on a later call): they are not called again. `assign()` names who the new task goes
    to (or None); it is asked only when a task is made, inside its transaction."""
    if not phone:
        return None
    callbacks = Recall.objects.filter(kind=Recall.Kind.CALLBACK, phone=phone)
    if callbacks.filter(reached_at__gte=at).exists():
        return None
    recall = callbacks.filter(status=RecallStatus.OPEN).first()
    if recall is None:
        try:
            with transaction.atomic():
                recall = Recall.objects.create(
                    kind=Recall.Kind.CALLBACK,
                    phone=phone,
                    client=client,
                    due_at=due_at,
                    next_attempt_on=timezone.localdate(),
                    assigned_to=assign() if assign else None,
                )
        except IntegrityError:  # the caller's other call made it meanwhile
            recall = callbacks.get(status=RecallStatus.OPEN)
    if recall.client_id is None and client is not None:
        recall.client = client
        recall.save(update_fields=["client"])
    return recall


def callbacks_caller_got_through(*, phone: str, at) -> int:
    """The caller on `phone` got through (a later call was answered): their open callback tasks
    are done, and nobody calls them back."""
    if not phone:
        return 0
    done = 0
    with transaction.atomic():
        for recall in Recall.objects.select_for_update().filter(
            kind=Recall.Kind.CALLBACK, phone=phone, status=RecallStatus.OPEN
        ):
            _add_note(recall, _("The caller got through on a later call."), by=None)
            recall_set_status(recall=recall, new_status=RecallStatus.CLOSED, by=None, reached_at=at)
            done += 1
    return done


def recall_close(*, recall: Recall, by, note: str = "") -> Recall:
    """Close a recall that is open or waiting for its new booking (the client will not book)."""
    with transaction.atomic():
        locked = Recall.objects.select_for_update().get(pk=recall.pk)
        _add_note(locked, note, by=by)
        recall_set_status(recall=locked, new_status=RecallStatus.CLOSED, by=by)
    recall.refresh_from_db()
    return recall


def _recalls_rebooked(booking: Booking) -> int:
    """A new booking rebooks the client's recalls still open or waiting (however it was made:
    from the recall page or when the client called in). Inside booking_create's transaction."""
    return Recall.objects.filter(
        client_id=booking.client_id,
        status__in=[RecallStatus.OPEN, RecallStatus.REACHED],
        booking__created_at__lt=booking.created_at,
    ).update(
        status=RecallStatus.REBOOKED,
        rebooking=booking,
        next_attempt_on=None,
        handled_by=booking.created_by,
        handled_at=timezone.now(),
    )
