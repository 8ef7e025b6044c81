"""Writes of Front desk: keyword-only functions, one transaction each, returning the model.

Arrivals. A booked client is checked in (`visit_check_in`: a visit for the booking, and the
booking set to arrived through the consultation desk's own service, in one transaction); anyone
else is a walk-in (`visit_register_walk_in`). A client has at most one open visit at a time
(a partial unique index), so two clerks registering the same person at the morning peak make one
visit; the second is told where the person already is.

Visit states are a map (VISIT_TRANSITIONS); `visit_set_status` is the one writer of `status`,
stamps the time of each step and appends a VisitEvent.
"""

import calendar
import datetime
import functools
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt.services import client_note_activity
from consult import services as consult
from consult.models import Booking
from referrals.services import referrals_note_arrival
from zhongdu import audit
from zhongdu.models import PriceItem
from zhongdu.services import create_once

from .models import (
    Charge,
    DisplayScreen,
    ExamOrder,
    ExamOrderItem,
    MembershipCard,
    MembershipCardEvent,
    QueueCounter,
    QueueTicket,
    Visit,
    VisitEvent,
)
from .registry import default_escort

Status = Visit.Status

# Every allowed move of a visit, in one place. Triage moves an arrival to waiting (and may send
# someone already waiting elsewhere, which is not a status change). Done and left are final.
VISIT_TRANSITIONS: dict[str, set[str]] = {
    Status.REGISTERED: {Status.WAITING, Status.LEFT},
    Status.WAITING: {Status.WITH_DOCTOR, Status.LEFT},
    Status.WITH_DOCTOR: {Status.DONE},
    Status.DONE: set(),
    Status.LEFT: set(),
}
OPEN_STATUSES = (Status.REGISTERED, Status.WAITING, Status.WITH_DOCTOR)

# The time each status stamps on the visit.
_STAMPS = {
    Status.WAITING: "triaged_at",
    Status.WITH_DOCTOR: "seen_at",
    Status.DONE: "finished_at",
    Status.LEFT: "finished_at",
}


class IllegalTransition(ValidationError):
    pass


class AlreadyHere(ValidationError):
    """The client already has an open visit; `visit` is it."""

    def __init__(self, message, *, visit):
        super().__init__(message, code="already_here")
        self.visit = visit


def _open_visit(client_id) -> Visit | None:
    return Visit.objects.filter(client_id=client_id, status__in=OPEN_STATUSES).first()


def _already_here(client_id) -> AlreadyHere:
    visit = _open_visit(client_id)
    return AlreadyHere(
        _("This client is already here (arrived %(time)s); open their visit instead.")
        % {"time": f"{timezone.localtime(visit.arrived_at):%H:%M}" if visit else ""},
        visit=visit,
    )


def _check_client(client) -> None:
    """Nothing new is written for a record merged into another: the survivor is the person."""
    from clientmgmt.models import Client

    if client.status == Client.Status.MERGED:
        raise ValidationError(
            _("This record was merged into another one; use the surviving record.")
        )


def default_visit_type(client, *, booking=None) -> str:
    """Exam bookings are exams; card-holding members are member visits; anyone seen before
    (an earlier visit, or a last visit on record from before the front desk kept visits) is
    a return visit; everyone else a first visit."""
    if booking is not None and booking.kind == Booking.Kind.EXAM:
        return Visit.Type.EXAM
    if MembershipCard.objects.filter(
        client=client, status=MembershipCard.Status.ACTIVE, valid_until__gte=timezone.localdate()
    ).exists():
        return Visit.Type.MEMBER
    seen_before = client.last_visit_at is not None or Visit.objects.filter(client=client).exists()
    return Visit.Type.RETURN if seen_before else Visit.Type.FIRST


def _categories_for(visit_type: str) -> tuple[str, ...]:
    return ("is_exam_client",) if visit_type == Visit.Type.EXAM else ("is_patient",)


