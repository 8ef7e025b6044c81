"""Calling out from a worklist: the call button (拨打) on every row and page of the return-visit
calls, recalls and callbacks, online booking requests, complaints and the client page.

One click places a two-legged call through the voice service (zhongdu.vms.click_to_dial): the
agent's own line rings first, then the client, under the hospital's number; both hear the
recording notice before they are joined (the provider plays it). The number is read here, from
the task, and never reaches a page or an address. A number the domestic route does not call is
dialled by hand after the client page's audited reveal (clientmgmt's client_reveal).

- `dial` loads the task through its app's own access helper, writes the Call (in progress) and
  commits it before the provider is asked, so that a second click or a second tab finds it
  (the agent's row locked) instead of ringing twice; an error the provider gives marks it failed,
  an unknown outcome leaves it as it is (it may ring: never placed again by itself).
- `call_receipt` applies the provider's receipt (voice.receipts, prefix "call"): the times and
  the outcome. A client who did not pick up (busy, no answer, switched off, unreachable) is one
  attempt on the task, rescheduled by the task's own rules; an answered call leaves the outcome
  to the agent, whose outcome form (opened with ?call=) has it filled in (`call_facts`). The
  agent's own phone not answering is no attempt on the client.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from clientmgmt.models import Client
from clientmgmt.selectors import client_get_for_user, client_shown_for_user
from complaints.models import Complaint
from complaints.selectors import complaint_get_for_user
from consult.models import Recall
from consult.selectors import (
    call_back_get_for_user,
    online_request_get_for_user,
    recall_get_for_user,
)
from consult.services import recall_record_attempt
from exams import alerts as exam_alerts
from exams.models import ResultAlert
from followup import services as followup_services
from followup.models import CallAttempt, FollowUpCall
from followup.selectors import call_get_for_user as followup_call_get_for_user
from zhongdu import audit, phones, vms
from zhongdu.converters import row_id
from zhongdu.origins import CallFacts
from zhongdu.roles import user_may_open

from . import receipts
from .models import Agent, Call

logger = logging.getLogger(__name__)

Outcome = Call.Outcome
Worklist = Call.Worklist

# A second click (or a second tab) within this time, on a call not ended, finds the call placed
# by the first instead of ringing the agent's phone again.
AGAIN_WITHIN = datetime.timedelta(minutes=2)
# A call with no receipt after this long is left to the agent: the page stops asking and offers
# the outcome form as it is.
RECEIPT_EXPECTED_WITHIN = datetime.timedelta(minutes=30)

# The receipt's outcome as the call's.
RECEIPT_OUTCOMES = {
    receipts.ANSWERED: Outcome.ANSWERED,
    receipts.BUSY: Outcome.BUSY,
    receipts.NO_ANSWER: Outcome.NO_ANSWER,
    receipts.POWERED_OFF: Outcome.POWERED_OFF,
    receipts.UNREACHABLE: Outcome.UNREACHABLE,
    receipts.INVALID_NUMBER: Outcome.INVALID_NUMBER,
    receipts.AGENT_UNANSWERED: Outcome.AGENT_UNANSWERED,
    receipts.FAILED: Outcome.FAILED,
}
# The client did not pick up, for a reason that may pass: an attempt on the task.
NOT_REACHED = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.POWERED_OFF, Outcome.UNREACHABLE})
# `problem`: "<kind>:<the provider's code>", the kind one of these.
UNKNOWN = "unknown"  # the provider may or may not have placed it
TRANSIENT = "transient"  # not placed: the provider cannot take it now
PERMANENT = "permanent"  # not placed, and would not be again


class CannotDial(Exception):
    """The button cannot place this call: `message` tells the agent why. `manual`: the number is
    not on the voice route and is dialled by hand (after the reveal on `client`'s record, when
    there is one and this user may reveal it)."""

    def __init__(self, message, *, manual: bool = False, client=None, page_url: str = ""):
        super().__init__(str(message))
        self.message = message
        self.manual = manual
        self.client = client
        self.page_url = page_url


@dataclass(frozen=True)
class Task:
    """A task of a worklist, as calling it needs: whose number (read here, never from the
    request), and the task's page."""

    client: object  # clientmgmt.Client, or None for a caller with no record
    number: str
    page_url: str


