"""Consultation analysis (/consult/stats/): pure read functions for the figures of the desk.

Figures are grouped per consultant and per marketing channel, and by week (the last 8 weeks,
the current one included) or by month (the last 6 months, the current one included). Weeks
start on Monday and both weeks and months are cut in the hospital's time zone
(settings.TIME_ZONE), whatever the time zone of the request.

Rules (the issue is silent on them, so they are decided here):

- An enquiry counts in the period, for its consultant (Enquiry.consultant) and its marketing
  channel (Enquiry.marketing_channel), when it was created in the period.
- An enquiry **converts** (enquiry -> booking) when a booking was made from it (Booking.enquiry:
  the consultant booked from the call screen), whenever that was, or when a booking for the same
  client was created within CONVERSION_WINDOW (30 days) after the enquiry (the client booked
  another way: called back, came to the desk), whatever the booking's later status and whoever
  booked it. Either way the enquiry counts once. An enquiry from a prospect (no client record)
  has no booking and cannot convert; booking the prospect once registered attaches their
  enquiries to the client. An enquiry **converts to an arrival** (booking -> arrival) when one
  of those bookings has the status arrived.
- A booking counts, in the period it was created in, for its consultant, who is the user that
  made it (Booking.created_by), and for its channel as the managers' dashboard counts it
  (consult.selectors.bookings_with_channel: the client's channel, else their first enquiry's):
  bookings carry no channel of their own. "Bookings that arrived" are those of them with the
  status arrived, and booking -> arrival divides them by the bookings made (the dashboard's
  rate of the same name).
- No-shows and the no-show rate are the dashboard's: of the appointments due in the period
  (consult.selectors.appointments_due, by the appointment's day, not the day it was booked),
  those not checked in; the rate divides them by the appointments due.
- The average call length is over the enquiries with a duration recorded (duration_seconds > 0):
  an online-form request, with no call, does not pull the average down.
- Recall outcomes: a recall (consult.models.Recall, made from a no-show) counts in the period
  it was created in, for the consultant who made the missed booking (Recall.booking.created_by)
  and for the channel its booking counts for, like the booking it follows. Reached: the status
  is reached or rebooked, or a reached_at time is recorded. Rebooked: the status is rebooked.
  Closed: the status is closed (given up, or unreachable).
- No consultant (a public online request, a deleted user) and no channel are groups of their own.

Queries: one aggregate query per dimension and source (enquiries; bookings made; appointments
due; recalls), so eight queries whatever the data (six while there is no Recall model: see
_recall_model()).
Everything else is arithmetic in Python.
"""

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.apps import apps
from django.db.models import Count, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Booking, Enquiry
from .selectors import (
    ARRIVED,
    NO_SHOW,
    appointments_due,
    client_channel,
    enquiries_with_outcome,
    first_enquiry_channel,
)

# The window is the shared rule's (consult.selectors), re-exported for the page and export.
from .selectors import CONVERSION_WINDOW as CONVERSION_WINDOW

WEEK = "week"
MONTH = "month"
PERIODS = {WEEK: 8, MONTH: 6}  # how many buckets each period shows, the current one included
PERIOD_LABELS = {WEEK: _("Last 8 weeks, by week"), MONTH: _("Last 6 months, by month")}

CONSULTANT = "consultant"
CHANNEL = "channel"
DIMENSION_LABELS = {CONSULTANT: _("Consultant"), CHANNEL: _("Marketing channel")}
DIMENSION_TITLES = {CONSULTANT: _("By consultant"), CHANNEL: _("By marketing channel")}
NO_CONSULTANT = _("No consultant")
# The chart's series: the conversion of the period's enquiries, step by step.
CHART_SERIES = {
    "enquiries": _("Enquiries"),
    "converted": _("Booked"),
    "converted_arrived": _("Arrived"),
}
NO_CHANNEL = _("No channel recorded")

USER_NAME_FIELDS = ("username", "first_name", "last_name")


def _user_fields(prefix: str) -> tuple:
    return (f"{prefix}_id", *(f"{prefix}__{name}" for name in USER_NAME_FIELDS))