def _create_visit(*, client, by, booking=None, channel=None, request=None, **fields) -> Visit:
    now = timezone.now()
    visit_type = default_visit_type(client, booking=booking)
    if fields.get("escort") is None:
        # A VIP's named escort walks them through (vip registers the hook; guide imports no vip).
        fields["escort"] = default_escort(client)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                client=client,
                booking=booking,
                day=timezone.localdate(now),
                visit_type=visit_type,
                channel=channel if channel is not None else client.source_channel,
                priority=client.is_vip or bool(booking and booking.priority),
                arrived_at=now,
                registered_by=by,
                **fields,
            )
    except IntegrityError:
        raise _already_here(client.pk) from None
    VisitEvent.objects.create(
        visit=visit, action=VisitEvent.Action.ARRIVED, to_status=Status.REGISTERED, actor=by, at=now
    )
    client_note_activity(
        client_id=client.pk, visited_at=now, categories=_categories_for(visit_type)
    )
    # A referred client who comes has arrived (the consultation desk stops calling them).
    referrals_note_arrival(client_id=client.pk)
    audit.record(audit.Action.CREATE, actor=by, obj=visit, request=request)
    return visit


def visit_check_in(*, booking: Booking, by, request=None) -> Visit:
    """A booked client has arrived: a visit for the booking, sent to the booked department and
    expert (triage confirms them), and the booking set to arrived. Only today's live bookings.

    The booking row is locked by the consultation desk's booking_set_status; a second check-in
    of the same booking finds it arrived and is refused (and the one-to-one index would refuse
    a second visit anyway)."""
    session = booking.session
    if session.date != timezone.localdate():
        raise ValidationError(_("Only today's bookings can be checked in."))
    if booking.status != Booking.Status.BOOKED:
        raise IllegalTransition(
            _("This booking is %(status)s; it cannot be checked in.")
            % {"status": booking.get_status_display()}
        )
    if _open_visit(booking.client_id) is not None:
        raise _already_here(booking.client_id)
    with transaction.atomic():
        try:
            consult.booking_set_status(
                booking=booking,
                new_status=Booking.Status.ARRIVED,
                by=by,
                detail=_("Checked in at the front desk"),
            )
        except consult.IllegalTransition:
            raise IllegalTransition(_("This booking has just been checked in.")) from None
        visit = _create_visit(
            client=booking.client,
            booking=booking,
            by=by,
            request=request,
            department=session.department,
            expert=session.expert,
            session=session,
        )
    return visit


def visit_register_walk_in(*, client, by, channel=None, request=None) -> Visit:
    """Someone without a booking today has arrived. A client who does have a live booking today
    is checked in on it instead: the booking is honoured and counted as an arrival."""
    booking = (
        Booking.objects.filter(
            client=client,
            status=Booking.Status.BOOKED,
            session__date=timezone.localdate(),
        )
        .select_related("session__department", "session__expert", "client")
        .order_by("session__start_time")
        .first()
    )
    _check_client(client)
    if booking is not None:
        return visit_check_in(booking=booking, by=by, request=request)
    if _open_visit(client.pk) is not None:
        raise _already_here(client.pk)
    with transaction.atomic():
        return _create_visit(client=client, by=by, channel=channel, request=request)


def _add_event(visit, action, *, by, detail="", from_status="", to_status="", at=None):
    VisitEvent.objects.create(
        visit=visit,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail[:300],
        actor=by,
        at=at or timezone.now(),
    )


def visit_set_status(*, visit: Visit, new_status: str, by, detail: str = "") -> Visit:
    """Move a visit along VISIT_TRANSITIONS, stamp the step's time and record it. Locks the
    visit row, so two clerks pressing the same button move it once."""
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if new_status not in VISIT_TRANSITIONS.get(locked.status, set()):
            raise IllegalTransition(
                _("A visit cannot go from %(from)s to %(to)s.")
                % {"from": Status(locked.status).label, "to": Status(new_status).label}
            )
        if new_status == Status.WAITING and locked.department_id is None:
            raise ValidationError(_("Choose the department first."))
        now = timezone.now()
        from_status = locked.status
        locked.status = new_status
        setattr(locked, _STAMPS[new_status], now)
        locked.save(update_fields=["status", _STAMPS[new_status], "updated_at"])
        if new_status in _CLOSES_TICKET:
            _queue_close(visit_id=locked.pk, status=_CLOSES_TICKET[new_status])
        _add_event(
            locked,
            VisitEvent.Action.STATUS,
            by=by,
            detail=detail,
            from_status=from_status,
            to_status=new_status,
            at=now,
        )
    visit.refresh_from_db()
    return visit


