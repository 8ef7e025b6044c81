"""Whole days in the hospital's time zone (Asia/Shanghai) as ranges on a raw datetime column, so
that the column's index serves them (a __date lookup would wrap the column in a time-zone
cast). The figures of the dashboard (reports.figures) and of the hotline (voice.figures) count
their days with these."""

import datetime

from django.db.models import Q
from django.utils import timezone


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first moment of `day` and of the day after, in hospital time."""
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def on_days(field_name: str, start: datetime.date, end: datetime.date) -> Q:
    """Rows whose moment `field_name` falls on the days from `start` to `end` (both included)."""
    return Q(
        **{f"{field_name}__gte": day_bounds(start)[0], f"{field_name}__lt": day_bounds(end)[1]}
    )
