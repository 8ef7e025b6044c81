"""Reads of the hotline: the user's agent (kept in the cache), the workbench's presence panel,
the client page's timeline source (calls), the wallboard (today's figures of voice.figures)."""

import datetime

from django.core.cache import cache
from django.db.models import Count, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name
from zhongdu import live
from zhongdu.selectors import cache_call

from . import figures
from .models import Agent, Call, CallQueue, CtiEvent

# How long a user's agent (or that they are none) is kept: a change in the admin shows within
# this time; a change of presence on the workbench at once (services forget it).
AGENT_CACHE_SECONDS = 60
_NOT_AN_AGENT = 0  # kept for a user who answers no calls (the cache's None means "not kept")


def agent_cache_key(user_id) -> str:
    return f"voice:agent:{user_id}"


def agent_for(user) -> Agent | None:
    """The user's agent (extension, presence), or None: kept in the cache, so the workbench
    costs no query to learn that a user answers no calls."""
    if not user.is_authenticated:
        return None
    key = agent_cache_key(user.pk)
    kept = cache_call(cache.get, key)
    if kept is None:
        kept = Agent.objects.filter(user=user).first() or _NOT_AN_AGENT
        cache_call(cache.set, key, kept, AGENT_CACHE_SECONDS)
    return kept or None


def _in_progress(agent):
    """The calls this agent answered and that have not ended, newest first (the agent's index)."""
    return Call.objects.filter(
        agent=agent, answered_at__isnull=False, ended_at__isnull=True
    ).order_by("-answered_at")


def pop_version(agent) -> str:
    """What the pop shows, as a version (zhongdu.live): the call in progress, or none. One
    indexed query, asked every second by the agent's screen."""
    return str(_in_progress(agent).values_list("pk", flat=True).first() or 0)


def call_in_progress(agent) -> Call | None:
    return _in_progress(agent).select_related("client", "queue").first()


def caller_context(client) -> dict:
    """What a consultant needs on the phone about a caller whose whole record they may see: the
    next booking and the last one, the last enquiries, open complaints, live care plans and the
    last survey score. A few indexed queries, made when a call pops, not on every poll."""
    from complaints.models import Complaint
    from consult.models import Booking, Enquiry
    from followup.models import CarePlan
    from surveys.models import SurveyResponse

    today = timezone.localdate()
    bookings = Booking.objects.filter(client=client).select_related(
        "session__department", "session__expert"
    )
    upcoming = (
        bookings.filter(status=Booking.Status.BOOKED, session__date__gte=today)
        .order_by("session__date", "session__start_time")
        .first()
    )
    last = (
        bookings.filter(session__date__lt=today)
        .order_by("-session__date", "-session__start_time")
        .first()
    )

    def booking_text(booking):
        if booking is None:
            return ""
        session = booking.session
        return (
            f"{session.date:%Y-%m-%d} {session.start_time:%H:%M} {session.department.name}"
            f" · {session.expert.name} ({booking.get_status_display()})"
        )

    survey = SurveyResponse.objects.filter(client=client).order_by("-submitted_at").first()
    return {
        "next_booking": booking_text(upcoming),
        "last_booking": booking_text(last),
        "enquiries": [
            f"{enquiry.created_at:%Y-%m-%d} {enquiry.topic or enquiry.get_outcome_display()}"
            for enquiry in Enquiry.objects.filter(client=client).order_by("-created_at")[:2]
        ],
        "open_complaints": Complaint.objects.filter(client=client)
        .exclude(status=Complaint.Status.CLOSED)
        .count(),
        "care_plans": CarePlan.objects.filter(client=client, status=CarePlan.Status.ACTIVE).count(),
        "last_score": survey.lowest_score if survey is not None else None,
    }


def presence_panel(request):
    """The workbench's hotline panel (zhongdu.workbench): the agent's extension and presence,
    with the buttons that change it; nothing for a user who answers no calls."""
    agent = agent_for(request.user)
    if agent is None:
        return None
    return (
        "voice/_presence_panel.html",
        {
            "agent": agent,
            "choices": Agent.Presence.choices,
            "next": request.get_full_path(),
        },
    )


def pop_part(request):
    """The call pop on every page of an agent (zhongdu.workbench page part): asked every
    second, empty until this agent answers a call; nothing for a user who answers no calls."""
    if agent_for(request.user) is None:
        return None
    return ("voice/_pop_part.html", live.attrs(reverse("voice:pop"), "", every=POP_SECONDS))


# The pop must show within two seconds of the answer: the agent's screen asks every second.
POP_SECONDS = 1


def call_rows(client):
    """The client's calls, for the client page's timeline and the health archive."""
    return Call.objects.filter(client=client).values(
        **timeline_columns(
            kind="hotline",
            at=Coalesce("ringing_at", "created_at"),
            status="outcome",
            first="direction",
            second=Coalesce(F("queue__name"), F("queue_code"), Value("")),
            actor=user_name("agent__user"),
        )
    )


def call_entry(row) -> TimelineEntry:
    outcome, direction = row["t_status"], row["t_first"]
    directions, outcomes = dict(Call.Direction.choices), dict(Call.Outcome.choices)
    return TimelineEntry(
        at=row["t_at"],
        kind="hotline",
        title=_("Call (%(direction)s): %(outcome)s")
        % {
            "direction": directions.get(direction, direction),
            "outcome": outcomes.get(outcome, outcome),
        },
        detail=row["t_second"],
        actor=row["t_actor"],
    )