def visit_triage(
    *,
    visit: Visit,
    department,
    by,
    expert=None,
    visit_type: str = "",
    chief_complaint: str = "",
    escort=None,
    request=None,
) -> Visit:
    """Send an arrival to a department (and doctor), with the visit type, the complaint and an
    escort. A first triage moves the visit to waiting; triaging someone already waiting sends
    them elsewhere. The doctor's session today is attached when there is one."""
    if department is None:
        raise ValidationError(_("Choose the department."))
    if expert is not None and not expert.departments.filter(pk=department.pk).exists():
        raise ValidationError(_("This doctor does not work in that department."))
    if visit_type and visit_type not in Visit.Type.values:
        raise ValidationError(_("Unknown visit type."))
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if locked.status not in (Status.REGISTERED, Status.WAITING):
            raise IllegalTransition(
                _("A visit that is %(status)s cannot be triaged.")
                % {"status": Status(locked.status).label}
            )
        locked.department = department
        locked.expert = expert
        locked.session = _session_today(expert=expert, department=department)
        locked.visit_type = visit_type or locked.visit_type
        locked.chief_complaint = (chief_complaint or "").strip()[:200]
        locked.escort = escort
        locked.save()
        ticket = _queue_assign(visit=locked, department=department, expert=expert)
        detail = f"{department.name} ({department.floor}) " + _number(ticket)
        if expert is not None:
            detail += f" · {expert.name}"
        _add_event(locked, VisitEvent.Action.TRIAGED, by=by, detail=detail)
        if locked.status == Status.REGISTERED:
            visit_set_status(visit=locked, new_status=Status.WAITING, by=by)
        categories = _categories_for(locked.visit_type)
        client_note_activity(client_id=locked.client_id, categories=categories)
        audit.record(
            audit.Action.UPDATE,
            actor=by,
            obj=locked,
            fields=["department", "expert", "visit_type", "chief_complaint", "escort"],
            request=request,
        )
    visit.refresh_from_db()
    return visit


# --- Queue numbers and calling ---------------------------------------------------------
# A triaged visit holds one live queue number of its department for the day (QueueTicket); the
# numbers come from a (department, day) counter row taken under its row lock, so two triages at
# once get consecutive numbers. Each change to a department's tickets raises the counter's
# version, which the calling station and the waiting-room display poll (zhongdu.live).

TicketStatus = QueueTicket.Status
LIVE_TICKET_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SKIPPED)

# Every allowed move of a queue number, in one place. A called number may be called again
# (recall); a skipped one is called back with the number it had. Seen and cancelled are final.
TICKET_TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.WAITING: {TicketStatus.CALLED, TicketStatus.SKIPPED, TicketStatus.CANCELLED},
    TicketStatus.CALLED: {
        TicketStatus.CALLED,
        TicketStatus.SKIPPED,
        TicketStatus.DONE,
        TicketStatus.CANCELLED,
    },
    TicketStatus.SKIPPED: {TicketStatus.CALLED, TicketStatus.CANCELLED},
    TicketStatus.DONE: set(),
    TicketStatus.CANCELLED: set(),
}
# The calling station's actions: the status each leaves the number in, and whether it counts as
# a call (the display shows the number as called again).
TICKET_ACTIONS: dict[str, str] = {
    "call": TicketStatus.CALLED,
    "recall": TicketStatus.CALLED,
    "skip": TicketStatus.SKIPPED,
    "done": TicketStatus.DONE,
}
_ACTION_EVENTS = {
    "call": VisitEvent.Action.CALLED,
    "recall": VisitEvent.Action.RECALLED,
    "skip": VisitEvent.Action.SKIPPED,
}
TICKET_ACTION_LABELS = {
    "call": gettext_lazy("called"),
    "recall": gettext_lazy("called again"),
    "skip": gettext_lazy("skipped"),
    "done": gettext_lazy("finished"),
}
# A visit that reaches the doctor or ends otherwise gives its number up.
_CLOSES_TICKET = {
    Status.WITH_DOCTOR: TicketStatus.DONE,
    Status.DONE: TicketStatus.DONE,
    Status.LEFT: TicketStatus.CANCELLED,
}


