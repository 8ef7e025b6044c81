# Celery tasks of Reports: no arguments, one service call each, acks_late, time limits. Every
# one is safe to run again: a refresh replaces its days, a cache replaces its month, a pack is
# made once (a unique index).
import datetime

from celery import shared_task
from django.utils import timezone

from . import packs, rollups, satisfaction

# How far back the nightly refresh goes: late charges, cancellations and complaint steps of the
# last weeks reach the figures.
NIGHTLY_DAYS = 40


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def reports_refresh_today() -> int:
    written = rollups.refresh(days=2)
    satisfaction.cache_month(timezone.localdate())
    return written


@shared_task(acks_late=True, soft_time_limit=1200, time_limit=1300)
def reports_refresh_nightly() -> int:
    written = rollups.refresh(days=NIGHTLY_DAYS)
    this_month = timezone.localdate().replace(day=1)
    last = satisfaction.previous_month(this_month)
    for month in (last, satisfaction.previous_month(last)):
        satisfaction.cache_month(month)
    return written


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def reports_refresh_late() -> int:
    # Every five minutes: the days older than the nightly refresh reaches (it runs once a day,
    # so a day it covered last night may have left its window by tonight: two days of margin)
    # whose records had an outcome since (rollups.refresh_late).
    before = timezone.localdate() - datetime.timedelta(days=NIGHTLY_DAYS - 2)
    return rollups.refresh_late(before=before)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def reports_monthly_pack() -> bool:
    # Hourly; acts on the first working day of a month, once (the pack's unique index).
    return packs.pack_due(notify=packs.notify_managers) is not None