# --- The worklists --------------------------------------------------------------------------
# Each loads its task through its own app's access helper (role, the object's rules, the VIP
# discretion rule where the app applies it), refuses a task that is closed, and says where its
# outcome form is. Those with attempts record an unanswered call as one, by their own rules.


def _closed():
    return CannotDial(_("This task is closed: there is nobody to call for it."))


def _followup(user, pk) -> Task:
    call = followup_call_get_for_user(user, pk, write=True)
    if call.status != FollowUpCall.Status.OPEN:
        raise _closed()
    return Task(client=call.client, number=call.client.phone, page_url=call.get_absolute_url())


def _followup_unreached(call: Call, *, by, detail: str) -> bool:
    """The return-visit call's existing unreached path (followup.services.call_record, a
    CallAttempt and the next working day, or unreachable after the policy's attempts), unless
    someone recorded a dial of it since this call was placed (then it is counted already)."""
    task = FollowUpCall.objects.filter(pk=call.task_id).first()
    if task is None or task.status != FollowUpCall.Status.OPEN:
        return False
    if task.survey_response_id is not None:
        # The client was reached on an earlier dial (answers saved as asked): a redial that
        # rang out is no attempt to reach them, and their answers stay for the agent to record.
        return False
    last = CallAttempt.objects.filter(call=task).order_by("-at").values_list("at", flat=True)
    answered = Call.objects.filter(
        worklist=Worklist.FOLLOWUP, task_id=task.pk, outcome=Outcome.ANSWERED
    ).exclude(pk=call.pk)
    if last:
        answered = answered.filter(created_at__gt=last[0])
    if answered.exists():
        return False  # reached on this round already: the agent records how it went
    recorded = CallAttempt.objects.filter(call=task, at__gte=call.created_at).exclude(outcome="")
    if recorded.exists():
        return False
    followup_services.call_record(
        call=task, by=by, outcome=FollowUpCall.Outcome.NO_ANSWER, notes=detail
    )
    return True


def _recall(user, pk) -> Task:
    recall = recall_get_for_user(user, pk, write=True)
    if recall.status != Recall.Status.OPEN:
        raise _closed()
    return Task(client=recall.client, number=recall.number, page_url=recall.get_absolute_url())


def _recall_unreached(call: Call, *, by, detail: str) -> bool:
    """The recall's unreachable attempt (consult.services.recall_record_attempt: tomorrow, or
    within the working hour for a callback; the third closes it), unless it was handled since
    this call was placed."""
    recall = Recall.objects.filter(pk=call.task_id).first()
    if recall is None or recall.status != Recall.Status.OPEN:
        return False
    if recall.handled_at is not None and recall.handled_at >= call.created_at:
        return False
    recall_record_attempt(recall=recall, reached=False, by=by, note=detail)
    return True


def _booking_request(user, pk) -> Task:
    enquiry = online_request_get_for_user(user, pk, write=True)
    if enquiry.handled:
        raise _closed()
    number = enquiry.client.phone if enquiry.client_id else phones.normalise(enquiry.prospect_phone)
    return Task(client=enquiry.client, number=number, page_url=reverse("consult:queue"))


def _call_back(user, pk) -> Task:
    """A caller a consultant promised to call back (an enquiry with that outcome)."""
    enquiry = call_back_get_for_user(user, pk, write=True)
    if enquiry.handled:
        raise _closed()
    number = enquiry.client.phone if enquiry.client_id else phones.normalise(enquiry.prospect_phone)
    return Task(client=enquiry.client, number=number, page_url=reverse("consult:queue"))


def _complaint(user, pk) -> Task:
    complaint = complaint_get_for_user(user, pk, write=True)
    if complaint.status == Complaint.Status.CLOSED:
        raise _closed()
    return Task(
        client=complaint.client,
        number=complaint.client.phone,
        page_url=complaint.get_absolute_url(),
    )


def _client(user, pk) -> Task:
    # The whole record: a VIP's number is called by those who serve the VIP (discretion).
    client = client_get_for_user(user, pk, write=True, whole=True)
    if client.status == Client.Status.MERGED:
        raise _closed()
    return Task(client=client, number=client.phone, page_url=client.get_absolute_url())


