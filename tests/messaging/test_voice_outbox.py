"""The voice channel of the outbox (语音通知): the same rows, claim, rules and records as SMS,
its own consent, caps and call outcomes."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clientmgmt.consent import SERVICE_SMS, SERVICE_VOICE
from messaging import rules, services
from messaging.models import Approval, Channel, Kind, OutboxMessage, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory, grant, withdraw
from zhongdu import sms, vms

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
LANDLINE = "+8637165432100"


@pytest.fixture(autouse=True)
def _memory_vms():
    vms.clear()
    # The assertions read the English words; the pages' Chinese is checked where it is shown.
    with translation.override("en"):
        yield
    vms.clear()


def voice_template(code="notice_voice", purpose=Purpose.OTHER, **kwargs):
    kwargs.setdefault("body", "{name}您好，{hospital}提醒您：{text}")
    kwargs.setdefault("provider_code", "TTS_123456")
    kwargs.setdefault("approval", Approval.APPROVED)
    return SmsTemplate.objects.create(
        code=code, purpose=purpose, kind=Kind.SERVICE, channel=Channel.VOICE, **kwargs
    )


def voice_client(phone=None):
    """A client who chose voice notifications."""
    client = ClientFactory(phone=phone) if phone else ClientFactory()
    grant(client, SERVICE_VOICE)
    return client


def call(client, key="voice:1", code="notice_voice", **kwargs):
    return services.outbox_enqueue(
        idempotency_key=key,
        purpose=Purpose.OTHER,
        client=client,
        template_code=code,
        values={"name": client.name, "text": "明天上午九点复诊"},
        **kwargs,
    )


def sent(message):
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_a_voice_notice_is_read_out_by_tts_and_recorded_with_its_call_id():
    voice_template()
    client = voice_client()
    message = sent(call(client))
    assert message.channel == Channel.VOICE and message.route == "voice"
    assert message.status == Status.SENT
    (placed,) = vms.placed
    assert (placed.action, placed.to, placed.template_code) == (
        vms.TTS_CALL,
        client.phone,
        "TTS_123456",
    )
    assert placed.reference == f"msg:{message.pk}"
    assert placed.params["text"] == "明天上午九点复诊"
    assert message.provider_id == placed.call_id
    assert sms.outbox == []  # a call, not an SMS
    assert [e.to_status for e in message.events.order_by("pk")] == ["pending", "claimed", "sent"]


def test_a_redelivered_task_never_calls_twice():
    voice_template()
    message = call(voice_client())
    services.outbox_send(message_id=message.pk)
    services.outbox_send(message_id=message.pk)
    assert len(vms.placed) == 1


def test_an_unknown_outcome_is_never_called_again_blindly(monkeypatch):
    voice_template()
    message = call(voice_client())

    def timeout(**kwargs):
        raise sms.UnknownOutcomeError("http", "read timed out")

    monkeypatch.setattr(vms, "tts_call", timeout)
    assert sent(message).status == Status.UNKNOWN
    services.outbox_sweep()
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.UNKNOWN


def test_a_marketing_voice_template_is_refused_when_saved_and_when_written():
    template = SmsTemplate(
        code="promo_voice",
        purpose=Purpose.OTHER,
        kind=Kind.MARKETING,
        channel=Channel.VOICE,
        body="{name}您好，本月光子嫩肤八折。",
    )
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert "kind" in refused.value.message_dict
    template.save()  # as if it had got past the admin
    with pytest.raises(ValidationError):
        call(voice_client(), code="promo_voice")
    assert not OutboxMessage.objects.exists()


def test_a_voice_template_is_named_as_one_for_staff():
    template = voice_template()
    assert "voice template" in template.display_name
    assert "notice_voice" not in template.display_name


def test_an_unapproved_voice_template_holds_the_message_as_not_approved():
    voice_template(approval=Approval.PENDING)
    message = call(voice_client())
    assert (message.status, message.error_code) == (Status.SUPPRESSED, rules.NOT_APPROVED)
    assert message.held
    assert "voice" in message.error_explanation
    services.outbox_send(message_id=message.pk)
    assert vms.placed == []


def test_a_voice_template_without_its_tts_code_is_not_approved():
    voice_template(provider_code="")
    message = call(voice_client())
    assert message.error_code == rules.NOT_APPROVED


def test_a_client_with_a_mobile_who_did_not_choose_voice_is_not_called():
    voice_template()
    message = sent(call(ClientFactory()))
    assert (message.status, message.error_code) == (Status.SUPPRESSED, rules.NO_VOICE_CHOICE)
    assert vms.placed == []


def test_a_client_with_only_a_landline_is_called_without_a_recorded_choice():
    voice_template()
    message = sent(call(ClientFactory(phone=LANDLINE)))
    assert message.status == Status.SENT
    assert vms.placed[0].to == LANDLINE


def test_withdrawing_voice_consent_suppresses_pending_calls_at_once_and_no_sms():
    voice_template()
    client = voice_client()
    later = timezone.now() + datetime.timedelta(hours=5)
    voice = call(client, send_after=later)
    text = services.outbox_enqueue(
        idempotency_key="sms:1",
        purpose=Purpose.OTHER,
        client=client,
        body="复诊提醒",
        send_after=later,
    )
    withdraw(client, SERVICE_VOICE)
    voice.refresh_from_db()
    text.refresh_from_db()
    assert (voice.status, voice.error_code) == (Status.SUPPRESSED, rules.REFUSED_VOICE)
    assert text.status == Status.PENDING  # SMS has its own consent


def test_refusing_sms_does_not_stop_a_call_the_client_chose():
    voice_template()
    client = voice_client()
    voice = call(client, send_after=timezone.now() + datetime.timedelta(hours=5))
    withdraw(client, SERVICE_SMS)
    assert OutboxMessage.objects.get(pk=voice.pk).status == Status.PENDING


def test_an_sms_opt_out_of_the_number_leaves_its_calls_alone():
    voice_template()
    client = voice_client()
    voice = call(client, send_after=timezone.now() + datetime.timedelta(hours=5))
    services.phone_opt_out(phone=client.phone, source="sms")
    assert OutboxMessage.objects.get(pk=voice.pk).status == Status.PENDING


def test_in_quiet_hours_a_call_waits_for_the_morning(settings):
    hour = timezone.localtime().hour
    settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR = hour, (hour + 2) % 24
    voice_template()
    message = sent(call(voice_client()))
    assert message.status == Status.PENDING and vms.placed == []
    assert timezone.localtime(message.send_after).hour == settings.SMS_QUIET_END_HOUR
    assert message.send_after > timezone.now()


def _calls_to_one_number(count):
    """`count` messages to one client's number, all due now."""
    voice_template()
    client = voice_client()
    return [call(client, key=f"voice:{n}") for n in range(count)]


