"""Reads of the hotline: the user's agent (kept in the cache), the workbench's presence panel,
the client page's timeline source (calls), a call's page and who may listen to its recordings,
the recordings past their retention period, the callback tasks' calls, and the wallboard (today's
figures of voice.figures)."""

import datetime

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from clientmgmt.registry import (
    TimelineEntry,
    link_rule,
    may_see_whole_record,
    timeline_columns,
    user_name,
)
from clientmgmt.selectors import client_shown_for_user
from zhongdu import live, private_files, roles
from zhongdu.links import row_link
from zhongdu.roles import user_may_open
from zhongdu.selectors import cache_call

from . import figures, outbound
from .models import Agent, Call, CallQueue, CtiEvent, Recording, RecordingPolicy

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


def request_agent(request) -> Agent | None:
    """agent_for, asked once per request (the call button is on every row of a list)."""
    kept = getattr(request, "_voice_agent", _NOT_KEPT)
    if kept is _NOT_KEPT:
        kept = request._voice_agent = agent_for(request.user)
    return kept


_NOT_KEPT = object()


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
        url=row_link("voice:call_detail")(row["t_number"]),
        view_name="voice:call_detail",
    )


# --- Callback tasks and what a call led to -------------------------------------------------


def callback_details(recalls) -> dict[int, str]:
    """What made each callback task, in words, by its pk: its calls by outcome and the last
    time the caller rang ("Voicemail ×1 · Missed ×2 · last rang 10:31"). One query."""
    pks = [recall.pk for recall in recalls if recall.is_callback]
    if not pks:
        return {}
    outcomes = dict(Call.Outcome.choices)
    counts: dict[int, list[str]] = {}
    last: dict[int, object] = {}
    rows = (
        Call.objects.filter(callback__in=pks)
        .values("callback", "outcome")
        .annotate(n=Count("pk"), last=Max("ringing_at"))
        .order_by("callback", "outcome")
    )
    for row in rows:
        pk = row["callback"]
        counts.setdefault(pk, []).append(
            f"{outcomes.get(row['outcome'], row['outcome'])} ×{row['n']}"
        )
        if row["last"] is not None and (pk not in last or row["last"] > last[pk]):
            last[pk] = row["last"]
    details = {}
    for pk, parts in counts.items():
        if pk in last:
            parts = [
                *parts,
                _("last rang %(time)s") % {"time": f"{timezone.localtime(last[pk]):%m-%d %H:%M}"},
            ]
        details[pk] = " · ".join(parts)
    return details


def _call_rows(user, calls) -> list[dict]:
    """The calls behind a record, each with its page (where its voicemail is played after a
    reason) when the user may open it."""
    url = row_link("voice:call_detail") if user_may_open(user, "voice:call_detail") else None
    listens: dict = {}  # the discretion rule asked once per caller, not once per call
    rows = []
    for call in calls:
        if call.client_id not in listens:
            listens[call.client_id] = may_listen(user, call)
        voicemail = next(
            (r for r in call.recordings.all() if r.kind == Recording.Kind.VOICEMAIL), None
        )
        rows.append(
            {
                "call": call,
                "url": url(call.pk) if url else "",
                "rang": call.ringing_at or call.created_at,
                "voicemail": voicemail,
                # The voicemail's words are its audio's: the discretion rule as for listening.
                "transcript": voicemail.transcript
                if voicemail is not None and listens[call.client_id]
                else "",
            }
        )
    return rows


def _calls_of(**filters):
    return (
        Call.objects.filter(**filters)
        .select_related("queue", "agent__user", "client")
        .prefetch_related("recordings")
        .order_by("-ringing_at", "-pk")[:20]
    )


def recall_calls_part(request, recall):
    """A callback task's page (zhongdu.workbench record part): the calls that made it, their
    voicemail, and the ways on: record an enquiry on the call screen, or make a complaint of
    the voicemail (the caller's record needed), each remembering the call."""
    if not recall.is_callback:
        return None
    calls = list(_calls_of(callback=recall))
    last = calls[0] if calls else None
    enquiry_url = complaint_url = ""
    if last is not None and user_may_open(request.user, "consult:call"):
        query = {"client": recall.client_id} if recall.client_id else {"recall": recall.pk}
        enquiry_url = reverse("consult:call") + "?" + urlencode(query | {"call": last.pk})
    if (
        last is not None
        and recall.client_id
        and user_may_open(request.user, "complaints:complaint_new")
    ):
        query = {"client": recall.client_id, "call": last.pk, "source": f"voice.call:{last.pk}"}
        complaint_url = reverse("complaints:complaint_new") + "?" + urlencode(query)
    return (
        "voice/_record_calls.html",
        {
            "calls": _call_rows(request.user, calls),
            "enquiry_url": enquiry_url,
            "complaint_url": complaint_url,
            "unknown_caller": recall.client_id is None,
        },
    )


