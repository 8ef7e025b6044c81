"""A voice reminder through the real SDK against the local fake of Alibaba Cloud's voice API
(tests/fake_aliyun_vms.py): the keypad call with its approved template and the replies of its
keys, then the fake's own receipt pushed back to the receipt address."""

import json

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from consult.models import BookingEvent
from messaging import services
from messaging.models import OutboxMessage
from tests.consult.factories import booking_templates, make_booking
from tests.fake_aliyun_vms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SHOW_NUMBER, FakeAliyunVms
from tests.voice.test_reminders import reminder_of, voice_client, voice_reminder_template

pytestmark = pytest.mark.django_db
SECRET = "remind-aliyun-receipt-secret-0123456789abcdef"
Status = OutboxMessage.Status


@pytest.fixture
def fake(settings, memory_sms):
    settings.VOICE_BACKEND = "aliyun"
    settings.ALIYUN_ACCESS_KEY_ID = ACCESS_KEY_ID
    settings.ALIYUN_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
    settings.ALIYUN_VOICE_SHOW_NUMBER = SHOW_NUMBER
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    settings.ALIYUN_TIMEOUT_SECONDS = 5
    with FakeAliyunVms(show_numbers={SHOW_NUMBER}) as server:
        settings.ALIYUN_VMS_API_BASE_URL = server.url
        yield server


def test_a_reminder_answered_with_1_through_the_real_sdk_confirms_the_booking(fake):
    booking_templates()
    voice_reminder_template()
    booking = make_booking(client=voice_client())
    message = reminder_of(booking)
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=message.created_at)
    services.outbox_send(message_id=message.pk)
    (request,) = fake.requests
    assert request["action"] == "IvrCall"
    assert request["template_code"] == "TTS_272910"
    assert request["menu_keys"] == {"1": "TTS_272911", "2": "TTS_272912", "9": "TTS_272913"}
    assert request["out_id"] == f"msg:{message.pk}"
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Status.SENT, request["call_id"])

    element = fake.receipt(request, outcome="answered", keys="1", talk_seconds=20)
    for _push in range(2):  # the provider pushes again until it hears back
        answer = HttpClient().post(
            reverse("voice:aliyun_receipt", args=[SECRET]),
            data=json.dumps([element], ensure_ascii=False),
            content_type="application/json",
        )
        assert answer.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.keys, message.talk_seconds) == (Status.DELIVERED, "1", 20)
    confirmed = BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.CONFIRMED)
    assert confirmed.count() == 1
