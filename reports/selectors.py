"""Reads of Reports: the dashboard's figures for today and the month to date, assembled from the
rollups (reports.rollups) and the live figures (reports.figures), with the funnel per marketing
channel through to revenue. A fixed number of queries: one sum of the month's rollups, today's
figures (one per figure and breakdown over today's rows), the live figures, and the names."""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from voice import figures as telephony
from zhongdu.models import Channel, Department

from . import figures, rollups, satisfaction
from .figures import CHANNEL, DEPARTMENT, rate


@dataclass
class Row:
    key: str
    label: object
    definition: object
    today: object
    month: object
    url: str = ""
    today_url: str = ""
    money: bool = False


def _value(totals, key, slot=("", 0)):
    value = totals.get(key, {}).get(slot, 0)
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def records_url(key: str, start: datetime.date, end: datetime.date, **extra) -> str:
    """The drill-down list of a figure: the records it counts over those days."""
    query = {"from": start.isoformat(), "to": end.isoformat(), **extra}
    return _records_path(key, get_script_prefix()) + "?" + urlencode(query)


@functools.lru_cache(maxsize=128)
def _records_path(key: str, prefix: str) -> str:
    # The dashboard links each of its cells (over a hundred): reversing each took a third of
    # the page's time (bench_reports). Keyed by the script prefix, which reverse() reads.
    return reverse("reports:figure_records", args=[key])


def _live_links() -> dict:
    return {
        "complaints_open": reverse("complaints:complaint_list"),
        "complaints_overdue": reverse("complaints:complaint_list") + "?overdue=1",
        "vip_count": reverse("vip:roster"),
        "vip_spend": reverse("vip:roster"),
    }


def dashboard(*, today=None) -> dict:
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    month_totals = rollups.period_figures(month_start, today, today=today)
    day_totals = rollups.period_figures(today, today, today=today)
    links = _live_links()
    rows = [
        Row(
            key=figure.key,
            label=figure.label,
            definition=figure.definition,
            today=_value(day_totals, figure.key),
            month=_value(month_totals, figure.key),
            url=records_url(figure.key, month_start, today),
            today_url=records_url(figure.key, today, today),
            money=figure.money,
        )
        for figure in figures.FIGURES
    ]
    by_key = {row.key: row for row in rows}
    live = figures.live_figures()
    rates = _rates(by_key, today=today, month_start=month_start)
    data = {
        "today": today,
        "month_start": month_start,
        "rows": [row for row in rows if not figures.BY_KEY[row.key].section],
        "by_key": by_key,
        "rates": [r for r in rates if r["key"] not in _TELEPHONY_RATES | _VOICE_RATES],
        "telephony": _telephony(by_key, rates, month_totals, today=today, month_start=month_start),
        "voice": _voice(by_key, rates, month_totals, today=today, month_start=month_start),
        "live": [
            Row(
                key=key,
                label=_LIVE_LABELS[key],
                definition=figures.LIVE_DEFINITIONS[key],
                today=value,
                month=None,
                url=links[key],
                money=key == "vip_spend",
            )
            for key, value in live.items()
        ],
        "channels": _funnel(month_totals, today=today, month_start=month_start),
        # In the request's language once: each is written in every row's cells.
        "funnel_columns": [
            {**column, "label": str(column["label"]), "definition": str(column["definition"])}
            for column in FUNNEL_COLUMNS
        ],
        "funnel_definition": FUNNEL_DEFINITION,
        "departments": _departments(month_totals),
        "refreshed_at": rollups.last_refreshed(),
    }
    # The charts: read after period_figures above has made today's rollups fresh.
    return {**data, **dashboard_charts(today, channels=data["channels"])}


def _rates(rows: dict, *, today, month_start) -> list[dict]:
    """The rates of reports.figures.RATES for today and the month: numerator ÷ denominator of
    figures whose records are a subset of one another; each links to its numerator's records."""
    return [
        {
            "key": r.key,
            "label": r.label,
            "definition": r.definition,
            "today": rate(rows[r.numerator].today, rows[r.denominator].today),
            "month": rate(rows[r.numerator].month, rows[r.denominator].month),
            "url": records_url(r.numerator, month_start, today),
            "denominator_url": records_url(r.denominator, month_start, today),
        }
        for r in figures.RATES
    ]


# The dashboard's daily chart: these figures over the last CHART_DAYS days, today included.
CHART_DAYS = 30
CHART_KEYS = ("enquiries", "bookings", "arrivals")


