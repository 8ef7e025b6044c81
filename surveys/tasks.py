# Celery tasks of the survey engine: ids in, one service call, acks_late, time limits. The sweeps
# are beat's (config/schedules.py): each selects rows by state, works in bounded batches and is
# safe to re-run or to redeliver, so there are no Celery retries.
from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def surveys_send() -> int:
    # Visits that ended: the survey link by SMS, once per visit (the invitation's sms_sent_at is
    # set by a conditional update, the outbox key is unique).
    return services.surveys_send_after_visits()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def surveys_remind() -> int:
    # One reminder per unanswered SMS survey (reminded_at is set by a conditional update).
    return services.surveys_remind()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def survey_round_send(round_id: int) -> bool:
    # A market survey round's invitations, a bounded number of batches per run; the job queues
    # itself again until the segment is done. Safe to redeliver: each batch starts after the
    # last client id committed, and the invitation and outbox keys are unique.
    done = services.round_send(round_id=round_id)
    if not done:
        survey_round_send.delay_on_commit(round_id)
    return done


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def survey_rounds_resume() -> int:
    # Market survey rounds whose job stopped without finishing are queued again.
    return services.rounds_resume()
