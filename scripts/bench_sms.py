"""End-to-end SMS throughput per route: messages per second from pending to sent, through a real
Celery worker and Redis, to the local fakes of each provider's API: mainland mobiles through
Alibaba Cloud SMS (the domestic route: an approved template's code and parameters), other
numbers through Twilio (the rendered text).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhongdu_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
    .venv/bin/python scripts/bench_sms.py --messages 2000 --concurrency 8

Prints figures and the load average; asserts nothing. The messages it writes are deleted
afterwards.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from tests.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun  # noqa: E402
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio  # noqa: E402

TEMPLATE = "bench_sms"
PROVIDER_CODE = "SMS_100000002"


def route_env(twilio: FakeTwilio, aliyun: FakeAliyun) -> dict:
    """Both routes, for this process (which writes the messages and so picks their route) and
    the worker (which sends them)."""
    return {
        "SMS_ROUTES": "cn=aliyun,other=twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio.url,
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": "中都皮肤病医院",
        "ALIYUN_SMS_API_BASE_URL": aliyun.url,
        "SMS_QUIET_START_HOUR": "0",
        "SMS_QUIET_END_HOUR": "0",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="per route")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--routes", default="aliyun,twilio")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "CELERY_BROKER_URL", ""
    ).startswith("redis"):
        sys.exit("Set DATABASE_URL (Postgres) and CELERY_BROKER_URL (Redis): see the docstring.")

    with FakeTwilio() as twilio, FakeAliyun() as aliyun:
        os.environ.update(route_env(twilio, aliyun))
        import django

        django.setup()
        from django.db import connection

        from config.celery import app
        from demo.bench import database_url
        from messaging.models import Approval, SmsTemplate
        from tests.worker_process import WorkerProcess

        app.control.purge()
        template, _created = SmsTemplate.objects.update_or_create(
            code=TEMPLATE,
            language="zh-hans",
            defaults={
                "purpose": "other",
                "body": "{signature}{name}您好，提醒您明天{time}在{department}就诊。",
                "approval": Approval.APPROVED,
                "provider_code": PROVIDER_CODE,
            },
        )
        env = {
            **route_env(twilio, aliyun),
            "DATABASE_URL": database_url(connection.settings_dict),
            # A production-like worker: DEBUG keeps every query in memory and slows each one.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "FIELD_ENCRYPTION_KEYS": "Wm3vH0w4n7QKfXq5b1o8Yx2cLp6Tz9Rj3Ue0Sa4Dk1E=",
            "SEARCH_HASH_KEY": "bench-only",
            "AUDIT_SEAL_KEYS": "bench-only",
        }
        try:
            with WorkerProcess(env, concurrency=args.concurrency):
                time.sleep(3)  # let the pool start before the clock does
                for route in args.routes.split(","):
                    run_route(route.strip(), args)
        finally:
            template.delete()
    print(f"load average        {' '.join(f'{n:.2f}' for n in os.getloadavg())} (1, 5, 15 min)")


def run_route(route: str, args):
    from django.db import transaction

    from messaging import services
    from messaging.models import OutboxMessage
    from tests.worker_process import wait_until

    run = uuid.uuid4().hex[:8]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with transaction.atomic():
        values = {"name": "张伟", "time": "09:30", "department": "皮肤科"}
        hospital = services.hospital_placeholder_values()
        for n in range(args.messages):
            services.outbox_enqueue(
                idempotency_key=f"bench:{run}:{n}",
                to=f"+86139{n:08d}" if route == "aliyun" else f"+8529{1000000 + n:07d}",
                template_code=TEMPLATE,
                values=values,
                purpose="other",
                hospital_values=hospital,
            )
    queued = time.perf_counter()
    rows = OutboxMessage.objects.filter(idempotency_key__startswith=f"bench:{run}:")
    wait_until(lambda: not rows.exclude(status="sent").exists(), timeout=600, interval=0.2)
    finished = time.perf_counter()
    sent = rows.filter(status="sent", route=route).count()
    latencies = sorted(
        (m.sent_at - m.created_at).total_seconds() * 1000
        for m in rows.only("sent_at", "created_at")
        if m.sent_at
    )
    if not os.environ.get("BENCH_KEEP"):
        rows.delete()
    sending = finished - queued
    print(f"route               {route}")
    print(f"  messages          {args.messages} ({sent} sent by this route)")
    print(f"  worker processes  {args.concurrency}")
    print(f"  writing           {queued - started:.2f} s")
    print(f"  pending -> sent   {sending:.2f} s after the commit")
    print(f"  throughput        {sent / sending:.0f} messages/s from pending to sent")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(f"  latency           median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms")
    print(f"  load average      {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)")


if __name__ == "__main__":
    main()
