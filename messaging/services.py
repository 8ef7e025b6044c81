"""The outbox: writing messages, moving them through their states, sending them, and hearing
back from the provider.

Sending a message (outbox_send) is three steps, never one transaction:
1. claim the row (pending -> claimed) with a conditional update, committed before anything else,
   so that two workers, a redelivered task or the sweeper can never send it twice;
2. call the provider, outside any transaction;
3. record what happened. A message that was certainly not sent goes back to pending with a
   later send_after (backoff); one that may have been sent becomes `unknown` and is never resent
   without a person checking.
"""

import datetime
import logging
import random
import re
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt import services as client_services
from clientmgmt.consent import MARKETING_SMS, SERVICE_SMS, SERVICE_VOICE
from clientmgmt.selectors import (
    consent_annotations,
    consent_from_row,
    consent_recorded,
    consent_states,
)
from zhongdu import phones, sms, vms
from zhongdu.models import HospitalProfile
from zhongdu.services import create_once

from . import rules
from .models import (
    Campaign,
    Channel,
    InboundMessage,
    Kind,
    OutboxEvent,
    OutboxMessage,
    PhoneOptOut,
    Purpose,
    SmsTemplate,
    voice_marketing_refused,
)

logger = logging.getLogger(__name__)
Status = OutboxMessage.Status

# Every allowed move, in one place. Anything else is refused (IllegalTransition).
TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING: {Status.CLAIMED, Status.CANCELLED, Status.SUPPRESSED},
    Status.CLAIMED: {
        Status.SENT,
        Status.DELIVERED,  # a status callback may overtake our own record of the send
        Status.FAILED,
        Status.UNKNOWN,
        Status.PENDING,  # certainly not sent: try again later
        Status.SUPPRESSED,  # a rule checked at send time says no
    },
    Status.SENT: {Status.DELIVERED, Status.FAILED},
    # The provider's report (by the message's own callback address) or a person who checked
    # the provider's console settles an unknown outcome.
    Status.UNKNOWN: {Status.SENT, Status.DELIVERED, Status.FAILED, Status.PENDING},
    Status.FAILED: {Status.PENDING},  # retried by staff after fixing the number
    Status.DELIVERED: set(),
    # Only a message held as it was written, checked again by staff (outbox_release).
    Status.SUPPRESSED: {Status.PENDING},
    Status.CANCELLED: set(),
}
TERMINAL = {Status.DELIVERED, Status.FAILED, Status.SUPPRESSED, Status.CANCELLED}

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 2
BACKOFF_MAX_SECONDS = 15 * 60


class IllegalTransition(ValidationError):
    pass


def outbox_set_status(
    *,
    message_id: int,
    new_status: str,
    expected=None,
    detail: str = "",
    actor=None,
    durable: bool = True,
    **fields,
) -> bool:
    """Move one message to `new_status` and record the change; True if it moved.

    Nothing changes (False) when the message is not in one of the `expected` states. A move the
    map forbids raises IllegalTransition. With one expected state the move is a single
    conditional UPDATE (the hot path of sending); otherwise the row is locked and read first.

    `durable=False` lets Postgres acknowledge the commit before it reaches the disk. Only for
    the record of a provider's answer: if that commit is lost in a crash, the message stays
    claimed and the sweeper settles it as unknown, which never causes a second send.
    """
    if expected is not None:
        illegal = [state for state in expected if new_status not in TRANSITIONS[state]]
        if illegal:
            raise IllegalTransition(_illegal_message(illegal[0], new_status))
    fields["updated_at"] = timezone.now()
    with transaction.atomic():
        if not durable and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        if expected is not None and len(expected) == 1:
            (from_status,) = expected
            moved = OutboxMessage.objects.filter(pk=message_id, status=from_status).update(
                status=new_status, **fields
            )
            if not moved:
                return False
        else:
            rows = OutboxMessage.objects.select_for_update().filter(pk=message_id)
            from_status = rows.values_list("status", flat=True).get()
            if expected is not None and from_status not in expected:
                return False
            if new_status not in TRANSITIONS[from_status]:
                raise IllegalTransition(_illegal_message(from_status, new_status))
            rows.update(status=new_status, **fields)
        OutboxEvent.objects.create(
            message_id=message_id,
            from_status=from_status,
            to_status=new_status,
            detail=detail[:300],
            actor=actor,
        )
    return True


def _illegal_message(from_status, new_status):
    return _("A message cannot go from %(from)s to %(to)s.") % {
        "from": Status(from_status).label,
        "to": Status(new_status).label,
    }


# --- Writing messages -------------------------------------------------------------


def duty_sms(*, key: str, body: str, enabled: bool | None = None) -> int:
    """Tell the managers on escalation duty by SMS (COMPLAINT_ESCALATION_PHONES, when
    `enabled`: by default COMPLAINT_ESCALATION_SMS, a caller with its own switch passes it):
    one outbox message per configured number, once each (the idempotency key `key` plus the
    number). `body` names no client and no health matter: the manager opens the record in the
    application. Returns how many were enqueued."""
    if enabled is None:
        enabled = settings.COMPLAINT_ESCALATION_SMS
    if not enabled:
        return 0
    sent = 0
    for raw in settings.COMPLAINT_ESCALATION_PHONES:
        try:
            phone = phones.normalise(raw)
        except ValidationError:
            phone = ""
        if not phone:
            logger.warning("COMPLAINT_ESCALATION_PHONES: %r is not a mobile number", raw)
            continue
        # Messages to staff go through the same outbox as the clients' (a message to a member of
        # staff has no client and no consent purpose of its own).
        outbox_enqueue(idempotency_key=f"{key}:{phone}", purpose=Purpose.OTHER, to=phone, body=body)
        sent += 1
    return sent