# (enquiry, booking, appointment, recall) group-by fields per dimension: the key then its
# label parts. Bookings, appointments and recalls by channel: annotated by _with_channel.
_BOOKING_CHANNEL = ("booking_channel", "booking_channel_name")
_GROUPS = {
    CONSULTANT: (
        _user_fields("consultant"),
        _user_fields("created_by"),
        _user_fields("created_by"),
        _user_fields("booking__created_by"),
    ),
    CHANNEL: (
        ("marketing_channel_id", "marketing_channel__name"),
        _BOOKING_CHANNEL,
        _BOOKING_CHANNEL,
        _BOOKING_CHANNEL,
    ),
}


def _with_channel(qs, dimension: str):
    """Bookings or recalls with the channel their booking counts for (the client's, else the
    first enquiry's: consult.selectors.client_channel) and its name, when grouped by channel."""
    if dimension != CHANNEL:
        return qs
    return qs.annotate(
        booking_channel=client_channel(),
        booking_channel_name=Coalesce(
            "client__source_channel__name",
            Subquery(first_enquiry_channel().values("marketing_channel__name")[:1]),
        ),
    )


def _rate(numerator: int, denominator: int) -> float | None:
    """A percentage rounded to one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return round(100 * numerator / denominator, 1)


@dataclass
class Figures:
    """The counts of one group in one bucket (or over the whole period, for a total)."""

    enquiries: int = 0
    converted: int = 0  # enquiries booked from, or followed by a booking within the window
    converted_arrived: int = 0  # ... whose booking arrived
    calls: int = 0  # enquiries with a duration recorded
    call_seconds: int = 0
    bookings: int = 0
    arrivals: int = 0  # bookings made that arrived (the dashboard's "bookings that arrived")
    appointments_due: int = 0  # by the appointment's day (consult.selectors.appointments_due)
    no_shows: int = 0  # ... of them not checked in
    cancelled: int = 0
    recalls: int = 0
    recalls_reached: int = 0
    recalls_rebooked: int = 0
    recalls_closed: int = 0

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def enquiry_to_booking(self) -> float | None:
        return _rate(self.converted, self.enquiries)

    @property
    def booking_to_arrival(self) -> float | None:
        """Bookings made that arrived ÷ bookings made (the dashboard's booking → arrival)."""
        return _rate(self.arrivals, self.bookings)

    @property
    def enquiry_to_arrival(self) -> float | None:
        return _rate(self.converted_arrived, self.enquiries)

    @property
    def average_call_seconds(self) -> int | None:
        if not self.calls:
            return None
        return round(self.call_seconds / self.calls)

    @property
    def average_call_display(self) -> str:
        """The average call as minutes:seconds, or a dash without calls."""
        seconds = self.average_call_seconds
        return "—" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}"

    @property
    def no_show_rate(self) -> float | None:
        """No-shows ÷ appointments due (the dashboard's no-show rate)."""
        return _rate(self.no_shows, self.appointments_due)

    @property
    def recall_reached_rate(self) -> float | None:
        return _rate(self.recalls_reached, self.recalls)

    @property
    def recall_rebooked_rate(self) -> float | None:
        return _rate(self.recalls_rebooked, self.recalls)


@dataclass
class Group:
    """One consultant or channel: its figures per bucket with activity, and its total."""

    key: int | None
    label: str
    buckets: dict = field(default_factory=dict)  # date -> Figures
    total: Figures = field(default_factory=Figures)

    def bucket(self, start: datetime.date) -> Figures:
        return self.buckets.setdefault(start, Figures())

    @property
    def rows(self) -> list[tuple[datetime.date, Figures]]:
        return sorted(self.buckets.items())


@dataclass
class Table:
    dimension: str
    groups: list[Group]
    total: Figures

    @property
    def label(self):
        return DIMENSION_LABELS[self.dimension]

    @property
    def title(self):
        return DIMENSION_TITLES[self.dimension]