def dashboard_charts(today: datetime.date, *, channels: list[dict]) -> dict:
    """What the dashboard's charts draw (two queries): the last 30 days, the conversion by
    channel (the funnel's rows that have a rate) and satisfaction over twelve months."""
    trend = satisfaction.kept_trend(today)
    return {
        "daily": daily_chart(today),
        "channel_chart": [
            {**row, "name": row["name"] or _("Not recorded")}
            for row in channels
            if row["booking_rate"] is not None
        ],
        "satisfaction_trend": trend,
        "satisfaction_empty": all(point["average"] is None for point in trend),
    }


def daily_chart(today: datetime.date, *, days: int = CHART_DAYS) -> dict:
    """The centre's enquiries, bookings and arrivals on each of the last `days` days, from the
    rollups in one query: the labels and series the chart draws and the rows of the table that
    gives its numbers to those who cannot see it."""
    start = today - datetime.timedelta(days=days - 1)
    values = rollups.daily_figures(CHART_KEYS, start, today)
    dates = [start + datetime.timedelta(days=n) for n in range(days)]
    counts = {key: [int(values[key].get(day, 0)) for day in dates] for key in CHART_KEYS}
    return {
        "labels": [f"{day:%m-%d}" for day in dates],
        "series": [(figures.BY_KEY[key].label, counts[key]) for key in CHART_KEYS],
        "heads": [figures.BY_KEY[key].label for key in CHART_KEYS],
        "rows": [(day, [counts[key][n] for key in CHART_KEYS]) for n, day in enumerate(dates)],
        "empty": not any(any(series) for series in counts.values()),
    }


def _names(model, ids):
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


_FUNNEL = (
    "enquiries",
    "enquiries_booked",
    "bookings",
    "bookings_direct",
    "bookings_arrived",
    "arrivals",
    "return_visits",
    "revenue",
)


def _column(key, *, rate_key=""):
    if rate_key:
        found = figures.RATES_BY_KEY[rate_key]
        return {"key": key, "label": found.label, "definition": found.definition, "rate": True}
    figure = figures.BY_KEY[key]
    return {
        "key": key,
        "label": figure.label,
        "definition": figure.definition,
        "rate": False,
        "money": figure.money,
    }


FUNNEL_COLUMNS = [
    _column("enquiries"),
    _column("enquiries_booked"),
    _column("booking_rate", rate_key="enquiry_booking"),
    _column("bookings"),
    _column("bookings_direct"),
    _column("bookings_arrived"),
    _column("arrival_rate", rate_key="booking_arrival"),
    _column("arrivals"),
    _column("return_visits"),
    _column("revenue"),
]
FUNNEL_DEFINITION = _(
    "Each rate counts both its parts by one channel: enquiry → booking by the channel the caller"
    " named, booking → arrival by the booking client's channel. Arrivals count by the channel"
    " recorded at the front desk; revenue by the visit's channel, else the client's, else the"
    " channel of the client's first enquiry; with none of them it is not recorded."
)


def _funnel(totals, *, today, month_start) -> list[dict]:
    """The month's funnel per marketing channel. Each rate keeps one channel link for both its
    parts: enquiry → booking by the enquiry's channel (enquiries that led to a booking ÷
    enquiries), booking → arrival by the booking client's channel (bookings that arrived ÷
    bookings made); arrivals by the channel recorded at the desk, revenue by its attribution
    (reports.figures.charges). Channel 0 is "not recorded"."""
    ids = {slot[1] for key in _FUNNEL for slot in totals.get(key, {}) if slot[0] == CHANNEL}
    names = _names(Channel, ids)
    rows = []
    for pk in sorted(ids, key=lambda i: (i == 0, names.get(i, ""))):
        slot = (CHANNEL, pk)
        row = {"id": pk, "name": names.get(pk, "")}
        row.update({key: _value(totals, key, slot) for key in _FUNNEL})
        row["booking_rate"] = rate(row["enquiries_booked"], row["enquiries"])
        row["arrival_rate"] = rate(row["bookings_arrived"], row["bookings"])
        row["urls"] = {key: records_url(key, month_start, today, channel=pk) for key in _FUNNEL}
        rows.append(row)
    return rows


def _departments(totals) -> list[dict]:
    ids = {
        slot[1]
        for key in ("arrivals", "revenue", "complaints")
        for slot in totals.get(key, {})
        if slot[0] == DEPARTMENT
    }
    names = _names(Department, ids)
    return sorted(
        (
            {
                "name": names.get(pk, ""),
                "arrivals": _value(totals, "arrivals", (DEPARTMENT, pk)),
                "revenue": _value(totals, "revenue", (DEPARTMENT, pk)),
                "complaints": _value(totals, "complaints", (DEPARTMENT, pk)),
            }
            for pk in ids
        ),
        key=lambda row: (-row["revenue"], row["name"]),
    )