def _result_alert(user, pk) -> Task:
    """An abnormal or critical exam result to follow by a call (exams.alerts)."""
    alert = exam_alerts.alert_get_for_user(user, pk, write=True)
    if alert.status != ResultAlert.Status.OPEN:
        raise _closed()
    client = alert.order.client
    return Task(client=client, number=client.phone, page_url=exam_alerts.alert_url(alert))


def _result_alert_unreached(call: Call, *, by, detail: str) -> bool:
    """An attempt on the alert (it stays open), unless one was recorded since this call was
    placed."""
    alert = ResultAlert.objects.filter(pk=call.task_id).first()
    if alert is None or alert.status != ResultAlert.Status.OPEN:
        return False
    if alert.last_attempt_at is not None and alert.last_attempt_at >= call.created_at:
        return False
    exam_alerts.alert_record(alert=alert, by=by, action=exam_alerts.NOT_REACHED, notes=detail)
    return True


@dataclass(frozen=True)
class WorklistRule:
    load: object  # (user, pk) -> Task
    unreached: object = None  # (call, *, by, detail) -> bool: recorded an attempt


WORKLISTS = {
    Worklist.FOLLOWUP: WorklistRule(_followup, _followup_unreached),
    Worklist.RECALL: WorklistRule(_recall, _recall_unreached),
    Worklist.BOOKING_REQUEST: WorklistRule(_booking_request),
    Worklist.CALL_BACK: WorklistRule(_call_back),
    Worklist.COMPLAINT: WorklistRule(_complaint),
    Worklist.CLIENT: WorklistRule(_client),
    Worklist.RESULT_ALERT: WorklistRule(_result_alert, _result_alert_unreached),
}


def outcome_url(user, call: Call) -> str:
    """Where the agent records what the call led to, opened with ?call= (the form fills in what
    the receipt said): the task's own page and form, or for a booking request and the client
    page the call screen (an enquiry made there is the call's and takes its duration)."""
    pk, query = call.task_id, {"call": call.pk}
    if call.worklist == Worklist.FOLLOWUP:
        url = reverse("followup:call_detail", args=[pk])
    elif call.worklist == Worklist.RECALL:
        url = reverse("consult:recall_detail", args=[pk])
    elif call.worklist == Worklist.COMPLAINT:
        url = reverse("complaints:complaint_detail", args=[pk])
    elif call.worklist == Worklist.RESULT_ALERT:
        url = reverse("exams:alert_detail", args=[pk])
    elif call.worklist in (Worklist.BOOKING_REQUEST, Worklist.CALL_BACK):
        url = reverse("consult:call")
        query = {"follows": pk, **({"client": call.client_id} if call.client_id else {}), **query}
    elif user_may_open(user, "consult:call"):
        url = reverse("consult:call")
        query = {"client": pk, **query}
    else:
        return reverse("clientmgmt:client_detail", args=[pk])
    return f"{url}?{urlencode(query)}"


# --- Placing the call -----------------------------------------------------------------------


def _recent(agent: Agent, worklist: str, task_id: int, now) -> Call | None:
    """The call this agent placed for this task a moment ago and that has not ended."""
    return (
        Call.objects.filter(
            worklist=worklist,
            task_id=task_id,
            agent=agent,
            created_at__gte=now - AGAIN_WITHIN,
            ended_at__isnull=True,
            outcome=Outcome.IN_PROGRESS,
        )
        .order_by("-created_at")
        .first()
    )


