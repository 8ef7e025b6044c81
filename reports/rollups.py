"""The daily rollups: DailyFigure rows kept from reports.figures by a beat job, and the sums
the dashboard reads.

Refreshing a day replaces its rows in one transaction (delete, then insert), so a refresh is
safe to run again and two at once leave one set. Recent days are refreshed every few minutes;
the last weeks nightly, so that late data (a charge imported days later, a booking cancelled, a
no-show swept at night) reaches the figures.
"""

import contextlib
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from .figures import compute_day
from .models import DailyFigure


def refresh_day(day: datetime.date) -> int:
    """Recompute one day's figures; returns the number of rows written."""
    values = compute_day(day)
    now = timezone.now()
    rows = [
        DailyFigure(
            day=day,
            key=key,
            dimension=dimension,
            dimension_id=dimension_id,
            value=Decimal(str(value)),
            computed_at=now,
        )
        for key, by_dimension in values.items()
        for (dimension, dimension_id), value in by_dimension.items()
        if value or dimension == ""
    ]
    with transaction.atomic():
        DailyFigure.objects.filter(day=day).delete()
        DailyFigure.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def refresh(*, days: int = 2, today=None) -> int:
    """Recompute the last `days` days up to today."""
    today = today or timezone.localdate()
    return sum(refresh_day(today - datetime.timedelta(days=n)) for n in range(days))


# The dashboard reads today's figures from the rollups while they are this fresh (the beat job
# refreshes them every five minutes); older, or missing, they are recomputed and kept first.
FRESH = datetime.timedelta(minutes=10)


def ensure_fresh(day: datetime.date) -> None:
    """Make sure `day`'s rollups are no older than FRESH (today's, when beat is late or not
    running): recompute and keep them. Two requests doing it at once: the second one's insert
    meets the first one's rows, and it simply leaves them."""
    newest = (
        DailyFigure.objects.filter(day=day)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
    if newest is not None and timezone.now() - newest < FRESH:
        return
    with contextlib.suppress(IntegrityError):
        refresh_day(day)


def period_figures(start: datetime.date, end: datetime.date, *, today=None) -> dict:
    """{key: {(dimension, id): value}} summed over the days from `start` to `end` (inclusive),
    from the rollups (one query), today's made fresh first."""
    today = today or timezone.localdate()
    if start <= today <= end:
        ensure_fresh(today)
    totals: dict = defaultdict(lambda: defaultdict(Decimal))
    rows = (
        DailyFigure.objects.filter(day__range=(start, end))
        .values_list("key", "dimension", "dimension_id")
        .annotate(total=Sum("value"))
        .order_by()
    )
    for key, dimension, dimension_id, total in rows:
        totals[key][(dimension, dimension_id)] += total
    return totals


def last_refreshed():
    return (
        DailyFigure.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    )


def daily_figures(keys, start: datetime.date, end: datetime.date) -> dict:
    """{key: {day: value}} of the centre's figures `keys` on each day from `start` to `end`
    (inclusive), from the rollups in one query (dailyfigure_key_day_idx); a day with no row is
    missing from its key's dict. The caller makes today's rows fresh first (period_figures)."""
    values: dict = {key: {} for key in keys}
    rows = DailyFigure.objects.filter(
        key__in=list(keys), dimension="", day__range=(start, end)
    ).values_list("key", "day", "value")
    for key, day, value in rows:
        values[key][day] = value
    return values
