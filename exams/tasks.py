# Celery tasks of the post-exam service: one service call, acks_late, time limits. Beat's sweeps
# (config/schedules.py) select rows by state and are safe to re-run (idempotency keys, conditional
# updates), so there are no Celery retries.
from celery import shared_task

from . import alerts, assessment


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def exam_seasonal_reminders() -> int:
    # In a finding's reminder months: one generic SMS per client, finding and year.
    return assessment.seasonal_reminders_send()


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55)
def alerts_check_deadlines() -> dict:
    # Beat, every minute (a critical value's deadline is counted in minutes). Safe to run twice
    # or to overlap another run: each escalation is claimed by a conditional UPDATE of
    # escalated_at, each closing by the alert's locked row.
    return alerts.alerts_check_deadlines()
