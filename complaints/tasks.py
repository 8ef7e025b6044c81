from celery import shared_task

from . import services as complaints


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def complaints_check_deadlines() -> dict:
    # Beat, every 15 minutes. Safe to run twice, to retry, or to overlap another run: each
    # warning and escalation is claimed by a conditional UPDATE of its *_warned_at /
    # *_escalated_at column, so it is sent once.
    return complaints.complaints_check_deadlines()
