"""Booking reminders by telephone (语音通知): a keypad call from the outbox, its receipt pushed
back through /voice/aliyun/receipt/<secret>/, and the key pressed acted on (1 confirms the
booking, 2 asks for a call back, 9 stops voice calls)."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clientmgmt.consent import SERVICE_VOICE, Channel
from clientmgmt.models import ConsentEvent
from clientmgmt.selectors import has_consent
from consult.models import BookingEvent, Recall
from messaging import rules, services
from messaging.models import Approval, Kind, OutboxMessage, Purpose, SmsTemplate
from messaging.models import Channel as MessageChannel
from tests.clientmgmt.factories import ClientFactory, grant
from tests.consult.factories import booking_templates, future_session, make_booking
from voice.models import VoiceReceipt
from zhongdu import vms

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
SECRET = "vR4-receipt-secret-0123456789abcdefABCDEF"
LANDLINE = "+8637165432100"


@pytest.fixture(autouse=True)
def _providers(memory_sms, settings):
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    settings.VOICE_CAP_PER_MINUTE = 0  # several calls to one number in a test's instant
    vms.clear()
    yield
    vms.clear()


REPLIES = {
    "confirm": ("TTS_272911", "您的预约已确认，谢谢。"),
    "callback": ("TTS_272912", "我们会尽快给您回电。"),
    "stop": ("TTS_272913", "您将不再收到语音通知。"),
}


def voice_reminder_template(replies=tuple(REPLIES), **kwargs):
    """The reminder's voice template, and the approved replies played back for its keys."""
    for meaning in replies:
        code, body = REPLIES[meaning]
        SmsTemplate.objects.create(
            code=f"booking_reminder_voice_{meaning}",
            purpose=Purpose.BOOKING_REMINDER,
            kind=Kind.SERVICE,
            channel=MessageChannel.VOICE,
            body=body,
            provider_code=code,
            approval=Approval.APPROVED,
        )
    kwargs.setdefault("provider_code", "TTS_272910")
    kwargs.setdefault("approval", Approval.APPROVED)
    return SmsTemplate.objects.create(
        code="booking_reminder_voice",
        purpose=Purpose.BOOKING_REMINDER,
        kind=Kind.SERVICE,
        channel=MessageChannel.VOICE,
        body=(
            "{name}您好，您预约了{date}{time}{department}的门诊。确认请按1，需要回电请按2，"
            "不再接收语音通知请按9。"
        ),
        **kwargs,
    )


def voice_client(phone=None):
    client = ClientFactory(phone=phone) if phone else ClientFactory()
    grant(client, SERVICE_VOICE, method="phone")
    return client


def reminder_of(booking):
    return OutboxMessage.objects.get(
        idempotency_key=f"booking:{booking.pk}:reminder:{booking.session_id}"
    )


def ring(message):
    """The evening before has come: the outbox sends the reminder."""
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    return vms.placed[-1]


