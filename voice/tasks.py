# Celery tasks of the hotline: ids in, one service call, acks_late, time limits.
from celery import shared_task

from . import services, surveys
from .models import Recording

# The PBX may be busy or restarting: a few tries over about half an hour, then given up.
FETCH_RETRIES = 5


@shared_task(
    bind=True, acks_late=True, soft_time_limit=120, time_limit=150, max_retries=FETCH_RETRIES
)
def recording_fetch(self, recording_id: int) -> str:
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        return "gone"
    try:
        return services.recording_fetch(recording).status
    except services.FetchFailed as exc:
        if self.request.retries >= FETCH_RETRIES:
            services.recording_give_up(recording)
            return Recording.Status.FAILED
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def recordings_purge_expired() -> int:
    """Nightly: the audio of recordings past their retention period deleted (safe to re-run)."""
    return services.recordings_purge_expired()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def keypad_surveys_send() -> int:
    # Visits that ended: the keypad survey of those whose client cannot get the web survey's
    # link, once per visit (the outbox key); safe to re-run.
    return surveys.keypad_surveys_after_visits()