_TELEPHONY_RATES = {r.key for r in figures.TELEPHONY_RATES}
# The hotline's breakdowns on the dashboard: the month per queue and per agent.
_TELEPHONY_COLUMNS = telephony.TABLE_COUNTS


def _telephony(by_key, rates, totals, *, today, month_start) -> dict:
    """The hotline's section: its figures (today and the month), rates and averages, and the
    month per queue and per agent, from the same rollups (two more queries: the names)."""

    def average(r, when):
        return telephony.ratio(r, {key: getattr(by_key[key], when) for key in by_key})

    def breakdown(dimension, names_of, none):
        ids = {
            slot[1]
            for key in _TELEPHONY_COLUMNS
            for slot in totals.get(key, {})
            if slot[0] == dimension
        }
        names = names_of(ids)
        rows = []
        for pk in sorted(ids, key=lambda i: (i == 0, names.get(i, ""))):
            values = {key: _value(totals, key, (dimension, pk)) for key in _TELEPHONY_KEYS}
            rows.append(
                {
                    "name": names.get(pk, ""),
                    "none": none,
                    "values": [values[key] for key in _TELEPHONY_COLUMNS],
                    "rates": [telephony.ratio(r, values) for r in telephony.RATES],
                    "averages": [telephony.ratio(r, values) for r in telephony.AVERAGES],
                }
            )
        return rows

    return {
        "rows": [row for row in by_key.values() if row.key in _TELEPHONY_KEYS],
        "rates": [r for r in rates if r["key"] in _TELEPHONY_RATES],
        "averages": [
            {
                "key": r.key,
                "label": r.label,
                "definition": r.definition,
                "today": average(r, "today"),
                "month": average(r, "month"),
                "url": records_url(r.numerator, month_start, today),
            }
            for r in figures.AVERAGES
        ],
        "columns": [figures.BY_KEY[key] for key in _TELEPHONY_COLUMNS],
        "rate_columns": telephony.RATES,
        "average_columns": telephony.AVERAGES,
        "breakdowns": [
            (
                _("The month by queue"),
                breakdown(telephony.QUEUE, telephony.queue_names, _("No queue (left in the menu)")),
                "telephony-queues",
            ),
            (
                _("The month by agent"),
                breakdown(telephony.AGENT, telephony.agent_names, _("No agent (not answered)")),
                "telephony-agents",
            ),
        ],
    }


_TELEPHONY_KEYS = {figure.key for figure in figures.TELEPHONY_FIGURES}

_VOICE_RATES = {r.key for r in figures.VOICE_RATES}
_VOICE_KEYS = [figure.key for figure in figures.VOICE_FIGURES]
# The breakdowns of calls made: these counts, the connect rate and the average talk time.
_VOICE_COLUMNS = ("outbound_attempts", "outbound_connected")


def _voice(by_key, rates, totals, *, today, month_start) -> dict:
    """Calls made and voice messages: their figures (today and the month), rates and average
    talk time, and the month's calls made per worklist and per agent, from the same rollups
    (one more query: the agents' names). Every value is 0 (a rate "—") where there are no
    rows."""
    outbound_rates = [r for r in figures.VOICE_RATES if r.key == "outbound_connect"]

    def breakdown(dimension, names):
        ids = sorted(
            {slot[1] for slot in totals.get("outbound_attempts", {}) if slot[0] == dimension},
            key=lambda pk: (pk == 0, str(names.get(pk, ""))),
        )
        rows = []
        for pk in ids:
            keys = (*_VOICE_COLUMNS, "outbound_completed", "outbound_talk_seconds")
            values = {key: _value(totals, key, (dimension, pk)) for key in keys}
            rows.append(
                {
                    "name": names.get(pk, ""),
                    "values": [values[key] for key in _VOICE_COLUMNS],
                    "rates": [
                        rate(values[r.numerator], values[r.denominator]) for r in outbound_rates
                    ],
                    "averages": [telephony.ratio(r, values) for r in figures.VOICE_AVERAGES],
                }
            )
        return rows

    agents = {slot[1] for slot in totals.get("outbound_attempts", {}) if slot[0] == figures.AGENT}
    return {
        "rows": [by_key[key] for key in _VOICE_KEYS],
        "rates": [r for r in rates if r["key"] in _VOICE_RATES],
        "averages": [
            {
                "key": r.key,
                "label": r.label,
                "definition": r.definition,
                "today": telephony.ratio(r, {k: by_key[k].today for k in by_key}),
                "month": telephony.ratio(r, {k: by_key[k].month for k in by_key}),
                "url": records_url(r.numerator, month_start, today),
            }
            for r in figures.VOICE_AVERAGES
        ],
        "columns": [figures.BY_KEY[key] for key in _VOICE_COLUMNS],
        "rate_columns": outbound_rates,
        "average_columns": figures.VOICE_AVERAGES,
        "breakdowns": [
            (
                _("Calls made this month by worklist"),
                breakdown(figures.WORKLIST, figures.worklist_names()),
                "voice-worklists",
                _("Worklist"),
                _("Another list"),
            ),
            (
                _("Calls made this month by agent"),
                breakdown(figures.AGENT, telephony.agent_names(agents - {0})),
                "voice-agents",
                pgettext_lazy("hotline", "Agent"),
                _("No agent"),
            ),
        ],
    }


