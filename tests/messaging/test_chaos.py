"""Chaos: 1,000 messages through a real worker (killed several times) and the real broker to a
fake Twilio that answers a share of requests with 500s, 429s and timeouts.

Afterwards every message is in a terminal state or unknown, none is lost, and no message reached
the provider twice (each is identified by its own status-callback address). Runs where the suite
runs on Postgres and Redis (CI's first run); a worker in another process cannot share SQLite's
in-memory test database or the in-memory broker.
"""

import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection, transaction

from config.celery import app as celery_app
from messaging import services
from messaging.models import OutboxMessage, SmsRoutePolicy
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.worker_process import WorkerProcess, database_url, wait_until

MESSAGES = 1000
KILLS = 4

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"),
        reason="needs Postgres and Redis shared with a worker process (CI's first run)",
    ),
]

Status = OutboxMessage.Status
SETTLED = {Status.SENT, Status.DELIVERED, Status.FAILED, Status.UNKNOWN, Status.SUPPRESSED}


def test_a_thousand_messages_survive_provider_errors_and_worker_kills(tmp_path, settings):
    celery_app.control.purge()
    fake = FakeTwilio(fail_500=0.05, fail_429=0.05, timeout=0.03, hang_seconds=3, seed=7)
    fake.start()
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SMS_BACKEND": "twilio",
        "SMS_ROUTES": "cn=twilio,other=twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": fake.url,
        "TWILIO_TIMEOUT_SECONDS": "1",
        "SMS_QUIET_START_HOUR": "0",
        "SMS_QUIET_END_HOUR": "0",
        # Settle a dead worker's claims quickly, but never before a live one could answer.
        "SMS_CLAIM_TIMEOUT_SECONDS": "6",
        "SMS_REQUEUE_AFTER_SECONDS": "3",
    }
    settings.SMS_CLAIM_TIMEOUT_SECONDS, settings.SMS_REQUEUE_AFTER_SECONDS = 6, 3
    # The route is chosen as a message is written (here) and kept: the same routes as the worker.
    settings.SMS_ROUTES = {"cn": "twilio", "other": "twilio"}
    SmsRoutePolicy.objects.create(mainland_via_twilio=True, legal_basis="Chaos test")
    worker = WorkerProcess(env, concurrency=4, log_path=str(tmp_path / "worker.log")).start()
    try:
        with transaction.atomic():
            for n in range(MESSAGES):
                services.outbox_enqueue(
                    idempotency_key=f"chaos:{n}",
                    to=f"+86139{n:08d}",
                    body=f"中都医院提醒您：第{n}条测试短信。",
                    purpose="other",
                )
        # Kill the worker mid-run, several times; the sweeper (here, this loop) keeps going.
        for _ in range(KILLS):
            time.sleep(1.5)
            services.outbox_sweep()
            worker.kill()
            worker.start()

        def settled():
            services.outbox_sweep()
            return not OutboxMessage.objects.exclude(status__in=SETTLED).exists()

        assert wait_until(settled, timeout=240, interval=1), Counter(
            OutboxMessage.objects.values_list("status", flat=True)
        )
    finally:
        worker.stop()
        fake.stop()

    statuses = Counter(OutboxMessage.objects.values_list("status", flat=True))
    accepted = fake.counts_by_callback()
    twice = {url: n for url, n in accepted.items() if n > 1}
    outcomes = Counter(request["outcome"] for request in fake.requests)
    print(f"\nchaos: {sum(statuses.values())} messages: {dict(statuses)}")
    print(f"chaos: provider saw {len(fake.requests)} requests: {dict(outcomes)}")
    print(f"chaos: {len(accepted)} distinct messages accepted, {len(twice)} accepted twice")
    assert sum(statuses.values()) == MESSAGES  # none lost
    assert twice == {}  # none sent twice
    # Every message we hold as sent really reached the provider.
    sent_urls = {
        m.status_callback_url
        for m in OutboxMessage.objects.filter(status__in=[Status.SENT, Status.DELIVERED])
    }
    assert sent_urls <= set(accepted)
    assert statuses[Status.SENT] > MESSAGES * 0.8
