"""Keypad surveys (按键满意度调查): after an answered consultation call on the hotline ends, and
after a visit whose client cannot be sent the web survey's link, the short keypad survey
(surveys.services.keypad_survey: satisfaction 1–5, would recommend 0–9) is queued in the
outbox as a voice message of purpose "survey"; the telephone call (`IvrCall`) reads the
template and collects one key per question. The keys come back with the call's receipt and
`keypad_answers_take` writes them into the same survey responses as the web survey's, so that a
low score starts the same service recovery.

- Once per call and per visit: the outbox's idempotency key (`keypad-survey:call:<id>`,
  `keypad-survey:visit:<id>`).
- Not too often: a client asked by keypad survey within SurveyPolicy.keypad_gap_days is not
  asked again, and a visit whose web survey was answered, or whose link went by SMS, gets none.
- Only where the voice route calls the number (zhongdu.vms.serves: mainland numbers); the
  outbox applies the consents, opt-outs, quiet hours and caps of the voice channel when it
  sends.
- The answers once per message: the response's reference is the message ("msg:<id>"), so a
  receipt pushed twice writes one response. The voice channel's receipt handler for "msg"
  references hands a keypad survey's receipt to `keypad_receipt_apply`.
"""

import datetime
import logging

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from guide.models import Visit
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose
from surveys import services as surveys
from surveys.models import SurveyInvitation, SurveyPolicy, SurveyResponse
from zhongdu import vms

from .models import Call
from .receipts import Receipt

logger = logging.getLogger(__name__)

# The outbox template the telephone call reads (Mandarin, the hospital profile's placeholders).
KEYPAD_VOICE_TEMPLATE = "keypad_survey"
VOICE = "voice"
# The call comes a few minutes after the consultation call ends, not while the caller is still
# putting the phone down.
AFTER_CALL = datetime.timedelta(minutes=3)
# A visit's keypad survey waits as long as its survey SMS would (the slip's QR code comes first)
# and is not sent for visits that ended longer ago than the SMS's window.
AFTER_VISIT = surveys.SMS_DELAY
VISIT_WINDOW = surveys.SMS_WINDOW
BATCH = 200
# The keypad survey's keys, per question in order.
MENU_KEYS = "0123456789"


def call_key(call_id: int) -> str:
    return f"keypad-survey:call:{call_id}"


def visit_key(visit_id: int) -> str:
    return f"keypad-survey:visit:{visit_id}"


def message_reference(message: OutboxMessage) -> str:
    """The receipt's OutId and the response's reference: the message, once."""
    return f"msg:{message.pk}"


def _asked_lately(client, *, now) -> bool:
    """A keypad survey for this client written within the policy's gap."""
    days = SurveyPolicy.current().keypad_gap_days
    return OutboxMessage.objects.filter(
        client=client,
        channel=VOICE,
        purpose=Purpose.SURVEY,
        created_at__gte=now - datetime.timedelta(days=days),
    ).exists()


def _may_ask(client, *, now) -> bool:
    return (
        client is not None
        and bool(client.phone)
        and vms.serves(client.phone)
        and surveys.keypad_survey() is not None
        and messaging.template_available(KEYPAD_VOICE_TEMPLATE)
        and not _asked_lately(client, now=now)
    )


def _enqueue(*, key: str, client, send_after, now) -> OutboxMessage:
    return messaging.outbox_enqueue(
        idempotency_key=key,
        purpose=Purpose.SURVEY,
        client=client,
        template_code=KEYPAD_VOICE_TEMPLATE,
        values={"name": client.name},
        send_after=send_after,
        expires_at=now + datetime.timedelta(days=1),
    )


def keypad_survey_for_call(call: Call, *, now=None) -> OutboxMessage | None:
    """Queue the keypad survey after an answered inbound consultation call that has ended, for
    its client (a call nobody linked to a client asks nobody). Returns the outbox message, or
    None when the client is not to be asked (no client or number, a number the voice route
    does not call, asked within the policy's gap, no keypad survey or voice template set up).
    Safe to call again for the same call: the outbox key makes one message. Called in the
    transaction that applied the call's end (voice.services); the outbox queues the send on
    commit, three minutes later."""
    if (
        call.direction != Call.Direction.INBOUND
        or call.outcome != Call.Outcome.ANSWERED
        or call.ended_at is None
    ):
        return None
    now = now or timezone.now()
    existing = OutboxMessage.objects.filter(idempotency_key=call_key(call.pk)).first()
    if existing is not None:
        return existing
    if not _may_ask(call.client, now=now):
        return None
    return _enqueue(key=call_key(call.pk), client=call.client, send_after=now + AFTER_CALL, now=now)