_LIVE_LABELS = {
    "complaints_open": _("Complaints open"),
    "complaints_overdue": _("Complaints overdue"),
    "vip_count": _("VIPs"),
    "vip_spend": _("VIP spend"),
}


# --- Drill-down: the records a figure counts -----------------------------------------------

# The list shows the newest records first, at most this many; the total is the figure's own.
RECORDS_PER_PAGE = 100

# Where a record of each kind opens (its own page checks the reader's access to it).
_RECORD_PAGES = {
    "consult.booking": ("pk", "consult:booking_detail"),
    "consult.recall": ("pk", "consult:recall_detail"),
    "guide.visit": ("pk", "guide:visit_detail"),
    "guide.charge": ("visit_id", "guide:visit_detail"),
    "complaints.complaint": ("pk", "complaints:complaint_detail"),
    "followup.followupcall": ("pk", "followup:call_detail"),
    "messaging.outboxmessage": ("pk", "messaging:message_detail"),
    "exams.resultalert": ("pk", "exams:alert_detail"),
}


@dataclass
class Records:
    figure: figures.Figure
    start: datetime.date
    end: datetime.date
    channel: int | None
    channel_name: str
    total: object
    rows: list
    page: object  # the Paginator's page the rows are


def _moment(value) -> str:
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return value.isoformat() if value else ""


def _of_channel(qs, path: str, channel: int):
    return qs.filter(**({f"{path}__isnull": True} if channel == 0 else {path: channel}))


def figure_records(
    figure: figures.Figure,
    start: datetime.date,
    end: datetime.date,
    *,
    channel=None,
    page=None,
) -> Records:
    """The records `figure` counts from `start` to `end` (of one channel: 0 is "not
    recorded"), newest first, a page of RECORDS_PER_PAGE (`page`: its number; anything else is
    the first or last page), without client details: the record's number and page, its
    moment, channel, department and amount. `total` is computed from the same queryset, so
    it is the figure's value over the period."""
    qs = figure.records(start, end)
    channel_path = figure.dimensions.get(CHANNEL)
    department_path = figure.dimensions.get(DEPARTMENT)
    if channel is not None and channel_path:
        qs = _of_channel(qs, channel_path, channel)
    else:
        channel = None
    total = qs.aggregate(v=figure._value())["v"] or 0
    link = _RECORD_PAGES.get(qs.model._meta.label_lower)
    fields = ["pk", figure.when, link[0] if link else "pk", channel_path, department_path]
    fields = [name for name in dict.fromkeys([*fields, figure.sums]) if name]
    newest = qs.order_by(f"-{figure.when}", "-pk").values(*fields)
    paginator = Paginator(newest, RECORDS_PER_PAGE)
    if not figure.sums:
        paginator.count = total  # the figure is the count of these rows: not counted twice
    shown = paginator.get_page(page)
    values = list(shown.object_list)
    channels = _names(Channel, {v[channel_path] for v in values if channel_path} | {channel})
    departments = _names(Department, {v[department_path] for v in values if department_path})
    rows = [
        {
            "pk": v["pk"],
            "when": _moment(v[figure.when]),
            "url": reverse(link[1], args=[v[link[0]]]) if link else "",
            "channel": channels.get(v[channel_path], "") if channel_path else None,
            "department": departments.get(v[department_path], "") if department_path else None,
            "amount": v[figure.sums] if figure.sums else None,
        }
        for v in values
    ]
    return Records(
        figure=figure,
        start=start,
        end=end,
        channel=channel,
        channel_name=channels.get(channel, "") if channel else "",
        total=total,
        rows=rows,
        page=shown,
    )
