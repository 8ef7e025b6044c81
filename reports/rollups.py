"""The daily rollups: DailyFigure rows kept from reports.figures by a beat job, and the sums
the dashboard reads.

Refreshing a day replaces its rows in one transaction (delete, then insert), so a refresh is
safe to run again and two at once leave one set. Recent days are refreshed every few minutes;
the last weeks nightly, so that late data (a charge imported days later, a booking cancelled, a
no-show swept at night) reaches the figures.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
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


def period_figures(start: datetime.date, end: datetime.date, *, today=None) -> dict:
    """{key: {(dimension, id): value}} summed over the days from `start` to `end` (inclusive):
    the rollups for the days before today (one query), today computed live."""
    today = today or timezone.localdate()
    totals: dict = defaultdict(lambda: defaultdict(Decimal))
    last_rolled = min(end, today - datetime.timedelta(days=1))
    if start <= last_rolled:
        rows = (
            DailyFigure.objects.filter(day__range=(start, last_rolled))
            .values_list("key", "dimension", "dimension_id")
            .annotate(total=Sum("value"))
            .order_by()
        )
        for key, dimension, dimension_id, total in rows:
            totals[key][(dimension, dimension_id)] += total
    if start <= today <= end:
        for key, by_dimension in compute_day(today).items():
            for slot, value in by_dimension.items():
                totals[key][slot] += Decimal(str(value))
    return totals


def last_refreshed():
    return (
        DailyFigure.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    )
