# Celery tasks of VIP: ids in, one service call, acks_late, time limits.
from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def vip_qualification_run() -> dict:
    # Nightly. Idempotent: a second run the same day changes nothing (see the service), so a
    # redelivered task is harmless.
    from zhongdu.services import notify_role

    def notify(text):
        notify_role(role="vip_manager", text=text, url="/vip/")

    return services.qualification_run(notify=notify)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def vip_care_calls_plan() -> int:
    # Daily; one call per VIP and period (its source is unique), so re-running makes nothing.
    return services.vip_care_calls_plan()
