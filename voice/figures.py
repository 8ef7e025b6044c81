"""The hotline's figures, defined once: which calls and callback tasks each one counts. The
managers' dashboard, its daily rollups, its drill-down lists, docs/figures.md and the monthly
report take them from here through reports.figures (as the dashboard's other figures); the
wallboard (voice:wallboard) computes today's from the same definitions. They live in voice, not
in reports, because the wallboard is voice's page and voice sits below reports
(tests/architecture/test_layers.py): reports may import this module, not the other way round.

Calls are inbound calls counted on the day they rang (`ringing_at`, hospital time), whatever
became of them since: a call still waiting counts in "calls offered" and in no outcome until it
has one. Offered = answered + abandoned (in the menu or in the queue) + missed (it rang, nobody
answered, no message) + voicemail + those still waiting. Seconds are whole seconds, each call's
rounded. Callbacks are the callback tasks (consult.models.Recall, kind "callback") counted on
the day they were made (`created_at`); one made within its deadline has its first call back
made (`first_attempt_at`) by its deadline (`due_at`), so the figure grows until the deadlines
have passed.

Averages are the sum of seconds ÷ the calls they were summed over, never a mean of means, so a
month's average is its days' sums ÷ its days' counts (the rollups keep sums and counts).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import ExtractHour, Greatest, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consult.models import Recall
from zhongdu.days import on_days

from .models import Agent, Call, CallQueue

QUEUE, AGENT, HOUR, DAY = "queue", "agent", "hour", "day"
# The counts the hotline's tables show (the dashboard's breakdowns, the monthly report), in
# their order; the rates and averages follow them.
TABLE_COUNTS = (
    "calls_offered",
    "calls_answered",
    "calls_answered_20s",
    "calls_abandoned",
    "calls_missed",
    "calls_voicemail",
    "callbacks",
    "callbacks_in_time",
)
# Answered within this many seconds of ringing: the service level's threshold.
SERVICE_SECONDS = 20


class Seconds(Func):
    """Whole seconds from `start` to `end` (rounded), on Postgres and on SQLite."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)  # written end - start

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(ROUND(EXTRACT(EPOCH FROM (%(expressions)s))) AS integer)",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(ROUND((julianday(%(expressions)s)) * 86400) AS integer)",
            arg_joiner=") - julianday(",
            **extra,
        )


_between = on_days


def calls_rung(start: datetime.date, end: datetime.date):
    """The inbound calls that rang on those days (voice_call_day_idx), with the hour and day
    they rang, their wait (ring to answer) and talk (answer to end, hold left out) in seconds."""
    tz = timezone.get_default_timezone()
    return Call.objects.filter(_between("ringing_at", start, end), direction="inbound").annotate(
        hour=ExtractHour("ringing_at", tzinfo=tz),
        day=TruncDate("ringing_at", tzinfo=tz),
        wait_seconds=Seconds("ringing_at", "answered_at"),
        talk_seconds=Greatest(Seconds("answered_at", "ended_at") - F("hold_seconds"), Value(0)),
    )


def callbacks_made(start: datetime.date, end: datetime.date):
    """The callback tasks made on those days (recall_kind_created_idx), with the hour and day
    they were made and the queue of the call that made them (the caller's first); by the agent
    of the user they are assigned to."""
    tz = timezone.get_default_timezone()
    first_call = Call.objects.filter(callback=OuterRef("pk")).order_by("ringing_at", "pk")
    return Recall.objects.filter(_between("created_at", start, end), kind="callback").annotate(
        hour=ExtractHour("created_at", tzinfo=tz),
        day=TruncDate("created_at", tzinfo=tz),
        queue=Subquery(first_call.values("queue_id")[:1]),
    )


@dataclass(frozen=True)
class Source:
    """A table the figures count rows of, and the path of each breakdown in it."""

    rows: Callable  # (start day, end day) -> queryset
    paths: dict
    when: str


CALLS = Source(
    calls_rung, {QUEUE: "queue_id", AGENT: "agent_id", HOUR: "hour", DAY: "day"}, "ringing_at"
)
CALLBACKS = Source(
    callbacks_made,
    {QUEUE: "queue", AGENT: "assigned_to__voice_agent", HOUR: "hour", DAY: "day"},
    "created_at",
)


