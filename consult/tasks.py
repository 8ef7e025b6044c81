# Celery tasks of Consultation desk: ids in, one service call, acks_late, time limits.
import datetime

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def bookings_mark_no_shows(day: str | None = None) -> int:
    # `day` as YYYY-MM-DD, today by default. Safe to run twice or to retry: only bookings still
    # booked are moved, each in its own transaction, and a recall is made once per booking. The
    # service brings `day` back to the last day that is over (before 21:00, yesterday).
    on = datetime.date.fromisoformat(day) if day else timezone.localdate()
    return services.booking_mark_no_shows(day=on)