def _caps(settings, minute=0, hour=0, day=0):
    settings.VOICE_CAP_PER_MINUTE, settings.VOICE_CAP_PER_HOUR = minute, hour
    settings.VOICE_CAP_PER_DAY = day


@pytest.mark.parametrize(
    "caps,allowed,window",
    [
        ({"minute": 1}, 1, datetime.timedelta(minutes=1)),
        ({"hour": 5}, 5, datetime.timedelta(hours=1)),
        ({"day": 20}, 20, datetime.timedelta(days=1)),
    ],
    ids=["a minute", "an hour", "a day"],
)
def test_over_a_per_number_cap_a_call_waits_until_the_cap_allows(settings, caps, allowed, window):
    _caps(settings, **caps)
    *first, over = _calls_to_one_number(allowed + 1)
    for message in first:
        assert sent(message).status == Status.SENT
    over = sent(over)
    assert len(vms.placed) == allowed
    assert over.status == Status.PENDING  # deferred, not dropped
    earliest = first[0].events.get(to_status=Status.SENT).at
    assert over.send_after == earliest + window
    assert "waits" in over.events.filter(to_status=Status.PENDING).last().detail


def test_the_default_caps_are_one_a_minute_five_an_hour_twenty_a_day(settings):
    assert (
        settings.VOICE_CAP_PER_MINUTE,
        settings.VOICE_CAP_PER_HOUR,
        settings.VOICE_CAP_PER_DAY,
    ) == (1, 5, 20)


def test_a_call_the_cap_would_make_useless_is_suppressed_as_too_late(settings):
    _caps(settings, minute=1)
    voice_template()
    client = voice_client()
    sent(call(client, key="voice:a"))
    soon = call(client, key="voice:b", expires_at=timezone.now() + datetime.timedelta(seconds=20))
    soon = sent(soon)
    assert (soon.status, soon.error_code) == (Status.SUPPRESSED, rules.EXPIRED)


def test_a_call_being_made_to_the_number_counts_against_the_cap(settings):
    _caps(settings, minute=1)
    first, second = _calls_to_one_number(2)
    services.outbox_claim(message_id=first.pk)  # another worker is calling now
    assert sent(second).status == Status.PENDING
    assert vms.placed == []


def test_other_numbers_are_not_held_by_one_numbers_cap(settings):
    _caps(settings, minute=1)
    voice_template()
    one, other = voice_client(), voice_client()
    assert sent(call(one, key="voice:a")).status == Status.SENT
    assert sent(call(other, key="voice:b")).status == Status.SENT


# --- Outcomes from the receipts (voice.receipts hands them to voice.reminders) --------------


def _answered_call():
    voice_template()
    return sent(call(voice_client()))