def push(client, placed, *, status="200000", dtmf="", duration="25"):
    element = {
        "call_id": placed.call_id,
        "out_id": placed.reference,
        "status_code": status,
        "start_time": "2026-12-07 18:00:05",
        "end_time": "2026-12-07 18:00:40",
        "duration": duration,
        "dtmf": dtmf,
    }
    response = client.post(
        reverse("voice:aliyun_receipt", args=[SECRET]),
        data=json.dumps([element]),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response


@pytest.fixture
def reminded():
    """A client who chose voice, booked in three days, and the reminder call placed."""
    booking_templates()
    voice_reminder_template()
    booking = make_booking(client=voice_client())
    message = reminder_of(booking)
    placed = ring(message)
    return booking, message, placed


def test_a_client_who_chose_voice_gets_a_keypad_call_for_the_reminder(reminded):
    booking, message, placed = reminded
    assert message.channel == MessageChannel.VOICE and message.status == Status.SENT
    assert placed.action == vms.IVR_CALL
    assert placed.to == booking.client.phone
    # Each key plays back its approved reply; what it means stays ours (REMINDER_MENU).
    assert placed.menu_keys == {"1": "TTS_272911", "2": "TTS_272912", "9": "TTS_272913"}
    assert placed.reference == f"msg:{message.pk}"
    assert placed.template_code == "TTS_272910"
    assert placed.params["department"] == booking.session.department.name
    # No SMS reminder as well (the confirmation SMS went when the booking was made).
    assert not OutboxMessage.objects.filter(
        purpose=Purpose.BOOKING_REMINDER, channel=MessageChannel.SMS
    ).exists()


def test_pressing_1_confirms_the_booking(client, reminded):
    booking, message, placed = reminded
    push(client, placed, dtmf="1")
    message.refresh_from_db()
    assert (message.status, message.keys, message.talk_seconds) == (Status.DELIVERED, "1", 25)
    confirmed = BookingEvent.objects.get(booking=booking, action=BookingEvent.Action.CONFIRMED)
    assert confirmed.to_session_id == booking.session_id


def test_pressing_2_asks_for_a_call_back(client, reminded):
    booking, _message, placed = reminded
    push(client, placed, dtmf="2")
    recall = Recall.objects.get(kind=Recall.Kind.CALLBACK)
    assert (recall.phone, recall.client_id) == (booking.client.phone, booking.client_id)
    assert not BookingEvent.objects.filter(action=BookingEvent.Action.CONFIRMED).exists()


def test_pressing_9_stops_voice_calls_and_the_pending_voice_reminders(client, reminded):
    booking, _message, placed = reminded
    other = make_booking(client=booking.client, session=future_session(days=8))
    assert reminder_of(other).status == Status.PENDING
    push(client, placed, dtmf="9")
    assert not has_consent(booking.client, SERVICE_VOICE)
    event = ConsentEvent.objects.filter(client=booking.client, purpose=SERVICE_VOICE).latest("at")
    assert (event.granted, event.channel) == (False, Channel.IN_APP)
    stopped = reminder_of(other)
    assert (stopped.status, stopped.error_code) == (Status.SUPPRESSED, rules.REFUSED_VOICE)
    # No more calls, but the reminder itself still goes: by SMS, at the same time.
    instead = OutboxMessage.objects.get(
        idempotency_key=services.voice_fallback_key(stopped.idempotency_key)
    )
    assert (instead.channel, instead.status) == (MessageChannel.SMS, Status.PENDING)
    assert instead.send_after == stopped.send_after
    # The next booking's reminder goes by SMS, as the client now has it.
    third = make_booking(client=booking.client, session=future_session(days=10))
    assert reminder_of(third).channel == MessageChannel.SMS


def test_a_replayed_receipt_is_applied_once(client, reminded):
    _booking, message, placed = reminded
    push(client, placed, dtmf="2")
    push(client, placed, dtmf="2")
    assert VoiceReceipt.objects.filter(call_id=placed.call_id).count() == 1
    assert message.events.filter(to_status=Status.DELIVERED).count() == 1
    assert Recall.objects.filter(kind=Recall.Kind.CALLBACK).count() == 1


def test_a_busy_line_is_called_again_then_given_up(client, settings, reminded):
    settings.VOICE_RETRY_ATTEMPTS, settings.VOICE_RETRY_MINUTES = 2, 10
    _booking, message, placed = reminded
    for _attempt in range(2):
        push(client, placed, status="200002")
        message.refresh_from_db()
        assert message.status == Status.PENDING
        assert message.send_after > timezone.now() + datetime.timedelta(minutes=9)
        placed = ring(message)
    push(client, placed, status="200002")
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "busy")
    assert len(vms.placed) == 3
    assert "Busy" in message.error_explanation or "占线" in message.error_explanation


def test_an_unanswered_reminder_does_nothing_for_its_keys(client, reminded):
    _booking, message, placed = reminded
    push(client, placed, status="200010")  # powered off
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "powered_off")
    assert not Recall.objects.exists()


def test_an_unapproved_voice_template_falls_back_to_sms():
    booking_templates()
    voice_reminder_template(approval=Approval.REJECTED)
    booking = make_booking(client=voice_client())
    voice = reminder_of(booking)
    assert (voice.channel, voice.status, voice.error_code) == (
        MessageChannel.VOICE,
        Status.SUPPRESSED,
        rules.NOT_APPROVED,
    )
    text = OutboxMessage.objects.get(idempotency_key=f"{voice.idempotency_key}:sms")
    assert (text.channel, text.status, text.template.code) == (
        MessageChannel.SMS,
        Status.PENDING,
        "booking_reminder",
    )
    assert text.send_after == voice.send_after and text.expires_at == voice.expires_at


def test_a_keys_reply_not_approved_holds_the_call_and_the_reminder_goes_by_sms():
    booking_templates()
    voice_reminder_template(replies=("confirm", "callback"))  # no reply for 9
    booking = make_booking(client=voice_client())
    voice = reminder_of(booking)
    assert (voice.status, voice.error_code) == (Status.SUPPRESSED, rules.NOT_APPROVED)
    assert OutboxMessage.objects.filter(idempotency_key=f"{voice.idempotency_key}:sms").exists()


def test_a_landline_client_is_reminded_by_voice_without_choosing_it():
    booking_templates()
    voice_reminder_template()
    booking = make_booking(client=ClientFactory(phone=LANDLINE))
    message = reminder_of(booking)
    assert message.channel == MessageChannel.VOICE
    assert ring(message).to == LANDLINE


