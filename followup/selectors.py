"""Reads of Follow-up: querysets that already select_related what their page shows, the call
workbench's queue, and the client page's timeline sources (calls, plans, survey answers)."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, CharField, Count, Q, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name
from zhongdu import roles

from .models import (
    CallAttempt,
    CarePlan,
    Dimension,
    FollowUpCall,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)

# Who works return-visit calls and care plans, and who oversees them (zhongdu/roles.py).
CALL_WORKERS = roles.FOLLOWUP_DESK
CALL_OVERSEERS = frozenset({roles.MANAGER, roles.ADMINISTRATOR})
QUEUE_LIMIT = 200


def _require(user, allowed) -> None:
    if not (roles.user_roles(user) & allowed):
        raise PermissionDenied


def is_overseer(user) -> bool:
    return bool(roles.user_roles(user) & CALL_OVERSEERS)


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
    if write:
        _require(user, CALL_WORKERS | CALL_OVERSEERS)
        mine = call.assigned_to_id in (None, user.pk)
        if not mine and not is_overseer(user):
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


def call_counts(*, user, today=None) -> dict:
    """How many open calls are due for the user, in the pool, and in all (one query)."""
    today = today or timezone.localdate()
    return FollowUpCall.objects.filter(
        status=FollowUpCall.Status.OPEN, due_on__lte=today
    ).aggregate(
        mine=Count("pk", filter=Q(assigned_to=user)),
        pool=Count("pk", filter=Q(assigned_to__isnull=True)),
        all=Count("pk"),
        upcoming=Count("pk", filter=Q(assigned_to=user, due_on__gt=today)),
    )


def call_history(call):
    return CallAttempt.objects.filter(call=call).select_related("actor").order_by("at", "pk")


def client_previous_calls(call, limit: int = 10):
    return (
        FollowUpCall.objects.filter(client_id=call.client_id)
        .exclude(pk=call.pk)
        .select_related("closed_by")
        .order_by("-created_at")[:limit]
    )


def client_live_plans(client):
    return CarePlan.objects.filter(client=client, status=CarePlan.Status.ACTIVE).prefetch_related(
        "steps"
    )


def plan_get_for_user(user, pk, *, write=False) -> CarePlan:
    try:
        plan = CarePlan.objects.select_related(
            "client", "visit__department", "exam_order", "template", "created_by"
        ).get(pk=pk)
    except (CarePlan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, roles.PLAN_WRITERS if write else roles.FOLLOWUP_READERS)
    return plan


def invitation_by_token(token: str) -> SurveyInvitation | None:
    return (
        SurveyInvitation.objects.select_related("template", "client", "visit__department")
        .filter(token=token)
        .first()
    )


# --- The weekly summary -------------------------------------------------------------


def week_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 to the next Monday 00:00, hospital time, of the week holding `day`."""
    tz = timezone.get_default_timezone()
    monday = day - datetime.timedelta(days=day.weekday())
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=7)


def weekly_summary(day: datetime.date) -> dict:
    """The week's responses (survey page and calls): counts, averages by dimension overall and
    by department, the recommend (0-10) average and NPS, and every comment. A few queries."""
    start, end = week_bounds(day)
    responses = SurveyResponse.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    counts = responses.aggregate(
        total=Count("pk"),
        survey=Count("pk", filter=Q(source=SurveyResponse.Source.SURVEY)),
        call=Count("pk", filter=Q(source=SurveyResponse.Source.CALL)),
        recovery=Count("pk", filter=Q(needs_recovery=True)),
    )
    answers = SurveyAnswer.objects.filter(response__in=responses, score__isnull=False)
    by_dimension = dict(
        answers.exclude(dimension=Dimension.RECOMMEND)
        .values_list("dimension")
        .annotate(avg=Avg("score"))
        .order_by()
    )
    by_department = {}
    for department, dimension, avg in (
        answers.exclude(dimension=Dimension.RECOMMEND)
        .values_list("response__department__name", "dimension")
        .annotate(avg=Avg("score"))
        .order_by()
    ):
        by_department.setdefault(department or _("Not recorded"), {})[dimension] = avg
    recommend = list(answers.filter(dimension=Dimension.RECOMMEND).values_list("score", flat=True))
    promoters = sum(score >= 9 for score in recommend)
    detractors = sum(score <= 6 for score in recommend)
    comments = list(
        responses.exclude(comment="")
        .select_related("department", "client")
        .only("id", "comment", "source", "submitted_at", "department__name", "client__id")
        .order_by("submitted_at")
    )
    return {
        "start": start.date(),
        "end": (end - datetime.timedelta(days=1)).date(),
        "counts": counts,
        "by_dimension": by_dimension,
        "by_department": by_department,
        "recommend_average": sum(recommend) / len(recommend) if recommend else None,
        "nps": round(100 * (promoters - detractors) / len(recommend)) if recommend else None,
        "recommend_count": len(recommend),
        "comments": comments,
    }


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
        url=reverse("followup:call_detail", args=[row["t_number"]]),
    )


def plan_rows(client):
    return CarePlan.objects.filter(client=client).values(
        **timeline_columns(
            kind="plan",
            at="created_at",
            status="status",
            first="kind",
            second="template__name",
            third="diagnosis",
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
        url=reverse("followup:plan_detail", args=[row["t_number"]]),
    )


def response_rows(client):
    return SurveyResponse.objects.filter(client=client).values(
        **timeline_columns(
            kind="survey",
            at="submitted_at",
            status="source",
            first="lowest_score",
            second="recommend",
            third="comment",
        )
    )


def response_entry(row) -> TimelineEntry:
    parts = []
    if row["t_first"]:
        parts.append(_("lowest score %(score)s/5") % {"score": row["t_first"]})
    if row["t_second"]:
        parts.append(_("recommend %(score)s/10") % {"score": row["t_second"]})
    if row["t_third"]:
        parts.append(row["t_third"][:200])
    return TimelineEntry(
        at=row["t_at"],
        kind="survey",
        title=_("Satisfaction answers (%(source)s)")
        % {"source": SurveyResponse.Source(row["t_status"]).label},
        detail=" · ".join(str(part) for part in parts),
    )
