"""Reads of Follow-up: querysets that already select_related what their page shows, the call
workbench's queue (and its rows, prepared for the page), and the client page's timeline sources
(calls, plans)."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.registry import TimelineEntry, may_see_whole_record, timeline_columns, user_name
from complaints.models import Complaint
from messaging.models import OutboxMessage
from zhongdu import roles
from zhongdu.links import row_link

from .models import (
    CallAttempt,
    CarePlan,
    CarePlanStep,
    CarePlanTemplate,
    FollowUpCall,
)

# Who works return-visit calls and care plans, and who oversees them (zhongdu/roles.py).
CALL_WORKERS = roles.FOLLOWUP_DESK
CALL_OVERSEERS = frozenset({roles.MANAGER, roles.ADMINISTRATOR})
QUEUE_LIMIT = 200
# The workbench's "upcoming" count looks this many days ahead.
UPCOMING_DAYS = 7


def _require(user, allowed) -> None:
    if not (roles.user_roles(user) & allowed):
        raise PermissionDenied


def is_overseer(user) -> bool:
    return bool(roles.user_roles(user) & CALL_OVERSEERS)


def is_call_handler(user) -> bool:
    """A client manager: someone calls are assigned to (services.call_handlers)."""
    return roles.CLIENT_MANAGER in roles.user_roles(user)


def may_work_call(user, call) -> bool:
    """May this user record, claim or hand on this call? Their own and the shared pool's for a
    client manager; any call for managers and administrators."""
    if not roles.user_roles(user) & (CALL_WORKERS | CALL_OVERSEERS):
        return False
    return call.assigned_to_id in (None, user.pk) or is_overseer(user)


def call_get_for_user(user, pk, *, write=False) -> FollowUpCall:
    """The one way views fetch a call: 404 if there is none, 403 if the user may not. A client
    manager works their own calls and the shared pool's; managers and administrators any."""
    try:
        call = FollowUpCall.objects.select_related(
            "client", "plan", "step", "visit__department", "visit__expert", "assigned_to"
        ).get(pk=pk)
    except (FollowUpCall.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, roles.FOLLOWUP_READERS)
    if write and not may_work_call(user, call):
        raise PermissionDenied
    # A VIP's call (its script, notes and the client's history) is for the VIP officers and
    # its handler (the discretion rule, vip.selectors).
    if call.client.is_vip and not may_see_whole_record(user, call.client):
        raise PermissionDenied
    return call


def call_queue(*, user, today=None, everyone: bool = False, assignee=None, pool: bool = False):
    """Open calls due today or overdue: the user's own (or, for an overseer, everyone's or one
    handler's, or the unassigned pool), VIPs first, then by due date. One query."""
    today = today or timezone.localdate()
    qs = FollowUpCall.objects.filter(status=FollowUpCall.Status.OPEN, due_on__lte=today)
    if pool:
        qs = qs.filter(assigned_to__isnull=True)
    elif assignee is not None:
        qs = qs.filter(assigned_to=assignee)
    elif not everyone:
        qs = qs.filter(assigned_to=user)
    return (
        qs.select_related("client", "assigned_to", "visit__department")
        .only(
            "id",
            "reason",
            "title",
            "due_on",
            "priority",
            "attempts",
            "created_at",
            "client__id",
            "client__name",
            "client__phone",
            "client__is_vip",
            "assigned_to__id",
            "assigned_to__username",
            "assigned_to__first_name",
            "assigned_to__last_name",
            "visit__id",
            "visit__department__name",
        )
        .order_by("-priority", "due_on", "pk")[:QUEUE_LIMIT]
    )


@dataclass
class CallRow:
    """One row of the workbench, every value as the page shows it (worked out once per row
    here, not per cell in the template)."""

    pk: int
    due_on: datetime.date
    due: str  # the due date as text
    overdue: bool
    client_name: str
    vip: bool
    phone: str  # masked (Client.phone_masked), "—" for none
    reason: str
    title: str  # "—" for none
    department: str  # the visit's, "—" for none
    attempts: int
    assignee_id: int | None
    assignee: str  # the handler's name, "" for the shared pool
    url: str
    claim_url: str
    reassign_url: str


