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

from consult.models import Booking, BookingEvent, Enquiry, Recall
from consult.selectors import CONVERSION_WINDOW

from .figures import compute_day
from .models import DailyFigure, RollupCursor


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


# --- Outcomes older than the nightly refresh -------------------------------------------------
# A figure that counts outcomes ("enquiries that led to a booking", "bookings that arrived",
# "no-shows", "no-shows rebooked") counts them on the day of the record they belong to, which
# can be older than the nightly refresh reaches: a booking made from an enquiry of two months
# ago, the check-in of a booking made seven weeks ahead. Every booking change writes a
# BookingEvent (consult's append-only history), so refresh_late reads the events since the
# last it read and refreshes the days they touch that the regular refreshes no longer do. It
# reads the history rather than being told by consult, which sits below reports and may not
# call it.

LATE_CURSOR = "booking_events"
# Events younger than this are left for the next run: ids are taken at insert and seen at
# commit, so a lower id can still appear; no request or task transaction stays open this long
# (gunicorn ends requests at 30 s; the no-show sweep commits a booking at a time), the same
# reasoning as the audit seal's AUDIT_SEAL_LAG_SECONDS.
LATE_LAG = datetime.timedelta(minutes=5)
LATE_BATCH = 500


def _local_day(moment) -> datetime.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def days_touched(events: list[dict]) -> set[datetime.date]:
    """The days whose figures these booking events change (four queries at most): the day
    each booking was made (bookings made, that arrived, without an enquiry), the days of its
    appointment before and after (appointments due, no-shows); for a new booking, the days of
    the enquiries it converts (its own, and its client's within the conversion window before
    it) and the appointment days of the no-shows it rebooks."""
    days = {e["from_session__date"] for e in events} | {e["to_session__date"] for e in events}
    bookings = list(
        Booking.objects.filter(pk__in={e["booking_id"] for e in events}).values(
            "pk", "created_at", "client_id", "session__date", "enquiry__created_at"
        )
    )
    for booking in bookings:
        days |= {_local_day(booking["created_at"]), booking["session__date"]}
        if booking["enquiry__created_at"]:
            days.add(_local_day(booking["enquiry__created_at"]))
    created = {e["booking_id"] for e in events if e["action"] == "created"}
    new = [b for b in bookings if b["pk"] in created]
    if new:
        window = CONVERSION_WINDOW
        enquiries = Enquiry.objects.filter(
            client_id__in={b["client_id"] for b in new},
            created_at__gte=min(b["created_at"] for b in new) - window,
            created_at__lte=max(b["created_at"] for b in new),
        ).values_list("client_id", "created_at")
        for client_id, at in enquiries:
            if any(
                b["client_id"] == client_id and b["created_at"] - window <= at <= b["created_at"]
                for b in new
            ):
                days.add(_local_day(at))
        days |= set(
            Recall.objects.filter(rebooking_id__in=created).values_list(
                "booking__session__date", flat=True
            )
        )
    days.discard(None)
    return days


def refresh_late(*, before: datetime.date, batch: int = LATE_BATCH, now=None) -> int:
    """Refresh the days before `before` (those the regular refreshes no longer reach) touched
    by the booking events since the last run; returns the number of days refreshed. Reads the
    events in id order in batches and moves the cursor after each batch's days are refreshed,
    so a run stopped half-way starts again where it stopped; safe to run again (a refresh
    replaces its days) and two at once only refresh a day twice."""
    now = now or timezone.now()
    cursor, _created = RollupCursor.objects.get_or_create(name=LATE_CURSOR)
    refreshed = 0
    while True:
        events = list(
            BookingEvent.objects.filter(pk__gt=cursor.last_id)
            .order_by("pk")
            .values("pk", "at", "booking_id", "action", "from_session__date", "to_session__date")[
                :batch
            ]
        )
        # Stop at the first young event, in id order: a lower id may still commit after it.
        young = next((n for n, e in enumerate(events) if e["at"] >= now - LATE_LAG), None)
        events = events[:young]
        if not events:
            return refreshed
        for day in sorted(d for d in days_touched(events) if d < before):
            refresh_day(day)
            refreshed += 1
        cursor.last_id = events[-1]["pk"]
        RollupCursor.objects.filter(pk=cursor.pk, last_id__lt=cursor.last_id).update(
            last_id=cursor.last_id, updated_at=timezone.now()
        )


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
