"""The domestic route end to end: an approved template sent through the real Alibaba Cloud SDK
against its fake (tests/fake_aliyun.py), then the provider's pushes to the application (delivery
reports and replies, messaging.webhooks) built from what the fake received."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from messaging import rules, services
from messaging.models import (
    Approval,
    InboundMessage,
    OutboxEvent,
    OutboxMessage,
    PhoneOptOut,
    SmsTemplate,
)
from tests.clientmgmt.factories import ClientFactory
from tests.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
SECRET = "k2VJ8pX0wq-N7a4bZ3cT9yLmR5sD1fGhUeWiOoPjQ6E"
SIGN_NAME = "中都皮肤病医院"
MAINLAND = "+8613912345678"
PROVIDER_CODE = "SMS_154950909"
VALUES = {"name": "张伟", "date": "12月8日", "time": "09:30", "department": "皮肤科"}


@pytest.fixture
def fake(settings):
    """Mainland numbers through Alibaba Cloud (its fake), the others kept in memory."""
    settings.SMS_ROUTES = {"cn": "aliyun", "other": "memory"}
    settings.ALIYUN_ACCESS_KEY_ID = ACCESS_KEY_ID
    settings.ALIYUN_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
    settings.ALIYUN_SMS_SIGN_NAME = SIGN_NAME
    settings.ALIYUN_PUSH_SECRET = SECRET
    settings.ALIYUN_PUSH_ALLOWED_IPS = []
    settings.DJANGO_PROXY_COUNT = 0
    templates = {PROVIDER_CODE: ["name", "date", "time", "department"]}
    with FakeAliyun(sign_names={SIGN_NAME}, templates=templates) as server:
        settings.ALIYUN_SMS_API_BASE_URL = server.url
        yield server


def _template(code="booking_reminder", kind="service", provider_code=PROVIDER_CODE):
    return SmsTemplate.objects.create(
        code=code,
        purpose="booking_reminder" if kind == "service" else "health_tip",
        kind=kind,
        body="【{hospital}】{name}您好，您预约了{date} {time}的{department}。",
        approval=Approval.APPROVED,
        provider_code=provider_code,
    )


def _enqueue(key="k", person=None, template_code="booking_reminder", **kwargs):
    return services.outbox_enqueue(
        idempotency_key=key,
        client=person or ClientFactory(phone=MAINLAND),
        purpose="booking_reminder",
        template_code=template_code,
        values=VALUES,
        **kwargs,
    )


def _sent(fake):
    _template()
    message = _enqueue()
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def _push(client, name, items, *, secret=SECRET, **extra):
    body = items if isinstance(items, str | bytes) else json.dumps(items, ensure_ascii=False)
    path = reverse(f"messaging:{name}", args=[secret])
    return client.post(path, body, content_type="application/json", **extra)


# --- Sending --------------------------------------------------------------------------------


def test_an_approved_template_reaches_the_provider_as_code_values_signature_and_number(fake):
    message = _sent(fake)

    (request,) = fake.requests
    assert (message.status, message.route) == (Status.SENT, "aliyun")
    assert message.provider_id == request["biz_id"]
    assert request["template_code"] == PROVIDER_CODE
    assert request["params"] == VALUES
    assert request["sign_name"] == SIGN_NAME
    assert request["phone"] == "13912345678"
    assert request["out_id"] == str(message.pk)


def test_a_throttled_message_waits_and_goes_on_a_later_try(fake):
    _template()
    message = _enqueue()
    fake.throttle = 1.0
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.PENDING, "isv.BUSINESS_LIMIT_CONTROL")
    assert message.send_after > timezone.now() + datetime.timedelta(seconds=30)

    fake.throttle = 0.0
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert fake.counts_by_out_id() == {str(message.pk): 1}


def test_a_template_the_provider_does_not_know_fails_the_message_with_its_explanation(fake):
    _template(provider_code="SMS_000000001")
    message = _enqueue()
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "isv.SMS_TEMPLATE_ILLEGAL")
    with translation.override("zh-hans"):
        assert message.error_explanation == "短信服务商找不到该模板，或模板未审核通过。"


def test_an_unapproved_template_never_reaches_the_provider(fake):
    template = _template()
    SmsTemplate.objects.filter(pk=template.pk).update(approval=Approval.PENDING)
    message = _enqueue()
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SUPPRESSED
    assert fake.requests == []


# --- Delivery reports -----------------------------------------------------------------------


def test_a_delivery_report_moves_the_message_to_delivered(client, fake):
    message = _sent(fake)

    response = _push(client, "aliyun_report", [fake.report(fake.requests[0])])

    assert response.status_code == 200
    assert response.json() == {"code": 0, "msg": "接收成功"}
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.delivered_at is not None


def test_a_failure_report_fails_the_message_with_the_code_explained_in_chinese(client, fake):
    message = _sent(fake)
    report = fake.report(
        fake.requests[0], success=False, err_code="MOBILE_NOT_ON_SERVICE", err_msg="停机"
    )

    assert _push(client, "aliyun_report", [report]).status_code == 200

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_text) == (
        Status.FAILED,
        "MOBILE_NOT_ON_SERVICE",
        "停机",
    )
    with translation.override("zh-hans"):
        assert message.error_explanation == "该号码已停机或已停用。"


def test_a_replayed_report_changes_nothing(client, fake):
    message = _sent(fake)
    report = fake.report(fake.requests[0])
    _push(client, "aliyun_report", [report])
    events = OutboxEvent.objects.count()

    # The provider pushes again (it did not hear our answer), then a late failure report.
    assert _push(client, "aliyun_report", [report, report]).status_code == 200
    failure = fake.report(fake.requests[0], success=False, err_code="UNDELIV")
    assert _push(client, "aliyun_report", [failure]).status_code == 200

    assert OutboxEvent.objects.count() == events
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.DELIVERED


def test_a_report_settles_a_message_whose_answer_never_came(client, fake, settings):
    settings.ALIYUN_TIMEOUT_SECONDS = 0.3
    fake.hang_seconds = 3
    fake.timeout = 1.0
    _template()
    message = _enqueue()
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Status.UNKNOWN, "")

    _push(client, "aliyun_report", [fake.report(fake.requests[0])])

    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.provider_id == fake.requests[0]["biz_id"]


def test_a_report_for_another_id_or_number_is_ignored(client, fake):
    message = _sent(fake)
    report = fake.report(fake.requests[0])
    other_biz = {**report, "biz_id": "900000000000000000^0"}
    other_phone = {**report, "phone_number": "13800000000"}
    unknown_row = {**report, "out_id": "999999", "biz_id": "1^0"}

    response = _push(client, "aliyun_report", [other_biz, other_phone, unknown_row])

    assert response.status_code == 200  # answered, or the provider would push them for ever
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT


def test_a_wrong_or_unset_secret_is_a_404(client, fake, settings):
    message = _sent(fake)
    report = [fake.report(fake.requests[0])]
    assert _push(client, "aliyun_report", report, secret=SECRET[:-1] + "x").status_code == 404
    assert _push(client, "aliyun_up", report, secret="guess").status_code == 404
    settings.ALIYUN_PUSH_SECRET = ""
    assert _push(client, "aliyun_report", report, secret="x").status_code == 404
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT


def test_only_the_allowed_addresses_may_push_when_a_list_is_set(client, fake, settings):
    message = _sent(fake)
    report = [fake.report(fake.requests[0])]
    settings.ALIYUN_PUSH_ALLOWED_IPS = ["106.11.0.0/16", "not-an-address"]

    refused = _push(client, "aliyun_report", report, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT

    taken = _push(client, "aliyun_report", report, REMOTE_ADDR="106.11.32.7")
    assert taken.status_code == 200
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.DELIVERED


def test_a_get_is_not_allowed(client, fake):
    assert client.get(reverse("messaging:aliyun_report", args=[SECRET])).status_code == 405


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        '[{"biz_id": "1\x00^0"}]',  # a raw control character: not JSON
        json.dumps({"biz_id": "1^0"}),  # an object, not an array
        json.dumps([{"out_id": "1"}]),  # no biz_id, phone_number, success
        json.dumps(["text"]),
        b"\xff\xfe",
    ],
)
def test_a_push_that_is_not_the_providers_is_a_400_and_applies_nothing(client, fake, body):
    message = _sent(fake)
    assert _push(client, "aliyun_report", body).status_code == 400
    assert _push(client, "aliyun_up", body).status_code == 400
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT
    assert not InboundMessage.objects.exists()


def test_one_bad_report_in_a_push_applies_none_of_it(client, fake):
    message = _sent(fake)
    good = fake.report(fake.requests[0])
    bad = {**good, "biz_id": "1\u0000^0"}  # an escaped NUL in an id
    assert _push(client, "aliyun_report", [good, bad]).status_code == 400
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT


# --- Replies --------------------------------------------------------------------------------


def _pending_marketing(person, key):
    template = SmsTemplate.objects.filter(code="tip").first() or _template(
        code="tip", kind="marketing"
    )
    return services.outbox_enqueue(
        idempotency_key=key,
        client=person,
        purpose="health_tip",
        template_code=template.code,
        values=VALUES,
        send_after=timezone.now() + datetime.timedelta(days=1),
    )


@pytest.mark.parametrize("word", ["ＴＤ", "td ", "　退订　", "Td", "取消", "r", "Ｎ"])
def test_an_opt_out_reply_suppresses_the_persons_pending_marketing_messages(client, fake, word):
    person = ClientFactory(phone=MAINLAND)
    waiting = [_pending_marketing(person, "tip-1"), _pending_marketing(person, "tip-2")]
    assert {m.status for m in waiting} == {Status.PENDING}

    reply = fake.reply("13912345678", word, sequence_id=123456789)
    response = _push(client, "aliyun_up", [reply])

    assert response.status_code == 200 and response.json()["code"] == 0
    assert {m.status for m in OutboxMessage.objects.filter(client=person)} == {Status.SUPPRESSED}
    assert PhoneOptOut.objects.filter(phone=MAINLAND).exists()
    inbound = InboundMessage.objects.get()
    assert (inbound.provider_id, inbound.from_number, inbound.action) == (
        "aliyun-up-123456789",
        MAINLAND,
        "opt_out",
    )


def test_a_reply_that_is_not_an_opt_out_word_is_kept_and_changes_nothing(client, fake):
    person = ClientFactory(phone=MAINLAND)
    waiting = _pending_marketing(person, "tip")
    reply = fake.reply("13912345678", "TD是什么意思？\x00", sequence_id=1)

    assert _push(client, "aliyun_up", [reply]).status_code == 200

    assert OutboxMessage.objects.get(pk=waiting.pk).status == Status.PENDING
    assert not PhoneOptOut.objects.exists()
    assert InboundMessage.objects.get().body == "TD是什么意思？"  # the NUL could not be stored


def test_a_reply_pushed_twice_is_kept_once(client, fake):
    ClientFactory(phone=MAINLAND)
    reply = fake.reply("13912345678", "退订", sequence_id=42)
    _push(client, "aliyun_up", [reply])
    _push(client, "aliyun_up", [reply])
    assert InboundMessage.objects.count() == 1


def test_the_opt_out_words_are_a_setting(client, fake, settings):
    settings.SMS_OPT_OUT_WORDS = ["停"]
    _push(client, "aliyun_up", [fake.reply("13912345678", "TD", sequence_id=1)])
    assert not PhoneOptOut.objects.exists()
    _push(client, "aliyun_up", [fake.reply("13912345678", " 停 ", sequence_id=2)])
    assert PhoneOptOut.objects.filter(phone=MAINLAND).exists()


# --- The opt-out word matcher ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["T", "t", "TD", "td", " Td\n", "ＴＤ", "ｔｄ", "　ＴＤ　", "R", "N", "退订", " 取消 "]
)
def test_the_default_opt_out_words_match_after_normalising(text):
    assert services.is_opt_out_reply(text)


@pytest.mark.parametrize("text", ["", "   ", "TDD", "T D", "退订了", "好的", "STOP", "yes"])
def test_other_replies_are_not_opt_outs(text):
    assert not services.is_opt_out_reply(text)


def test_the_providers_own_words_count_only_where_given():
    assert services.is_opt_out_reply("ＳＴＯＰ", extra_words=services.TWILIO_STOP_WORDS)
    assert not services.is_opt_out_reply("STOP")


def test_the_configured_words_are_normalised_too(settings):
    settings.SMS_OPT_OUT_WORDS = ["ＵＮＳＵＢ", ""]
    assert services.is_opt_out_reply("unsub")
    assert not services.is_opt_out_reply("")


def test_each_route_sends_through_its_own_providers_sdk(fake, settings):
    """cn=aliyun, other=twilio: the mainland number's template reaches Alibaba Cloud's fake,
    the Hong Kong number's rendered text Twilio's, each through its real SDK."""
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

    settings.SMS_ROUTES = {"cn": "aliyun", "other": "twilio"}
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_MESSAGING_SERVICE_SID = "+15005550006", ""
    _template()
    with FakeTwilio() as twilio:
        settings.TWILIO_API_BASE_URL = twilio.url
        mainland = _enqueue("cn")
        abroad = _enqueue("hk", person=ClientFactory(phone="+85291234567"))
        for message in (mainland, abroad):
            services.outbox_send(message_id=message.pk)

    mainland.refresh_from_db()
    abroad.refresh_from_db()
    assert (mainland.status, mainland.route, abroad.status, abroad.route) == (
        Status.SENT,
        "aliyun",
        Status.SENT,
        "twilio",
    )
    assert [r["out_id"] for r in fake.requests] == [str(mainland.pk)]
    (sent,) = twilio.requests
    assert sent["to"] == "+85291234567" and sent["body"].endswith("的皮肤科。")

    # A report naming the Twilio message is not Alibaba Cloud's to give.
    services.aliyun_report_receive(
        out_id=str(abroad.pk),
        biz_id="",
        phone="85291234567",
        success=False,
        err_code="UNDELIV",
        err_msg="",
    )
    assert OutboxMessage.objects.get(pk=abroad.pk).status == Status.SENT


def test_a_guessable_secret_or_a_mistyped_allowed_address_is_reported_at_start(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.ALIYUN_PUSH_SECRET = "short"
    settings.ALIYUN_PUSH_ALLOWED_IPS = ["106.11.0.0/16", "106.11.0.0/33"]
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="WARNING")
    assert "zhongdu.W001" in str(raised.value) and "zhongdu.E004" in str(raised.value)
    settings.ALIYUN_PUSH_SECRET = SECRET
    settings.ALIYUN_PUSH_ALLOWED_IPS = ["106.11.0.0/16"]
    call_command("check", fail_level="WARNING")


# --- Found in review ------------------------------------------------------------------------


def test_a_message_written_before_routes_is_held_not_failed_on_the_domestic_route(fake):
    """A row from before the routes (no route, no provider code, no parameters) cannot go as
    a template: held for staff, never failed at the provider."""
    _template()
    message = _enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(route="", provider_template="", params={})
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code, message.held) == (
        Status.SUPPRESSED,
        rules.FREE_TEXT,
        True,
    )
    assert fake.requests == []


@pytest.mark.parametrize("out_id", ["²", "9" * 30, "-1", " 1"])
def test_a_report_with_an_odd_out_id_is_ignored_and_the_rest_applied(client, fake, out_id):
    message = _sent(fake)
    odd = {**fake.report(fake.requests[0]), "out_id": out_id, "biz_id": "other"}
    good = fake.report(fake.requests[0])
    assert _push(client, "aliyun_report", [odd, good]).json() == {"code": 0, "msg": "接收成功"}
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.DELIVERED


def test_the_push_secret_never_reaches_a_log_line(client, fake, caplog):
    import logging

    from zhongdu.logfilters import RedactSecrets

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert _push(client, "aliyun_report", "not json").status_code == 400
    # Django logs the refused push's path; the console handler's filter (settings.LOGGING)
    # blanks the secret in it before any handler after it sees the line.
    lines = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert lines == ["Bad Request: /messaging/aliyun/report/<secret>/"]
    record = logging.LogRecord("x", logging.WARNING, "", 0, "Forbidden: %s", (f"/{SECRET}/",), None)
    RedactSecrets().filter(record)
    assert record.getMessage() == "Forbidden: /<secret>/"