def outbox_enqueue(
    *,
    idempotency_key: str,
    purpose: str,
    kind: str = Kind.SERVICE,
    client=None,
    to: str = "",
    body: str = "",
    template_code: str = "",
    values: dict | None = None,
    send_after: datetime.datetime | None = None,
    expires_at: datetime.datetime | None = None,
    campaign=None,
    hospital_values: dict | None = None,
) -> OutboxMessage:
    """Write a message to the outbox, once per idempotency key. Call it inside the transaction
    of the business event that causes it; the send is queued only when that transaction commits.
    A sender writing many messages reads the hospital's profile once and passes its
    `hospital_values` (hospital_placeholder_values()).
    """
    template = None
    holes = []
    params = {}
    if template_code:
        template = _template(template_code)
        # The hospital's own values (name, hotline, address ...) come from its profile; a
        # sender's value of the same name wins.
        if hospital_values is None:
            hospital_values = hospital_placeholder_values()
        values = {**hospital_values, **(values or {})}
        holes = template.holes(values)
        # A hole stays visible in the held text ({phone}), so staff see what was missing.
        body = template.render({**values, **{name: f"{{{name}}}" for name in holes}})
        params = template.parameters(values)
        kind = template.kind
    if not body:
        raise ValidationError(_("A message needs a text or a template."))
    channel = template.channel if template else Channel.SMS
    if channel == Channel.VOICE and kind == Kind.MARKETING:
        raise ValidationError(voice_marketing_refused())
    to = to or (client.phone if client else "")
    route, refusal = _route_check(
        to, body=body, template=template, channel=channel, purpose=purpose
    )
    message = OutboxMessage(
        idempotency_key=idempotency_key[:120],
        client=client,
        to=to,
        body=body,
        purpose=purpose,
        kind=kind,
        channel=channel,
        template=template,
        params=params,
        provider_template=template.provider_code if template else "",
        route=route,
        campaign=campaign,
        send_after=send_after or timezone.now(),
        expires_at=expires_at,
    )
    try:
        with transaction.atomic():  # a savepoint: a duplicate key must not spoil the caller's
            message.save()
    except IntegrityError:
        existing = OutboxMessage.objects.filter(idempotency_key=message.idempotency_key).first()
        if existing is None:
            raise
        return existing
    OutboxEvent.objects.create(message=message, from_status="", to_status=Status.PENDING)
    # Never sent with a hole, nor through a route that refuses it (messaging.rules.ROUTES):
    # held (suppressed) at once, the reason on its history and in the outbox list. An invalid
    # number is left to the send-time rules, which say so.
    if holes or refusal:
        reason = hole_reason(holes) if holes else rules.reason_text(refusal, channel)
        outbox_set_status(
            message_id=message.pk,
            new_status=Status.SUPPRESSED,
            expected={Status.PENDING},
            detail=reason,
            error_code=rules.PLACEHOLDER_EMPTY if holes else refusal,
            error_text=reason[:300],
        )
        message.refresh_from_db()
        return message
    if message.send_after <= timezone.now():
        from .tasks import outbox_send  # tasks import this module

        outbox_send.delay_on_commit(message.pk)
    return message


def _route_check(to, *, body, template, channel, purpose) -> tuple[str, str]:
    if channel == Channel.VOICE:
        route, refusal = rules.voice_route_check(to, template=template)
        if route and not refusal and voice_menu(purpose=purpose, template=template) is None:
            refusal = rules.NOT_APPROVED  # a key's reply is not approved
        return route, refusal
    return rules.route_check(to, body=body, template=template)


def hospital_placeholder_values() -> dict:
    """The placeholders the hospital's profile in force fills ({hospital}, {hotline} ...)."""
    return HospitalProfile.current().placeholder_values()


def hole_reason(holes: list[str]) -> str:
    """Why a message was held: the placeholders that had no value."""
    return _(
        "Held: the placeholder %(names)s has no value (the hospital's profile or the sender "
        "left it empty)."
    ) % {"names": ", ".join(f"{{{name}}}" for name in holes)}


def _template(code: str) -> SmsTemplate:
    language = settings.LANGUAGE_CODE
    templates = SmsTemplate.objects.filter(code=code, active=True)
    template = templates.filter(language=language).first() or templates.first()
    if template is None:
        raise template_missing(code)
    return template


def voice_fallback_key(key: str) -> str:
    """The idempotency key of the SMS written instead of a voice message whose template could
    not be read: derived from the voice one, so asking again finds the same SMS."""
    return f"{key}:sms"[:120]


def template_available(code: str) -> bool:
    """An active template with this code exists (senders skip a message rather than fail)."""
    return SmsTemplate.objects.filter(code=code, active=True).exists()


def template_missing(code: str, *, name=None) -> ValidationError:
    """The refusal when no active template has this code, naming the template as staff do:
    `name` (the sender knows what it sends), else its purpose; never the code, which is the
    senders' key."""
    if name is None:
        inactive = SmsTemplate.objects.filter(code=code).first()
        if inactive is not None:
            name = inactive.display_name
        elif code in Purpose.values:
            name = Purpose(code).label
        else:
            name = _("the one this message needs")
    return ValidationError(
        _(
            "There is no active SMS template “%(name)s”: an administrator adds it under SMS "
            "templates."
        )
        % {"name": name}
    )


links_allowed = rules.links_allowed


def outbox_cancel(*, idempotency_key: str, detail: str = "", actor=None) -> bool:
    """Cancel a message that has not been sent yet (a booking cancelled before its reminder)."""
    message = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
    if message is None:
        return False
    done = outbox_set_status(
        message_id=message.pk,
        new_status=Status.CANCELLED,
        expected={Status.PENDING},
        detail=detail,
        actor=actor,
    )
    return done