@dataclass
class Stats:
    period: str
    since: datetime.date
    buckets: list[datetime.date]
    tables: list[Table]
    recall_available: bool  # False while consult has no Recall model

    @property
    def period_label(self):
        return PERIOD_LABELS[self.period]

    @property
    def is_empty(self) -> bool:
        return not any(table.groups for table in self.tables)

    @cached_property
    def by_bucket(self) -> list[tuple[datetime.date, Figures]]:
        """The whole desk's figures per bucket, oldest first, every bucket of the period
        (added up from the consultant table, which holds every enquiry and booking once)."""
        totals = {start: Figures() for start in self.buckets}
        for group in self.tables[0].groups if self.tables else ():
            for start, figures in group.buckets.items():
                totals.setdefault(start, Figures()).add(figures)
        return sorted(totals.items())

    @property
    def chart(self) -> dict:
        """What the page's chart draws: enquiries, those booked and those arrived per bucket."""
        rows = self.by_bucket
        shape = "%Y-%m" if self.period == MONTH else "%m-%d"
        return {
            "labels": [start.strftime(shape) for start, _figures in rows],
            "series": [
                (CHART_SERIES[name], [getattr(figures, name) for _start, figures in rows])
                for name in CHART_SERIES
            ],
        }


def period_buckets(period: str, today: datetime.date | None = None) -> list[datetime.date]:
    """The first days of the buckets of the period, oldest first, the current one last."""
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    count = PERIODS[period]
    if period == WEEK:
        monday = today - datetime.timedelta(days=today.weekday())
        return [monday - datetime.timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    firsts = []
    year, month = today.year, today.month
    for _n in range(count):
        firsts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _trunc(period: str, field_name: str):
    function = TruncWeek if period == WEEK else TruncMonth
    return function(field_name, tzinfo=timezone.get_default_timezone())


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value, timezone.get_default_timezone()).date()
    return value


def _label(dimension: str, parts: tuple) -> str:
    if dimension == CHANNEL:
        return parts[0] or str(NO_CHANNEL)
    username, first, last = parts
    if username is None:
        return str(NO_CONSULTANT)
    full = f"{first or ''} {last or ''}".strip()
    return f"{full} ({username})" if full else username


def _enquiry_rows(period: str, since: datetime.datetime, group_fields: tuple):
    """One query: enquiries, conversions and call time per group and bucket. The conversion
    rule is consult.selectors.enquiries_with_outcome, the one the managers' dashboard counts
    with: one EXISTS over the linked booking and the client's bookings in the window."""
    return (
        enquiries_with_outcome(Enquiry.objects.filter(created_at__gte=since))
        .annotate(bucket=_trunc(period, "created_at"))
        .values("bucket", *group_fields)
        .annotate(
            enquiries=Count("pk"),
            converted=Count("pk", filter=Q(has_booking=True)),
            converted_arrived=Count("pk", filter=Q(has_arrival=True)),
            calls=Count("pk", filter=Q(duration_seconds__gt=0)),
            call_seconds=Sum("duration_seconds", filter=Q(duration_seconds__gt=0), default=0),
        )
        .order_by()
    )


def _booking_rows(period: str, since: datetime.datetime, group_fields: tuple, dimension: str):
    """One query: bookings made and their outcomes per group and bucket."""
    status = Booking.Status
    return (
        _with_channel(Booking.objects.filter(created_at__gte=since), dimension)
        .annotate(bucket=_trunc(period, "created_at"))
        .values("bucket", *group_fields)
        .annotate(
            bookings=Count("pk"),
            arrivals=Count("pk", filter=ARRIVED),
            cancelled=Count("pk", filter=Q(status=status.CANCELLED)),
        )
        .order_by()
    )


def _appointment_rows(period: str, since: datetime.datetime, group_fields: tuple, dimension: str):
    """One query: the appointments due from the period's first day to today, and their
    no-shows, per group and bucket of the appointment's day (the dashboard's no-show rule)."""
    first = timezone.localtime(since, timezone.get_default_timezone()).date()
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    function = TruncWeek if period == WEEK else TruncMonth
    return (
        _with_channel(appointments_due(first, today), dimension)
        .annotate(bucket=function("session__date"))
        .values("bucket", *group_fields)
        .annotate(appointments_due=Count("pk"), no_shows=Count("pk", filter=NO_SHOW))
        .order_by()
    )


