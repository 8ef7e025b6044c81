"""Chaos: 1,000 messages through a real worker (killed several times) and the real broker, by
both routes at once: half to mainland mobiles through a fake Alibaba Cloud SMS (the domestic
route, an approved template's code and parameters), half to Hong Kong numbers through a fake
Twilio (the rendered text). Each fake answers a share of requests with 500s, rate limits and
timeouts.

Afterwards every message is in a terminal state or unknown, none is lost, none reached its
provider twice (Twilio's requests are told apart by each message's status-callback address,
Alibaba Cloud's by its OutId, the outbox row id), and every message held as sent reached the
provider of its route. Runs where the suite runs on Postgres and Redis (CI's first run); a worker
in another process cannot share SQLite's in-memory test database or the in-memory broker.
"""

import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection, transaction

from config.celery import app as celery_app
from demo.bench import database_url
from messaging import services
from messaging.models import Approval, OutboxMessage, SmsTemplate
from tests.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.worker_process import WorkerProcess, wait_until

MESSAGES = 1000  # half by each route
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


def test_a_thousand_messages_by_both_routes_survive_provider_errors_and_worker_kills(
    tmp_path, settings
):
    celery_app.control.purge()
    twilio = FakeTwilio(fail_500=0.05, fail_429=0.05, timeout=0.03, hang_seconds=3, seed=7)
    aliyun = FakeAliyun(fail_500=0.05, throttle=0.05, timeout=0.03, hang_seconds=3, seed=11)
    twilio.start()
    aliyun.start()
    routes = {
        "SMS_ROUTES": "cn=aliyun,other=twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio.url,
        "TWILIO_TIMEOUT_SECONDS": "1",
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": "中都皮肤病医院",
        "ALIYUN_SMS_API_BASE_URL": aliyun.url,
        "ALIYUN_TIMEOUT_SECONDS": "1",
        # A rate-limited message waits a minute in production; here a few seconds.
        "ALIYUN_LIMIT_RETRY_SECONDS": "3",
    }
    env = {
        **routes,
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SMS_BACKEND": "console",
        "SMS_QUIET_START_HOUR": "0",
        "SMS_QUIET_END_HOUR": "0",
        # Settle a dead worker's claims quickly, but never before a live one could answer.
        "SMS_CLAIM_TIMEOUT_SECONDS": "6",
        "SMS_REQUEUE_AFTER_SECONDS": "3",
    }
    settings.SMS_CLAIM_TIMEOUT_SECONDS, settings.SMS_REQUEUE_AFTER_SECONDS = 6, 3
    # The route is chosen as a message is written (here) and kept: the worker's routes.
    settings.SMS_ROUTES = {"cn": "aliyun", "other": "twilio"}
    SmsTemplate.objects.create(
        code="chaos",
        purpose="other",
        body="{signature}{name}您好，这是第{text}条测试短信。",
        approval=Approval.APPROVED,
        provider_code="SMS_100000001",
    )
    worker = WorkerProcess(env, concurrency=4, log_path=str(tmp_path / "worker.log")).start()
    try:
        with transaction.atomic():
            for n in range(MESSAGES):
                mainland = n % 2 == 0
                services.outbox_enqueue(
                    idempotency_key=f"chaos:{n}",
                    to=f"+86139{n:08d}" if mainland else f"+8529{1000000 + n:07d}",
                    template_code="chaos",
                    values={"name": "测试", "text": str(n)},
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
        twilio.stop()
        aliyun.stop()

    messages = OutboxMessage.objects.all()
    assert Counter(messages.values_list("route", flat=True)) == {
        "aliyun": MESSAGES // 2,
        "twilio": MESSAGES // 2,
    }
    statuses = Counter(messages.values_list("status", flat=True))
    by_twilio = twilio.counts_by_callback()
    by_aliyun = aliyun.counts_by_out_id()
    twice = {key: n for key, n in (*by_twilio.items(), *by_aliyun.items()) if n > 1}
    print(f"\nchaos: {sum(statuses.values())} messages: {dict(statuses)}")
    for name, fake in (("twilio", twilio), ("aliyun", aliyun)):
        outcomes = Counter(request["outcome"] for request in fake.requests)
        print(f"chaos: {name} saw {len(fake.requests)} requests: {dict(outcomes)}")
    print(f"chaos: {len(by_twilio) + len(by_aliyun)} accepted, {len(twice)} accepted twice")
    assert sum(statuses.values()) == MESSAGES  # none lost
    assert twice == {}  # none sent twice
    # Every message we hold as sent really reached the provider of its route, as that
    # provider takes it: Twilio the text, Alibaba Cloud the template's code and parameters.
    sent = messages.filter(status__in=[Status.SENT, Status.DELIVERED])
    assert {m.status_callback_url for m in sent.filter(route="twilio")} <= set(by_twilio)
    assert {str(pk) for pk in sent.filter(route="aliyun").values_list("pk", flat=True)} <= set(
        by_aliyun
    )
    assert all(r["body"].endswith("条测试短信。") for r in twilio.requests)
    accepted = [r for r in aliyun.requests if r["outcome"] == "OK"]
    assert accepted and {r["template_code"] for r in accepted} == {"SMS_100000001"}
    assert statuses[Status.SENT] > MESSAGES * 0.8