def _queue_counter_locked(*, department_id, day) -> QueueCounter:
    """The department's counter for the day, locked until the transaction ends: the triages of
    one department take their numbers one after another (other departments do not wait)."""
    rows = QueueCounter.objects.select_for_update().filter(department_id=department_id, day=day)
    counter = rows.first()
    if counter is None:
        try:
            with transaction.atomic():
                QueueCounter.objects.create(department_id=department_id, day=day)
        except IntegrityError:
            pass  # another triage made it a moment ago: wait for its lock below
        counter = rows.get()
    return counter


def _queue_changed(*, department_id, day) -> None:
    """Raise the version of a department's queue: the polls of its station and display see it."""
    QueueCounter.objects.filter(department_id=department_id, day=day).update(
        version=F("version") + 1
    )


def _queue_assign(*, visit: Visit, department, expert) -> QueueTicket:
    """The visit's live number in `department` today: kept when the visit is triaged there again
    (its doctor updated), otherwise the next number of the department, and a number it held
    elsewhere cancelled. Runs inside the triage's transaction, with the visit row locked."""
    day = timezone.localdate()
    live = (
        QueueTicket.objects.select_for_update()
        .filter(visit=visit, status__in=LIVE_TICKET_STATUSES)
        .first()
    )
    if live is not None and live.department_id == department.pk and live.day == day:
        if live.expert_id != (expert.pk if expert else None):
            live.expert = expert
            live.save(update_fields=["expert", "updated_at"])
            _queue_changed(department_id=department.pk, day=day)
        return live
    if live is not None:
        live.status = TicketStatus.CANCELLED
        live.save(update_fields=["status", "updated_at"])
        _queue_changed(department_id=live.department_id, day=live.day)
    counter = _queue_counter_locked(department_id=department.pk, day=day)
    counter.last_number += 1
    counter.version += 1
    counter.save(update_fields=["last_number", "version"])
    return QueueTicket.objects.create(
        visit=visit, department=department, day=day, number=counter.last_number, expert=expert
    )


def _queue_close(*, visit_id, status: str) -> None:
    for ticket in QueueTicket.objects.select_for_update().filter(
        visit_id=visit_id, status__in=LIVE_TICKET_STATUSES
    ):
        ticket.status = status
        ticket.save(update_fields=["status", "updated_at"])
        _queue_changed(department_id=ticket.department_id, day=ticket.day)


def _number(ticket: QueueTicket) -> str:
    return _("No. %(number)s") % {"number": ticket.label}


def ticket_act(
    *, ticket: QueueTicket, action: str, by, seen: str = "", request=None
) -> tuple[QueueTicket, bool]:
    """Call, recall, skip or finish a queue number at the calling station: (the ticket, whether
    this call changed it). Locks the ticket row; `seen` (QueueTicket.state as the page showed it)
    makes a double click or a second clinician pressing the same button change it once. Each
    change is a visit event and an audit row; "done" sends the visit to the doctor."""
    if action not in TICKET_ACTIONS:
        raise ValidationError(_("Unknown action."))
    target = TICKET_ACTIONS[action]
    with transaction.atomic():
        # The visit's row first, then the ticket's: the order triage and the desk's status
        # changes lock them in (visit, then its tickets), so "done" here and a re-triage or
        # "left" at the desk at the same moment wait for each other instead of deadlocking.
        list(Visit.objects.select_for_update().filter(pk=ticket.visit_id).values_list("pk"))
        locked = QueueTicket.objects.select_for_update().select_related("visit").get(pk=ticket.pk)
        if seen and seen != locked.state:
            return locked, False
        allowed = TICKET_TRANSITIONS[locked.status]
        if target not in allowed or (action == "recall") != (locked.status == target):
            raise IllegalTransition(
                _("Number %(number)s is %(status)s: it cannot be %(action)s.")
                % {
                    "number": locked.label,
                    "status": TicketStatus(locked.status).label,
                    "action": TICKET_ACTION_LABELS[action],
                }
            )
        now = timezone.now()
        fields = ["status", "updated_at"]
        locked.status = target
        if target == TicketStatus.CALLED:
            locked.calls += 1
            locked.called_at = now
            locked.called_by = by
            fields += ["calls", "called_at", "called_by"]
        locked.save(update_fields=fields)
        if action in _ACTION_EVENTS:
            _add_event(locked.visit, _ACTION_EVENTS[action], by=by, detail=_number(locked), at=now)
        elif locked.visit.status == Status.WAITING:
            visit_set_status(visit=locked.visit, new_status=Status.WITH_DOCTOR, by=by)
        _queue_changed(department_id=locked.department_id, day=locked.day)
        audit.record(
            audit.Action.UPDATE,
            actor=by,
            obj=locked,
            fields=[name for name in fields if name != "updated_at"],
            reason=action,
            request=request,
        )
    return locked, True


