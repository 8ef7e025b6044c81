from celery import shared_task

from . import services


# Long lists take a while: up to 10,000 rows at a few milliseconds each.
@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def client_import_run(job_id: int) -> None:
    # Safe to redeliver: the service continues with the rows that have no outcome yet.
    services.client_import_run(job_id=job_id)