def keypad_survey_for_visit(visit: Visit, *, now=None) -> OutboxMessage | None:
    """Queue the keypad survey of a finished visit whose client cannot get the web survey's
    link by SMS (the SMS route forbids links to the number) and did not answer it on the slip's
    QR code. None when not to be asked (as keypad_survey_for_call). Once per visit."""
    now = now or timezone.now()
    existing = OutboxMessage.objects.filter(idempotency_key=visit_key(visit.pk)).first()
    if existing is not None:
        return existing
    client = visit.client
    if visit.status != Visit.Status.DONE or surveys.survey_links_allowed(client.phone or ""):
        return None
    answered = SurveyInvitation.objects.filter(visit=visit).filter(
        Q(used_at__isnull=False) | Q(sms_sent_at__isnull=False)
    )
    if answered.exists() or not _may_ask(client, now=now):
        return None
    return _enqueue(key=visit_key(visit.pk), client=client, send_after=now, now=now)


def keypad_surveys_after_visits(*, now=None, batch: int = BATCH) -> int:
    """Beat's sweep: the keypad survey of each visit that ended between VISIT_WINDOW and
    AFTER_VISIT ago (as the survey SMS's sweep), in bounded batches by visit id. Safe to re-run
    and to run twice at once (one message per visit: the outbox key). Returns the messages
    queued by this run."""
    now = now or timezone.now()
    done_before, done_after = now - AFTER_VISIT, now - VISIT_WINDOW
    asked = OutboxMessage.objects.filter(
        idempotency_key=Concat(Value("keypad-survey:visit:"), Cast(OuterRef("pk"), CharField()))
    )
    visits = (
        Visit.objects.filter(
            day__gte=timezone.localtime(done_after).date(),
            status=Visit.Status.DONE,
            finished_at__gt=done_after,
            finished_at__lte=done_before,
        )
        .exclude(Exists(asked))
        .select_related("client")
        .order_by("pk")
    )
    queued, after = 0, 0
    while True:
        rows = list(visits.filter(pk__gt=after)[:batch])
        for visit in rows:
            queued += keypad_survey_for_visit(visit, now=now) is not None
        if len(rows) < batch:
            return queued
        after = rows[-1].pk


def keypad_answers_take(message: OutboxMessage, keys: str) -> SurveyResponse | None:
    """The keys pressed on a keypad survey's call (its receipt's `keys`), written into a survey
    response once per message; a low score starts service recovery as the web survey's does.
    Called by the voice channel's receipt handler for a message of purpose "survey" in the
    receipt's transaction. None for a message that is not a keypad survey or has no client."""
    if message.purpose != Purpose.SURVEY or message.client_id is None:
        return None
    template = surveys.keypad_survey()
    if template is None:
        logger.warning("Keypad survey answers of message %s: no keypad survey", message.pk)
        return None
    visit = None
    prefix = "keypad-survey:visit:"
    if message.idempotency_key.startswith(prefix):
        visit = Visit.objects.filter(pk=message.idempotency_key[len(prefix) :]).first()
    return surveys.response_record_keypad(
        client=message.client,
        template=template,
        keys=keys or "",
        source_reference=message_reference(message),
        visit=visit,
    )


def keypad_receipt_apply(receipt: Receipt, message: OutboxMessage) -> SurveyResponse | None:
    """The part of a "msg" receipt (voice.receipts) that is the keypad survey's: for a keypad
    survey's message whose call was answered, its keys become the response
    (keypad_answers_take); anything else is left to the voice channel. The voice channel's
    receipt handler calls it with the message it loaded, in the receipt's transaction."""
    if message.purpose != Purpose.SURVEY or not receipt.reached:
        return None
    return keypad_answers_take(message, receipt.keys)