def complaint_calls_part(request, complaint):
    """A complaint's page: the calls it was made of, with their voicemail (its audio)."""
    calls = list(_calls_of(complaint=complaint))
    if not calls:
        return None
    return ("voice/_record_calls.html", {"calls": _call_rows(request.user, calls)})


# --- Calling out: the button, a call's state, a task's calls --------------------------------

# The page each worklist's call button needs the user to work (PAGE_ACCESS, by URL name): the
# button is not offered to those who only look at a list.
WORKLIST_WORK = {
    Call.Worklist.FOLLOWUP: "followup:call_record",
    Call.Worklist.RECALL: "consult:recall_attempt",
    Call.Worklist.BOOKING_REQUEST: "consult:call",
    Call.Worklist.CALL_BACK: "consult:call",
    Call.Worklist.COMPLAINT: "complaints:complaint_status",
    Call.Worklist.CLIENT: "clientmgmt:client_edit",
    Call.Worklist.RESULT_ALERT: "exams:alert_record",
}

# Built with format_html rather than a template: it is on every row of lists of up to 200 rows
# (a template render per row costs twenty times as much). The form names the task, never the
# number; htmx puts the call's state in its place, and without htmx the post leads to it.
_DIAL_BUTTON = (
    '<form method="post" action="{url}" class="d-inline-block dial d-print-none"'
    ' hx-post="{url}" hx-target="this" hx-swap="outerHTML" data-testid="dial">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    '<input type="hidden" name="worklist" value="{worklist}">'
    '<input type="hidden" name="task" value="{task}">'
    '<button type="submit" class="btn btn-success btn-sm">{label}</button></form>'
)


def dial_button(request, worklist: str, task_id) -> str:
    """The call button (zhongdu.workbench.register_dial_button) for an agent who works this
    list; "" for anyone else. No query beyond the agent, once per request."""
    view_name = WORKLIST_WORK.get(worklist)
    if view_name is None or request_agent(request) is None:
        return ""
    user = request.user
    if not user_may_open(user, "voice:dial") or not user_may_open(user, view_name):
        return ""
    kept = getattr(request, "_voice_dial", None)
    if kept is None:
        kept = request._voice_dial = (
            reverse("voice:dial"),
            get_token(request),
            pgettext("click-to-call", "Call"),
        )
    url, token, label = kept
    return format_html(
        _DIAL_BUTTON, url=url, token=token, worklist=worklist, task=task_id, label=label
    )


def dial_version(call: Call, now=None) -> str:
    """What a call's state shows, as a version (zhongdu.live): its outcome, whether the provider
    said anything wrong, whether it ended, and whether its receipt is overdue."""
    ended = int(call.ended_at.timestamp()) if call.ended_at else 0
    return f"{call.outcome}.{call.problem}.{ended}.{int(outbound.stale(call, now))}"


def dial_state(request, call: Call, *, again: bool = False) -> dict:
    """What the agent sees of a call they placed (voice/_dial.html): ringing (asked again every
    few seconds), then how it ended and the way on: the task's outcome form opened with the call
    (answered), the task (not answered: counted as an attempt where the task counts them), or
    the button again (their own phone did not answer, or the call was not placed)."""
    outcome = call.outcome
    Outcome = Call.Outcome
    polling = outcome == Outcome.IN_PROGRESS and not outbound.stale(call)
    state = {
        "call": call,
        "client_masked": call.number_masked,
        "again": again,
        "notice": call.recording_notice,
        "live": live.attrs(reverse("voice:dial_status", args=[call.pk]), dial_version(call))
        if polling
        else None,
        "message": "",
        "tone": "info",
        "outcome_url": "",
        "outcome_label": "",
        "redial": "",
    }
    rule = outbound.WORKLISTS.get(call.worklist)
    counts_attempts = rule is not None and rule.unreached is not None
    if polling:
        state["message"] = _("Ringing your phone, then the client.")
        if outbound.unknown(call):
            state["tone"] = "warning"
            state["message"] = _(
                "The voice service did not confirm the call: it may still ring. If your phone"
                " has not rung within two minutes, call again."
            )
        return state
    url = outbound.outcome_url(request.user, call)
    if outcome == Outcome.ANSWERED:
        state |= {
            "tone": "success",
            "message": _("The call ended after %(talk)s with the client.")
            % {"talk": clock(call.talk_seconds)},
            "outcome_url": url,
            "outcome_label": _("Record the outcome"),
        }
    elif outcome in outbound.NOT_REACHED:
        said = {"outcome": call.get_outcome_display()}
        state |= {
            "tone": "warning",
            "message": _(
                "The client did not answer (%(outcome)s): counted as an attempt, and the task"
                " comes back as its rules say."
            )
            % said
            if counts_attempts
            else _("The client did not answer (%(outcome)s).") % said,
            "outcome_url": url,
            "outcome_label": _("Open the task"),
        }
    elif outcome == Outcome.AGENT_UNANSWERED:
        state |= {
            "tone": "warning",
            "message": _("Your phone did not answer, so the client was not called."),
            "redial": dial_button(request, call.worklist, call.task_id),
        }
    elif outcome == Outcome.FAILED:
        state |= {
            "tone": "danger",
            "message": outbound.refusal_text(call) or _("The call was not placed."),
            "redial": dial_button(request, call.worklist, call.task_id),
        }
    elif outcome == Outcome.INVALID_NUMBER:
        state |= {
            "tone": "danger",
            "message": _("The voice service says this number does not exist."),
            "outcome_url": url,
            "outcome_label": _("Record the outcome"),
        }
    else:  # no receipt in time
        state |= {
            "tone": "warning",
            "message": _(
                "No word from the voice service about this call: record what happened yourself."
            ),
            "outcome_url": url,
            "outcome_label": _("Record the outcome"),
        }
    return state