# --- Rules at send time (messaging.rules) ------------------------------------------

quiet_hours_end = rules.quiet_hours_end


def _suppression_reason(message: OutboxMessage, now: datetime.datetime) -> str:
    """The code of the rule (messaging.rules) that blocks the message for good, or ""."""
    if message.channel == Channel.VOICE:
        recorded = consent_recorded(message.client, SERVICE_VOICE) if message.client else True
        return rules.voice_block_reason(
            to=message.to, recorded=recorded, expires_at=message.expires_at, now=now
        )
    opted_out = getattr(message, "number_opted_out", None)
    if opted_out is None:
        opted_out = PhoneOptOut.objects.filter(phone=message.to).exists()
    if message.client_id is None:
        consent = None
    elif hasattr(message, f"consent_{SERVICE_SMS}"):
        consent = consent_from_row(message)  # read with the claim, a moment ago
    else:
        consent = consent_states(message.client)
    return rules.block_reason(
        to=message.to,
        consent=consent,
        kind=message.kind,
        body=message.body,
        opted_out=opted_out,
        expires_at=message.expires_at,
        now=now,
    )


def marketing_sent_today(now: datetime.datetime):
    """Marketing messages that went (or are going) out today: what the daily cap counts."""
    return OutboxMessage.objects.filter(
        kind=Kind.MARKETING,
        claimed_at__gte=rules.day_start(now),
        status__in=[Status.CLAIMED, Status.SENT, Status.DELIVERED, Status.UNKNOWN],
    )


def _over_daily_cap(message, now) -> bool:
    sent_today = (
        marketing_sent_today(now).filter(client=message.client).exclude(pk=message.pk).count()
        if message.client_id
        else 0
    )
    return rules.over_cap(
        kind=message.kind, has_client=message.client_id is not None, sent_today=sent_today
    )


def _backoff(attempts: int, retry_after: float | None) -> datetime.timedelta:
    # Exponential with full jitter, so a provider outage does not bring every retry back at once.
    if retry_after:
        seconds = retry_after + random.uniform(0, 1)  # noqa: S311 (jitter, not cryptography)
    else:
        ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
        seconds = random.uniform(ceiling / 2, ceiling)  # noqa: S311
    return datetime.timedelta(seconds=seconds)


# --- Sending -------------------------------------------------------------


def outbox_claim(*, message_id: int) -> OutboxMessage | None:
    """pending -> claimed, committed before the provider is called. None when the message is not
    pending and due (already claimed, sent, cancelled, or not yet due)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = OutboxMessage.objects.filter(
            pk=message_id, status=Status.PENDING, send_after__lte=now
        ).update(status=Status.CLAIMED, claimed_at=now, attempts=F("attempts") + 1)
        if not claimed:
            return None
        OutboxEvent.objects.create(
            message_id=message_id, from_status=Status.PENDING, to_status=Status.CLAIMED
        )
    # The opt-out and consent checks ride along with the fetch: no query of their own.
    opted_out = Exists(PhoneOptOut.objects.filter(phone=OuterRef("to")))
    return (
        OutboxMessage.objects.select_related("client")
        .annotate(number_opted_out=opted_out, **consent_annotations(OuterRef("client")))
        .get(pk=message_id)
    )


def _route_reason_at_send(message, number, route) -> str:
    """The route's rules checked again as the message goes: a route or the cross-border
    permission withdrawn since it was written holds it. A domestic route's template rules were
    checked when it was written; a message written without the provider's template code (a free
    text, or before routes existed) is held on a route that sends only templates, never failed
    at the provider."""
    if not number.valid:
        return ""  # the send-time rules said so already
    rules_of_route = rules.ROUTES.get(route)
    if rules_of_route is None or not rules_of_route.domestic:
        return rules.route_refusal(number=number, route=route, body=message.body)
    if rules_of_route.templates_only and not message.provider_template:
        return rules.FREE_TEXT
    return ""


def _defer(message, claimed, until, *, waits, too_late):
    """Back to pending until `until`, or suppressed as too late when it expires before then."""
    if message.expires_at and message.expires_at <= until:
        return outbox_set_status(
            message_id=message.pk,
            new_status=Status.SUPPRESSED,
            expected=claimed,
            detail=too_late,
            error_code=rules.EXPIRED,
        )
    return outbox_set_status(
        message_id=message.pk,
        new_status=Status.PENDING,
        expected=claimed,
        detail=waits,
        send_after=until,
        queued_at=None,
    )


def outbox_send(*, message_id: int) -> bool | None:
    """Send one message if it is pending and due (None when it was not). Must not run inside a
    transaction: the claim has to be committed before the provider is called."""
    message = outbox_claim(message_id=message_id)
    if message is None:
        return None
    if message.channel == Channel.VOICE:
        return _voice_send(message)
    now = timezone.now()
    claimed = {Status.CLAIMED}
    reason = _suppression_reason(message, now)
    number = phones.classify(message.to)
    route = message.route or rules.route_for(number)
    if not reason:
        reason = _route_reason_at_send(message, number, route)
    if reason:
        return outbox_set_status(
            message_id=message.pk,
            new_status=Status.SUPPRESSED,
            expected=claimed,
            detail=str(rules.BLOCK_REASONS[reason]),
            error_code=reason,
        )
    if _over_daily_cap(message, now):
        # Deferred to the next allowed day, never dropped (unless it would then be useless).
        return _defer(
            message,
            claimed,
            rules.next_allowed_day(now),
            waits=_("The client had today's marketing SMS: waits for the next day."),
            too_late=_("Over today's marketing cap, and tomorrow would be too late."),
        )
    # A verification code is asked for by the person, now: the quiet hours are not for it.
    morning = quiet_hours_end(now) if message.kind != Kind.VERIFICATION else None
    if morning is not None:
        return _defer(
            message,
            claimed,
            morning,
            waits=_("Quiet hours: waits for the morning."),
            too_late=_("Quiet hours: it would arrive too late."),
        )
    try:
        result = sms.send(
            to=message.to,
            body=message.body,
            reference=str(message.pk),
            status_callback=message.status_callback_url,
            template_code=message.provider_template,
            params=message.params,
            route=route,
        )
    except Exception as exc:
        return _send_error(message, exc)
    return _record_sent(message, result.provider_id)


def _record_sent(message, provider_id: str) -> bool:
    return outbox_set_status(
        message_id=message.pk,
        new_status=Status.SENT,
        expected={Status.CLAIMED},
        durable=False,
        provider_id=provider_id[:64],
        sent_at=timezone.now(),
        error_code="",
        error_text="",
    )


def _send_error(message, exc) -> bool:
    """Record a provider's refusal of a claimed message (an SMS or a call): certainly not sent
    goes back to pending later, never to be sent fails, anything else is unknown, never sent
    again without a person or the provider's own report."""
    claimed = {Status.CLAIMED}
    if isinstance(exc, sms.TransientError):
        if message.attempts >= MAX_ATTEMPTS:
            return _record_failure(
                message, exc, _("Gave up after %(n)s attempts.") % {"n": message.attempts}
            )
        return outbox_set_status(
            message_id=message.pk,
            new_status=Status.PENDING,
            expected=claimed,
            durable=False,
            detail=f"{exc.code}: {exc.message}",
            send_after=timezone.now()
            + _backoff(message.attempts, getattr(exc, "retry_after", None)),
            queued_at=None,
            error_code=exc.code[:30],
            error_text=exc.message[:300],
        )
    if isinstance(exc, sms.PermanentError):
        return _record_failure(message, exc)
    # UnknownOutcomeError, or a bug: it may have gone out.
    code = getattr(exc, "code", "error")
    text = getattr(exc, "message", "") or exc.__class__.__name__
    logger.warning("outbox %s: outcome unknown (%s)", message.pk, code)
    return outbox_set_status(
        message_id=message.pk,
        new_status=Status.UNKNOWN,
        expected=claimed,
        durable=False,
        detail=f"{code}: {text}"[:300],
        error_code=str(code)[:30],
        error_text=str(text)[:300],
    )