# --- The wallboard ------------------------------------------------------------------------

# The wallboard asks this often (zhongdu.live); while a call waits it is drawn anew each time,
# so that the waits it shows move on.
WALLBOARD_SECONDS = 5
# A call ringing longer than this is one whose end the PBX never told: not shown as waiting.
WAITING_WINDOW = datetime.timedelta(hours=1)


def calls_waiting(now):
    """The inbound calls ringing now: not answered, not ended (voice_call_day_idx)."""
    return Call.objects.filter(
        ringing_at__gte=now - WAITING_WINDOW,
        ringing_at__lte=now,
        outcome=Call.Outcome.IN_PROGRESS,
        direction=Call.Direction.INBOUND,
        answered_at__isnull=True,
        ended_at__isnull=True,
    )


def wallboard_version(now) -> str:
    """What the wallboard shows, as a version (zhongdu.live): the last CTI event taken (every
    change of a call is one), the agents' presence, today's callback tasks and their first
    calls, and while a call waits the moment, to the poll. Four small indexed queries."""
    today = timezone.localdate(now)
    last_event = CtiEvent.objects.aggregate(last=Max("pk"))["last"]
    agents = Agent.objects.aggregate(
        since=Max("presence_since"),
        **{state: Count("pk", filter=Q(presence=state)) for state in Agent.Presence.values},
    )
    callbacks = figures.callbacks_made(today, today).aggregate(
        n=Count("pk"), tried=Count("first_attempt_at"), assigned=Sum("assigned_to_id")
    )
    parts = [
        f"{today:%Y%m%d}",
        last_event or 0,
        *(agents[state] for state in Agent.Presence.values),
        int(agents["since"].timestamp()) if agents["since"] else 0,
        callbacks["n"],
        callbacks["tried"],
        callbacks["assigned"] or 0,
    ]
    if calls_waiting(now).exists():
        parts.append(int(now.timestamp()) // WALLBOARD_SECONDS)
    return ".".join(str(part) for part in parts)


def clock(seconds) -> str:
    """Seconds as minutes:seconds (1:05), or a dash when there are none."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


def percent(value) -> str:
    return "—" if value is None else f"{value:.1f}%"


# The colour of each presence on the wallboard (Bootstrap's).
PRESENCE_COLOURS = {
    Agent.Presence.AVAILABLE: "success",
    Agent.Presence.BUSY: "danger",
    Agent.Presence.WRAP_UP: "warning",
    Agent.Presence.AWAY: "secondary",
}


def _cells(values: dict, slot) -> dict:
    """One row's figures and, from them, its rates (%) and averages (as a clock), written
    for the screen."""
    row = {key: int(by.get(slot, 0) or 0) for key, by in values.items()}
    for rate in figures.RATES:
        row[rate.key] = percent(figures.ratio(rate, row))
    for average in figures.AVERAGES:
        row[average.key] = clock(figures.ratio(average, row))
    row["talk"] = clock(row["calls_talk_seconds"]) if row["calls_completed"] else "—"
    return row


def wallboard(now=None) -> dict:
    """Today's hotline: the figures of voice.figures for the whole centre, per queue and per
    agent (with their presence), and the calls waiting now with the longest wait. About ten
    indexed queries, made only when the version changed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    values = figures.compute(today, today, dimensions=(figures.QUEUE, figures.AGENT))
    waiting = {
        queue_id or 0: (n, first)
        for queue_id, n, first in calls_waiting(now)
        .values_list("queue_id")
        .annotate(n=Count("pk"), first=Min("ringing_at"))
        .order_by()
    }

    def wait(first):
        return clock((now - first).total_seconds()) if first else "—"

    seen = {pk for key in values for dim, pk in values[key] if dim == figures.QUEUE}
    queues = [
        {"name": name, **_cells(values, (figures.QUEUE, pk)), "pk": pk}
        for pk, name in CallQueue.objects.filter(Q(active=True) | Q(pk__in=seen)).values_list(
            "pk", "name"
        )
    ]
    if 0 in seen or 0 in waiting:
        queues.append({"name": "", **_cells(values, (figures.QUEUE, 0)), "pk": 0})
    for row in queues:
        n, first = waiting.get(row["pk"], (0, None))
        row.update(waiting=n, longest=wait(first))
    agents = [
        {
            "name": agent.user.get_full_name() or agent.user.get_username(),
            "extension": agent.extension,
            "presence": agent.presence,
            "presence_label": agent.get_presence_display(),
            "presence_colour": PRESENCE_COLOURS.get(agent.presence, "secondary"),
            "since": f"{timezone.localtime(agent.presence_since):%H:%M}",
            **_cells(values, (figures.AGENT, agent.pk)),
        }
        for agent in Agent.objects.select_related("user").order_by("extension")
    ]
    firsts = [first for _n, first in waiting.values()]
    return {
        "today": today,
        "at": timezone.localtime(now),
        "overall": _cells(values, ("", 0)),
        "waiting": sum(n for n, _first in waiting.values()),
        "longest": wait(min(firsts) if firsts else None),
        "queues": queues,
        "agents": agents,
        "service_seconds": figures.SERVICE_SECONDS,
    }