def _recall_model():
    """consult.models.Recall, or None while it does not exist (the figures then leave recalls
    out and the page says so)."""
    try:
        return apps.get_model("consult", "Recall")
    except LookupError:
        return None


def _recall_rows(period: str, since: datetime.datetime, group_fields: tuple, dimension: str):
    """One query: recalls and their outcomes per group and bucket."""
    recall = _recall_model()
    status = recall.Status
    reached = Q(status__in=[status.REACHED, status.REBOOKED]) | Q(reached_at__isnull=False)
    return (
        _with_channel(recall.objects.filter(created_at__gte=since), dimension)
        .annotate(bucket=_trunc(period, "created_at"))
        .values("bucket", *group_fields)
        .annotate(
            recalls=Count("pk"),
            recalls_reached=Count("pk", filter=reached),
            recalls_rebooked=Count("pk", filter=Q(status=status.REBOOKED)),
            recalls_closed=Count("pk", filter=Q(status=status.CLOSED)),
        )
        .order_by()
    )


_ENQUIRY_FIGURES = ("enquiries", "converted", "converted_arrived", "calls", "call_seconds")
_BOOKING_FIGURES = ("bookings", "arrivals", "cancelled")
_APPOINTMENT_FIGURES = ("appointments_due", "no_shows")
_RECALL_FIGURES = ("recalls", "recalls_reached", "recalls_rebooked", "recalls_closed")


def _table(dimension: str, period: str, since: datetime.datetime) -> Table:
    enquiry_fields, booking_fields, appointment_fields, recall_fields = _GROUPS[dimension]
    sources = [
        (enquiry_fields, _enquiry_rows(period, since, enquiry_fields), _ENQUIRY_FIGURES),
        (
            booking_fields,
            _booking_rows(period, since, booking_fields, dimension),
            _BOOKING_FIGURES,
        ),
        (
            appointment_fields,
            _appointment_rows(period, since, appointment_fields, dimension),
            _APPOINTMENT_FIGURES,
        ),
    ]
    if _recall_model() is not None:
        rows = _recall_rows(period, since, recall_fields, dimension)
        sources.append((recall_fields, rows, _RECALL_FIGURES))
    groups: dict = {}
    for fields, rows, figures in sources:
        for row in rows:
            key = row[fields[0]]
            group = groups.get(key)
            if group is None:
                label = _label(dimension, tuple(row[name] for name in fields[1:]))
                group = groups[key] = Group(key=key, label=label)
            bucket = group.bucket(_as_date(row["bucket"]))
            for name in figures:
                setattr(bucket, name, getattr(bucket, name) + (row[name] or 0))
    total = Figures()
    for group in groups.values():
        for figures in group.buckets.values():
            group.total.add(figures)
        total.add(group.total)
    # The unassigned group last, the others by name.
    ordered = sorted(groups.values(), key=lambda g: (g.key is None, g.label.lower()))
    return Table(dimension=dimension, groups=ordered, total=total)


def consult_stats(*, period: str = WEEK, today: datetime.date | None = None) -> Stats:
    """The figures of the consultation desk for the period (WEEK or MONTH)."""
    if period not in PERIODS:
        period = WEEK
    buckets = period_buckets(period, today)
    since = timezone.make_aware(
        datetime.datetime.combine(buckets[0], datetime.time.min),
        timezone.get_default_timezone(),
    )
    tables = [_table(dimension, period, since) for dimension in (CONSULTANT, CHANNEL)]
    return Stats(
        period=period,
        since=buckets[0],
        buckets=buckets,
        tables=tables,
        recall_available=_recall_model() is not None,
    )


def describe_stats_export(*, period: str, since: str) -> str:
    """What the audit trail says of an export of this page (zhongdu.audit.note)."""
    return _("%(period)s, from %(since)s") % {
        "period": PERIOD_LABELS.get(period, period),
        "since": since,
    }