# --- Voice (语音通知): the same claim, rules, call and record as an SMS ---------------------

# The keys a booking reminder's listener may press, and what each asks for (kept here, carried
# out by voice.reminders when the call's receipt comes back with the keys pressed).
REMINDER_MENU = {"1": "confirm", "2": "callback", "9": "stop"}
# The purposes whose calls are keypad calls (IvrCall), with their menus; any other voice
# message is read out (SingleCallByTts).
# A keypad survey's listener answers with a digit (satisfaction 1-5, then would recommend 0-9):
# every digit plays the same reply, which asks the next question or thanks them; the receipt
# carries the digits in order (voice.surveys).
SURVEY_MENU = dict.fromkeys("0123456789", "answer")
IVR_MENUS = {Purpose.BOOKING_REMINDER: REMINDER_MENU, Purpose.SURVEY: SURVEY_MENU}


def voice_menu(*, purpose: str, template) -> dict[str, str] | None:
    """A keypad call's menu as the provider takes it: {key: the approved TTS code it plays
    back when the key is pressed} (the provider refuses anything but approved codes there).
    Each reply is a voice template of its own, named after the call's template and the key's
    meaning (booking_reminder_voice_confirm, _callback, _stop), with its code and approval.
    {} for a call that is only read out; None when a reply is missing or not approved: the call
    is then held as not approved, as for its own template."""
    menu = IVR_MENUS.get(purpose)
    if not menu:
        return {}
    if template is None:
        return None
    names = {f"{template.code}_{meaning}": meaning for meaning in set(menu.values())}
    replies = SmsTemplate.objects.filter(code__in=names, active=True, channel=Channel.VOICE)
    approved = {names[reply.code]: reply.provider_code for reply in replies if reply.approved}
    if len(approved) < len(names):
        return None
    return {key: approved[meaning] for key, meaning in menu.items()}


def _voice_send(message: OutboxMessage) -> bool:
    """Call for a claimed voice message: a booking reminder (a purpose of IVR_MENUS) as a
    keypad call (IvrCall, the listener's keys come back in the receipt), any other read out
    (SingleCallByTts). Its outcome (answered, busy ...) comes later, in the receipt
    (outbox_call_result); what the provider answers now is recorded as for an SMS."""
    now = timezone.now()
    claimed = {Status.CLAIMED}
    menu = None
    reason = _suppression_reason(message, now)
    if not reason:
        reason, menu = _voice_route_reason_at_send(message)
    if reason:
        held = outbox_set_status(
            message_id=message.pk,
            new_status=Status.SUPPRESSED,
            expected=claimed,
            detail=rules.reason_text(reason, Channel.VOICE),
            error_code=reason,
        )
        if held and reason in VOICE_FALLS_BACK:
            voice_fall_back(message)
        return held
    morning = quiet_hours_end(now)
    if morning is not None:
        return _defer(
            message,
            claimed,
            morning,
            waits=_("Quiet hours: waits for the morning."),
            too_late=_("Quiet hours: it would arrive too late."),
        )
    until = _voice_cap_until(message, now)
    if until is not None:
        # Deferred to when the caps allow, never dropped (unless it would then be useless).
        return _defer(
            message,
            claimed,
            until,
            waits=_("Over the calls allowed to one number: waits until the caps allow."),
            too_late=_("Over the calls allowed to one number, and later would be too late."),
        )
    reference = f"msg:{message.pk}"
    try:
        if menu:
            result = vms.ivr_call(
                to=message.to,
                template_code=message.provider_template,
                params=message.params,
                menu_keys=menu,
                reference=reference,
            )
        else:
            result = vms.tts_call(
                to=message.to,
                template_code=message.provider_template,
                params=message.params,
                reference=reference,
            )
    except Exception as exc:
        return _send_error(message, exc)
    return _record_sent(message, result.call_id)


