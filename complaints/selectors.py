"""Reads of complaints: the access-checked fetch, the handler's queue and the managers' overview
(a fixed number of queries whatever their size), a complaint's deadlines and history, and the
monthly figures. Display strings are prepared here, so the templates only show them."""

import datetime
import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name
from zhongdu import roles
from zhongdu.links import row_link
from zhongdu.workcalendar import WorkCalendar

from .models import Complaint, ComplaintEvent
from .services import (
    ACKNOWLEDGE,
    EVENT_LABELS,
    MISSED_EVENTS,
    OPEN_STATUSES,
    PENDING,
    RESOLVE,
    complaint_may_work,
)

Status = Complaint.Status
PAGE_SIZE = 50
# Severities from the most urgent, as the overview lists them.
SEVERITY_ORDER = [
    Complaint.Severity.CRITICAL,
    Complaint.Severity.SERIOUS,
    Complaint.Severity.NORMAL,
    Complaint.Severity.MINOR,
]
# Badge colours of the severities (Bootstrap's text-bg-*).
SEVERITY_CSS = {
    Complaint.Severity.CRITICAL: "danger",
    Complaint.Severity.SERIOUS: "warning",
    Complaint.Severity.NORMAL: "secondary",
    Complaint.Severity.MINOR: "light border",
}
# The overview's age columns: received less than 1 day ago, 1–3 days, 3–7 days, longer.
AGE_DAYS = (1, 3, 7)
_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def is_handler(user) -> bool:
    return bool(roles.user_roles(user) & roles.COMPLAINT_HANDLERS)


