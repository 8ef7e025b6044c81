from celery import shared_task
from django.utils import timezone

from . import services
from .directory import services as directory_services


@shared_task(acks_late=True, soft_time_limit=10, time_limit=20)
def heartbeat(name: str = "beat") -> None:
    # Safe to run twice: it only moves a timestamp forward.
    services.heartbeat_touch(name=name)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def clinic_sessions_generate(weeks: int = 4) -> int:
    # Safe to run twice or to retry: existing (weekly clinic, date) sessions are skipped, and the
    # unique constraint session_template_date_unique stops two overlapping runs from doubling one.
    return directory_services.clinic_sessions_generate(start=timezone.localdate(), weeks=weeks)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def audit_seal() -> int:
    # Safe to run twice or at once: each block starts after the last one, and a second sealer
    # gives way (advisory lock) or is refused (unique previous digest). Killed by the time limit,
    # it loses only the block in hand; the next run goes on.
    return len(services.audit_seal_pending())