def dial(*, user, worklist: str, task_id) -> Call:
    """Place a two-legged call for the task `task_id` of `worklist`: the agent's own line, then
    the client's number read from the task. Returns the call (the one already placed, for a
    second click within AGAIN_WITHIN); Http404 or PermissionDenied from the task's access helper;
    CannotDial when no call can be placed (no line, no number, a number dialled by hand)."""
    rule = WORKLISTS.get(worklist)
    pk = row_id(str(task_id))
    if rule is None or pk is None:
        raise CannotDial(_("This list has no call button."))
    agent = Agent.objects.filter(user=user).first()
    if agent is None:
        raise CannotDial(
            _("You are not set up to place calls: an administrator adds you under agents.")
        )
    task = rule.load(user, pk)
    if task.client is not None and not client_shown_for_user(user, task.client).whole:
        # The discretion rule, whatever list the task is on: a VIP is telephoned by those who
        # serve them (the VIP officers and the staff assigned), as their record is read.
        raise PermissionDenied
    if not agent.line:
        raise CannotDial(
            _("Your phone line is not set: an administrator adds it under agents."),
            page_url=task.page_url,
        )
    number = task.number
    if not number:
        raise CannotDial(_("There is no number to call for this task."), page_url=task.page_url)
    if not (phones.is_e164(number) and vms.serves(number)):
        raise CannotDial(
            _("This number is not on the voice service's route: dial it by hand."),
            manual=True,
            client=task.client,
            page_url=task.page_url,
        )
    call, placed = _write(agent=agent, worklist=worklist, task_id=pk, task=task, number=number)
    if placed:
        _place(call, agent=agent)
    # Whether this was a second click that found the call placed by the first (the page says
    # so rather than "ringing" as if it had rung again).
    call.again = not placed
    return call


def _write(*, agent: Agent, worklist, task_id, task: Task, number) -> tuple[Call, bool]:
    """The call, in progress, committed before the provider is asked; or the one this agent
    placed for this task a moment ago (False). The agent's row is locked: two clicks or two
    tabs take turns, and the second finds the first's call."""
    with transaction.atomic():
        Agent.objects.select_for_update().filter(pk=agent.pk).first()
        now = timezone.now()
        recent = _recent(agent, worklist, task_id, now)
        if recent is not None:
            return recent, False
        call = Call.objects.create(
            external_id=f"out-{uuid.uuid4().hex}",
            direction=Call.Direction.OUTBOUND,
            number=number,
            called=vms.show_number(),
            agent=agent,
            extension=agent.extension,
            client=task.client,
            worklist=worklist,
            task_id=task_id,
            outcome=Outcome.IN_PROGRESS,
            # Recorded: the provider plays the notice to both legs before joining them.
            recording_notice=True,
            created_at=now,
        )
        audit.record(audit.Action.CREATE, actor=agent.user, obj=call)
    return call, True


def _place(call: Call, *, agent: Agent) -> None:
    """Ask the provider (outside any transaction: the call is committed already)."""
    try:
        started = vms.click_to_dial(
            agent_number=agent.line,
            client_number=call.number,
            reference=f"call:{call.pk}",
            record=True,
        )
    except vms.UnknownOutcomeError as exc:
        # It may ring: the call stays in progress (a second click finds it), never placed again
        # by itself; the receipt, if it comes, tells.
        logger.warning("Click-to-call %s: outcome unknown (%s)", call.pk, exc.code)
        _set(call, problem=f"{UNKNOWN}:{exc.code}"[:40])
    except (vms.TransientError, vms.PermanentError) as exc:
        logger.warning("Click-to-call %s refused: %s", call.pk, exc.code)
        kind = TRANSIENT if isinstance(exc, vms.TransientError) else PERMANENT
        _set(
            call, outcome=Outcome.FAILED, ended_at=timezone.now(), problem=f"{kind}:{exc.code}"[:40]
        )
    else:
        _set(call, provider_call_id=started.call_id[:64])


def _set(call: Call, **fields) -> None:
    """Write what the provider said, unless a receipt already ended the call meanwhile."""
    Call.objects.filter(pk=call.pk, ended_at__isnull=True).update(**fields)
    call.refresh_from_db()


def refusal_text(call: Call) -> str:
    """Why a failed call was not placed, for the agent (the provider's own words stay in the
    log); "" for a call that was placed."""
    if call.outcome != Outcome.FAILED:
        return ""
    kind, _sep, code = call.problem.partition(":")
    if code in ("invalid-number", "no-route"):
        return _("This number cannot be called through the voice service: dial it by hand.")
    if kind == TRANSIENT:
        return _("The voice service cannot take the call right now: try again in a minute.")
    if kind == PERMANENT:
        return _(
            "The voice service refused the call (%(code)s): dial the client from another phone."
        ) % {"code": code}
    return _("The call was not placed.")


