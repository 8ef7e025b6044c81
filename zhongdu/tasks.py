from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=10, time_limit=20)
def heartbeat(name: str = "beat") -> None:
    # Safe to run twice: it only moves a timestamp forward.
    services.heartbeat_touch(name=name)
