# Celery tasks of the post-exam service: one service call, acks_late, time limits. Beat's sweeps
# (config/schedules.py) select rows by state and are safe to re-run (idempotency keys), so there
# are no Celery retries.
from celery import shared_task

from . import assessment


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def exam_seasonal_reminders() -> int:
    # In a finding's reminder months: one generic SMS per client, finding and year.
    return assessment.seasonal_reminders_send()