def task_calls_part(worklist: str):
    """A record part (zhongdu.workbench) for a task's page: the calls placed for it from its
    worklist, newest first, each linked to its page where the user may open it."""

    def part(request, record):
        calls = list(
            Call.objects.filter(worklist=worklist, task_id=record.pk)
            .select_related("agent__user")
            .order_by("-created_at")[:20]
        )
        if not calls:
            return None
        url = (
            row_link("voice:call_detail")
            if user_may_open(request.user, "voice:call_detail")
            else None
        )
        rows = [
            {
                "at": call.created_at,
                "agent": (call.agent.user.get_full_name() or call.agent.user.get_username())
                if call.agent_id
                else "",
                "outcome": call.get_outcome_display(),
                "talk": clock(call.talk_seconds) if call.talk_seconds is not None else "—",
                "url": url(call.pk) if url else "",
            }
            for call in calls
        ]
        return ("voice/_task_calls.html", {"rows": rows})

    return part


# --- A call's page ------------------------------------------------------------------------


def call_get_for_user(user, pk) -> Call:
    """The one way views fetch a call: 404 if there is none, 403 unless the user reads the
    hotline's calls. Its client is shown through client_shown_for_user (call_page), never
    read whole here."""
    if not roles.user_roles(user) & roles.HOTLINE_READERS:
        raise PermissionDenied
    try:
        return (
            Call.objects.select_related(
                "queue", "agent__user", "client", "enquiry", "complaint", "callback"
            )
            .prefetch_related("recordings")
            .get(pk=pk)
        )
    except (Call.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_listen(user, call: Call) -> bool:
    """Whether `user` may listen to the call's recordings: a VIP's only when the discretion rule
    lets them see the VIP's whole record (the VIP officers and the staff assigned to the VIP)."""
    if call.client_id is None:
        return True
    return may_see_whole_record(user, call.client)


def recording_get_for_user(user, pk) -> Recording:
    """The one way views fetch a recording to play: 404 if there is none, 403 unless the user
    reads the call and may listen to it (the discretion rule)."""
    try:
        recording = Recording.objects.select_related("call__client").get(pk=pk)
    except (Recording.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not roles.user_roles(user) & roles.HOTLINE_READERS or not may_listen(user, recording.call):
        raise PermissionDenied
    return recording


def _may_follow(user, view_name: str) -> bool:
    rule = link_rule(view_name)
    return roles.user_may_open(user, view_name) and (rule is None or rule(user))


# The page of a worklist's task (its pk the only argument, or none for a list's rows).
TASK_PAGES = {
    Call.Worklist.FOLLOWUP: ("followup:call_detail", True),
    Call.Worklist.RECALL: ("consult:recall_detail", True),
    Call.Worklist.BOOKING_REQUEST: ("consult:queue", False),
    Call.Worklist.CALL_BACK: ("consult:queue", False),
    Call.Worklist.COMPLAINT: ("complaints:complaint_detail", True),
    Call.Worklist.CLIENT: ("clientmgmt:client_detail", True),
}


def call_page(user, call: Call) -> dict:
    """What the call's page shows, prepared once: the caller as this user may see them (the
    discretion rule), what the call led to (linked where the user may open it), its recordings
    with whether they can be played, and whether this user may listen."""
    caller = client_shown_for_user(user, call.client) if call.client_id else None
    led_to = []
    if caller is not None and not caller.whole:
        # A VIP this user does not serve: what the call led to stays with those who serve them.
        led_to.append(
            {
                "label": pgettext("call page", "Led to"),
                "text": _("Withheld: only the VIP's managers and assigned staff see it."),
                "url": "",
            }
        )
    elif call.enquiry_id:
        enquiry = call.enquiry
        text = f"{timezone.localtime(enquiry.created_at):%Y-%m-%d %H:%M} " + (
            enquiry.topic or enquiry.get_outcome_display()
        )
        # An enquiry has no page of its own: its words (the client's page lists it too).
        led_to.append({"label": pgettext("call page", "Enquiry"), "text": text, "url": ""})
        # The bookings made from it on the call screen.
        may_open_booking = _may_follow(user, "consult:booking_detail")
        for booking in enquiry.bookings.select_related("session__department").order_by("pk"):
            session = booking.session
            led_to.append(
                {
                    "label": pgettext("call page", "Booking"),
                    "text": f"{session.date:%Y-%m-%d} {session.start_time:%H:%M}"
                    f" {session.department.name} ({booking.get_status_display()})",
                    "url": booking.get_absolute_url() if may_open_booking else "",
                }
            )
    if call.worklist and call.task_id and (caller is None or caller.whole):
        # A call placed with the call button: the task it was placed for.
        url_name, args = TASK_PAGES[call.worklist]
        led_to.append(
            {
                "label": pgettext("call page", "Placed from"),
                "text": f"{call.get_worklist_display()} #{call.task_id}",
                "url": reverse(url_name, args=[call.task_id] if args else [])
                if _may_follow(user, url_name)
                else "",
            }
        )
    if call.complaint_id and (caller is None or caller.whole):
        complaint = call.complaint
        led_to.append(
            {
                "label": pgettext("call page", "Complaint"),
                "text": f"#{complaint.pk} {complaint.get_status_display()}",
                "url": complaint.get_absolute_url()
                if _may_follow(user, "complaints:complaint_detail")
                else "",
            }
        )
    if call.callback_id and (caller is None or caller.whole):
        callback = call.callback
        led_to.append(
            {
                "label": pgettext("call page", "Callback task"),
                "text": f"#{callback.pk} {callback.get_status_display()}",
                "url": callback.get_absolute_url()
                if _may_follow(user, "consult:recall_detail")
                else "",
            }
        )
    return {
        "call": call,
        "caller": caller,
        "caller_url": row_link("clientmgmt:client_detail")(call.client_id)
        if call.client_id
        else "",
        "led_to": led_to,
        "recordings": list(call.recordings.all()),
        "may_listen": may_listen(user, call),
    }


# --- Retention ------------------------------------------------------------------------------


def recordings_past_shortest_period(policy: RecordingPolicy, now) -> list[int]:
    """The ids of kept recordings fetched before the shortest retention period began (the
    candidates: each one's own period and holds are checked by the service), oldest first,
    through the kept recordings' index."""
    shortest = min(policy.routine_days, policy.complaint_days, policy.vip_days)
    before = now - datetime.timedelta(days=shortest)
    return list(
        Recording.objects.filter(status=Recording.Status.KEPT, fetched_at__lt=before)
        .order_by("fetched_at", "pk")
        .values_list("pk", flat=True)
    )


def retention_for(call: Call, policy: RecordingPolicy) -> tuple[int, bool]:
    """(the days the call's recordings are kept, whether a complaint holds them now). A VIP's
    call, a call that led to a complaint or a call of a client who complained counts as such;
    the longest period that applies wins. Held while the call's complaint or any complaint of
    its client is open."""
    from complaints.models import Complaint

    complaints = Complaint.objects.none()
    if call.client_id:
        complaints = Complaint.objects.filter(client_id=call.client_id)
    if call.complaint_id:
        complaints = complaints | Complaint.objects.filter(pk=call.complaint_id)
    held = complaints.exclude(status=Complaint.Status.CLOSED).exists()
    complained = call.complaint_id is not None or complaints.exists()
    vip = call.client is not None and call.client.is_vip
    return policy.days_for(vip=vip, complaint=complained), held


def recording_audio(recording: Recording) -> bytes | None:
    """A kept recording's audio, decrypted (zhongdu.private_files); None when it is not kept or
    its file is gone."""
    if recording.status != Recording.Status.KEPT or not recording.file:
        return None
    try:
        return private_files.read(recording.file)
    except FileNotFoundError:
        return None


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