def test_a_landline_client_whose_voice_template_is_unapproved_gets_a_call_from_staff():
    booking_templates()
    voice_reminder_template(approval=Approval.PENDING)
    booking = make_booking(client=ClientFactory(phone=LANDLINE))
    assert reminder_of(booking).error_code == rules.NOT_APPROVED
    assert not OutboxMessage.objects.filter(idempotency_key__endswith=":sms").exists()
    recall = Recall.objects.get(kind=Recall.Kind.CALLBACK)
    assert (recall.phone, recall.client_id) == (LANDLINE, booking.client_id)


def test_a_client_with_a_mobile_who_did_not_choose_voice_gets_the_sms_as_before():
    booking_templates()
    voice_reminder_template()
    booking = make_booking()
    assert reminder_of(booking).channel == MessageChannel.SMS


def test_a_cancelled_booking_cancels_its_voice_reminder():
    from consult import services as consult

    booking_templates()
    voice_reminder_template()
    booking = make_booking(client=voice_client())
    consult.booking_cancel(booking=booking, reason="x", by=None)
    assert reminder_of(booking).status == Status.CANCELLED


def test_the_receipts_handler_for_outbox_calls_is_registered():
    from voice import receipts, reminders

    assert receipts._handlers["msg"] is reminders.message_receipt


def test_a_voice_template_refused_after_the_reminder_was_written_falls_back_when_due():
    booking_templates()
    template = voice_reminder_template()
    booking = make_booking(client=voice_client())
    voice = reminder_of(booking)
    SmsTemplate.objects.filter(pk=template.pk).update(approval=Approval.REJECTED)
    OutboxMessage.objects.filter(pk=voice.pk).update(send_after=timezone.now())
    services.outbox_send(message_id=voice.pk)
    voice.refresh_from_db()
    assert (voice.status, voice.error_code) == (Status.SUPPRESSED, rules.NOT_APPROVED)
    assert vms.placed == []
    text = OutboxMessage.objects.get(idempotency_key=f"{voice.idempotency_key}:sms")
    assert (text.channel, text.status) == (MessageChannel.SMS, Status.PENDING)
    assert text.send_after <= timezone.now() and text.expires_at == voice.expires_at
    with pytest.raises(ValidationError):  # and the call is not made as well
        services.outbox_release(message=voice, by=None)


def test_a_landline_reminder_refused_when_due_becomes_a_call_for_staff():
    booking_templates()
    template = voice_reminder_template()
    booking = make_booking(client=ClientFactory(phone=LANDLINE))
    voice = reminder_of(booking)
    SmsTemplate.objects.filter(pk=template.pk).update(approval=Approval.PENDING)
    OutboxMessage.objects.filter(pk=voice.pk).update(send_after=timezone.now())
    services.outbox_send(message_id=voice.pk)
    assert vms.placed == []
    recall = Recall.objects.get(kind=Recall.Kind.CALLBACK)
    assert (recall.phone, recall.client_id) == (LANDLINE, booking.client_id)


def test_the_booking_page_shows_the_confirmation(client, front_desk_client, reminded):
    booking, _message, placed = reminded
    push(client, placed, dtmf="1")
    body = front_desk_client.get(booking.get_absolute_url()).content.decode()
    with translation.override("zh-hans"):
        assert str(BookingEvent.Action.CONFIRMED.label) in body
        assert _("Pressed 1 on the reminder call.") in body


def test_a_retry_is_another_call_whose_receipt_is_its_own(client, settings, reminded):
    """The second attempt's receipt names the second call: it is applied (keys and all), and
    a late receipt of the first call changes nothing."""
    settings.VOICE_RETRY_ATTEMPTS = 2
    booking, message, first = reminded
    push(client, first, status="200003")  # no answer: called again later
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Status.PENDING, "")
    second = ring(message)
    assert second.call_id != first.call_id
    push(client, second, dtmf="1")
    message.refresh_from_db()
    assert (message.status, message.keys, message.provider_id) == (
        Status.DELIVERED,
        "1",
        second.call_id,
    )
    assert BookingEvent.objects.filter(booking=booking, action="confirmed").count() == 1


def test_pressing_1_on_a_moved_bookings_old_reminder_confirms_nothing(client, reminded):
    from consult.services import booking_reschedule

    booking, _message, placed = reminded
    moved_to = future_session(days=6, department=booking.session.department)
    booking_reschedule(booking=booking, session=moved_to, by=None, reason="客户改期")
    push(client, placed, dtmf="1")
    assert not BookingEvent.objects.filter(booking=booking, action="confirmed").exists()