@dataclass(frozen=True)
class CallFigure:
    key: str
    label: object
    definition: object
    source: Source
    where: Q = field(default_factory=Q)
    # The annotation summed (seconds); empty: the rows are counted.
    sums: str = ""

    def records(self, start: datetime.date, end: datetime.date):
        return self.source.rows(start, end).filter(self.where)

    @property
    def dimensions(self) -> dict:
        """The breakdowns the daily rollups keep (a day's rows are a day already)."""
        return {name: path for name, path in self.source.paths.items() if name != DAY}

    def value(self, *, filtered: bool = False):
        """The aggregate of this figure's rows; `filtered`: over its source's rows, with the
        figure's condition as the aggregate's filter (several figures in one query)."""
        where = {"filter": self.where} if filtered and self.where else {}
        return Sum(self.sums, **where) if self.sums else Count("pk", **where)


_ANSWERED = Q(outcome=Call.Outcome.ANSWERED)
_COMPLETED = _ANSWERED & Q(ended_at__isnull=False)

FIGURES = [
    CallFigure(
        "calls_offered",
        _("Calls offered"),
        _(
            "Inbound calls that rang the hotline on the day, whatever became of them (those"
            " still waiting included); by queue, by the agent who took them, by hour."
        ),
        CALLS,
    ),
    CallFigure(
        "calls_answered",
        _("Calls answered"),
        _("Of the calls offered, those an agent answered."),
        CALLS,
        _ANSWERED,
    ),
    CallFigure(
        "calls_answered_20s",
        _("Answered within 20 seconds"),
        _(
            "Of the calls answered, those answered within 20 seconds of ringing (the menu's"
            " time included)."
        ),
        CALLS,
        _ANSWERED & Q(answered_at__lte=F("ringing_at") + datetime.timedelta(seconds=20)),
    ),
    CallFigure(
        "calls_abandoned",
        _("Calls abandoned"),
        _(
            "Of the calls offered, those whose caller hung up in the menu or waiting in the"
            " queue, before any agent's phone rang. Missed calls and voicemails are figures of"
            " their own."
        ),
        CALLS,
        Q(outcome__in=[Call.Outcome.ABANDONED_IVR, Call.Outcome.ABANDONED_QUEUE]),
    ),
    CallFigure(
        "calls_missed",
        _("Calls missed"),
        _(
            "Of the calls offered, those that rang an agent and ended unanswered, without a"
            " voicemail."
        ),
        CALLS,
        Q(outcome=Call.Outcome.MISSED),
    ),
    CallFigure(
        "calls_voicemail",
        _("Voicemails left"),
        _("Of the calls offered, those nobody answered whose caller left a voicemail."),
        CALLS,
        Q(outcome=Call.Outcome.VOICEMAIL),
    ),
    CallFigure(
        "calls_wait_seconds",
        _("Waiting time of answered calls (seconds)"),
        _(
            "The seconds from ringing to the answer, summed over the calls answered (the"
            " menu's time included)."
        ),
        CALLS,
        _ANSWERED,
        sums="wait_seconds",
    ),
    CallFigure(
        "calls_completed",
        _("Answered calls ended"),
        _("Of the calls answered, those that have ended (the talk time is theirs)."),
        CALLS,
        _COMPLETED,
    ),
    CallFigure(
        "calls_talk_seconds",
        _("Talk time (seconds)"),
        _(
            "The seconds from the answer to the end, time on hold left out, summed over the"
            " answered calls that have ended."
        ),
        CALLS,
        _COMPLETED,
        sums="talk_seconds",
    ),
    CallFigure(
        "callbacks",
        _("Callback tasks made"),
        _(
            "Callback tasks made on the day for voicemails, abandoned and missed calls (one"
            " per caller while it is open); by the queue of the call that made it and the agent"
            " it is assigned to."
        ),
        CALLBACKS,
    ),
    CallFigure(
        "callbacks_in_time",
        _("Callback tasks called back in time"),
        _(
            "Of the callback tasks made on the day, those whose first call back was made by"
            " their deadline, or whose caller got through on a later call by then (so far)."
        ),
        CALLBACKS,
        # A caller who rang again and got through needed no call back: in time when by then.
        Q(first_attempt_at__isnull=False, first_attempt_at__lte=F("due_at"))
        | Q(first_attempt_at__isnull=True, reached_at__isnull=False, reached_at__lte=F("due_at")),
    ),
]
BY_KEY = {figure.key: figure for figure in FIGURES}


