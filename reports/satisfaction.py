"""The monthly satisfaction report (seed: 每月做出分析报告供领导和有关部门参考与决策): every
figure computed once here, in SQL aggregates, into plain JSON data that the page, the Excel
export and the frozen monthly pack all render.

Which answers count is defined by surveys.selectors.satisfaction_responses (the
satisfaction survey's and those given on return-visit calls); complaints by
complaints.selectors.complaint_figures. A closed month is cached in MonthlyReport and
recomputed nightly while late data may still arrive (reports.tasks); the current month is
computed live, its trend read from the cached months.
"""

import contextlib
import datetime

from django.db import IntegrityError
from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.selectors import complaint_figures, month_bounds
from followup.models import FollowUpCall
from surveys.models import CALL_DIMENSIONS, Dimension, SurveyAnswer, SurveyInvitation
from surveys.selectors import satisfaction_responses
from voice import figures as telephony
from voice.selectors import clock

from . import figures
from .models import MonthlyReport

TREND_MONTHS = 12
LOWEST_LIMIT = 20
DIMENSIONS = [str(d) for d in CALL_DIMENSIONS]


def first_of(month: datetime.date) -> datetime.date:
    return month.replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (first_of(month) - datetime.timedelta(days=1)).replace(day=1)


def _num(value, places=2):
    return None if value is None else round(float(value), places)


def _nps(promoters, detractors, count):
    return round(100 * (promoters - detractors) / count) if count else None


