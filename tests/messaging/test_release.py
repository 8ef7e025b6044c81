"""A message held as it was written (a placeholder without a value, a route's rule) stays held
until its cause is fixed; then a client manager checks it again from its page and it is sent,
rendered with the profile in force. Nothing else that was suppressed can be released."""

import pytest
from django.urls import reverse

from demo.hospital import PROFILE
from messaging import rules, services
from messaging.models import Approval, Kind, OutboxMessage, PhoneOptOut, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory
from zhongdu import sms
from zhongdu.services import hospital_profile_add

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
MAINLAND = "+8613912345678"


@pytest.fixture(autouse=True)
def _memory_sms(memory_sms):
    """Every test here: tests/conftest.py memory_sms."""


def _reminder(settings):
    settings.HOSPITAL_PROFILE_DEFAULTS = {"display_name": "中都皮肤病医院", "hotline": ""}
    SmsTemplate.objects.create(
        code="booking_reminder",
        purpose=Purpose.BOOKING_REMINDER,
        kind=Kind.SERVICE,
        body="{signature}{name}您好，明天{time}就诊，如需改期请致电{phone}。",
    )
    return services.outbox_enqueue(
        idempotency_key="r",
        purpose=Purpose.BOOKING_REMINDER,
        client=ClientFactory(phone=MAINLAND),
        template_code="booking_reminder",
        values={"name": "张伟", "time": "09:30"},
    )


def test_a_held_message_is_checked_again_from_its_page_once_the_profile_is_fixed(
    settings, client_manager_client, django_capture_on_commit_callbacks
):
    message = _reminder(settings)
    assert (message.status, message.error_code) == ("suppressed", rules.PLACEHOLDER_EMPTY)
    page = client_manager_client.get(message.get_absolute_url(), **ZH)
    html = page.content.decode()
    assert 'data-testid="release"' in html and "{phone}" in html
    release = reverse("messaging:message_release", args=[message.pk])

    # Still no hotline: refused with the reason, nothing changes.
    page = client_manager_client.post(release, follow=True, **ZH)
    assert "{phone}" in page.content.decode()
    assert OutboxMessage.objects.get(pk=message.pk).status == "suppressed"

    hospital_profile_add(by=None, **PROFILE)
    with django_capture_on_commit_callbacks() as callbacks:
        client_manager_client.post(release, **ZH)
    assert len(callbacks) == 1  # its send is queued
    services.outbox_send(message_id=message.pk)  # what the queued task does
    message.refresh_from_db()
    assert message.status == "sent" and message.error_code == ""
    page = client_manager_client.get(message.get_absolute_url(), **ZH)
    assert "内存（测试：不发送）" in page.content.decode()  # the route it went by
    assert (
        sms.outbox[0].body
        == "【中都皮肤病医院】张伟您好，明天09:30就诊，如需改期请致电0371-65588120。"
    )
    assert message.events.filter(from_status="suppressed", to_status="pending").get().actor


def test_a_template_approved_at_the_provider_releases_what_it_held(settings):
    settings.SMS_ROUTES = {"cn": "aliyun", "other": "memory"}
    hospital_profile_add(by=None, **PROFILE)
    template = SmsTemplate.objects.create(code="notice", purpose="other", body="{name}您好。")
    message = services.outbox_enqueue(
        idempotency_key="n",
        purpose="other",
        client=ClientFactory(phone=MAINLAND),
        template_code="notice",
        values={"name": "张伟"},
    )
    assert message.error_code == rules.NOT_APPROVED and message.held
    with pytest.raises(services.ValidationError):
        services.outbox_release(message=message, by=None)
    SmsTemplate.objects.filter(pk=template.pk).update(
        approval=Approval.APPROVED, provider_code="SMS_1"
    )
    released = services.outbox_release(message=message, by=None)
    assert (released.status, released.route, released.provider_template) == (
        "pending",
        "aliyun",
        "SMS_1",
    )
    assert released.params == {"name": "张伟"}


def test_only_a_held_message_can_be_released(client_manager_client):
    client = ClientFactory(phone=MAINLAND)
    PhoneOptOut.objects.create(phone=MAINLAND, source="sms")
    message = services.outbox_enqueue(
        idempotency_key="o", purpose="other", client=client, body="您好"
    )
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code, message.held) == (
        "suppressed",
        rules.OPTED_OUT,
        False,
    )
    page = client_manager_client.get(message.get_absolute_url(), **ZH)
    assert 'data-testid="release"' not in page.content.decode()
    client_manager_client.post(reverse("messaging:message_release", args=[message.pk]))
    assert OutboxMessage.objects.get(pk=message.pk).status == "suppressed"


