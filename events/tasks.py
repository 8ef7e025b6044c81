from celery import shared_task

from . import services as events


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def event_invitations_send(event_id: int) -> bool:
    # An event's invitations, a bounded number of batches per run; the job queues itself again
    # until the audience is done. Safe to redeliver: each batch starts after the last client id
    # committed, and the outbox and invitation keys are unique (one SMS per client and event).
    done = events.event_invitations_send(event_id=event_id)
    if not done:
        event_invitations_send.delay_on_commit(event_id)
    return done