def test_an_answered_call_is_delivered_with_its_keys_and_talk_time():
    message = _answered_call()
    result = services.outbox_call_result(
        message_id=message.pk,
        call_id=message.provider_id,
        outcome="answered",
        keys="1",
        talk_seconds=31,
    )
    assert result.status == Status.DELIVERED
    assert (result.keys, result.talk_seconds) == ("1", 31)
    assert result.delivered_at is not None


def test_the_same_outcome_again_changes_nothing():
    message = _answered_call()
    kwargs = {"message_id": message.pk, "call_id": message.provider_id, "outcome": "answered"}
    assert services.outbox_call_result(**kwargs) is not None
    assert services.outbox_call_result(**kwargs) is None
    assert message.events.filter(to_status=Status.DELIVERED).count() == 1


def test_a_receipt_of_another_call_id_is_not_this_attempts():
    message = _answered_call()
    result = services.outbox_call_result(
        message_id=message.pk, call_id="someone-else", outcome="busy"
    )
    assert result is None
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT


@pytest.mark.parametrize("outcome", ["powered_off", "unreachable", "invalid_number", "failed"])
def test_a_call_that_did_not_reach_is_failed_with_its_outcome_explained(outcome):
    message = _answered_call()
    result = services.outbox_call_result(
        message_id=message.pk, call_id=message.provider_id, outcome=outcome
    )
    assert (result.status, result.error_code) == (Status.FAILED, outcome)
    assert result.error_explanation == str(rules.VOICE_OUTCOMES[outcome])
    assert not result.events.filter(from_status=Status.FAILED).exists()  # not tried again


def test_a_busy_call_is_tried_again_by_rule_then_given_up(settings):
    settings.VOICE_RETRY_ATTEMPTS, settings.VOICE_RETRY_MINUTES = 2, 10
    _caps(settings)
    message = _answered_call()
    for attempt in range(3):
        before = timezone.now()
        result = services.outbox_call_result(
            message_id=message.pk, call_id=vms.placed[-1].call_id, outcome="busy"
        )
        assert result is not None
        message.refresh_from_db()
        if attempt < 2:
            assert message.status == Status.PENDING  # a new attempt of the same message
            assert message.send_after >= before + datetime.timedelta(minutes=10)
            OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
            assert sent(message).status == Status.SENT
    assert (message.status, message.error_code) == (Status.FAILED, "busy")
    assert len(vms.placed) == 3
    assert message.events.filter(from_status=Status.FAILED, to_status=Status.PENDING).count() == 2


def test_a_retry_that_would_come_too_late_is_not_made():
    voice_template()
    message = sent(call(voice_client(), expires_at=timezone.now() + datetime.timedelta(minutes=5)))
    result = services.outbox_call_result(
        message_id=message.pk, call_id=message.provider_id, outcome="no_answer"
    )
    assert (result.status, result.error_code) == (Status.FAILED, "no_answer")
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.FAILED


def test_a_landline_is_a_voice_number_not_an_sms_one():
    voice_template()
    message = call(voice_client(phone=LANDLINE))
    assert message.route == "voice" and message.status == Status.PENDING


def test_the_detail_page_says_it_was_a_call_with_its_keys_and_no_full_number(manager_client):
    message = _answered_call()
    services.outbox_call_result(
        message_id=message.pk, call_id=message.provider_id, outcome="answered", keys="2"
    )
    body = manager_client.get(message.get_absolute_url()).content.decode()
    with translation.override("zh-hans"):  # the pages' language
        assert str(Channel.VOICE.label) in body
    assert 'data-testid="keys">2<' in body
    assert message.to not in body and message.to.removeprefix("+86") not in body
    assert "TTS_123456" not in body  # the provider's code is for support, not staff


def test_the_client_timeline_names_a_call_as_a_call(front_desk_client):
    message = _answered_call()
    body = front_desk_client.get(message.client.get_absolute_url()).content.decode()
    with translation.override("zh-hans"):
        title = _("Voice call: %(purpose)s (%(status)s)") % {
            "purpose": Purpose.OTHER.label,
            "status": Status.SENT.label,
        }
    assert title in body


def test_the_template_admin_takes_a_voice_template_and_refuses_a_marketing_one(admin_client):
    form = {
        "code": "notice_voice",
        "language": "zh-hans",
        "purpose": "other",
        "kind": "service",
        "channel": "voice",
        "body": "{name}您好，{text}",
        "active": "on",
        "provider_code": "TTS_123456",
        "approval": "approved",
    }
    url = "/admin/messaging/smstemplate/add/"
    assert admin_client.post(url, form).status_code == 302
    assert SmsTemplate.objects.get(code="notice_voice").channel == Channel.VOICE
    refused = admin_client.post(url, {**form, "code": "promo_voice", "kind": "marketing"})
    assert refused.status_code == 200
    assert not SmsTemplate.objects.filter(code="promo_voice").exists()