def _voice_route_reason_at_send(message) -> tuple[str, dict]:
    """(the code of the voice route's rule that holds the call, or ""; its keypad menu) as the
    call goes: mainland numbers, a TTS code, and its template and the menu's replies still
    approved (a reminder is written days ahead; the provider may have refused a template
    since, and would then refuse the call)."""
    if not vms.serves(message.to):
        return rules.NO_ROUTE, {}
    if not message.provider_template:
        return rules.NOT_APPROVED, {}
    template = SmsTemplate.objects.filter(pk=message.template_id).first()
    if template is not None and not template.approved:
        return rules.NOT_APPROVED, {}
    menu = voice_menu(purpose=message.purpose, template=template)
    if menu is None:
        return rules.NOT_APPROVED, {}
    return "", menu


# What a voice message whose template cannot be read (not approved, no TTS code) turns into, by
# purpose, registered by its sender (consult: a booking reminder goes by SMS, or as a call for
# staff), which messaging cannot import.
_voice_fallbacks: dict[str, Callable] = {}
# The rules that stop a call but not the notice: it goes the other way (the SMS, or staff) when
# the template cannot be read, the client refused calls or never chose them, or no voice route
# calls the number.
VOICE_FALLS_BACK = {rules.NOT_APPROVED, rules.REFUSED_VOICE, rules.NO_VOICE_CHOICE, rules.NO_ROUTE}


def register_voice_fallback(purpose: str, fallback: Callable) -> None:
    """`fallback(message)` stands in for a voice message of `purpose` stopped by a rule of
    VOICE_FALLS_BACK (or the client's withdrawal of voice notifications); it runs in its own
    transaction and must be safe to run again."""
    _voice_fallbacks[purpose] = fallback


def voice_fall_back(message: OutboxMessage) -> None:
    fallback = _voice_fallbacks.get(message.purpose)
    if fallback is not None:
        with transaction.atomic():
            fallback(message)


# What counts as a call to a number for the caps: each attempt the provider took (or may have
# taken), from the message's history, so a busy call tried again counts each time.
_CALL_PLACED = (Status.SENT, Status.UNKNOWN, Status.DELIVERED)


def _voice_cap_until(message, now) -> datetime.datetime | None:
    """When the caps (rules.voice_cap_until) let a call to this message's number start; None
    for now. Another message to the number being called at this moment counts too: two workers
    claiming two calls at once both wait rather than both call."""
    calls = OutboxMessage.objects.filter(channel=Channel.VOICE, to=message.to)
    placed = OutboxEvent.objects.filter(
        message__in=calls,
        from_status=Status.CLAIMED,
        to_status__in=_CALL_PLACED,
        at__gt=now - datetime.timedelta(days=1),
    ).values_list("at", flat=True)
    in_flight = (
        calls.filter(status=Status.CLAIMED)
        .exclude(pk=message.pk)
        .values_list("claimed_at", flat=True)
    )
    return rules.voice_cap_until([*placed, *in_flight], now)


def outbox_call_result(
    *,
    message_id: int,
    call_id: str,
    outcome: str,
    keys: str = "",
    talk_seconds: int = 0,
    at: datetime.datetime | None = None,
) -> OutboxMessage | None:
    """A voice message's call receipt (voice.receipts, out id "msg:<pk>"; inside its
    transaction): answered is delivered, with the keys pressed; busy, no answer, powered off,
    unreachable, an invalid number or a failure is failed, the outcome its error code. A busy or
    unanswered call is tried again by rule (_voice_retry). Returns the message when the receipt
    moved it, None when it changes nothing: a receipt of an earlier attempt (another call id),
    of a message already settled, or replayed."""
    message = OutboxMessage.objects.filter(pk=message_id, channel=Channel.VOICE).first()
    if message is None:
        return None
    if message.provider_id and call_id and message.provider_id != call_id[:64]:
        return None  # an earlier attempt's call, or not this message's
    now = timezone.now()
    fields = {"talk_seconds": max(0, int(talk_seconds or 0))}
    if call_id and not message.provider_id:
        fields["provider_id"] = call_id[:64]  # a call whose start was never recorded
    expected = {Status.CLAIMED, Status.SENT, Status.UNKNOWN}
    if outcome == "answered":
        moved = outbox_set_status(
            message_id=message.pk,
            new_status=Status.DELIVERED,
            expected=expected,
            detail=_("Answered; keys pressed: %(keys)s") % {"keys": keys or "-"},
            delivered_at=at or now,
            sent_at=message.sent_at or at or now,
            keys=(keys or "")[:20],
            error_code="",
            error_text="",
            **fields,
        )
    else:
        code = outcome if outcome in rules.VOICE_OUTCOMES else "failed"
        moved = outbox_set_status(
            message_id=message.pk,
            new_status=Status.FAILED,
            expected=expected,
            detail=str(rules.VOICE_OUTCOMES[code]),
            error_code=code,
            error_text=str(rules.VOICE_OUTCOMES[code]),
            **fields,
        )
        if moved and code in rules.VOICE_RETRIED:
            _voice_retry(message, now)
    return OutboxMessage.objects.get(pk=message.pk) if moved else None