def display_screen_create(*, name: str, department, by, request_key: str = "", request=None):
    """A waiting-room screen's link for a department (its token unguessable); one per form."""

    def create():
        screen = DisplayScreen.objects.create(
            name=name.strip()[:60], department=department, created_by=by, request_key=request_key
        )
        audit.record(audit.Action.CREATE, actor=by, obj=screen, request=request)
        return screen

    screen, _created = create_once(DisplayScreen, request_key, create)
    return screen


def display_screen_revoke(*, screen: DisplayScreen, by, request=None) -> DisplayScreen:
    """The screen's link stops working (404) at once; revoking twice changes nothing."""
    with transaction.atomic():
        revoked = DisplayScreen.objects.filter(pk=screen.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            audit.record(
                audit.Action.UPDATE, actor=by, obj=screen, fields=["revoked_at"], request=request
            )
    screen.refresh_from_db()
    return screen


def _session_today(*, expert, department):
    if expert is None:
        return None
    from zhongdu.models import ClinicSession

    return (
        ClinicSession.objects.filter(
            expert=expert,
            department=department,
            date=timezone.localdate(),
            status=ClinicSession.Status.SCHEDULED,
        )
        .order_by("start_time")
        .first()
    )


# --- Charges ------------------------------------------------------------------------


def _amount(price_item, quantity, amount) -> Decimal:
    if amount is None:
        return (price_item.price * quantity).quantize(Decimal("0.01"))
    if amount < 0:
        raise ValidationError(_("The amount cannot be negative."))
    return Decimal(amount).quantize(Decimal("0.01"))


def charge_add(
    *,
    visit: Visit,
    price_item: PriceItem,
    quantity: int = 1,
    amount: Decimal | None = None,
    by,
    source: str = Charge.Source.DESK,
    reference: str | None = None,
    charged_at=None,
    request_key: str = "",
) -> Charge:
    """One line of a visit's bill: the price-list item times the quantity, or the amount the
    billing system charged (a discount). Left visits and inactive items take no charges. The
    desk's form sent twice (`request_key`, its one-time key) adds one line."""
    if quantity is None or quantity < 1:
        raise ValidationError(_("The quantity must be at least 1."))
    if quantity > 999:
        raise ValidationError(_("The quantity is too large."))
    if not price_item.active:
        raise ValidationError(_("This item is no longer on the price list."))
    if visit.status == Status.LEFT:
        raise ValidationError(_("This client left without being seen: nothing to charge."))

    def write():
        charge = Charge.objects.create(
            visit=visit,
            client_id=visit.client_id,
            price_item=price_item,
            quantity=quantity,
            unit_price=price_item.price,
            amount=_amount(price_item, quantity, amount),
            source=source,
            reference=reference or None,
            charged_at=charged_at or timezone.now(),
            created_by=by,
            request_key=request_key,
        )
        _add_event(
            visit,
            VisitEvent.Action.CHARGE,
            by=by,
            detail=f"{price_item.code} {price_item.name} × {quantity} = ¥{charge.amount}",
        )
        return charge

    with transaction.atomic():
        return create_once(Charge, request_key, write)[0]


def charge_void(*, charge: Charge, reason: str, by, request=None) -> Charge:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for voiding this charge."))
    with transaction.atomic():
        updated = Charge.objects.filter(pk=charge.pk, voided_at__isnull=True).update(
            voided_at=timezone.now(), voided_by=by, void_reason=reason[:200]
        )
        if not updated:
            raise ValidationError(_("This charge has already been voided."))
        _add_event(
            charge.visit,
            VisitEvent.Action.CHARGE_VOIDED,
            by=by,
            detail=f"{charge.price_item.code} ¥{charge.amount}: {reason}",
        )
        audit.record(
            audit.Action.UPDATE,
            actor=by,
            obj=charge,
            fields=["voided_at", "void_reason"],
            reason=reason,
            request=request,
        )
    charge.refresh_from_db()
    return charge


def charges_import(*, rows, by) -> dict:
    """Write the valid rows of a billing file (guide.imports.parse_charges). Each row in its own
    savepoint: a row whose reference was imported meanwhile is counted as a duplicate and the
    others go on. Returns counts by outcome."""
    counts = {"imported": 0, "duplicate": 0, "failed": 0}
    for row in rows:
        if row.errors:
            counts["failed"] += 1
            continue
        try:
            with transaction.atomic():
                charge_add(
                    visit=row.visit,
                    price_item=row.price_item,
                    quantity=row.quantity,
                    amount=row.amount,
                    by=by,
                    source=Charge.Source.IMPORT,
                    reference=row.reference,
                    charged_at=row.charged_at,
                )
        except IntegrityError:
            counts["duplicate"] += 1
        except ValidationError:
            counts["failed"] += 1
        else:
            counts["imported"] += 1
    return counts


# --- Membership cards ---------------------------------------------------------------

CardStatus = MembershipCard.Status

CARD_TRANSITIONS: dict[str, set[str]] = {
    CardStatus.ACTIVE: {CardStatus.SUSPENDED, CardStatus.CANCELLED},
    CardStatus.SUSPENDED: {CardStatus.ACTIVE, CardStatus.CANCELLED},
    CardStatus.CANCELLED: set(),
}
_CARD_ACTIONS = {
    CardStatus.SUSPENDED: MembershipCardEvent.Action.SUSPENDED,
    CardStatus.ACTIVE: MembershipCardEvent.Action.REACTIVATED,
    CardStatus.CANCELLED: MembershipCardEvent.Action.CANCELLED,
}
MAX_CARD_MONTHS = 60


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def card_number_clean(number: str) -> str:
    from clientmgmt.search import CARD_NUMBER

    number = (number or "").strip().replace(" ", "").upper()
    if not CARD_NUMBER.match(number):
        raise ValidationError(
            _("A card number is 1 to 4 letters followed by 4 to 12 digits, e.g. ZD00001234.")
        )
    return number


def _check_months(months: int) -> None:
    if not months or months < 1 or months > MAX_CARD_MONTHS:
        raise ValidationError(
            _("A card is valid for 1 to %(max)s months.") % {"max": MAX_CARD_MONTHS}
        )


def card_issue(
    *,
    client,
    number: str,
    level: str,
    valid_from: datetime.date,
    months: int,
    fee: Decimal,
    by,
    request=None,
    request_key: str = "",
) -> MembershipCard:
    """Issue a membership card: the client becomes a member. The number is the printed card's;
    the database refuses a number in use and a second live card for the client. The same form
    sent twice (`request_key`, its one-time key) returns the card it issued."""
    _check_client(client)
    write = functools.partial(
        _card_issue,
        client=client,
        number=number,
        level=level,
        valid_from=valid_from,
        months=months,
        fee=fee,
        by=by,
        request=request,
        request_key=request_key,
    )
    return create_once(MembershipCard, request_key, write)[0]


def _card_issue(
    *, client, number, level, valid_from, months, fee, by, request, request_key
) -> MembershipCard:
    number = card_number_clean(number)
    _check_months(months)
    if level not in MembershipCard.Level.values:
        raise ValidationError(_("Choose the card level."))
    if fee is None or fee < 0:
        raise ValidationError(_("The fee cannot be negative."))
    if MembershipCard.objects.filter(number=number).exists():
        raise ValidationError({"number": _("This card number is already in use.")})
    live = MembershipCard.objects.filter(
        client=client, status__in=[CardStatus.ACTIVE, CardStatus.SUSPENDED]
    ).first()
    if live is not None:
        raise ValidationError(
            _("This client already holds card %(number)s: renew it instead.")
            % {"number": live.number}
        )
    valid_until = add_months(valid_from, months) - datetime.timedelta(days=1)
    try:
        with transaction.atomic():
            card = MembershipCard.objects.create(
                number=number,
                client=client,
                level=level,
                valid_from=valid_from,
                valid_until=valid_until,
                fee=fee,
                issued_by=by,
                request_key=request_key,
            )
            MembershipCardEvent.objects.create(
                card=card,
                action=MembershipCardEvent.Action.ISSUED,
                fee=fee,
                valid_until=valid_until,
                actor=by,
            )
            client_note_activity(client_id=client.pk, categories=("is_member",))
            audit.record(audit.Action.CREATE, actor=by, obj=card, request=request)
    except IntegrityError:
        # Two clerks issuing at once: the unique indexes decided.
        raise ValidationError(
            _("This card number is in use, or the client was just given a card.")
        ) from None
    return card


def card_renew(*, card: MembershipCard, months: int, fee: Decimal, by, request=None):
    """Extend a live card by `months` from its expiry (or from today if it has run out)."""
    _check_months(months)
    if fee is None or fee < 0:
        raise ValidationError(_("The fee cannot be negative."))
    with transaction.atomic():
        locked = MembershipCard.objects.select_for_update().get(pk=card.pk)
        if locked.status == CardStatus.CANCELLED:
            raise IllegalTransition(_("A cancelled card cannot be renewed; issue a new one."))
        today = timezone.localdate()
        start = max(locked.valid_until + datetime.timedelta(days=1), today)
        locked.valid_until = add_months(start, months) - datetime.timedelta(days=1)
        locked.save(update_fields=["valid_until"])
        MembershipCardEvent.objects.create(
            card=locked,
            action=MembershipCardEvent.Action.RENEWED,
            fee=fee,
            valid_until=locked.valid_until,
            actor=by,
        )
        audit.record(
            audit.Action.UPDATE, actor=by, obj=locked, fields=["valid_until"], request=request
        )
    card.refresh_from_db()
    return card


def card_set_status(
    *, card: MembershipCard, new_status: str, reason: str, by, request=None
) -> MembershipCard:
    """Suspend, reactivate or cancel a card (a reason is required to suspend or cancel)."""
    reason = (reason or "").strip()
    if new_status != CardStatus.ACTIVE and not reason:
        raise ValidationError(_("Give the reason."))
    with transaction.atomic():
        locked = MembershipCard.objects.select_for_update().get(pk=card.pk)
        if new_status not in CARD_TRANSITIONS.get(locked.status, set()):
            raise IllegalTransition(
                _("A card cannot go from %(from)s to %(to)s.")
                % {"from": CardStatus(locked.status).label, "to": CardStatus(new_status).label}
            )
        locked.status = new_status
        locked.save(update_fields=["status"])
        MembershipCardEvent.objects.create(
            card=locked,
            action=_CARD_ACTIONS[new_status],
            reason=reason[:200],
            actor=by,
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"], request=request)
    card.refresh_from_db()
    return card


# --- Exam orders --------------------------------------------------------------------


def exam_order_create(
    *, client, by, package=None, items=(), visit=None, request=None, request_key: str = ""
) -> ExamOrder:
    """An exam card order: the package's examinations plus any chosen singly. Opened during a
    visit, the package (or each single examination) is charged to that visit. The client becomes
    an exam client. The same form sent twice (`request_key`, its one-time key) orders once."""
    _check_client(client)
    chosen = list(package.items.all()) if package is not None else []
    chosen += [item for item in items if item not in chosen]
    if not chosen:
        raise ValidationError(_("Choose a package or at least one examination."))
    if package is not None and not package.active:
        raise ValidationError(_("This package is no longer offered."))
    if visit is not None and visit.client_id != client.pk:
        raise ValidationError(_("This visit is another client's."))

    def write():
        order = ExamOrder.objects.create(
            client=client, package=package, visit=visit, ordered_by=by, request_key=request_key
        )
        ExamOrderItem.objects.bulk_create(
            [ExamOrderItem(order=order, price_item=item) for item in chosen]
        )
        if visit is not None and visit.status != Status.LEFT:
            for price_item in _billable(package, items):
                charge_add(visit=visit, price_item=price_item, by=by)
        client_note_activity(client_id=client.pk, categories=("is_exam_client",))
        audit.record(audit.Action.CREATE, actor=by, obj=order, request=request)
        return order

    with transaction.atomic():
        return create_once(ExamOrder, request_key, write)[0]


def _billable(package, items):
    """What an order costs: the package's own price, plus the examinations added to it singly
    (an examination the package already holds is not charged twice)."""
    billed = []
    included = set(package.items.values_list("pk", flat=True)) if package is not None else set()
    if package is not None:
        billed.append(package.price_item)
    billed += [item for item in items if item.pk not in included]
    return billed


def _lock_open_order(order) -> ExamOrder:
    locked = ExamOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status != ExamOrder.Status.OPEN:
        raise IllegalTransition(
            _("This exam order is %(status)s.") % {"status": locked.get_status_display()}
        )
    return locked


def exam_item_set_done(*, item: ExamOrderItem, done: bool, by) -> ExamOrderItem:
    """Tick an examination off (or undo a tick made by mistake) while the order is open."""
    with transaction.atomic():
        _lock_open_order(item.order)
        ExamOrderItem.objects.filter(pk=item.pk).update(
            done_at=timezone.now() if done else None, done_by=by if done else None
        )
    item.refresh_from_db()
    return item


def exam_order_complete(*, order: ExamOrder, result_summary: str, by, request=None) -> ExamOrder:
    """Every examination done and the result summary written: the order is complete and waits
    for the post-exam health assessment (follow-up takes it up)."""
    result_summary = (result_summary or "").strip()
    if not result_summary:
        raise ValidationError(_("Write the result summary."))
    with transaction.atomic():
        locked = _lock_open_order(order)
        if locked.items.filter(done_at__isnull=True).exists():
            raise ValidationError(_("Tick off every examination before completing the order."))
        locked.status = ExamOrder.Status.COMPLETED
        locked.result_summary = result_summary
        locked.completed_at = timezone.now()
        locked.completed_by = by
        locked.save(update_fields=["status", "result_summary", "completed_at", "completed_by"])
        audit.record(
            audit.Action.UPDATE,
            actor=by,
            obj=locked,
            fields=["status", "result_summary"],
            request=request,
        )
    order.refresh_from_db()
    return order


def exam_order_cancel(*, order: ExamOrder, reason: str, by, request=None) -> ExamOrder:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the cancellation."))
    with transaction.atomic():
        locked = _lock_open_order(order)
        locked.status = ExamOrder.Status.CANCELLED
        locked.cancel_reason = reason[:200]
        locked.save(update_fields=["status", "cancel_reason"])
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"], request=request)
    order.refresh_from_db()
    return order


def exam_order_mark_assessment_started(*, order: ExamOrder) -> bool:
    """Follow-up has taken a completed order up for its health assessment. Idempotent: True only
    for the call that marked it."""
    return bool(
        ExamOrder.objects.filter(
            pk=order.pk, status=ExamOrder.Status.COMPLETED, assessment_started_at__isnull=True
        ).update(assessment_started_at=timezone.now())
    )


def merge_check(survivor, merged) -> None:
    """Refuse a merge the front desk's one-per-client rules could not survive (clientmgmt's
    merge registry calls it before anything moves)."""
    live = [CardStatus.ACTIVE, CardStatus.SUSPENDED]
    both = [survivor.pk, merged.pk]
    if MembershipCard.objects.filter(client_id__in=both, status__in=live).count() > 1:
        raise ValidationError(
            _("Both records hold a live membership card. Cancel one of the cards first.")
        )
    if Visit.objects.filter(client_id__in=both, status__in=OPEN_STATUSES).count() > 1:
        raise ValidationError(
            _("Both records have a visit in progress. Finish one of the visits first.")
        )
