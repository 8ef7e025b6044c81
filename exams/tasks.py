from celery import shared_task

from . import alerts


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55)
def alerts_check_deadlines() -> dict:
    # Beat, every minute (a critical value's deadline is counted in minutes). Safe to run twice
    # or to overlap another run: each escalation is claimed by a conditional UPDATE of
    # escalated_at, each closing by the alert's locked row.
    return alerts.alerts_check_deadlines()