def _voice_retry(message, now) -> bool:
    """A busy or unanswered call is made again VOICE_RETRY_MINUTES later, up to
    VOICE_RETRY_ATTEMPTS more times, never past the message's use (expires_at): a new attempt of
    the same message (failed -> pending), which the sweeper queues when it is due."""
    retries = message.events.filter(from_status=Status.FAILED, to_status=Status.PENDING).count()
    if retries >= settings.VOICE_RETRY_ATTEMPTS:
        return False
    again = now + datetime.timedelta(minutes=settings.VOICE_RETRY_MINUTES)
    if message.expires_at and message.expires_at <= again:
        return False
    return outbox_set_status(
        message_id=message.pk,
        new_status=Status.PENDING,
        expected={Status.FAILED},
        detail=_("Called again later (attempt %(n)s of %(total)s).")
        % {"n": retries + 2, "total": settings.VOICE_RETRY_ATTEMPTS + 1},
        send_after=again,
        queued_at=None,
        # The next call is another call: its receipt names its own id (outbox_call_result).
        provider_id="",
        keys="",
        talk_seconds=0,
    )


def _record_failure(message, exc, detail=""):
    failed = outbox_set_status(
        message_id=message.pk,
        new_status=Status.FAILED,
        expected={Status.CLAIMED},
        durable=False,
        detail=detail or f"{exc.code}: {exc.message}",
        error_code=exc.code[:30],
        error_text=exc.message[:300],
    )
    if getattr(exc, "unsubscribed", False):
        phone_opt_out(phone=message.to, source="provider")
    return failed


# --- The sweeper -------------------------------------------------------------