@dataclass(frozen=True)
class CallRate:
    """numerator ÷ denominator: a percentage of two figures whose rows are a subset of one
    another, or (`seconds`) an average: seconds summed ÷ the calls they were summed over."""

    key: str
    label: object
    definition: object
    numerator: str
    denominator: str
    seconds: bool = False


RATES = [
    CallRate(
        "call_answer",
        _("Answer rate"),
        _("Calls answered ÷ calls offered."),
        "calls_answered",
        "calls_offered",
    ),
    CallRate(
        "call_service_level",
        _("Service level (20 seconds)"),
        _("Calls answered within 20 seconds of ringing ÷ calls offered."),
        "calls_answered_20s",
        "calls_offered",
    ),
    CallRate(
        "call_abandon",
        _("Abandon rate"),
        _("Calls abandoned in the menu or in the queue ÷ calls offered."),
        "calls_abandoned",
        "calls_offered",
    ),
    CallRate(
        "callback_in_time",
        _("Callbacks within their deadline"),
        _(
            "Callback tasks made in the period that were called back, or whose caller got"
            " through, by their deadline ÷ callback tasks made in the period."
        ),
        "callbacks_in_time",
        "callbacks",
    ),
]
AVERAGES = [
    CallRate(
        "call_average_wait",
        _("Average wait"),
        _("Seconds from ringing to the answer, summed over the calls answered ÷ calls answered."),
        "calls_wait_seconds",
        "calls_answered",
        seconds=True,
    ),
    CallRate(
        "call_average_talk",
        _("Average talk time"),
        _("Talk seconds (hold left out) summed over the answered calls that ended ÷ those calls."),
        "calls_talk_seconds",
        "calls_completed",
        seconds=True,
    ),
]


def ratio(rate: CallRate, values: dict):
    """A rate's percentage (one decimal) or an average's whole seconds, from {key: value};
    None when there is nothing to divide by."""
    numerator, denominator = values.get(rate.numerator) or 0, values.get(rate.denominator) or 0
    if not denominator:
        return None
    if rate.seconds:
        return round(float(numerator) / float(denominator))
    return round(100 * float(numerator) / float(denominator), 1)


def compute(start: datetime.date, end: datetime.date, dimensions=(QUEUE, AGENT, HOUR)) -> dict:
    """{key: {(dimension, id): value}} of every figure over the days from `start` to `end`,
    ("", 0) the whole: one query per table and breakdown (the figures of a table as filtered
    aggregates of its rows), grouped in the database. An id is 0 where the row has none (a call
    no agent took, no queue)."""
    result = {figure.key: {} for figure in FIGURES}
    for source in (CALLS, CALLBACKS):
        figures = [figure for figure in FIGURES if figure.source is source]
        values = {figure.key: figure.value(filtered=True) for figure in figures}
        rows = source.rows(start, end)
        for key, value in rows.aggregate(**values).items():
            result[key][("", 0)] = value or 0
        for dimension in dimensions:
            path = source.paths.get(dimension)
            if path is None:
                continue
            for row in rows.values(path).annotate(**values).order_by():
                for key in values:
                    if row[key]:
                        result[key][(dimension, row[path] or 0)] = row[key]
    return result


def queue_names(ids) -> dict:
    return dict(CallQueue.objects.filter(pk__in=ids).values_list("pk", "name"))


def agent_names(ids) -> dict:
    """{agent id: "name (extension)"}, as Agent's __str__ writes it: one query."""
    rows = Agent.objects.filter(pk__in=ids).values_list(
        "pk", "extension", "user__first_name", "user__last_name", "user__username"
    )
    return {
        pk: f"{f'{first} {last}'.strip() or username} ({extension})"
        for pk, extension, first, last, username in rows
    }