def complaint_get_for_user(user, pk, *, write=False) -> Complaint:
    """The one way views fetch a complaint: 404 if there is none; 403 unless the user handles
    complaints (or, reading, recorded this one); with `write`, 403 unless the user may move it
    along (complaints.services.complaint_may_work)."""
    try:
        complaint = Complaint.objects.select_related(
            "client", "handler", "received_by", "department"
        ).get(pk=pk)
    except (Complaint.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if is_handler(user):
        if write and not complaint_may_work(user, complaint):
            raise PermissionDenied
        return complaint
    if write or complaint.received_by_id != user.pk:
        raise PermissionDenied
    return complaint


# --- Time left ----------------------------------------------------------------------------


def _hours(value: float) -> str:
    return f"{value:.1f}"


def time_left_text(calendar: WorkCalendar, due, now) -> tuple[bool, str]:
    """(overdue, "2.5 working hours left" / "overdue by 1.0 working hours")."""
    if due <= now:
        hours = _hours(calendar.working_hours_between(due, now))
        return True, _("overdue by %(hours)s working hours") % {"hours": hours}
    hours = _hours(calendar.working_hours_between(now, due))
    return False, _("%(hours)s working hours left") % {"hours": hours}


def _step_label(which: str) -> str:
    if which == ACKNOWLEDGE:
        return pgettext("complaint deadline", "Acknowledge")
    return pgettext("complaint deadline", "Resolve")


def _overdue(now) -> Q:
    return Q(status__in=PENDING[ACKNOWLEDGE], acknowledge_due_at__lte=now) | Q(
        status__in=PENDING[RESOLVE], resolve_due_at__lte=now
    )


def _next_deadline(complaint) -> tuple[str, datetime.datetime] | None:
    """The earliest deadline the complaint still has to meet."""
    pending = [
        (getattr(complaint, f"{which}_due_at"), which)
        for which in (ACKNOWLEDGE, RESOLVE)
        if complaint.status in PENDING[which] and getattr(complaint, f"{which}_due_at")
    ]
    if not pending:
        return None
    due, which = min(pending)
    return which, due


# --- The queue and the overview -----------------------------------------------------------


@dataclass
class QueueRow:
    complaint: Complaint
    overdue: bool
    step: str  # "Acknowledge", "Resolve", or what the complaint waits for
    time_left: str
    due: datetime.datetime | None

    @property
    def severity_css(self) -> str:
        return SEVERITY_CSS[self.complaint.severity]


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    is_first: bool


def _cursor(row) -> str:
    micro = (row.received_at - _EPOCH) // _MICROSECOND
    return f"{row.overdue_rank}.{micro}.{row.pk}"


def _parse_cursor(value) -> tuple[int, datetime.datetime, int] | None:
    try:
        rank, micro, pk = (int(part) for part in str(value).split("."))
        return rank, _EPOCH + micro * _MICROSECOND, pk
    except (TypeError, ValueError, OverflowError):
        return None


def complaint_queue(
    *, user, scope: str, filters: dict, now, cursor=None, calendar=None
) -> QueuePage:
    """A page of complaints, overdue first, then oldest first, keyset-paged on (overdue,
    received_at, id). `scope`: "mine" (the user's own), "all" (every complaint: handlers only),
    or "recorded" (those the user recorded). One query for the page; the working calendar is two
    more."""
    qs = Complaint.objects.select_related("client", "handler", "department")
    if scope == "mine":
        qs = qs.filter(handler=user)
    elif scope == "recorded" or not is_handler(user):
        qs = qs.filter(received_by=user)
    status = filters.get("status") or ""
    if status == "all":
        pass
    elif status in Status.values:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if filters.get("severity"):
        qs = qs.filter(severity=filters["severity"])
    if filters.get("category"):
        qs = qs.filter(category=filters["category"])
    if filters.get("handler"):
        qs = qs.filter(handler=filters["handler"])
    if filters.get("overdue"):
        qs = qs.filter(_overdue(now))
    qs = qs.annotate(
        overdue_rank=Case(
            When(_overdue(now), then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("-overdue_rank", "received_at", "pk")
    after = _parse_cursor(cursor) if cursor else None
    if after is not None:
        rank, received_at, pk = after
        qs = qs.filter(
            Q(overdue_rank__lt=rank)
            | Q(overdue_rank=rank, received_at__gt=received_at)
            | Q(overdue_rank=rank, received_at=received_at, pk__gt=pk)
        )
    items = list(qs[: PAGE_SIZE + 1])
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    calendar = calendar or WorkCalendar.load()
    return QueuePage(
        rows=[_queue_row(complaint, calendar, now) for complaint in items],
        next_cursor=_cursor(items[-1]) if more else None,
        is_first=after is None,
    )


def _queue_row(complaint, calendar, now) -> QueueRow:
    deadline = _next_deadline(complaint)
    if deadline is not None:
        which, due = deadline
        overdue, left = time_left_text(calendar, due, now)
        return QueueRow(complaint, overdue, _step_label(which), left, due)
    if complaint.status == Status.RESOLVED:
        return QueueRow(complaint, False, _("Call the client back and close"), "", None)
    if complaint.status == Status.CLOSED:
        closed = timezone.localtime(complaint.closed_at).strftime("%Y-%m-%d")
        return QueueRow(complaint, False, _("Closed on %(date)s") % {"date": closed}, "", None)
    return QueueRow(complaint, False, "", "", None)


@dataclass
class OverviewRow:
    severity: str
    label: str
    ages: list[int] = field(default_factory=list)
    overdue: int = 0
    total: int = 0


def complaint_overview(now) -> list[OverviewRow]:
    """Open complaints by severity and age (days since received), with how many are overdue;
    one aggregate query, and a total row last."""
    ages = {}
    bounds = [now - datetime.timedelta(days=days) for days in AGE_DAYS]
    newer = None
    for n, bound in enumerate(bounds):
        condition = Q(received_at__gt=bound)
        if newer is not None:
            condition &= Q(received_at__lte=newer)
        ages[f"age{n}"] = Count("pk", filter=condition)
        newer = bound
    ages[f"age{len(bounds)}"] = Count("pk", filter=Q(received_at__lte=bounds[-1]))
    counts = {
        row["severity"]: row
        for row in Complaint.objects.filter(status__in=OPEN_STATUSES)
        .values("severity")
        .annotate(total=Count("pk"), overdue=Count("pk", filter=_overdue(now)), **ages)
        .order_by()
    }
    columns = [f"age{n}" for n in range(len(bounds) + 1)]
    rows = []
    total = OverviewRow("", pgettext("complaints", "All"), [0] * len(columns))
    for severity in SEVERITY_ORDER:
        found = counts.get(severity, {})
        row = OverviewRow(
            severity,
            str(Complaint.Severity(severity).label),
            [found.get(column, 0) for column in columns],
            found.get("overdue", 0),
            found.get("total", 0),
        )
        rows.append(row)
        total.ages = [a + b for a, b in zip(total.ages, row.ages, strict=True)]
        total.overdue += row.overdue
        total.total += row.total
    rows.append(total)
    return rows


def overview_age_labels() -> list[str]:
    labels = [_("under 1 day")]
    lows = AGE_DAYS[:-1]
    for low, high in zip(lows, AGE_DAYS[1:], strict=True):
        labels.append(_("%(low)s–%(high)s days") % {"low": low, "high": high})
    labels.append(_("over %(days)s days") % {"days": AGE_DAYS[-1]})
    return labels


# --- One complaint ------------------------------------------------------------------------


@dataclass
class DeadlineRow:
    which: str
    label: str
    due: datetime.datetime | None
    state: str  # met, late, overdue, pending, none
    text: str
    warned_at: datetime.datetime | None
    escalated_at: datetime.datetime | None


def complaint_deadlines(complaint, *, now, calendar=None) -> list[DeadlineRow]:
    calendar = calendar or WorkCalendar.load()
    rows = []
    for which, label, done_at in (
        (ACKNOWLEDGE, _("Acknowledge by"), complaint.acknowledged_at),
        (RESOLVE, _("Resolve by"), complaint.resolved_at),
    ):
        due = getattr(complaint, f"{which}_due_at")
        if due is None:
            state, text = "none", ""
        elif done_at is not None:
            state = "late" if done_at > due else "met"
            when = timezone.localtime(done_at).strftime("%Y-%m-%d %H:%M")
            text = (
                _("done %(when)s, late") if state == "late" else _("done %(when)s, in time")
            ) % {"when": when}
        elif complaint.status in PENDING[which]:
            overdue, text = time_left_text(calendar, due, now)
            state = "overdue" if overdue else "pending"
        else:
            state, text = "none", ""
        rows.append(
            DeadlineRow(
                which,
                label,
                due,
                state,
                text,
                getattr(complaint, f"{which}_warned_at"),
                getattr(complaint, f"{which}_escalated_at"),
            )
        )
    return rows


@dataclass
class HistoryRow:
    at: datetime.datetime
    label: str
    detail: str
    actor: str


def complaint_history(complaint) -> list[HistoryRow]:
    rows = []
    for event in ComplaintEvent.objects.filter(complaint=complaint).select_related("actor"):
        actor = event.actor
        if actor is None:
            name = pgettext("complaint history", "the system")
        else:
            name = actor.get_full_name() or actor.get_username()
        label = EVENT_LABELS.get(event.action, event.action)
        rows.append(HistoryRow(event.at, str(label), event.detail, name))
    return rows


# --- The monthly figures --------------------------------------------------------------------


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(month.replace(day=1), datetime.time.min, tzinfo=tz)
    following = (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return start, datetime.datetime.combine(following, datetime.time.min, tzinfo=tz)


def _median(values) -> str:
    return _hours(statistics.median(values)) if values else "—"


def complaint_figures(month: datetime.date) -> dict:
    """The complaints received in `month` (hospital time): counts by category and department,
    median working hours to acknowledge and to resolve, deadlines missed, reopened. Three
    queries (the month's complaints, their missed deadlines, the calendar's two) whatever the
    month's size: a month holds hundreds of complaints, not millions, so no summary table."""
    start, end = month_bounds(month)
    in_month = {"received_at__gte": start, "received_at__lt": end}
    rows = list(
        Complaint.objects.filter(**in_month).values(
            "category",
            "department__name",
            "status",
            "received_at",
            "acknowledged_at",
            "resolved_at",
            "reopened",
        )
    )
    missed = dict(
        ComplaintEvent.objects.filter(
            action__in=MISSED_EVENTS,
            **{f"complaint__{key}": value for key, value in in_month.items()},
        )
        .values_list("action")
        .annotate(n=Count("pk"))
        .order_by()
    )
    calendar = WorkCalendar.load()
    acknowledge = [
        calendar.working_hours_between(row["received_at"], row["acknowledged_at"])
        for row in rows
        if row["acknowledged_at"]
    ]
    resolve = [
        calendar.working_hours_between(row["received_at"], row["resolved_at"])
        for row in rows
        if row["resolved_at"]
    ]
    categories = Counter(row["category"] for row in rows)
    departments = Counter(row["department__name"] or "" for row in rows)
    return {
        "total": len(rows),
        "open": sum(1 for row in rows if row["status"] != Status.CLOSED),
        "by_category": [
            (label, categories.get(value, 0)) for value, label in Complaint.Category.choices
        ],
        "by_department": [
            (name or _("Not given"), count)
            # The most complained of first; "not given" last among equals.
            for name, count in sorted(
                departments.items(), key=lambda item: (-item[1], not item[0], item[0])
            )
        ],
        "acknowledged": len(acknowledge),
        "acknowledge_median": _median(acknowledge),
        "resolved": len(resolve),
        "resolve_median": _median(resolve),
        "missed_acknowledge": missed.get("acknowledge_missed", 0),
        "missed_resolve": missed.get("resolve_missed", 0),
        "reopened_complaints": sum(1 for row in rows if row["reopened"]),
        "reopenings": sum(row["reopened"] for row in rows),
    }


def complaint_rows(client):
    """The client's complaints, for the timeline (clientmgmt.registry)."""
    return Complaint.objects.filter(client=client).values(
        **timeline_columns(
            kind="complaint",
            at="received_at",
            status="status",
            first="category",
            second="severity",
            third=Substr("words", 1, 200),
            actor=user_name("received_by"),
        )
    )


def complaint_entry(row) -> TimelineEntry:
    return TimelineEntry(
        at=row["t_at"],
        kind="complaint",
        title=_("Complaint (%(category)s, %(severity)s): %(status)s")
        % {
            "category": Complaint.Category(row["t_first"]).label,
            "severity": Complaint.Severity(row["t_second"]).label,
            "status": Complaint.Status(row["t_status"]).label,
        },
        detail=row["t_third"],
        actor=row["t_actor"],
        url=row_link("complaints:complaint_detail")(row["t_number"]),
        view_name="complaints:complaint_detail",
    )