def call_queue_rows(calls, *, today=None) -> list[CallRow]:
    """The workbench's rows for `calls` (call_queue): labels in the active language, the
    client's phone masked, the addresses of the call, of claiming and of reassigning it
    (zhongdu.links.row_link). No query beyond what call_queue selected."""
    today = today or timezone.localdate()
    reasons = {value: str(label) for value, label in FollowUpCall.Reason.choices}
    detail = row_link("followup:call_detail")
    claim = row_link("followup:call_claim")
    reassign = row_link("followup:call_reassign")
    rows = []
    for call in calls:
        client, visit, assignee = call.client, call.visit, call.assigned_to
        department = visit.department if visit is not None else None
        rows.append(
            CallRow(
                pk=call.pk,
                due_on=call.due_on,
                due=f"{call.due_on:%Y-%m-%d}",
                overdue=call.due_on < today,
                client_name=client.name,
                vip=client.is_vip,
                phone=client.phone_masked or "—",
                reason=reasons.get(call.reason, call.reason),
                title=call.title or "—",
                department=(department.name if department is not None else "") or "—",
                attempts=call.attempts,
                assignee_id=call.assigned_to_id,
                assignee=handler_name(assignee) if assignee is not None else "",
                url=detail(call.pk),
                claim_url=claim(call.pk),
                reassign_url=reassign(call.pk),
            )
        )
    return rows


def handler_name(user) -> str:
    """A handler as the workbench names them: their full name, else their username."""
    return user.get_full_name() or user.get_username()


def handler_choices(handlers) -> list[tuple[int, str]]:
    """(pk, name) of each handler, for the workbench's selects: worked out once per page, the
    rows then compare only their handler's pk."""
    return [(person.pk, handler_name(person)) for person in handlers]


def call_counts(*, user, today=None) -> dict:
    """How many open calls are due (today or overdue) for the user, in the pool and in all, and
    how many come up in the next UPCOMING_DAYS days (the user's, and everyone's). One query,
    over the open calls due by then (call_open_due_idx)."""
    today = today or timezone.localdate()
    due = Q(due_on__lte=today)
    upcoming = Q(due_on__gt=today)
    return FollowUpCall.objects.filter(
        status=FollowUpCall.Status.OPEN,
        due_on__lte=today + datetime.timedelta(days=UPCOMING_DAYS),
    ).aggregate(
        mine=Count("pk", filter=due & Q(assigned_to=user)),
        pool=Count("pk", filter=due & Q(assigned_to__isnull=True)),
        all=Count("pk", filter=due),
        upcoming=Count("pk", filter=upcoming & Q(assigned_to=user)),
        upcoming_all=Count("pk", filter=upcoming),
    )


def call_history(call):
    return CallAttempt.objects.filter(call=call).select_related("actor").order_by("at", "pk")


def client_previous_calls(call, limit: int = 10):
    return (
        FollowUpCall.objects.filter(client_id=call.client_id)
        .exclude(pk=call.pk)
        .select_related("closed_by", "assigned_to")
        .order_by("-created_at")[:limit]
    )


def call_raised_complaint(call):
    """The complaint a reached call raised ("raise a complaint" on the outcome form), if any."""
    return Complaint.objects.filter(source=f"followup.call:{call.pk}").first()


def client_live_plans(client):
    return CarePlan.objects.filter(client=client, status=CarePlan.Status.ACTIVE).prefetch_related(
        "steps"
    )


def plan_is_from_exam(plan) -> bool:
    """A health plan written from an exam order's results (its texts name the findings)."""
    return plan.kind == CarePlan.Kind.HEALTH and plan.exam_order_id is not None


