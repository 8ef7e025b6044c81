import datetime
import itertools

import pytest
from django.utils import timezone

from clientmgmt.models import ClientConsent, ConsentEvent
from clientmgmt.selectors import has_consent
from messaging import rules, services
from messaging.models import OutboxMessage, PhoneOptOut
from tests.clientmgmt.factories import ClientFactory, grant
from zhongdu import sms

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def _message(client=None, key="k1", **kwargs):
    kwargs.setdefault("body", "您好，明天上午9:30请到皮肤科就诊。")
    kwargs.setdefault("purpose", "booking_reminder")
    return services.outbox_enqueue(
        idempotency_key=key, client=client or ClientFactory(phone="13912345678"), **kwargs
    )


def _fail_with(monkeypatch, error):
    def send(**kwargs):
        raise error

    monkeypatch.setattr(sms, "send", send)


@pytest.mark.parametrize("source,target", list(itertools.product(Status.values, Status.values)))
def test_only_the_moves_in_the_map_are_allowed(source, target):
    message = _message()
    OutboxMessage.objects.filter(pk=message.pk).update(status=source)
    if target in services.TRANSITIONS[source]:
        assert services.outbox_set_status(message_id=message.pk, new_status=target) is True
        assert OutboxMessage.objects.get(pk=message.pk).status == target
        assert message.events.filter(from_status=source, to_status=target).exists()
    else:
        with pytest.raises(services.IllegalTransition):
            services.outbox_set_status(message_id=message.pk, new_status=target)
        assert OutboxMessage.objects.get(pk=message.pk).status == source


def test_asking_twice_for_the_same_message_writes_one_row(django_capture_on_commit_callbacks):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = _message(client, key="booking:42:reminder")
        second = _message(client, key="booking:42:reminder")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1  # one send queued, once the transaction commits


def test_a_message_due_later_is_not_queued_now(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _message(send_after=timezone.now() + datetime.timedelta(hours=3))
    assert callbacks == []


def test_sending_claims_then_sends_once():
    message = _message()
    services.outbox_send(message_id=message.pk)
    services.outbox_send(message_id=message.pk)  # a redelivered task
    message.refresh_from_db()
    assert message.status == Status.SENT and message.provider_id.startswith("memory-")
    assert len(sms.outbox) == 1
    assert sms.outbox[0].status_callback == message.status_callback_url
    assert [e.to_status for e in message.events.order_by("pk")] == ["pending", "claimed", "sent"]


def test_a_message_not_yet_due_is_not_sent():
    message = _message(send_after=timezone.now() + datetime.timedelta(hours=1))
    assert services.outbox_send(message_id=message.pk) is None
    assert sms.outbox == []


def test_a_transient_error_brings_it_back_later_with_backoff(monkeypatch):
    message = _message()
    _fail_with(monkeypatch, sms.TransientError("http-503", "Service Unavailable"))
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.send_after > timezone.now()
    assert message.attempts == 1 and message.error_code == "http-503"


def test_retry_after_is_respected(monkeypatch):
    message = _message()
    error = sms.TransientError("http-429", "Too Many Requests")
    error.retry_after = 30
    _fail_with(monkeypatch, error)
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    wait = (message.send_after - timezone.now()).total_seconds()
    assert 28 < wait < 32


def test_it_gives_up_after_the_last_attempt(monkeypatch):
    message = _message()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    _fail_with(monkeypatch, sms.TransientError("connect", "refused"))
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.FAILED


def test_an_invalid_number_fails_permanently(monkeypatch):
    message = _message()
    _fail_with(monkeypatch, sms.PermanentError("21211", "The 'To' number is not valid."))
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "21211")


def test_an_unsubscribed_recipient_fails_and_opts_the_client_out(monkeypatch):
    client = ClientFactory(phone="13912345678")
    message = _message(client)
    waiting = _message(client, key="later", send_after=timezone.now() + datetime.timedelta(days=1))
    _fail_with(monkeypatch, sms.UnsubscribedError("21610", "Attempt to send to unsubscribed"))
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.FAILED
    assert has_consent(client, "service_sms") is False
    assert PhoneOptOut.objects.filter(phone="+8613912345678").exists()
    assert OutboxMessage.objects.get(pk=waiting.pk).status == Status.SUPPRESSED


@pytest.mark.parametrize(
    "error",
    [
        sms.UnknownOutcomeError("http-500", "Internal Server Error"),
        sms.UnknownOutcomeError("read-timeout", "timed out"),
        RuntimeError("a bug"),
    ],
)
def test_an_uncertain_outcome_is_unknown_and_never_resent(monkeypatch, error):
    message = _message()
    _fail_with(monkeypatch, error)
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.UNKNOWN
    services.outbox_sweep()
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.UNKNOWN


def test_marketing_needs_consent():
    client = ClientFactory()
    message = _message(client, kind="marketing", purpose="event_invitation")
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SUPPRESSED and sms.outbox == []
    assert "consent" in message.events.last().detail.lower() or message.events.last().detail


