# Celery tasks of Follow-up: ids in, one service call, acks_late, time limits. The sweep below is
# beat's (config/schedules.py): it selects rows by state, works in bounded batches and is safe to
# re-run or to redeliver, so there are no Celery retries. (The survey sweeps are surveys.tasks.)
from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def exam_followups_start() -> int:
    # Completed exam orders: the health-management plan and assessment call, once per order.
    return services.exam_followups_start()