def plan_get_for_user(user, pk, *, write=False) -> CarePlan:
    """A care plan: read by follow-up's readers and by those who write plans (the front desk
    prints the sheet it has just written); changed by those who write plans. A health plan made
    from an exam order: read by RESULT_READERS, changed by ASSESSMENT_WRITERS only."""
    try:
        plan = CarePlan.objects.select_related(
            "client",
            "visit__department",
            "visit__expert",
            "exam_order",
            "template",
            "created_by",
        ).get(pk=pk)
    except (CarePlan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if plan_is_from_exam(plan):
        # Written from an exam's released results (exams.assessment): its texts name the
        # findings, so it is health information of the results: read by the result readers,
        # changed by the assessment writers, with the discretion rule and no writer's exception.
        _require(user, roles.ASSESSMENT_WRITERS if write else roles.RESULT_READERS)
        if not may_see_whole_record(user, plan.client):
            raise PermissionDenied
        return plan
    _require(user, roles.PLAN_WRITERS if write else roles.FOLLOWUP_READERS | roles.PLAN_WRITERS)
    # A VIP's plan: the VIP officers, those assigned to the VIP, and whoever wrote it (the
    # front desk prints the sheet it has just written).
    if (
        plan.client.is_vip
        and plan.created_by_id != user.pk
        and not may_see_whole_record(user, plan.client)
    ):
        raise PermissionDenied
    return plan


def plan_templates():
    """The templates staff choose from when they write a plan."""
    return CarePlanTemplate.objects.filter(active=True).select_related("department")


def plan_template_for_visit(visit):
    """The template a plan after this visit starts from: the first active one of the visit's
    department (after-care before health management), or None."""
    if visit is None or visit.department_id is None:
        return None
    return (
        plan_templates()
        .filter(department_id=visit.department_id)
        .order_by("kind", "name", "pk")
        .first()
    )


def plan_step_key_prefix(step_id) -> str:
    """The idempotency-key prefix of a timepoint's SMS (services._step_key_prefix)."""
    return f"careplan-step:{step_id}:"


def plan_steps(plan) -> list:
    """The plan's timepoints with their call (`step.call_row`, or None) and their latest SMS
    (`step.sms_row`, or None): two queries whatever the number of timepoints."""
    steps = list(
        CarePlanStep.objects.filter(plan=plan)
        .select_related("sms_template", "followup_call__assigned_to")
        .order_by("due_on", "pk")
    )
    sms = {}
    if steps:
        keys = Q()
        for step in steps:
            keys |= Q(idempotency_key__startswith=plan_step_key_prefix(step.pk))
        # The client's messages (outbox_client_idx), then the timepoints' keys among them.
        for message in (
            OutboxMessage.objects.filter(keys, client_id=plan.client_id)
            .only("id", "idempotency_key", "status", "send_after", "sent_at")
            .order_by("created_at", "pk")
        ):
            step_id = message.idempotency_key.split(":")[1]
            sms[int(step_id)] = message  # the latest wins
    for step in steps:
        try:
            step.call_row = step.followup_call
        except FollowUpCall.DoesNotExist:
            step.call_row = None
        step.sms_row = sms.get(step.pk)
    return steps


# --- The client page's timeline -----------------------------------------------------

_TEXT = CharField()


def call_rows(client):
    return FollowUpCall.objects.filter(client=client).values(
        **timeline_columns(
            kind="call",
            at="created_at",
            status="status",
            first="reason",
            second="outcome",
            third=Concat("due_on", Value("|"), "title", output_field=_TEXT),
            actor=user_name("assigned_to"),
        )
    )


def call_entry(row) -> TimelineEntry:
    due, _sep, title = row["t_third"].partition("|")
    reason, outcome = row["t_first"], row["t_second"]
    parts = [title, _("due %(date)s") % {"date": due[:10]}]
    if outcome:
        parts.append(FollowUpCall.Outcome(outcome).label)
    return TimelineEntry(
        at=row["t_at"],
        kind="call",
        title=_("Return-visit call (%(reason)s): %(status)s")
        % {
            "reason": FollowUpCall.Reason(reason).label,
            "status": FollowUpCall.Status(row["t_status"]).label,
        },
        detail=" · ".join(str(part) for part in parts if part),
        actor=row["t_actor"],
        url=row_link("followup:call_detail")(row["t_number"]),
        view_name="followup:call_detail",
    )


def _unless_from_exam(field):
    return Case(
        When(kind=CarePlan.Kind.HEALTH, exam_order__isnull=False, then=Value("")),
        default=F(field),
        output_field=CharField(),
    )


def plan_rows(client):
    return CarePlan.objects.filter(client=client).values(
        **timeline_columns(
            kind="plan",
            at="created_at",
            status="status",
            first="kind",
            # A plan from an exam's results: its template's name and its summary name the
            # findings; the plan's page (result readers only) shows them, the timeline does not.
            second=_unless_from_exam("template__name"),
            third=_unless_from_exam("diagnosis"),
            actor=user_name("created_by"),
        )
    )


def plan_entry(row) -> TimelineEntry:
    return TimelineEntry(
        at=row["t_at"],
        kind="plan",
        title=_("%(kind)s (%(status)s)")
        % {
            "kind": CarePlan.Kind(row["t_first"]).label,
            "status": CarePlan.Status(row["t_status"]).label,
        },
        detail=" · ".join(part for part in (row["t_second"], row["t_third"][:200]) if part),
        actor=row["t_actor"],
        url=row_link("followup:plan_detail")(row["t_number"]),
        view_name="followup:plan_detail",
    )


def client_next_followup(client, *, today=None) -> datetime.date | None:
    """The next planned timepoint of the client's live care plans, from today on (one query)."""
    return (
        CarePlanStep.objects.filter(
            plan__client=client,
            plan__status=CarePlan.Status.ACTIVE,
            status=CarePlanStep.Status.PLANNED,
            due_on__gte=today or timezone.localdate(),
        )
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
