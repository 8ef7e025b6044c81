import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from clientmgmt.models import Client, ConsentEvent
from clientmgmt.selectors import has_consent
from messaging import services
from messaging.models import InboundMessage, OutboxMessage, PhoneOptOut
from tests.clientmgmt.factories import ClientFactory, grant

pytestmark = pytest.mark.django_db
TOKEN = "f" * 32
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = "https://kefu.zhongdu.example"


def _post(client, path, params, *, token=TOKEN, signature=None):
    url = f"https://kefu.zhongdu.example{path}"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def _sent_message(status=Status.SENT):
    message = services.outbox_enqueue(
        idempotency_key="k", client=ClientFactory(phone="13912345678"), body="hi", purpose="other"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status)
    return message


def _report(client, message, status, **extra):
    path = reverse("messaging:twilio_status", args=[message.callback_token])
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": status, **extra}
    return _post(client, path, params)


def test_a_signed_delivery_report_moves_the_message_forward(client):
    message = _sent_message()
    response = _report(client, message, "delivered")
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.delivered_at is not None


def test_a_forged_or_unsigned_report_is_refused(client):
    message = _sent_message()
    path = reverse("messaging:twilio_status", args=[message.callback_token])
    params = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    assert _post(client, path, params, token="wrong" * 8).status_code == 403
    assert client.post(path, params).status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT


def test_a_report_signed_for_other_parameters_is_refused(client):
    message = _sent_message()
    path = reverse("messaging:twilio_status", args=[message.callback_token])
    url = f"https://kefu.zhongdu.example{path}"
    signature = RequestValidator(TOKEN).compute_signature(url, {"MessageStatus": "sent"})
    response = _post(client, path, {"MessageStatus": "delivered"}, signature=signature)
    assert response.status_code == 403


def test_a_replayed_report_changes_nothing(client):
    message = _sent_message()
    _report(client, message, "delivered")
    events = message.events.count()
    assert _report(client, message, "delivered").status_code == 204
    assert message.events.count() == events


def test_a_late_report_does_not_move_a_message_back(client):
    message = _sent_message()
    _report(client, message, "delivered")
    _report(client, message, "sent")  # arrives after "delivered"
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.DELIVERED


def test_a_report_settles_an_unknown_outcome_and_learns_the_provider_id(client):
    message = _sent_message(Status.UNKNOWN)
    _report(client, message, "sent")
    message.refresh_from_db()
    assert message.status == Status.SENT and message.provider_id == "SM" + "a" * 32


def test_an_undelivered_report_fails_the_message(client):
    message = _sent_message()
    _report(client, message, "undelivered", ErrorCode="30005")
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "30005")


def test_an_unknown_callback_address_is_a_404(client):
    path = reverse("messaging:twilio_status", args=["00000000-0000-0000-0000-000000000000"])
    assert _post(client, path, {"MessageStatus": "sent"}).status_code == 404


def _inbound(client, body, sid="SM1", number="+8613912345678"):
    path = reverse("messaging:twilio_inbound")
    return _post(client, path, {"MessageSid": sid, "From": number, "Body": body})


@pytest.mark.parametrize("word", ["STOP", "退订", "td", " Stop ", "ＳＴＯＰ", "ＴＤ", "取消"])
def test_a_stop_reply_opts_the_number_and_its_clients_out(client, word):
    person = ClientFactory(phone="13912345678")
    response = _inbound(client, word)
    assert response.status_code == 200 and "<Response>" in response.content.decode()
    assert has_consent(person, "service_sms") is False
    refusal = ConsentEvent.objects.get(client=person)
    assert (refusal.granted, refusal.channel, refusal.method) == (False, "sms_reply", "sms")
    assert PhoneOptOut.objects.filter(phone="+8613912345678").exists()
    assert person.events.filter(kind="consent").exists()


def test_start_opts_back_in(client):
    person = ClientFactory(phone="13912345678")
    _inbound(client, "退订", sid="SM1")
    _inbound(client, "START", sid="SM2")
    assert has_consent(person, "service_sms") is True
    assert not PhoneOptOut.objects.exists()


def test_the_same_inbound_message_is_handled_once(client):
    person = ClientFactory(phone="13912345678")
    _inbound(client, "STOP", sid="SM9")
    grant(person, "service_sms")  # staff re-enabled it meanwhile
    _inbound(client, "STOP", sid="SM9")  # the provider delivers the webhook again
    assert InboundMessage.objects.count() == 1
    assert has_consent(Client.objects.get(), "service_sms") is True


def test_an_unsigned_inbound_message_is_refused(client):
    response = client.post(reverse("messaging:twilio_inbound"), {"Body": "STOP", "From": "+86139"})
    assert response.status_code == 403
