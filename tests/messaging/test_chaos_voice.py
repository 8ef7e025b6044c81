"""Chaos for the voice channel: 300 voice notifications through a real worker (killed several
times) and the real broker to a fake of Alibaba Cloud's voice API that answers a share of
requests with 500s, flow control and timeouts.

Afterwards every message is in a terminal state or unknown, none is lost, no number was called
twice for the same message (the fake counts each OutId, "msg:<pk>", it placed or may have
placed), and every message held as started reached the provider with its approved TTS template.
Runs where the suite runs on Postgres and Redis (CI's first run), as the SMS chaos test does.
"""

import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection, transaction

from config.celery import app as celery_app
from demo.bench import database_url
from messaging import services
from messaging.models import Approval, Channel, OutboxMessage, SmsTemplate
from tests.fake_aliyun_vms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SHOW_NUMBER, FakeAliyunVms
from tests.worker_process import WorkerProcess, wait_until

CALLS = 300
KILLS = 3

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


def test_voice_notifications_survive_provider_errors_and_worker_kills(tmp_path, settings):
    celery_app.control.purge()
    fake = FakeAliyunVms(fail_500=0.05, throttle=0.05, timeout=0.03, hang_seconds=3, seed=23)
    fake.start()
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SMS_BACKEND": "console",
        "VOICE_BACKEND": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_VOICE_SHOW_NUMBER": SHOW_NUMBER,
        "ALIYUN_VMS_API_BASE_URL": fake.url,
        "ALIYUN_TIMEOUT_SECONDS": "1",
        "ALIYUN_LIMIT_RETRY_SECONDS": "3",
        "SMS_QUIET_START_HOUR": "0",
        "SMS_QUIET_END_HOUR": "0",
        "SMS_CLAIM_TIMEOUT_SECONDS": "6",
        "SMS_REQUEUE_AFTER_SECONDS": "3",
    }
    settings.SMS_CLAIM_TIMEOUT_SECONDS, settings.SMS_REQUEUE_AFTER_SECONDS = 6, 3
    SmsTemplate.objects.create(
        code="chaos_voice",
        purpose="other",
        channel=Channel.VOICE,
        body="您好，这里是{hospital}，这是第{text}条测试语音通知。",
        approval=Approval.APPROVED,
        provider_code="TTS_100000001",
    )
    worker = WorkerProcess(env, concurrency=4, log_path=str(tmp_path / "worker.log")).start()
    try:
        with transaction.atomic():
            for n in range(CALLS):
                services.outbox_enqueue(
                    idempotency_key=f"chaos-voice:{n}",
                    to=f"+86138{n:08d}",
                    template_code="chaos_voice",
                    values={"text": str(n)},
                    purpose="other",
                )
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

    messages = OutboxMessage.objects.all()
    assert set(messages.values_list("channel", flat=True)) == {Channel.VOICE}
    statuses = Counter(messages.values_list("status", flat=True))
    placed = fake.counts_by_out_id()
    twice = {key: n for key, n in placed.items() if n > 1}
    outcomes = Counter(request["outcome"] for request in fake.requests)
    print(f"\nchaos voice: {sum(statuses.values())} messages: {dict(statuses)}")
    print(f"chaos voice: the fake saw {len(fake.requests)} requests: {dict(outcomes)}")
    print(f"chaos voice: {len(placed)} placed, {len(twice)} placed twice")
    assert sum(statuses.values()) == CALLS  # none lost
    assert twice == {}  # no number called twice for one message
    started = messages.filter(status__in=[Status.SENT, Status.DELIVERED])
    assert {f"msg:{pk}" for pk in started.values_list("pk", flat=True)} <= set(placed)
    accepted = [r for r in fake.requests if r["outcome"] == "OK"]
    assert accepted and {r["template_code"] for r in accepted} == {"TTS_100000001"}
    assert statuses[Status.SENT] > CALLS * 0.8