def outbox_sweep(*, batch: int = 1000) -> dict:
    """One pass of the periodic sweeper (beat, every few seconds): queue due messages whose task
    was never queued or was lost, and settle claims abandoned by a worker that died. Safe to run
    any number of times, and concurrently: every step is conditional on the row's state."""
    from .tasks import outbox_send as send_task

    now = timezone.now()
    claim_timeout = datetime.timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS)
    requeue_after = datetime.timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS)
    abandoned = list(
        OutboxMessage.objects.filter(status=Status.CLAIMED, claimed_at__lt=now - claim_timeout)
        .order_by("claimed_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in abandoned:
        # The worker died between the claim and recording the provider's answer: the message
        # may have gone out. Never resend blindly.
        outbox_set_status(
            message_id=pk,
            new_status=Status.UNKNOWN,
            expected={Status.CLAIMED},
            detail=_("The sending worker stopped: check the provider before sending again."),
        )
    due = list(
        OutboxMessage.objects.filter(status=Status.PENDING, send_after__lte=now)
        .exclude(queued_at__gte=now - requeue_after)
        .order_by("send_after")
        .values_list("pk", flat=True)[:batch]
    )
    if due:
        OutboxMessage.objects.filter(pk__in=due, status=Status.PENDING).update(queued_at=now)
        for pk in due:
            send_task.delay(pk)
    return {"queued": len(due), "abandoned": len(abandoned)}


# --- Provider reports -------------------------------------------------------------

PROVIDER_STATUS = {
    "accepted": Status.SENT,
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "undelivered": Status.FAILED,
    "failed": Status.FAILED,
}
# How far along each state is: a report only ever moves a message forward.
RANK = {
    Status.PENDING: 0,
    Status.CLAIMED: 1,
    Status.UNKNOWN: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.FAILED: 3,
}


def outbox_provider_report(
    *,
    message: OutboxMessage,
    provider_status: str,
    provider_id: str = "",
    error_code: str = "",
    error_text: str = "",
) -> bool | None:
    """A status callback. Idempotent and forward-only: a repeated or late report (sent after
    delivered) changes nothing. `error_text` is the provider's own words for a failure."""
    target = PROVIDER_STATUS.get((provider_status or "").lower())
    if target is None:
        return None
    expected = {s for s, rank in RANK.items() if rank < RANK[target] and target in TRANSITIONS[s]}
    fields = {}
    if provider_id and not message.provider_id:
        fields["provider_id"] = provider_id[:64]
    if target == Status.SENT:
        fields["sent_at"] = message.sent_at or timezone.now()
    elif target == Status.DELIVERED:
        fields["delivered_at"] = timezone.now()
        fields["sent_at"] = message.sent_at or timezone.now()
    else:
        fields["error_code"] = (error_code or provider_status)[:30]
        if error_text:
            fields["error_text"] = error_text[:300]
    updated = outbox_set_status(
        message_id=message.pk,
        new_status=target,
        expected=expected,
        detail=_("Provider: %(status)s") % {"status": provider_status},
        **fields,
    )
    if target == Status.FAILED and error_code == "21610":
        phone_opt_out(phone=message.to, source="provider")
    return updated


# Twilio's own opt-out keywords: Twilio stops delivering to a number that replied one of them
# (its error 21610 from then on), so a reply through Twilio with one of them opts out here too.
TWILIO_STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
START_WORDS = {"start", "unstop", "yes", "订阅"}


def reply_word(text: str) -> str:
    """A reply as a keyword: NFKC (full-width ＴＤ is TD, an ideographic space a space), trimmed
    and case-folded."""
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


def is_opt_out_reply(text: str, *, extra_words=frozenset()) -> bool:
    """Is this reply one of the opt-out words (settings.SMS_OPT_OUT_WORDS: T, TD, R, N, 退订,
    取消 by default), or of the provider's own `extra_words` (already in reply_word form)?"""
    words = {reply_word(word) for word in settings.SMS_OPT_OUT_WORDS} | set(extra_words)
    words.discard("")
    return reply_word(text) in words


def inbound_receive(
    *, provider_id: str, from_number: str, body: str, extra_stop_words=frozenset()
) -> InboundMessage:
    """An SMS from a client. An opt-out word (is_opt_out_reply) opts the number out, as the
    client's own button does; START opts it back in. Handled once per provider id, however
    often the provider delivers the webhook."""
    inbound, created = InboundMessage.objects.get_or_create(
        provider_id=provider_id[:64],
        defaults={"from_number": from_number[:20], "body": body},
    )
    if not created:
        return inbound
    if is_opt_out_reply(body, extra_words=extra_stop_words):
        phone_opt_out(phone=from_number, source="sms")
        inbound.action = "opt_out"
    elif reply_word(body) in START_WORDS:
        phone_opt_in(phone=from_number, source="sms")
        inbound.action = "opt_in"
    inbound.save(update_fields=["action"])
    return inbound


# The row id the backend sent as OutId: ASCII digits a bigint holds ("²" is a digit to isdigit).
OUT_ID = re.compile(r"[0-9]{1,18}")


def aliyun_report_receive(
    *, out_id: str, biz_id: str, phone: str, success: bool, err_code: str, err_msg: str
) -> bool | None:
    """One delivery report pushed by Alibaba Cloud SMS. It names the message by OutId (the row
    id the backend sent) and BizId (the provider's id, stored when the send was answered); a
    report whose number or BizId is not the message's is someone else's and is ignored (None).
    Forward-only and idempotent like every report: a report pushed again changes nothing."""
    message = None
    if OUT_ID.fullmatch(out_id):
        message = OutboxMessage.objects.filter(pk=int(out_id)).first()
    if message is None and biz_id:
        message = OutboxMessage.objects.filter(provider_id=biz_id[:64]).first()
    if message is None or message.route not in ("", "aliyun"):
        return None
    if message.provider_id and biz_id and message.provider_id != biz_id[:64]:
        return None  # a report of an earlier attempt, or not this message
    if phone and phones.national_digits(message.to) != phone and message.to.lstrip("+") != phone:
        return None
    if success:
        return outbox_provider_report(
            message=message, provider_status="delivered", provider_id=biz_id
        )
    return outbox_provider_report(
        message=message,
        provider_status="failed",
        provider_id=biz_id,
        error_code=err_code or "failed",
        error_text=err_msg,
    )


@transaction.atomic
def phone_opt_out(*, phone: str, source: str) -> None:
    PhoneOptOut.objects.get_or_create(phone=phone, defaults={"source": source[:30]})
    # No SMS still waiting may go to this number (its calls have their own opt-out: consent
    # to voice notifications).
    waiting = OutboxMessage.objects.filter(to=phone, status=Status.PENDING, channel=Channel.SMS)
    for pk in waiting.values_list("pk", flat=True):
        outbox_set_status(
            message_id=pk,
            new_status=Status.SUPPRESSED,
            expected={Status.PENDING},
            detail=_("Opted out."),
        )
    # Its clients withdraw consent to SMS (their pending messages to another number stop too).
    client_services.client_sms_opt_out(phone=phone, source=source)


# What a withdrawn consent stops among a client's pending messages (the channel, the kinds,
# None for all), and the rule's code the suppressed messages carry (messaging.rules).
WITHDRAWAL_STOPS = {
    SERVICE_SMS: (Channel.SMS, None, rules.REFUSED_SMS),
    MARKETING_SMS: (Channel.SMS, {Kind.MARKETING}, rules.NO_CONSENT),
    SERVICE_VOICE: (Channel.VOICE, None, rules.REFUSED_VOICE),
}


def client_consent_withdrawn(client, purpose: str) -> int:
    """A client withdrew consent (clientmgmt.services.consent_record, through
    clientmgmt.registry.consent_withdrawn; inside its transaction): their pending messages of
    that purpose are suppressed at once, not at their send time. Returns how many."""
    if purpose not in WITHDRAWAL_STOPS:
        return 0
    channel, kinds, code = WITHDRAWAL_STOPS[purpose]
    pending = OutboxMessage.objects.filter(client=client, status=Status.PENDING, channel=channel)
    if kinds is not None:
        pending = pending.filter(kind__in=kinds)
    stopped = 0
    for message in pending:
        moved = outbox_set_status(
            message_id=message.pk,
            new_status=Status.SUPPRESSED,
            expected={Status.PENDING},
            detail=_("Consent withdrawn."),
            error_code=code,
        )
        stopped += moved
        if moved and channel == Channel.VOICE:
            voice_fall_back(message)  # no more calls; the reminder itself still goes, by SMS
    return stopped


@transaction.atomic
def phone_opt_in(*, phone: str, source: str) -> None:
    PhoneOptOut.objects.filter(phone=phone).delete()
    client_services.client_sms_opt_in(phone=phone, source=source)


# --- Staff actions -------------------------------------------------------------


def outbox_retry(*, message: OutboxMessage, by) -> OutboxMessage:
    """Send a failed message again (after the number was fixed), or an unknown one that a person
    checked was not sent. The number is read again from the client's record."""
    to = message.client.phone if message.client and message.client.phone else message.to
    # The number may have moved between the mainland and elsewhere: its route, again.
    template = SmsTemplate.objects.filter(pk=message.template_id).first()
    route, refusal = _route_check(
        to, body=message.body, template=template, channel=message.channel, purpose=message.purpose
    )
    if refusal:
        raise ValidationError(rules.reason_text(refusal, message.channel))
    route = route or message.route  # an invalid number: the send-time rules say so
    updated = outbox_set_status(
        message_id=message.pk,
        new_status=Status.PENDING,
        expected={Status.FAILED, Status.UNKNOWN},
        detail=_("Sent again by staff."),
        actor=by,
        to=to,
        route=route,
        provider_template=template.provider_code if template else message.provider_template,
        send_after=timezone.now(),
        queued_at=None,
        attempts=0,
    )
    if not updated:
        raise ValidationError(_("Only a failed or unknown message can be sent again."))
    from .tasks import outbox_send

    outbox_send.delay_on_commit(message.pk)
    return OutboxMessage.objects.get(pk=message.pk)


def outbox_release(*, message: OutboxMessage, by) -> OutboxMessage:
    """Check a held message again, after its cause was fixed (the hospital's profile filled in,
    a template approved at the provider, a route configured), and send it if nothing holds it
    now: the text is rendered again from its template with the profile in force and the values
    it was written with. Refused, with the reason, while something still holds it."""
    if not message.held:
        raise ValidationError(_("Only a message held as it was written can be checked again."))
    if (
        message.channel == Channel.VOICE
        and OutboxMessage.objects.filter(
            idempotency_key=voice_fallback_key(message.idempotency_key)
        ).exists()
    ):
        raise ValidationError(_("This reminder went by SMS instead: it is not called as well."))
    # The template as it stands now (approved since, say), not as the message was loaded.
    template = SmsTemplate.objects.filter(pk=message.template_id).first()
    body, params = message.body, message.params
    if template is not None and not template.active:
        raise template_missing(template.code)
    if template is not None:
        # The values it was written with; the hospital's own from the profile in force.
        hospital = hospital_placeholder_values()
        values = {
            **{name: value for name, value in message.params.items() if value},
            **{name: value for name, value in hospital.items() if value},
        }
        holes = template.holes(values)
        if holes:
            raise ValidationError(hole_reason(holes))
        body, params = template.render(values), template.parameters(values)
    route, refusal = _route_check(
        message.to, body=body, template=template, channel=message.channel, purpose=message.purpose
    )
    if refusal:
        raise ValidationError(rules.reason_text(refusal, message.channel))
    with transaction.atomic():
        # Still held, under a lock: a second click, or a rule that suppressed it for good since
        # (an opt-out), leaves it as it is.
        still_held = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=message.pk, status=Status.SUPPRESSED, error_code__in=rules.HELD)
            .exists()
        )
        released = still_held and _release(message, body, params, template, route, by)
    if not released:
        raise ValidationError(_("Only a message held as it was written can be checked again."))
    from .tasks import outbox_send

    outbox_send.delay_on_commit(message.pk)
    return OutboxMessage.objects.get(pk=message.pk)


