"""Reads of Reports: the dashboard's figures for today and the month to date, assembled from the
rollups (reports.rollups) and the live figures (reports.figures), with the funnel per marketing
channel through to revenue. A fixed number of queries: one sum of the month's rollups, today's
figures (one per figure and breakdown over today's rows), the live figures, and the names."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

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
    money: bool = False


def _value(totals, key, slot=("", 0)):
    value = totals.get(key, {}).get(slot, 0)
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _links(today: datetime.date, month_start: datetime.date) -> dict:
    day = {"date": today.isoformat()}
    return {
        "enquiries": reverse("consult:stats") + "?" + urlencode({"period": "month"}),
        "bookings": reverse("consult:booking_list") + "?" + urlencode(day),
        "arrivals": reverse("guide:daily") + "?" + urlencode(day),
        "first_visits": reverse("guide:daily") + "?" + urlencode(day),
        "return_visits": reverse("guide:daily") + "?" + urlencode(day),
        "revenue": reverse("guide:daily") + "?" + urlencode(day),
        "bookings_due": reverse("consult:booking_list") + "?" + urlencode(day),
        "no_shows": reverse("consult:queue"),
        "recalls_reached": reverse("consult:queue"),
        "recalls_rebooked": reverse("consult:queue"),
        "complaints": reverse("complaints:complaint_list"),
        "sms_sent": reverse("messaging:outbox_list") + "?" + urlencode({"status": "sent"}),
        "sms_delivered": reverse("messaging:outbox_list")
        + "?"
        + urlencode({"status": "delivered"}),
        "sms_failed": reverse("messaging:outbox_attention"),
        "calls_due": reverse("followup:call_list"),
        "calls_done": reverse("followup:call_list"),
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
    links = _links(today, month_start)
    rows = [
        Row(
            key=figure.key,
            label=figure.label,
            definition=figure.definition,
            today=_value(day_totals, figure.key),
            month=_value(month_totals, figure.key),
            url=links.get(figure.key, ""),
            money=figure.money,
        )
        for figure in figures.FIGURES
    ]
    by_key = {row.key: row for row in rows}
    live = figures.live_figures()
    data = {
        "today": today,
        "month_start": month_start,
        "rows": rows,
        "by_key": by_key,
        "rates": _rates(by_key),
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
        "channels": _funnel(month_totals),
        "departments": _departments(month_totals),
        "refreshed_at": rollups.last_refreshed(),
    }
    # The charts: read after period_figures above has made today's rollups fresh.
    return {**data, **dashboard_charts(today, channels=data["channels"])}


def _rates(rows: dict) -> list[dict]:
    """The month's rates, each with its definition: numerator / denominator of rolled figures."""

    def pair(numerator, denominator):
        return {
            "today": rate(rows[numerator].today, rows[denominator].today),
            "month": rate(rows[numerator].month, rows[denominator].month),
        }

    return [
        {
            "label": _("Enquiry → booking"),
            "definition": _("Bookings made ÷ enquiries, in the period (flows, not one cohort)."),
            **pair("bookings", "enquiries"),
        },
        {
            "label": _("Booking → arrival"),
            "definition": _("Arrivals ÷ bookings made, in the period."),
            **pair("arrivals", "bookings"),
        },
        {
            "label": _("Return-visit rate (复诊率)"),
            "definition": _("Return visits ÷ arrivals, in the period."),
            **pair("return_visits", "arrivals"),
        },
        {
            "label": _("No-show rate"),
            "definition": _("No-shows ÷ appointments due, in the period (swept at 21:00)."),
            **pair("no_shows", "bookings_due"),
        },
        {
            "label": _("Recall recovery"),
            "definition": _("No-shows rebooked ÷ no-shows, in the period."),
            **pair("recalls_rebooked", "no_shows"),
        },
        {
            "label": _("SMS delivered"),
            "definition": _("Delivered ÷ sent, of the messages written in the period."),
            **pair("sms_delivered", "sms_sent"),
        },
        {
            "label": _("Return-visit calls made"),
            "definition": _("Calls done ÷ calls due, in the period."),
            **pair("calls_done", "calls_due"),
        },
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
        "channel_chart": [row for row in channels if row["booking_rate"] is not None],
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


def _funnel(totals) -> list[dict]:
    """The month's funnel per marketing channel: enquiries → bookings → arrivals → return visits
    → revenue (each counted by its own channel link: the enquiry's channel, the booking client's
    channel, the visit's channel)."""
    ids = {
        slot[1]
        for key in ("enquiries", "bookings", "arrivals", "return_visits", "revenue")
        for slot in totals.get(key, {})
        if slot[0] == CHANNEL
    }
    names = _names(Channel, ids)
    rows = []
    for pk in sorted(ids, key=lambda i: (i == 0, names.get(i, ""))):
        slot = (CHANNEL, pk)
        enquiries = _value(totals, "enquiries", slot)
        bookings = _value(totals, "bookings", slot)
        arrivals = _value(totals, "arrivals", slot)
        rows.append(
            {
                "name": names.get(pk, ""),
                "enquiries": enquiries,
                "bookings": bookings,
                "arrivals": arrivals,
                "return_visits": _value(totals, "return_visits", slot),
                "revenue": _value(totals, "revenue", slot),
                "booking_rate": rate(bookings, enquiries),
                "arrival_rate": rate(arrivals, bookings),
            }
        )
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


_LIVE_LABELS = {
    "complaints_open": _("Complaints open"),
    "complaints_overdue": _("Complaints overdue"),
    "vip_count": _("VIPs"),
    "vip_spend": _("VIP spend"),
}