def unknown(call: Call) -> bool:
    """The provider did not say whether it placed the call (and no receipt has come)."""
    return call.problem.startswith(f"{UNKNOWN}:")


# --- The receipt ------------------------------------------------------------------------------


def call_receipt(receipt: receipts.Receipt, pk: int) -> None:
    """The receipt of the call `pk` (voice.receipts, prefix "call", inside its transaction):
    its times and outcome; a client who did not pick up is an attempt on the task (once: the
    receipt is applied once, and a dial recorded by hand since the click counts instead)."""
    call = (
        Call.objects.select_for_update(of=("self",))
        .filter(pk=pk, direction=Call.Direction.OUTBOUND)
        .select_related("agent__user")
        .first()
    )
    if call is None:
        logger.warning("Call receipt %s names no call placed here (%s)", receipt.call_id, pk)
        return
    if call.ended_at is not None:
        # Ended already (not placed, or told by an earlier receipt of another call id).
        logger.warning("Call receipt %s for call %s, which had ended", receipt.call_id, pk)
        return
    if call.provider_call_id and receipt.call_id[:64] != call.provider_call_id:
        # Not the call the provider placed for this click: someone else's receipt.
        logger.warning("Call receipt %s names call %s, placed as another", receipt.call_id, pk)
        return
    outcome = RECEIPT_OUTCOMES.get(receipt.outcome, Outcome.FAILED)
    call.outcome = outcome
    call.provider_call_id = call.provider_call_id or receipt.call_id[:64]
    if outcome == Outcome.ANSWERED:
        call.answered_at = receipt.answered_at or receipt.ended_at or timezone.now()
        # The client's talk time, as the provider counted it.
        call.ended_at = call.answered_at + datetime.timedelta(seconds=receipt.talk_seconds)
    else:
        call.answered_at = None
        call.ended_at = receipt.ended_at or timezone.now()
    if unknown(call):
        call.problem = ""
    call.save(update_fields=["outcome", "provider_call_id", "answered_at", "ended_at", "problem"])
    rule = WORKLISTS.get(call.worklist)
    if outcome in NOT_REACHED and rule is not None and rule.unreached is not None:
        _unreached(call, rule)


def _unreached(call: Call, rule: WorklistRule) -> None:
    by = call.agent.user if call.agent_id else None
    detail = _("Click-to-call not answered: %(outcome)s") % {"outcome": call.get_outcome_display()}
    try:
        with transaction.atomic():  # a savepoint: a task closed meanwhile spoils nothing
            rule.unreached(call, by=by, detail=detail)
    except ValidationError as exc:
        logger.info("Call %s: the task took no attempt (%s)", call.pk, exc.messages)


# --- What the outcome form is told -----------------------------------------------------------


def call_of_agent(user, pk) -> Call | None:
    """A call `user` placed from a worklist (theirs only: nobody follows another's call)."""
    pk = row_id(str(pk))
    if pk is None or not user.is_authenticated:
        return None
    return (
        Call.objects.filter(pk=pk, agent__user=user)
        .exclude(worklist="")
        .select_related("client")
        .first()
    )


def call_facts(reference, *, by, worklist: str, task_id) -> CallFacts | None:
    """zhongdu.origins.call_facts: what the call `reference` said, when `by` placed it for this
    very task; None otherwise."""
    call = call_of_agent(by, reference)
    if call is None or call.worklist != worklist or call.task_id != row_id(str(task_id)):
        return None
    ended = call.ended_at is not None
    rule = WORKLISTS.get(call.worklist)
    return CallFacts(
        ended=ended,
        answered=call.outcome == Outcome.ANSWERED,
        talk_seconds=call.talk_seconds,
        answered_at=call.answered_at,
        outcome_label=str(call.get_outcome_display()),
        attempt_recorded=call.outcome in NOT_REACHED and rule is not None and bool(rule.unreached),
    )


def stale(call: Call, now=None) -> bool:
    """In progress with no receipt for longer than it should take."""
    now = now or timezone.now()
    return (
        call.outcome == Outcome.IN_PROGRESS
        and call.ended_at is None
        and call.created_at < now - RECEIPT_EXPECTED_WITHIN
    )
