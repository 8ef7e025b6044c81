from celery import shared_task

from . import services


# No Celery retries: a message that may be retried goes back to pending with a later send_after
# and the sweeper queues it again, so no task waits in the broker with a long countdown.
@shared_task(acks_late=True, soft_time_limit=30, time_limit=40)
def outbox_send(message_id: int) -> None:
    # Safe to redeliver: the claim is conditional, a message not pending is left alone.
    services.outbox_send(message_id=message_id)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def outbox_sweep() -> None:
    services.outbox_sweep()


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def campaign_build(campaign_id: int) -> None:
    # Safe to redeliver: the rows' idempotency keys make a second pass write nothing new.
    services.campaign_build(campaign_id=campaign_id)