def test_marketing_with_consent_is_sent_once_a_day():
    client = ClientFactory()
    grant(client, "marketing_sms")
    first = _message(client, key="m1", kind="marketing", purpose="health_tip")
    second = _message(client, key="m2", kind="marketing", purpose="health_tip")
    services.outbox_send(message_id=first.pk)
    services.outbox_send(message_id=second.pk)
    assert OutboxMessage.objects.get(pk=first.pk).status == Status.SENT
    # Over the day's cap: deferred to the next allowed day, never dropped (issue 16).
    second = OutboxMessage.objects.get(pk=second.pk)
    assert second.status == Status.PENDING
    assert second.send_after == rules.next_allowed_day(timezone.now())
    assert len(sms.outbox) == 1


def test_over_the_cap_a_message_useless_tomorrow_is_suppressed_as_too_late():
    client = ClientFactory()
    grant(client, "marketing_sms")
    first = _message(client, key="m1", kind="marketing", purpose="health_tip")
    second = _message(client, key="m2", kind="marketing", purpose="health_tip")
    OutboxMessage.objects.filter(pk=second.pk).update(
        expires_at=timezone.now() + datetime.timedelta(minutes=5)
    )
    services.outbox_send(message_id=first.pk)
    services.outbox_send(message_id=second.pk)
    second = OutboxMessage.objects.get(pk=second.pk)
    assert (second.status, second.error_code) == (Status.SUPPRESSED, "expired")


def test_a_client_who_refused_sms_gets_none():
    client = ClientFactory()
    message = _message(client)
    # Refused after the message was queued, but recorded behind the outbox's back: the rule at
    # send time still stops it.
    ClientConsent.objects.create(
        client=client,
        purpose="service_sms",
        granted=False,
        event=ConsentEvent.objects.create(
            client=client, purpose="service_sms", granted=False, channel="client_page"
        ),
    )
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SUPPRESSED


def test_an_opted_out_number_gets_nothing():
    PhoneOptOut.objects.create(phone="+8613912345678", source="sms")
    message = _message()
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SUPPRESSED


def test_a_missing_or_invalid_number_is_suppressed_not_sent():
    message = services.outbox_enqueue(idempotency_key="x", to="12345", body="hi", purpose="other")
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SUPPRESSED


def test_no_link_to_a_mainland_number_through_twilio(mainland_via_twilio, monkeypatch):
    monkeypatch.setattr(sms, "send", lambda **kw: pytest.fail("must not reach the provider"))
    message = _message(body="问卷：https://survey.example/abc")
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.SUPPRESSED, rules.LINK_MAINLAND)


def _quiet_now(settings):
    hour = timezone.localtime().hour
    settings.SMS_QUIET_START_HOUR = hour
    settings.SMS_QUIET_END_HOUR = (hour + 2) % 24  # the morning is at least an hour away


def test_in_quiet_hours_a_message_waits_for_the_morning(settings):
    _quiet_now(settings)
    message = _message()
    services.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.PENDING and sms.outbox == []
    assert timezone.localtime(message.send_after).hour == settings.SMS_QUIET_END_HOUR
    assert message.send_after > timezone.now()


def test_in_quiet_hours_a_message_that_would_be_too_late_is_suppressed(settings):
    _quiet_now(settings)
    message = _message(expires_at=timezone.now() + datetime.timedelta(minutes=5))
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SUPPRESSED


def test_quiet_hours_cross_midnight(settings):
    settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR = 21, 8
    tz = timezone.get_current_timezone()
    late = datetime.datetime(2026, 5, 1, 23, 0, tzinfo=tz)
    early = datetime.datetime(2026, 5, 2, 7, 59, tzinfo=tz)
    noon = datetime.datetime(2026, 5, 2, 12, 0, tzinfo=tz)
    assert services.quiet_hours_end(late) == datetime.datetime(2026, 5, 2, 8, 0, tzinfo=tz)
    assert services.quiet_hours_end(early) == datetime.datetime(2026, 5, 2, 8, 0, tzinfo=tz)
    assert services.quiet_hours_end(noon) is None


def test_an_expired_message_is_suppressed():
    message = _message(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    services.outbox_send(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SUPPRESSED


def test_cancelling_before_sending():
    message = _message(
        key="booking:7:reminder", send_after=timezone.now() + datetime.timedelta(days=1)
    )
    assert services.outbox_cancel(idempotency_key="booking:7:reminder") is True
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.CANCELLED
    assert services.outbox_cancel(idempotency_key="booking:7:reminder") is False


def test_the_sweeper_queues_due_messages_once_and_requeues_lost_ones(settings):
    message = _message(send_after=timezone.now() + datetime.timedelta(seconds=1))
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    assert services.outbox_sweep()["queued"] == 1
    assert services.outbox_sweep()["queued"] == 0  # queued a moment ago: not again
    OutboxMessage.objects.filter(pk=message.pk).update(
        queued_at=timezone.now()
        - datetime.timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS + 1)
    )
    assert services.outbox_sweep()["queued"] == 1  # its task was lost


def test_the_sweeper_settles_an_abandoned_claim_as_unknown(settings):
    message = _message()
    services.outbox_claim(message_id=message.pk)
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now()
        - datetime.timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS + 1)
    )
    assert services.outbox_sweep()["abandoned"] == 1
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.UNKNOWN


def test_merging_clients_moves_their_messages(role_user):
    from clientmgmt import services as client_services

    survivor, merged = ClientFactory(name="甲"), ClientFactory(name="乙")
    message = _message(merged)
    client_services.client_merge(survivor=survivor, merged=merged, by=role_user("manager"))
    assert OutboxMessage.objects.get(pk=message.pk).client == survivor