def test_only_client_managers_and_administrators_release(settings, client_for):
    message = _reminder(settings)
    url = reverse("messaging:message_release", args=[message.pk])
    assert client_for("front_desk").post(url).status_code == 403


def test_a_second_click_or_a_later_opt_out_leaves_a_released_or_suppressed_message_alone(settings):
    message = _reminder(settings)
    hospital_profile_add(by=None, **PROFILE)
    services.outbox_release(message=message, by=None)
    with pytest.raises(services.ValidationError):
        services.outbox_release(message=message, by=None)  # the page loaded before the first
    # Suppressed for good since it was loaded (an opt-out): not released.
    OutboxMessage.objects.filter(pk=message.pk).update(status="suppressed", error_code="opted_out")
    with pytest.raises(services.ValidationError):
        services.outbox_release(message=message, by=None)
    assert OutboxMessage.objects.get(pk=message.pk).status == "suppressed"


def test_a_released_message_takes_the_profile_in_force_not_the_one_it_was_written_with(settings):
    hospital_profile_add(by=None, **{**PROFILE, "hotline": "0371-11111111"})
    SmsTemplate.objects.create(
        code="notice", purpose="other", body="{name}您好，请致电{hotline}，{text}"
    )
    message = services.outbox_enqueue(
        idempotency_key="n",
        purpose="other",
        client=ClientFactory(phone=MAINLAND),
        template_code="notice",
        values={"name": "张伟", "text": ""},
    )
    assert message.error_code == rules.PLACEHOLDER_EMPTY  # {text} left empty by the sender
    hospital_profile_add(by=None, **{**PROFILE, "hotline": "0371-22222222"})
    with pytest.raises(services.ValidationError):  # {text} has no value still
        services.outbox_release(message=message, by=None)
    OutboxMessage.objects.filter(pk=message.pk).update(params={**message.params, "text": "谢谢。"})
    message.refresh_from_db()
    released = services.outbox_release(message=message, by=None)
    assert released.body == "张伟您好，请致电0371-22222222，谢谢。"


def test_a_retry_to_a_number_moved_abroad_takes_that_numbers_route(settings):
    settings.SMS_ROUTES = {"cn": "aliyun", "other": "memory"}
    SmsTemplate.objects.create(
        code="notice",
        purpose="other",
        body="{name}您好。",
        approval=Approval.APPROVED,
        provider_code="SMS_1",
    )
    client = ClientFactory(phone=MAINLAND)
    message = services.outbox_enqueue(
        idempotency_key="n",
        purpose="other",
        client=client,
        template_code="notice",
        values={"name": "张伟"},
    )
    assert message.route == "aliyun"
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    client.phone = "+85291234567"
    client.save()
    retried = services.outbox_retry(message=OutboxMessage.objects.get(pk=message.pk), by=None)
    assert (retried.to, retried.route) == ("+85291234567", "memory")
    # Back to the mainland with only Twilio for it: refused with the reason, left failed.
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    client.phone = MAINLAND
    client.save()
    settings.SMS_ROUTES = {"cn": "twilio", "other": "memory"}
    with pytest.raises(services.ValidationError):
        services.outbox_retry(message=OutboxMessage.objects.get(pk=message.pk), by=None)
    assert OutboxMessage.objects.get(pk=message.pk).status == "failed"


def test_editing_an_approved_templates_text_puts_it_back_to_awaiting_approval(admin_client_):
    template = SmsTemplate.objects.create(
        code="notice",
        purpose="other",
        body="{name}您好。",
        approval=Approval.APPROVED,
        provider_code="SMS_1",
    )
    url = reverse("admin:messaging_smstemplate_change", args=[template.pk])
    form = {
        "code": "notice",
        "language": "zh-hans",
        "purpose": "other",
        "kind": "service",
        "body": "{name}您好，欢迎。",
        "active": "on",
        "provider_code": "SMS_1",
        "approval": "approved",
    }
    assert admin_client_.post(url, form).status_code == 302
    template.refresh_from_db()
    assert (template.body, template.approval) == ("{name}您好，欢迎。", Approval.PENDING)
    # The new approval recorded in the same save stands.
    form.update(body="{name}您好，欢迎光临。", approval="approved")
    SmsTemplate.objects.filter(pk=template.pk).update(approval=Approval.PENDING)
    admin_client_.post(url, form)
    assert SmsTemplate.objects.get(pk=template.pk).approval == Approval.APPROVED
