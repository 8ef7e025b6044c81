from celery import shared_task

from . import complaints, services


# Long lists take a while: up to 10,000 rows at a few milliseconds each.
@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def client_import_run(job_id: int) -> None:
    # Safe to redeliver: the service continues with the rows that have no outcome yet.
    services.client_import_run(job_id=job_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def complaints_check_deadlines() -> dict:
    # Beat, every 15 minutes. Safe to run twice, to retry, or to overlap another run: each
    # warning and escalation is claimed by a conditional UPDATE of its *_warned_at /
    # *_escalated_at column, so it is sent once.
    return complaints.complaints_check_deadlines()
