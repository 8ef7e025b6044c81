"""Routing by destination, PIPL first (messaging.rules.ROUTES): mainland mobiles through the
domestic provider; through Twilio only on the cross-border route an administrator enabled with
its legal basis; a number no route serves is held with that reason. Twilio is faked at its HTTP
boundary (tests/fake_twilio.py), so the real SDK call runs."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from messaging import rules, services
from messaging.models import Approval, OutboxMessage, SmsRoutePolicy, SmsTemplate
from tests.clientmgmt.factories import ClientFactory
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from zhongdu import sms

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
MAINLAND = "+8613912345678"
HONG_KONG = "+85291234567"


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0
    with FakeTwilio() as server:
        settings.TWILIO_API_BASE_URL = server.url
        yield server


def _send(to, key="k", body="您好，明天上午9:30请到皮肤科就诊。", **kwargs):
    message = services.outbox_enqueue(
        idempotency_key=key, client=ClientFactory(phone=to), body=body, purpose="other", **kwargs
    )
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_with_only_twilio_a_mainland_number_is_held_and_others_go_through_twilio(twilio):
    held = _send(MAINLAND, key="cn")
    assert (held.status, held.error_code, held.route) == (Status.SUPPRESSED, rules.NO_ROUTE, "")
    assert held.error_text == str(rules.BLOCK_REASONS[rules.NO_ROUTE])
    sent = _send(HONG_KONG, key="hk")
    assert (sent.status, sent.route) == (Status.SENT, "twilio")
    assert [r["to"] for r in twilio.requests] == [HONG_KONG]  # the mainland one never left


def test_mainland_through_twilio_only_on_the_enabled_cross_border_route(twilio, settings):
    settings.SMS_ROUTES = {"cn": "twilio", "other": "twilio"}
    refused = _send(MAINLAND, key="before")
    assert (refused.status, refused.error_code) == (Status.SUPPRESSED, rules.CROSS_BORDER)
    # Enabled without a legal basis is not enabled.
    SmsRoutePolicy.objects.create(mainland_via_twilio=True, legal_basis="  ")
    assert _send(MAINLAND, key="no-basis").error_code == rules.CROSS_BORDER
    SmsRoutePolicy.objects.create(mainland_via_twilio=True, legal_basis="Separate consent")
    sent = _send(MAINLAND, key="after")
    assert (sent.status, sent.route) == (Status.SENT, "twilio")
    assert [r["to"] for r in twilio.requests] == [MAINLAND]


def test_a_withdrawn_cross_border_route_holds_what_was_waiting(twilio, settings, memory_sms):
    settings.SMS_BACKEND = "twilio"
    settings.SMS_ROUTES = {"cn": "twilio", "other": "twilio"}
    SmsRoutePolicy.objects.create(mainland_via_twilio=True, legal_basis="Separate consent")
    message = services.outbox_enqueue(
        idempotency_key="later",
        client=ClientFactory(phone=MAINLAND),
        body="您好",
        purpose="other",
        send_after=services.timezone.now(),
    )
    SmsRoutePolicy.objects.create(mainland_via_twilio=False, note="Basis ended")
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.SUPPRESSED, rules.CROSS_BORDER)
    assert twilio.requests == []


def test_twilio_never_carries_a_link_to_a_mainland_number(twilio, mainland_via_twilio):
    message = _send(MAINLAND, body="问卷：https://survey.example/abc")
    assert (message.status, message.error_code) == (Status.SUPPRESSED, rules.LINK_MAINLAND)
    assert not rules.links_allowed(MAINLAND) and rules.links_allowed(HONG_KONG)
    assert twilio.requests == []


def test_the_domestic_route_sends_only_approved_templates_as_code_and_parameters(
    settings, memory_sms
):
    settings.SMS_ROUTES = {"cn": "aliyun", "other": "memory"}
    template = SmsTemplate.objects.create(
        code="booking_reminder",
        purpose="booking_reminder",
        body="【{hospital}】{name}您好，您预约了{date} {time}的{department}。",
    )
    values = {"name": "张伟", "date": "12月8日", "time": "09:30", "department": "皮肤科"}

    def enqueue(key):
        return services.outbox_enqueue(
            idempotency_key=key,
            client=ClientFactory(phone=MAINLAND),
            purpose="booking_reminder",
            template_code="booking_reminder",
            values=values,
        )

    unapproved = enqueue("unapproved")
    assert (unapproved.status, unapproved.error_code) == (Status.SUPPRESSED, rules.NOT_APPROVED)
    free_text = services.outbox_enqueue(
        idempotency_key="free", to=MAINLAND, body="您好", purpose="other"
    )
    assert (free_text.status, free_text.error_code) == (Status.SUPPRESSED, rules.FREE_TEXT)

    SmsTemplate.objects.filter(pk=template.pk).update(
        approval=Approval.APPROVED, provider_code="SMS_154950909"
    )
    message = enqueue("approved")
    assert (message.status, message.route) == (Status.PENDING, "aliyun")
    assert message.provider_template == "SMS_154950909"
    # The parameters of the text after the signature, which the provider adds itself.
    assert message.params == values
    # A Hong Kong number goes by the other route, with the rendered text.
    abroad = services.outbox_enqueue(
        idempotency_key="abroad",
        client=ClientFactory(phone=HONG_KONG),
        purpose="booking_reminder",
        template_code="booking_reminder",
        values=values,
    )
    assert abroad.route == "memory"
    services.outbox_send(message_id=abroad.pk)
    assert [m.to for m in sms.outbox] == [HONG_KONG]
    assert sms.outbox[0].body.endswith("您好，您预约了12月8日 09:30的皮肤科。")


def test_without_sms_routes_a_local_backend_serves_every_number(settings, memory_sms):
    settings.SMS_ROUTES = {}
    assert sms.routes() == {"cn": "memory", "other": "memory"}
    settings.SMS_BACKEND = "twilio"
    assert sms.routes() == {"other": "twilio"}
    settings.SMS_ROUTES = {"cn": "aliyun", "other": "twilio"}
    assert sms.routes() == {"cn": "aliyun", "other": "twilio"}


def test_a_mistyped_route_stops_the_start(settings):
    settings.SMS_ROUTES = {"cn": "alyun", "mainland": "twilio"}
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert "zhongdu.E002" in str(raised.value) and "zhongdu.E003" in str(raised.value)


def test_enabling_the_cross_border_route_needs_its_legal_basis():
    policy = SmsRoutePolicy(mainland_via_twilio=True, legal_basis="")
    with pytest.raises(services.ValidationError) as raised:
        policy.full_clean()
    assert "legal_basis" in raised.value.message_dict
    assert rules.cross_border_allowed() is False


def test_a_confirmation_counts_what_the_routes_hold(settings, memory_sms):
    from clientmgmt.models import Client
    from messaging import selectors

    SmsTemplate.objects.create(code="notice", purpose="other", body="【{hospital}】{name}您好。")
    ClientFactory(phone=MAINLAND)
    ClientFactory(phone="+8613812345678")
    ClientFactory(phone=HONG_KONG)
    everyone = Client.objects.all()

    settings.SMS_ROUTES = {"cn": "aliyun", "other": "memory"}
    breakdown = selectors.audience_breakdown(everyone, template_code="notice")
    assert (breakdown["template"], breakdown["now"]) == (2, 1)  # not approved at the provider
    SmsTemplate.objects.update(approval=Approval.APPROVED, provider_code="SMS_1")
    assert selectors.audience_breakdown(everyone, template_code="notice")["now"] == 3

    settings.SMS_ROUTES = {"other": "memory"}  # nothing serves mainland numbers
    breakdown = selectors.audience_breakdown(everyone, template_code="notice")
    assert (breakdown["route"], breakdown["now"], breakdown["total"]) == (2, 1, 3)
    settings.SMS_ROUTES = {"cn": "twilio", "other": "memory"}  # foreign, not enabled
    assert selectors.audience_breakdown(everyone, template_code="notice")["route"] == 2


def test_the_campaign_confirmation_says_which_messages_no_route_may_carry(
    client_manager_client, settings, memory_sms
):
    import datetime

    from django.urls import reverse
    from django.utils import timezone

    template = SmsTemplate.objects.create(
        code="n", purpose="other", body="{name}您好，门诊时间调整。"
    )
    ClientFactory(phone=MAINLAND)
    ClientFactory(phone=HONG_KONG)
    settings.SMS_BACKEND = "twilio"  # Twilio only: mainland numbers have no route
    send_at = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    form = {"name": "通知", "template": template.pk, "send_at": send_at}
    page = client_manager_client.post(reverse("messaging:campaign_create"), form)
    html = page.content.decode()
    assert 'data-count="route">1<' in html and 'data-count="now">1<' in html
    assert "将在计划时间收到" in html  # planned for tomorrow, not "now"


def test_the_parameters_leave_out_the_signature_the_provider_adds():
    for body in ("{signature}{name}您好，{date}复诊。", "【{hospital}】{name}您好，{date}复诊。"):
        template = SmsTemplate(code="c", purpose="other", body=body)
        values = {
            "signature": "【中都皮肤病医院】",
            "hospital": "中都",
            "name": "张伟",
            "date": "1日",
        }
        assert template.parameters(values) == {"name": "张伟", "date": "1日"}
