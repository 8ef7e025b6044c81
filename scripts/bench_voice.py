"""Voice-reminder throughput: booking reminders by telephone (keypad calls, IvrCall) from pending
to started, through a real Celery worker and Redis, to the local fake of Alibaba Cloud's voice
API (tests/fake_aliyun_vms.py) through the real SDK; and, in the same run as the reference, as
many SMS reminders through the fake of its SMS API (the domestic SMS route).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhongdu_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
    .venv/bin/python scripts/bench_voice.py --calls 1000 --concurrency 8

Prints calls started per second, the ratio to SMS's messages per second, the latency from the
commit to the provider's answer and the load average; asserts nothing. Every number is called
once (distinct numbers), so the per-number caps defer nothing; the rows it writes are deleted
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
from tests.fake_aliyun_vms import SHOW_NUMBER, FakeAliyunVms  # noqa: E402

VOICE = "bench_voice_reminder"
SMS = "bench_sms_reminder"
TEXT = (
    "{name}您好，提醒您明天{time}在{department}就诊。确认请按1，需要回电请按2，不再接听语音请按9。"
)


def route_env(vms: FakeAliyunVms, sms: FakeAliyun) -> dict:
    return {
        "SMS_ROUTES": "cn=aliyun,other=memory",
        "VOICE_BACKEND": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": "中都皮肤病医院",
        "ALIYUN_SMS_API_BASE_URL": sms.url,
        "ALIYUN_VOICE_SHOW_NUMBER": SHOW_NUMBER,
        "ALIYUN_VMS_API_BASE_URL": vms.url,
        "SMS_QUIET_START_HOUR": "0",
        "SMS_QUIET_END_HOUR": "0",
    }


def templates():
    """The approved templates: the voice reminder and its three key replies, and the SMS one."""
    from messaging.models import Approval, SmsTemplate

    rows = []
    voice = {VOICE: TEXT}
    for meaning, text in (
        ("confirm", "已为您确认。"),
        ("callback", "稍后回电。"),
        ("stop", "已退订。"),
    ):
        voice[f"{VOICE}_{meaning}"] = text
    for n, (code, body) in enumerate(voice.items()):
        rows.append(
            SmsTemplate.objects.update_or_create(
                code=code,
                language="zh-hans",
                defaults={
                    "purpose": "booking_reminder",
                    "channel": "voice",
                    "body": body,
                    "approval": Approval.APPROVED,
                    "provider_code": f"TTS_1000{n:02d}",
                },
            )[0]
        )
    rows.append(
        SmsTemplate.objects.update_or_create(
            code=SMS,
            language="zh-hans",
            defaults={
                "purpose": "booking_reminder",
                "body": "{signature}{name}您好，提醒您明天{time}在{department}就诊。",
                "approval": Approval.APPROVED,
                "provider_code": "SMS_100000003",
            },
        )[0]
    )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="per channel")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "CELERY_BROKER_URL", ""
    ).startswith("redis"):
        sys.exit("Set DATABASE_URL (Postgres) and CELERY_BROKER_URL (Redis): see the docstring.")

    with FakeAliyunVms() as vms, FakeAliyun() as sms:
        os.environ.update(route_env(vms, sms))
        import django

        django.setup()
        from django.db import connection

        from config.celery import app
        from demo.bench import database_url
        from tests.worker_process import WorkerProcess

        app.control.purge()
        rows = templates()
        env = {
            **route_env(vms, sms),
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
                sms_rate = run(SMS, "SMS", args, vms=vms, sms=sms)
                voice_rate = run(VOICE, "voice", args, vms=vms, sms=sms)
        finally:
            for row in rows:
                row.delete()
    print(f"voice / SMS         {voice_rate / sms_rate:.2f} (calls started per message sent)")
    print(f"load average        {' '.join(f'{n:.2f}' for n in os.getloadavg())} (1, 5, 15 min)")


def run(template: str, label: str, args, *, vms, sms) -> float:
    from django.db import transaction

    from messaging import services
    from messaging.models import OutboxMessage
    from tests.worker_process import wait_until

    run_id = uuid.uuid4().hex[:8]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with transaction.atomic():
        values = {"name": "张伟", "time": "09:30", "department": "皮肤科"}
        hospital = services.hospital_placeholder_values()
        for n in range(args.calls):
            services.outbox_enqueue(
                idempotency_key=f"bench:{run_id}:{n}",
                to=f"+86139{n:08d}",
                template_code=template,
                values=values,
                purpose="booking_reminder",
                hospital_values=hospital,
            )
    queued = time.perf_counter()
    rows = OutboxMessage.objects.filter(idempotency_key__startswith=f"bench:{run_id}:")
    wait_until(lambda: not rows.exclude(status="sent").exists(), timeout=600, interval=0.2)
    finished = time.perf_counter()
    sent = rows.filter(status="sent").count()
    latencies = sorted(
        (m.sent_at - m.created_at).total_seconds() * 1000
        for m in rows.only("sent_at", "created_at")
        if m.sent_at
    )
    placed = len([r for r in (vms if label == "voice" else sms).requests if r["outcome"] == "OK"])
    if not os.environ.get("BENCH_KEEP"):
        rows.delete()
    sending = finished - queued
    rate = sent / sending
    unit = "calls started" if label == "voice" else "messages sent"
    print(f"channel             {label}")
    print(f"  reminders         {args.calls} ({sent} {unit}; the provider took {placed})")
    print(f"  worker processes  {args.concurrency}")
    print(f"  writing           {queued - started:.2f} s")
    done = "started" if label == "voice" else "sent"
    print(f"  pending -> {done:<7}  {sending:.2f} s after the commit")
    print(f"  throughput        {rate:.0f} {unit}/s")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(f"  latency           median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms")
    print(f"  load average      {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)")
    return rate


if __name__ == "__main__":
    main()
