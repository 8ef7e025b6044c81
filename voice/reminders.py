"""Voice reminders' calls coming back (语音通知). The receipt of an outbox voice message (out id
"msg:<pk>", registered with voice.receipts by VoiceConfig.ready) settles the message in the
outbox (messaging.services.outbox_call_result: answered, or failed with its outcome and tried
again by rule), and the key the listener pressed on a booking reminder is acted on here, where
both the outbox and the bookings can be reached:

- 1: the booking is confirmed (consult.services.booking_confirm);
- 2: staff call the client back (a callback task, consult.services.callback_for_caller);
- 9: no more voice calls (consent to voice notifications withdrawn, recorded as in-app), which
  stops the client's pending voice reminders at once.

Each runs once: a receipt is applied once (voice.receipts), and only the receipt that moved the
message to delivered acts on its keys.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.services import client_voice_opt_out
from consult.selectors import booking_for_reminder
from consult.services import booking_confirm, callback_for_caller
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose
from zhongdu.workcalendar import WorkCalendar

from .surveys import keypad_receipt_apply


def message_receipt(receipt, pk: int) -> None:
    """The receipt of the call for outbox message `pk` (a voice.receipts.Receipt); called
    inside the receipt's transaction."""
    message = messaging.outbox_call_result(
        message_id=pk,
        call_id=receipt.call_id,
        outcome=receipt.outcome,
        keys=receipt.keys,
        talk_seconds=receipt.talk_seconds,
        at=receipt.ended_at or receipt.answered_at,
    )
    if message is None or message.status != OutboxMessage.Status.DELIVERED:
        return
    answered = ANSWERED.get(message.purpose)
    if answered is not None:
        answered(message, receipt)


def reminder_keys(message, receipt) -> None:
    """A booking reminder answered: do what the key pressed asks."""
    action = KEY_ACTIONS.get(pressed(message.keys))
    if action is not None:
        action(message, receipt.ended_at or timezone.now())


def pressed(keys: str) -> str:
    """What the listener asked for: the meaning of the first key of the reminder's menu they
    pressed (messaging.services.REMINDER_MENU), or ""."""
    for key in keys or "":
        if key in messaging.REMINDER_MENU:
            return messaging.REMINDER_MENU[key]
    return ""


def _confirm(message, at) -> None:
    booking = booking_for_reminder(message.idempotency_key)
    if booking is not None:
        booking_confirm(booking=booking, detail=_("Pressed 1 on the reminder call."))


def _call_back(message, at) -> None:
    minutes = settings.CALLBACK_DEADLINE_MINUTES
    callback_for_caller(
        phone=message.to,
        at=at,
        due_at=WorkCalendar.load().add_working_hours(at, minutes / 60),
        client=message.client,
    )


def _stop(message, at) -> None:
    client_voice_opt_out(phone=message.to, source="in-app", client=message.client)


KEY_ACTIONS = {"confirm": _confirm, "callback": _call_back, "stop": _stop}
# What an answered outbox call leads to, by the message's purpose (a keypad survey adds its own).
ANSWERED = {
    Purpose.BOOKING_REMINDER: reminder_keys,
    Purpose.SURVEY: lambda message, receipt: keypad_receipt_apply(receipt, message),
}