def compute(month: datetime.date, *, with_trend: bool = True) -> dict:
    """Every figure of one month, as JSON-ready data."""
    month = first_of(month)
    start, end = month_bounds(month)
    responses = satisfaction_responses().filter(submitted_at__gte=start, submitted_at__lt=end)
    answers = SurveyAnswer.objects.filter(response__in=responses)
    scale = answers.filter(dimension__in=DIMENSIONS, score__isnull=False)
    counts = responses.aggregate(
        total=Count("pk"),
        survey=Count("pk", filter=Q(source="survey")),
        call=Count("pk", filter=Q(source="call")),
        keypad=Count("pk", filter=Q(source="keypad")),
        recovery=Count("pk", filter=Q(needs_recovery=True)),
    )
    dimensions = {
        dimension: {"average": _num(average), "count": n}
        for dimension, average, n in scale.values_list("dimension")
        .annotate(average=Avg("score"), n=Count("pk"))
        .order_by()
    }
    overall = scale.aggregate(average=Avg("score"), n=Count("pk"))

    def by(path_id, path_name):
        rows = (
            scale.values_list(path_id, path_name)
            .annotate(
                average=Avg("score"), n=Count("pk"), responses=Count("response", distinct=True)
            )
            .order_by("average", path_name)
        )
        return [
            {"id": pk, "name": name or "", "average": _num(average), "answers": n, "responses": r}
            for pk, name, average, n, r in rows
        ]

    department_dimensions = {}
    for pk, dimension, average in (
        scale.values_list("response__department_id", "dimension")
        .annotate(average=Avg("score"))
        .order_by()
    ):
        department_dimensions.setdefault(str(pk or 0), {})[dimension] = _num(average)
    recommend = answers.filter(dimension=Dimension.RECOMMEND, score__isnull=False).aggregate(
        count=Count("pk"),
        average=Avg("score"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    invitations = SurveyInvitation.objects.filter(
        created_at__gte=start, created_at__lt=end, template__kind="satisfaction"
    ).aggregate(sent=Count("pk"), answered=Count("pk", filter=Q(used_at__isnull=False)))
    # The dashboard's "return-visit calls due" (reports.figures), over the month's days.
    last_day = timezone.localtime(end).date() - datetime.timedelta(days=1)
    calls = figures.calls_due(month, last_day).aggregate(
        due=Count("pk"),
        done=Count("pk", filter=Q(status=FollowUpCall.Status.DONE)),
        reached=Count("pk", filter=Q(outcome=FollowUpCall.Outcome.REACHED)),
        unreachable=Count("pk", filter=Q(status=FollowUpCall.Status.UNREACHABLE)),
    )
    lowest = list(
        responses.filter(Q(needs_recovery=True) | Q(lowest_score__lte=2))
        .select_related("department", "expert")
        .order_by("lowest_score", "recommend", "submitted_at")
        .values(
            "pk",
            "client_id",
            "submitted_at",
            "source",
            "lowest_score",
            "recommend",
            "comment",
            "department__name",
            "expert__name",
        )[:LOWEST_LIMIT]
    )
    data = {
        "month": f"{month:%Y-%m}",
        "computed_at": f"{timezone.localtime():%Y-%m-%d %H:%M}",
        "responses": counts,
        "overall": {"average": _num(overall["average"]), "count": overall["n"]},
        "dimensions": dimensions,
        "departments": by("response__department_id", "response__department__name"),
        "department_dimensions": department_dimensions,
        "doctors": by("response__expert_id", "response__expert__name"),
        "channels": by("response__visit__channel_id", "response__visit__channel__name"),
        "nps": {
            "score": _nps(recommend["promoters"], recommend["detractors"], recommend["count"]),
            "average": _num(recommend["average"]),
            "count": recommend["count"],
            "promoters": recommend["promoters"],
            "detractors": recommend["detractors"],
        },
        "invitations": {
            **invitations,
            "rate": _rate(invitations["answered"], invitations["sent"]),
        },
        "calls": {**calls, "completion": _rate(calls["done"], calls["due"])},
        "lowest": [
            {
                "response": row["pk"],
                "client": row["client_id"],
                "date": f"{timezone.localtime(row['submitted_at']):%Y-%m-%d}",
                "source": row["source"],
                "lowest": row["lowest_score"],
                "recommend": row["recommend"],
                "comment": row["comment"],
                "department": row["department__name"] or "",
                "doctor": row["expert__name"] or "",
            }
            for row in lowest
        ],
        "complaints": _complaints(month),
        "telephony": _telephony(month, last_day),
        "voice": _voice(month, last_day),
    }
    if with_trend:
        data["trend"] = trend(month)
    return data


def _telephony(month: datetime.date, last_day: datetime.date) -> dict:
    """The hotline's month (voice.figures, the dashboard's definitions): overall with its rates
    and averages, per queue, agent, hour and day; names kept as text, as a pack keeps them."""
    dimensions = (telephony.QUEUE, telephony.AGENT, telephony.HOUR, telephony.DAY)
    values = telephony.compute(month, last_day, dimensions=dimensions)

    def row(slot) -> dict:
        figures = {key: int(by.get(slot, 0) or 0) for key, by in values.items()}
        ratios = {r.key: telephony.ratio(r, figures) for r in telephony.RATES + telephony.AVERAGES}
        return figures | ratios

    def ids(dimension):
        found = {slot[1] for by in values.values() for slot in by if slot[0] == dimension}
        if dimension in (telephony.HOUR, telephony.DAY):
            return sorted(found)
        return sorted(found, key=lambda pk: (pk == 0, pk))  # "none" (0) last

    queues = telephony.queue_names(ids(telephony.QUEUE))
    agents = telephony.agent_names(ids(telephony.AGENT))
    return {
        "overall": row(("", 0)),
        "queues": [
            {"name": queues.get(pk, ""), **row((telephony.QUEUE, pk))}
            for pk in ids(telephony.QUEUE)
        ],
        "agents": [
            {"name": agents.get(pk, ""), **row((telephony.AGENT, pk))}
            for pk in ids(telephony.AGENT)
        ],
        "hours": [{"hour": hour, **row((telephony.HOUR, hour))} for hour in ids(telephony.HOUR)],
        "days": [
            {"day": day.isoformat(), **row((telephony.DAY, day))} for day in ids(telephony.DAY)
        ],
    }


def _voice(month: datetime.date, last_day: datetime.date) -> dict:
    """Calls made and voice messages over the month (reports.figures, the dashboard's
    definitions): every figure, rate and average overall; calls made per worklist and agent;
    names kept as text, as a pack keeps them. Zero where there are no rows."""
    values = {
        figure.key: figure.compute_period(month, last_day) for figure in figures.VOICE_FIGURES
    }

    def row(slot) -> dict:
        counts = {key: int(by.get(slot, 0) or 0) for key, by in values.items()}
        ratios = {r.key: _rate(counts[r.numerator], counts[r.denominator]) for r in _VOICE_RATES}
        ratios |= {r.key: telephony.ratio(r, counts) for r in figures.VOICE_AVERAGES}
        return counts | ratios

    def ids(dimension):
        found = {slot[1] for slot in values["outbound_attempts"] if slot[0] == dimension}
        return sorted(found, key=lambda pk: (pk == 0, pk))

    worklists = figures.worklist_names()
    agents = telephony.agent_names([pk for pk in ids(figures.AGENT) if pk])
    return {
        "overall": row(("", 0)),
        "worklists": [
            {"name": str(worklists.get(pk, "")), **row((figures.WORKLIST, pk))}
            for pk in ids(figures.WORKLIST)
        ],
        "agents": [
            {"name": agents.get(pk, ""), **row((figures.AGENT, pk))} for pk in ids(figures.AGENT)
        ],
    }


_VOICE_RATES = [r for r in figures.VOICE_RATES if r.key == "outbound_connect"]
# The monthly report's table of calls made, per worklist and agent: these, then the rates.
VOICE_CALL_COLUMNS = ("outbound_attempts", "outbound_connected")
# Its voice messages: these figures and rates, for the month.
VOICE_MESSAGE_KEYS = [
    "voice_reminders",
    "voice_reminders_answered",
    "voice_reminders_not_answered",
    "voice_reminders_failed",
    "voice_reminders_held",
    "keypad_surveys_sent",
    "keypad_surveys_answered",
]


def voice_table(kept: dict | None) -> dict | None:
    """What the page and the PDF show of a month's calls made and voice messages (None for a
    pack made before they had figures): the calls made per worklist and agent with their
    connect rate and average talk time, and the voice messages' figures and rates."""
    if not kept:
        return None
    columns = [figures.BY_KEY[key] for key in VOICE_CALL_COLUMNS]
    ratios = _VOICE_RATES + figures.VOICE_AVERAGES

    def cells(row) -> list[str]:
        out = [f"{int(row.get(column.key) or 0):,}" for column in columns]
        for r in ratios:
            value = row.get(r.key)
            if getattr(r, "seconds", False):
                out.append(clock(value))
            else:
                out.append("—" if value is None else f"{value}%")
        return out

    overall = kept["overall"]
    messages = [
        (figures.BY_KEY[key].label, figures.BY_KEY[key].definition, f"{overall.get(key, 0):,}")
        for key in VOICE_MESSAGE_KEYS
    ]
    for r in figures.VOICE_RATES:
        if r.key in ("voice_reminders_answered", "keypad_response"):
            value = _rate(overall.get(r.numerator, 0), overall.get(r.denominator, 0))
            messages.append((r.label, r.definition, "—" if value is None else f"{value}%"))
    return {
        "columns": [(c.label, c.definition) for c in columns]
        + [(r.label, r.definition) for r in ratios],
        "sections": [
            (_("The month"), [(_("All calls made"), cells(overall))]),
            (
                _("By worklist"),
                [(row["name"] or _("Another list"), cells(row)) for row in kept["worklists"]],
            ),
            (
                _("By agent"),
                [(row["name"] or _("No agent"), cells(row)) for row in kept["agents"]],
            ),
        ],
        "messages": messages,
    }


# The monthly report's hotline table: these figures, then every rate and average.
TELEPHONY_COLUMNS = telephony.TABLE_COUNTS


def telephony_table(kept: dict | None) -> dict | None:
    """What the page and the PDF show of a month's hotline data (None for a pack made before
    the hotline had figures): the columns with their definitions and, for the month and each
    queue, agent, hour and day, the cells written out."""
    if not kept:
        return None
    columns = [figures.BY_KEY[key] for key in TELEPHONY_COLUMNS]
    ratios = telephony.RATES + telephony.AVERAGES

    def cells(row) -> list[str]:
        out = [f"{int(row.get(column.key) or 0):,}" for column in columns]
        for r in ratios:
            value = row.get(r.key)
            if r.seconds:
                out.append(clock(value))
            else:
                out.append("—" if value is None else f"{value}%")
        return out

    none_queue, none_agent = _("No queue (left in the menu)"), _("No agent (not answered)")
    return {
        "columns": [(c.label, c.definition) for c in columns]
        + [(r.label, r.definition) for r in ratios],
        "sections": [
            (_("The month"), [(_("All calls"), cells(kept["overall"]))]),
            (
                _("By queue"),
                [(row["name"] or none_queue, cells(row)) for row in kept["queues"]],
            ),
            (
                _("By agent"),
                [(row["name"] or none_agent, cells(row)) for row in kept["agents"]],
            ),
            (_("By hour"), [(f"{row['hour']:02d}:00", cells(row)) for row in kept["hours"]]),
            (_("By day"), [(row["day"], cells(row)) for row in kept["days"]]),
        ],
    }


def _rate(numerator, denominator):
    return round(100 * numerator / denominator, 1) if denominator else None


def _complaints(month) -> dict:
    figures = complaint_figures(month)
    categories = [value for value, _label in _categories()]
    return {
        "total": figures["total"],
        "open": figures["open"],
        "by_category": {
            value: count
            for value, (_label, count) in zip(categories, figures["by_category"], strict=True)
        },
        "by_department": [[str(name), count] for name, count in figures["by_department"]],
        "acknowledge_median": str(figures["acknowledge_median"]),
        "resolve_median": str(figures["resolve_median"]),
        "missed_acknowledge": figures["missed_acknowledge"],
        "missed_resolve": figures["missed_resolve"],
        "reopened": figures["reopened_complaints"],
    }


def _categories():
    from complaints.models import Complaint

    return Complaint.Category.choices


def trend(month: datetime.date) -> list[dict]:
    """The last TREND_MONTHS months up to `month`: the overall average, NPS and responses of
    each. Closed months come from their cached reports; what is missing is computed in one
    query per figure over the whole span."""
    months = []
    current = first_of(month)
    for _n in range(TREND_MONTHS):
        months.append(current)
        current = previous_month(current)
    months.reverse()
    cached = {
        report.month: report.data
        for report in MonthlyReport.objects.filter(month__in=months, is_pack=False)
    }
    missing = [m for m in months if m not in cached or m == first_of(month)]
    live = _trend_live(missing) if missing else {}
    result = []
    for m in months:
        if m in live:
            result.append(live[m])
        else:
            data = cached[m]
            result.append(
                {
                    "month": f"{m:%Y-%m}",
                    "average": data["overall"]["average"],
                    "nps": data["nps"]["score"],
                    "responses": data["responses"]["total"],
                }
            )
    return result


def _trend_live(months: list[datetime.date]) -> dict:
    start, _end = month_bounds(min(months))
    _start, end = month_bounds(max(months))
    responses = satisfaction_responses().filter(submitted_at__gte=start, submitted_at__lt=end)
    answers = SurveyAnswer.objects.filter(response__in=responses, score__isnull=False)
    tz = timezone.get_default_timezone()
    scale = {
        row["m"].date() if hasattr(row["m"], "date") else row["m"]: row
        for row in answers.filter(dimension__in=DIMENSIONS)
        .annotate(m=TruncMonth("response__submitted_at", tzinfo=tz))
        .values("m")
        .annotate(average=Avg("score"), responses=Count("response", distinct=True))
        .order_by()
    }
    recommend = {
        row["m"].date() if hasattr(row["m"], "date") else row["m"]: row
        for row in answers.filter(dimension=Dimension.RECOMMEND)
        .annotate(m=TruncMonth("response__submitted_at", tzinfo=tz))
        .values("m")
        .annotate(
            n=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=9)),
            detractors=Count("pk", filter=Q(score__lte=6)),
        )
        .order_by()
    }
    # Responses counted as the cached report counts them: every satisfaction response of the
    # month, whether or not it has a 1-5 answer (one given as a recommend score only counts).
    counts = {
        row["m"].date() if hasattr(row["m"], "date") else row["m"]: row["n"]
        for row in responses.annotate(m=TruncMonth("submitted_at", tzinfo=tz))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by()
    }
    result = {}
    for m in months:
        s, r = scale.get(m, {}), recommend.get(m, {})
        result[m] = {
            "month": f"{m:%Y-%m}",
            "average": _num(s.get("average")),
            "nps": _nps(r.get("promoters", 0), r.get("detractors", 0), r.get("n", 0)),
            "responses": counts.get(m, 0),
        }
    return result


