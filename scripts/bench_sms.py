"""End-to-end SMS throughput: messages per second from pending to sent, through a real Celery
worker and Redis to the local fake of Twilio's API.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhongdu_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
    .venv/bin/python scripts/bench_sms.py --messages 2000 --concurrency 8

Prints figures; asserts nothing. The messages it writes are deleted afterwards.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "CELERY_BROKER_URL", ""
    ).startswith("redis"):
        sys.exit("Set DATABASE_URL (Postgres) and CELERY_BROKER_URL (Redis): see the docstring.")

    import django

    django.setup()
    from django.db import connection, transaction

    from config.celery import app
    from messaging import services
    from messaging.models import OutboxMessage
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
    from tests.worker_process import WorkerProcess, database_url, wait_until

    app.control.purge()
    run = uuid.uuid4().hex[:8]
    with FakeTwilio() as fake:
        env = {
            "DATABASE_URL": database_url(connection.settings_dict),
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_BASE_URL": fake.url,
            "SMS_QUIET_START_HOUR": "0",
            "SMS_QUIET_END_HOUR": "0",
            # A production-like worker: DEBUG keeps every query in memory and slows each one.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "FIELD_ENCRYPTION_KEYS": "Wm3vH0w4n7QKfXq5b1o8Yx2cLp6Tz9Rj3Ue0Sa4Dk1E=",
            "SEARCH_HASH_KEY": "bench-only",
            "AUDIT_SEAL_KEYS": "bench-only",
        }
        with WorkerProcess(env, concurrency=args.concurrency):
            time.sleep(3)  # let the pool start before the clock does
            started = time.perf_counter()
            with transaction.atomic():
                for n in range(args.messages):
                    services.outbox_enqueue(
                        idempotency_key=f"bench:{run}:{n}",
                        to=f"+86139{n:08d}",
                        body="中都医院提醒您：明天上午9:30皮肤科就诊。",
                        purpose="other",
                    )
            queued = time.perf_counter()
            rows = OutboxMessage.objects.filter(idempotency_key__startswith=f"bench:{run}:")
            wait_until(lambda: not rows.exclude(status="sent").exists(), timeout=600, interval=0.2)
            finished = time.perf_counter()
        sent = rows.filter(status="sent").count()
        latencies = [
            (m.sent_at - m.created_at).total_seconds() * 1000
            for m in rows.only("sent_at", "created_at")
            if m.sent_at
        ]
        if not os.environ.get("BENCH_KEEP"):
            rows.delete()
    sending = finished - queued
    print(f"messages            {args.messages} ({sent} sent)")
    print(f"worker concurrency  {args.concurrency}")
    print(f"writing the outbox  {queued - started:.2f} s")
    print(f"pending -> sent     {sending:.2f} s after the commit")
    print(f"throughput          {sent / sending:.0f} messages/s from pending to sent")
    if latencies:
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(f"latency             median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