def _release(message, body, params, template, route, by) -> bool:
    return outbox_set_status(
        message_id=message.pk,
        new_status=Status.PENDING,
        expected={Status.SUPPRESSED},
        detail=_("Checked again by staff: nothing holds it now."),
        actor=by,
        body=body,
        params=params,
        provider_template=template.provider_code if template else "",
        route=route,
        send_after=timezone.now(),
        queued_at=None,
        error_code="",
        error_text="",
    )


def outbox_mark_sent(*, message: OutboxMessage, by) -> OutboxMessage:
    """A person checked the provider's console: the unknown message did go out."""
    updated = outbox_set_status(
        message_id=message.pk,
        new_status=Status.SENT,
        expected={Status.UNKNOWN},
        detail=_("Checked by staff: it was sent."),
        actor=by,
        sent_at=timezone.now(),
    )
    if not updated:
        raise ValidationError(_("Only a message in an unknown state can be marked as sent."))
    return OutboxMessage.objects.get(pk=message.pk)


# --- Campaigns -------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *, name: str, template, segment: dict, send_at, by, request_key: str = ""
) -> Campaign:
    """Save the campaign and build its messages in the background. The same form confirmed
    twice (`request_key`, its one-time key) makes one campaign."""
    from .selectors import campaign_recipients
    from .tasks import campaign_build

    def write():
        campaign = Campaign.objects.create(
            name=name,
            template=template,
            segment=segment,
            send_at=send_at,
            created_by=by,
            status=Campaign.Status.BUILDING,
            total=campaign_recipients(segment, template.kind).count(),
            request_key=request_key,
        )
        campaign_build.delay_on_commit(campaign.pk)
        return campaign

    with transaction.atomic():
        return create_once(Campaign, request_key, write)[0]


def campaign_build(*, campaign_id: int, batch: int = 500) -> None:
    """Write one outbox row per recipient, in batches that each commit on their own. Safe to run
    again: every row's idempotency key names the campaign and the client."""
    from .selectors import campaign_recipients

    campaign = Campaign.objects.select_related("template").get(pk=campaign_id)
    if campaign.status != Campaign.Status.BUILDING:
        return
    recipients = campaign_recipients(campaign.segment, campaign.template.kind).order_by("pk")
    hospital_values = hospital_placeholder_values()
    last = 0
    while True:
        clients = list(recipients.filter(pk__gt=last)[:batch])
        if not clients:
            break
        with transaction.atomic():
            for client in clients:
                outbox_enqueue(
                    idempotency_key=f"campaign:{campaign.pk}:client:{client.pk}",
                    purpose=campaign.template.purpose,
                    client=client,
                    template_code=campaign.template.code,
                    values={"name": client.name},
                    send_after=campaign.send_at,
                    campaign=campaign,
                    hospital_values=hospital_values,
                )
            Campaign.objects.filter(pk=campaign.pk).update(built=campaign.messages.count())
        last = clients[-1].pk
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SCHEDULED, built=campaign.messages.count()
    )