def kept_trend(month: datetime.date) -> list[dict]:
    """The twelve months up to `month` as the month's kept report has them (the current month's
    is kept every five minutes by beat): one query reading only the trend, for the dashboard's
    chart; computed (`trend`) when the month has no kept report yet."""
    kept = (
        MonthlyReport.objects.filter(month=first_of(month), is_pack=False)
        .values_list("data__trend", flat=True)
        .first()
    )
    return kept if isinstance(kept, list) else trend(month)


# The current month's report is read from its cache while it is this fresh (the beat job that
# keeps the dashboard's figures refreshes it every five minutes too).
FRESH = datetime.timedelta(minutes=10)


def report_for(month: datetime.date, *, today=None) -> dict:
    """The month's report from its cache: a closed month's is kept (and recomputed nightly while
    late data may arrive); the current month's is recomputed when older than FRESH."""
    month = first_of(month)
    today = today or timezone.localdate()
    cached = MonthlyReport.objects.filter(month=month, is_pack=False).first()
    current = month >= first_of(today)
    if cached is not None and not (current and timezone.now() - cached.computed_at >= FRESH):
        return cached.data
    return cache_month(month)


def cache_month(month: datetime.date) -> dict:
    """Compute a month and keep it (the current one every few minutes, the last two closed ones
    nightly: late data). Two at once: the unique index keeps one row; the second update wins."""
    data = compute(first_of(month))
    with contextlib.suppress(IntegrityError):
        MonthlyReport.objects.update_or_create(
            month=first_of(month),
            is_pack=False,
            defaults={"data": data, "computed_at": timezone.now()},
        )
    return data
