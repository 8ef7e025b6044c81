"""Reads of Front desk: querysets and prepared rows for its pages.

Today's board is read in two queries whatever the number of bookings (the day's bookings with
their visits, and the day's walk-ins), and each row's display strings are prepared here, not by
template filters per cell: the board must render 500 bookings quickly (CONVENTIONS.md,
performance habits; `python manage.py bench_board`).
"""

import datetime
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name
from clientmgmt.search import parse_query
from consult import selectors as consult_selectors
from consult.models import Booking
from zhongdu import live, phones, roles
from zhongdu.links import row_link
from zhongdu.masking import mask_name
from zhongdu.models import ClinicSession, Department, Expert

from . import registry
from .models import (
    Charge,
    DisplayScreen,
    ExamOrder,
    ExamOrderItem,
    ExamPackage,
    MembershipCard,
    MembershipCardEvent,
    QueueCounter,
    QueueTicket,
    TriageKeyword,
    Visit,
    VisitEvent,
)

# Roles that receive arrivals (check in, register walk-ins, triage, move visits, charge), and
# those that issue and maintain membership cards and exam orders: zhongdu/roles.py.
DESK_WRITERS = roles.GUIDE_DESK
CARD_WRITERS = roles.CARD_DESK
# Roles that may be assigned as someone's escort.
ESCORT_ROLES = frozenset({roles.FRONT_DESK, roles.VIP_MANAGER})


def _require(user, allowed) -> None:
    if not (roles.user_roles(user) & allowed):
        raise PermissionDenied


def user_label(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# --- Today's board ------------------------------------------------------------------

# The board's states, in the order of the counts at its top.
EXPECTED, NO_SHOW = "expected", "no_show"
BOARD_STATES = [
    (EXPECTED, pgettext_lazy("visit status", "Expected")),
    (Visit.Status.REGISTERED, Visit.Status.REGISTERED.label),
    (Visit.Status.WAITING, Visit.Status.WAITING.label),
    (Visit.Status.WITH_DOCTOR, Visit.Status.WITH_DOCTOR.label),
    (Visit.Status.DONE, Visit.Status.DONE.label),
    (Visit.Status.LEFT, pgettext_lazy("visit status", "Left")),
    (NO_SHOW, Booking.Status.NO_SHOW.label),
]
_STATE_LABELS = dict(BOARD_STATES)


@dataclass
class BoardRow:
    sort_key: tuple
    time: str
    client_id: int
    client_name: str
    phone: str
    vip: bool
    walk_in: bool
    department: str
    doctor: str
    state: str
    state_label: str
    escort: str = ""
    # A VIP's named escort (vip's standing, through guide.registry), shown when the visit has
    # no escort of its own yet (an expected booking, or none chosen at the desk).
    named_escort: str = ""
    # A VIP booking (or a walk-in registered as a VIP) is served first: the "Priority" badge.
    priority: bool = False
    kind: str = ""
    waiting: str = ""
    booking_id: int | None = None
    visit_url: str = ""
    check_in_url: str = ""


@dataclass
class Board:
    day: datetime.date
    rows: list[BoardRow]
    counts: list[tuple[str, str, int]] = field(default_factory=list)
    total: int = 0
    walk_ins: int = 0
    vips: int = 0


def _search_condition(q: str, prefix: str):
    """Name or last four digits of the phone, as the front desk types them."""
    query = parse_query(q)
    if query.kind == "last4":
        return Q(**{f"{prefix}phone_last4": query.value})
    if query.kind == "phone":
        return Q(**{f"{prefix}phone": query.value})
    if query.kind == "name":
        return Q(**{f"{prefix}name__contains": query.value}) | Q(
            **{f"{prefix}search_terms__term_prefix": query.value}
        )
    if query.kind == "empty":
        return Q()
    return Q(pk__in=[])


# The board reads plain rows (values()), not model instances: building 500 instances with their
# joined relations, and translating each one's labels, was most of the page's time.
_BOOKING_COLUMNS = (
    "pk",
    "kind",
    "status",
    "priority",
    "client_id",
    "client__name",
    "client__phone",
    "client__is_vip",
    "session__start_time",
    "session__department__name",
    "session__department__floor",
    "session__expert__name",
    "visit__id",
    "visit__status",
    "visit__arrived_at",
    "visit__department__name",
    "visit__department__floor",
    "visit__expert__name",
    "visit__escort__username",
    "visit__escort__first_name",
    "visit__escort__last_name",
)
_WALK_IN_COLUMNS = (
    "pk",
    "status",
    "arrived_at",
    "priority",
    "visit_type",
    "client_id",
    "client__name",
    "client__phone",
    "client__is_vip",
    "department__name",
    "department__floor",
    "expert__name",
    "escort__username",
    "escort__first_name",
    "escort__last_name",
)


def _board_bookings(day, q, department):
    qs = (
        Booking.objects.filter(session__date=day)
        .exclude(status=Booking.Status.CANCELLED)
        .order_by("session__start_time", "pk")
    )
    if q:
        qs = qs.filter(_search_condition(q, "client__"))
    if department is not None:
        qs = qs.filter(
            Q(visit__department=department)
            | Q(visit__department__isnull=True, session__department=department)
        )
    return qs.values(*_BOOKING_COLUMNS)


def _board_walk_ins(day, q, department):
    qs = Visit.objects.filter(day=day, booking__isnull=True).order_by("arrived_at", "pk")
    if q:
        qs = qs.filter(_search_condition(q, "client__"))
    if department is not None:
        qs = qs.filter(department=department)
    return qs.values(*_WALK_IN_COLUMNS)


def _escort_label(row, prefix) -> str:
    first, last = row[f"{prefix}first_name"] or "", row[f"{prefix}last_name"] or ""
    return f"{first} {last}".strip() or row[f"{prefix}username"] or ""


def _place(name, floor) -> str:
    return f"{name} · {floor}" if name else ""


class _Labels:
    """What every row of one board shares, worked out once: translated labels, URL patterns,
    the clock."""

    def __init__(self, day):
        self.now = timezone.now()
        self.today = day == timezone.localdate()
        self.states = {key: str(label) for key, label in BOARD_STATES}
        self.kinds = {key: str(label) for key, label in Booking.Kind.choices}
        self.visit_types = {key: str(label) for key, label in Visit.Type.choices}
        self.minutes = _("%(minutes)s min")
        # reverse() once, then fill the id in: the same URLs, without 500 reversals.
        self.visit_url = row_link("guide:visit_detail")
        self.check_in_url = row_link("guide:check_in")

    def waiting(self, status, arrived_at) -> str:
        if status not in (Visit.Status.REGISTERED, Visit.Status.WAITING) or arrived_at is None:
            return ""
        minutes = max(int((self.now - arrived_at).total_seconds() // 60), 0)
        return self.minutes % {"minutes": minutes}


def _booking_row(row, labels: _Labels) -> BoardRow:
    visit_id = row["visit__id"]
    if visit_id is not None:
        state = row["visit__status"]
        place = _place(row["visit__department__name"], row["visit__department__floor"])
        doctor = row["visit__expert__name"] or ""
        escort = _escort_label(row, "visit__escort__")
    else:
        state = NO_SHOW if row["status"] == Booking.Status.NO_SHOW else EXPECTED
        place = _place(row["session__department__name"], row["session__department__floor"])
        doctor = row["session__expert__name"] or ""
        escort = ""
    time = row["session__start_time"].strftime("%H:%M")
    can_check_in = state == EXPECTED and labels.today
    return BoardRow(
        sort_key=(time, 0, row["pk"]),
        time=time,
        client_id=row["client_id"],
        client_name=row["client__name"],
        phone=phones.mask(row["client__phone"]),
        vip=row["client__is_vip"] or row["priority"],
        walk_in=False,
        department=place,
        doctor=doctor,
        state=state,
        state_label=labels.states[state],
        escort=escort,
        priority=row["priority"],
        kind=labels.kinds.get(row["kind"], ""),
        waiting=labels.waiting(row["visit__status"], row["visit__arrived_at"]),
        booking_id=row["pk"],
        visit_url=labels.visit_url(visit_id) if visit_id is not None else "",
        check_in_url=labels.check_in_url(row["pk"]) if can_check_in else "",
    )


def _walk_in_row(row, labels: _Labels) -> BoardRow:
    time = timezone.localtime(row["arrived_at"]).strftime("%H:%M")
    return BoardRow(
        sort_key=(time, 1, row["pk"]),
        time=time,
        client_id=row["client_id"],
        client_name=row["client__name"],
        phone=phones.mask(row["client__phone"]),
        vip=row["client__is_vip"] or row["priority"],
        walk_in=True,
        department=_place(row["department__name"], row["department__floor"]),
        doctor=row["expert__name"] or "",
        state=row["status"],
        state_label=labels.states[row["status"]],
        escort=_escort_label(row, "escort__"),
        priority=row["priority"],
        kind=labels.visit_types.get(row["visit_type"], ""),
        waiting=labels.waiting(row["status"], row["arrived_at"]),
        visit_url=labels.visit_url(row["pk"]),
    )


def _name_escorts(rows) -> None:
    """Each VIP row without an escort of its own gets the VIP's named escort: one query for the
    whole board (none when no VIP is on it), through the hook the VIP layer registers."""
    waiting = {row.client_id for row in rows if row.vip and not row.escort}
    if not waiting:
        return
    clients = [SimpleNamespace(pk=pk, is_vip=True) for pk in waiting]
    named = {pk: user_label(user) for pk, user in registry.default_escorts(clients).items()}
    for row in rows:
        if row.vip and not row.escort:
            row.named_escort = named.get(row.client_id, "")


def board(*, day=None, q: str = "", department=None, state: str = "") -> Board:
    """Today's (or `day`'s) bookings and walk-ins by time, with their state, and the counts of
    each state. Two queries whatever the number of rows."""
    day = day or timezone.localdate()
    labels = _Labels(day)
    rows = [_booking_row(row, labels) for row in _board_bookings(day, q, department)]
    rows += [_walk_in_row(row, labels) for row in _board_walk_ins(day, q, department)]
    rows.sort(key=lambda row: row.sort_key)
    _name_escorts(rows)
    counted = Counter(row.state for row in rows)
    return Board(
        day=day,
        rows=[row for row in rows if row.state == state] if state else rows,
        counts=[(key, labels.states[key], counted.get(key, 0)) for key, _label in BOARD_STATES],
        total=len(rows),
        walk_ins=sum(row.walk_in for row in rows),
        vips=sum(row.vip for row in rows),
    )


# --- Visits -------------------------------------------------------------------------

VISIT_READERS = roles.GUIDE_READERS


def visit_get_for_user(user, pk, *, write=False) -> Visit:
    """The one way views fetch a visit: 404 if there is none, 403 if the user may not."""
    try:
        visit = Visit.objects.select_related(
            "client",
            "booking__session",
            "department",
            "expert",
            "session",
            "channel",
            "escort",
            "registered_by",
        ).get(pk=pk)
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, DESK_WRITERS if write else VISIT_READERS)
    return visit


def charge_get_for_user(user, pk, *, write=False) -> Charge:
    """The one way views fetch a charge line: 404 if there is none, 403 if the user may not
    read (or, with `write`, change) the visits it belongs to."""
    try:
        charge = Charge.objects.select_related("visit", "price_item").get(pk=pk)
    except (Charge.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, DESK_WRITERS if write else VISIT_READERS)
    return charge


def visit_history(visit):
    return VisitEvent.objects.filter(visit=visit).select_related("actor").order_by("at", "pk")


def visit_charges(visit):
    return (
        Charge.objects.filter(visit=visit)
        .select_related("price_item", "created_by", "voided_by")
        .order_by("charged_at", "pk")
    )


def charges_total(charges) -> Decimal:
    return sum((c.amount for c in charges if not c.is_void), Decimal("0.00"))


def departments_for_triage():
    return Department.objects.filter(active=True).order_by("sort_order", "name")


@dataclass
class DoctorOnDuty:
    expert: Expert
    session: ClinicSession | None
    queue: int
    now_sitting: bool

    @property
    def label(self) -> str:
        parts = [self.expert.name]
        if self.session is not None:
            parts.append(f"{self.session.start_time:%H:%M}–{self.session.end_time:%H:%M}")
        parts.append(_("%(count)s waiting") % {"count": self.queue})
        return " · ".join(parts)


def doctors_on_duty(*, department, day=None, now=None) -> list[DoctorOnDuty]:
    """The department's experts who sit today, those sitting now first, each with the number of
    today's visits waiting for them (the queue). Three queries."""
    if department is None:
        return []
    now = timezone.localtime(now)
    day = day or now.date()
    sessions = list(
        ClinicSession.objects.filter(
            department=department, date=day, status=ClinicSession.Status.SCHEDULED
        )
        .select_related("expert")
        .order_by("start_time")
    )
    queues = dict(
        Visit.objects.filter(
            day=day,
            expert_id__in={s.expert_id for s in sessions},
            status__in=[Visit.Status.REGISTERED, Visit.Status.WAITING],
        )
        .values_list("expert_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    doctors: dict[int, DoctorOnDuty] = {}
    for session in sessions:
        sitting = session.start_time <= now.time() < session.end_time
        current = doctors.get(session.expert_id)
        if current is None or (sitting and not current.now_sitting):
            doctors[session.expert_id] = DoctorOnDuty(
                expert=session.expert,
                session=session,
                queue=queues.get(session.expert_id, 0),
                now_sitting=sitting,
            )
    on_duty = sorted(doctors.values(), key=lambda d: (not d.now_sitting, d.session.start_time))
    # Experts of the department without a session today can still be chosen, after the others.
    others = (
        Expert.objects.filter(departments=department, active=True)
        .exclude(pk__in=doctors)
        .order_by("name")
    )
    return on_duty + [
        DoctorOnDuty(expert=e, session=None, queue=0, now_sitting=False) for e in others
    ]


def triage_suggestions(text: str, *, limit: int = 5):
    """Departments whose keywords appear in the complaint typed so far (administrators keep the
    keywords); the most often matched first."""
    text = (text or "").strip()
    if not text:
        return []
    matched = Counter()
    departments = {}
    for keyword in TriageKeyword.objects.filter(department__active=True).select_related(
        "department"
    ):
        if keyword.keyword and keyword.keyword.lower() in text.lower():
            matched[keyword.department_id] += 1
            departments[keyword.department_id] = keyword.department
    return [departments[pk] for pk, _n in matched.most_common(limit)]


def escorts():
    """Staff who may escort a client: the front desk and the VIP managers."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=ESCORT_ROLES)
        .distinct()
        .order_by("first_name", "username")
    )


def open_visit_for(client) -> Visit | None:
    return Visit.objects.filter(
        client=client, status__in=[s for s in Visit.Status.values if s not in ("done", "left")]
    ).first()


def todays_booking_for(client):
    return (
        Booking.objects.filter(
            client=client, status=Booking.Status.BOOKED, session__date=timezone.localdate()
        )
        .select_related("session__department", "session__expert")
        .order_by("session__start_time")
        .first()
    )


# --- Membership cards ---------------------------------------------------------------

CARD_READERS = roles.CARD_READERS
CARD_LIST_LIMIT = 50
EXPIRING_DAYS = 30


def card_get_for_user(user, pk, *, write=False) -> MembershipCard:
    try:
        card = MembershipCard.objects.select_related("client", "issued_by").get(pk=pk)
    except (MembershipCard.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, CARD_WRITERS if write else CARD_READERS)
    return card


def card_list(*, q: str = "", status: str = "", expiring: bool = False, before=None):
    """Newest cards first, by number or client; `expiring`: live cards running out within
    EXPIRING_DAYS days, soonest first."""
    qs = MembershipCard.objects.select_related("client").only(
        "id",
        "number",
        "level",
        "status",
        "valid_from",
        "valid_until",
        "fee",
        "issued_at",
        "client__id",
        "client__name",
        "client__phone",
        "client__is_vip",
    )
    q = (q or "").strip()
    if q:
        query = parse_query(q)
        if query.kind == "card":
            qs = qs.filter(number=query.value)
        else:
            qs = qs.filter(_search_condition(q, "client__"))
    if status:
        qs = qs.filter(status=status)
    if expiring:
        today = timezone.localdate()
        return qs.filter(
            status=MembershipCard.Status.ACTIVE,
            valid_until__range=(today, today + datetime.timedelta(days=EXPIRING_DAYS)),
        ).order_by("valid_until", "pk")[:CARD_LIST_LIMIT]
    return qs.order_by("-id")


def card_history(card):
    return MembershipCardEvent.objects.filter(card=card).select_related("actor")


def card_live_for(client) -> MembershipCard | None:
    return MembershipCard.objects.filter(
        client=client,
        status__in=[MembershipCard.Status.ACTIVE, MembershipCard.Status.SUSPENDED],
    ).first()


def next_card_number() -> str:
    """A suggestion for the next card's number (staff type the printed one when it differs)."""
    # The hospital's own series is ZD and eight digits: fixed width, so the highest sorts last.
    last = (
        MembershipCard.objects.filter(number__startswith="ZD", number__regex=r"^ZD[0-9]{8}$")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"ZD{(int(last[2:]) if last else 0) + 1:08d}"


def clients_by_card_number(value: str) -> list[int]:
    """The client search's card-number lookup (clientmgmt.registry)."""
    return list(MembershipCard.objects.filter(number=value).values_list("client_id", flat=True))


# --- Exam orders --------------------------------------------------------------------

EXAM_READERS = CARD_READERS


def exam_get_for_user(user, pk, *, write=False) -> ExamOrder:
    try:
        order = ExamOrder.objects.select_related(
            "client", "package__price_item", "visit", "ordered_by", "completed_by"
        ).get(pk=pk)
    except (ExamOrder.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, CARD_WRITERS if write else EXAM_READERS)
    return order


def exam_items(order):
    return order.items.select_related("price_item", "done_by").order_by("pk")


def exam_list(*, status: str = ExamOrder.Status.OPEN):
    qs = (
        ExamOrder.objects.select_related("client", "package__price_item")
        .annotate(
            item_count=Count("items"),
            done_count=Count("items", filter=Q(items__done_at__isnull=False)),
        )
        .order_by("-ordered_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def exam_packages():
    return (
        ExamPackage.objects.filter(active=True, price_item__active=True)
        .select_related("price_item")
        .prefetch_related("items")
    )


def exam_orders_awaiting_assessment():
    """Completed exam orders whose post-exam health assessment nobody has started: what the
    follow-up department picks up (then guide.services.exam_order_mark_assessment_started).
    An order with examinations that yield results (exams.ResultDefinition) waits until a
    clinician has released them (exams.ResultRelease, the order's `release`); an order
    without any (the tick-list orders from before results) is taken up once completed."""
    yields_results = ExamOrderItem.objects.filter(
        order=OuterRef("pk"), price_item__result_definition__isnull=False
    )
    return (
        ExamOrder.objects.filter(
            status=ExamOrder.Status.COMPLETED, assessment_started_at__isnull=True
        )
        .filter(Q(release__isnull=False) | ~Exists(yields_results))
        .select_related("client", "package__price_item")
        .order_by("completed_at", "pk")
    )


# --- Daily figures ------------------------------------------------------------------


def _percentile(values, fraction):
    """The value below which `fraction` of the values lie (nearest rank); None if none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


@dataclass
class DailyFigures:
    day: datetime.date
    arrivals: int
    walk_ins: int
    by_type: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    bookings: int
    bookings_arrived: int
    bookings_expected: int
    no_shows: int
    left: int
    waiting_median: float | None
    waiting_p90: float | None
    waiting_measured: int
    cards_issued: int
    cards_renewed: int
    card_fees: Decimal
    exam_orders: int
    exams_completed: int
    charges_total: Decimal

    @property
    def arrival_rate(self):
        return round(100 * self.bookings_arrived / self.bookings, 1) if self.bookings else None

    @property
    def no_show_rate(self):
        """The dashboard's no-show rate: no-shows ÷ appointments due (`bookings`)."""
        return round(100 * self.no_shows / self.bookings, 1) if self.bookings else None


def _labelled(counter: Counter, labels: dict, unknown: str) -> list[tuple[str, int]]:
    rows = [(str(labels.get(key, unknown)), n) for key, n in counter.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def daily_figures(day: datetime.date) -> DailyFigures:
    """The front desk's figures of one day (seed: 做好各种报表的统计): arrivals by type,
    channel and department; bookings against arrivals; no-shows; waiting time from arrival to
    the doctor; cards and exam orders issued; what was charged. A handful of queries over one
    day's rows (visit_day_status_idx and friends)."""
    visits = list(
        Visit.objects.filter(day=day)
        .select_related("department", "channel")
        .only(
            "id",
            "status",
            "visit_type",
            "booking_id",
            "arrived_at",
            "seen_at",
            "department__name",
            "channel__name",
        )
    )
    unknown = _("Not recorded")
    by_type = Counter(v.visit_type for v in visits)
    by_channel = Counter(v.channel.name if v.channel else unknown for v in visits)
    by_department = Counter(v.department.name if v.department else _("Not triaged") for v in visits)
    # Minutes from arrival to the doctor, for the visits that reached the doctor (a clock set
    # wrong at the desk cannot make a wait negative).
    waits = [
        max((v.seen_at - v.arrived_at).total_seconds() / 60, 0.0)
        for v in visits
        if v.seen_at is not None
    ]
    # The dashboard's appointments due (consult.selectors): a booking still open in a session
    # the hospital cancelled is not expected.
    bookings = consult_selectors.appointments_due(day, day)
    booking_counts = bookings.aggregate(
        total=Count("pk"),
        arrived=Count("pk", filter=Q(status=Booking.Status.ARRIVED)),
        expected=Count("pk", filter=Q(status=Booking.Status.BOOKED)),
        no_shows=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
    )
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = start + datetime.timedelta(days=1)
    card_counts = MembershipCardEvent.objects.filter(at__gte=start, at__lt=end).aggregate(
        issued=Count("pk", filter=Q(action=MembershipCardEvent.Action.ISSUED)),
        renewed=Count("pk", filter=Q(action=MembershipCardEvent.Action.RENEWED)),
        fees=Sum("fee"),
    )
    # Only the orders opened or completed that day are read (an aggregate without this WHERE
    # would scan every order ever made).
    exams = ExamOrder.objects.filter(
        Q(ordered_at__gte=start, ordered_at__lt=end)
        | Q(completed_at__gte=start, completed_at__lt=end)
    ).aggregate(
        ordered=Count("pk", filter=Q(ordered_at__gte=start, ordered_at__lt=end)),
        completed=Count("pk", filter=Q(completed_at__gte=start, completed_at__lt=end)),
    )
    charged = Charge.objects.filter(
        charged_at__gte=start, charged_at__lt=end, voided_at__isnull=True
    ).aggregate(total=Sum("amount"))["total"]
    return DailyFigures(
        day=day,
        arrivals=len(visits),
        walk_ins=sum(v.booking_id is None for v in visits),
        by_type=_labelled(by_type, dict(Visit.Type.choices), unknown),
        by_channel=sorted(by_channel.items(), key=lambda row: (-row[1], row[0])),
        by_department=sorted(by_department.items(), key=lambda row: (-row[1], row[0])),
        bookings=booking_counts["total"],
        bookings_arrived=booking_counts["arrived"],
        bookings_expected=booking_counts["expected"],
        no_shows=booking_counts["no_shows"],
        left=sum(v.status == Visit.Status.LEFT for v in visits),
        waiting_median=round(statistics.median(waits), 1) if waits else None,
        waiting_p90=round(_percentile(waits, 0.9), 1) if waits else None,
        waiting_measured=len(waits),
        cards_issued=card_counts["issued"],
        cards_renewed=card_counts["renewed"],
        card_fees=card_counts["fees"] or Decimal("0.00"),
        exam_orders=exams["ordered"],
        exams_completed=exams["completed"],
        charges_total=charged or Decimal("0.00"),
    )


def client_spend(*, client_id: int, since=None, until=None) -> Decimal:
    """What a client was charged (voided lines left out), for VIP qualification."""
    qs = Charge.objects.filter(client_id=client_id, voided_at__isnull=True)
    if since is not None:
        qs = qs.filter(charged_at__gte=since)
    if until is not None:
        qs = qs.filter(charged_at__lt=until)
    return qs.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


# --- The client page's timeline -------------------------------------------------------
# Three sources (clientmgmt.registry): the registry reads them with every other department's in
# one UNION ALL, so the client page keeps its query count.

_TEXT = CharField()
_MONEY = DecimalField(max_digits=12, decimal_places=2)


def visit_rows(client):
    charged = (
        Charge.objects.filter(visit=OuterRef("pk"), voided_at__isnull=True)
        .values("visit")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Visit.objects.filter(client=client).values(
        **timeline_columns(
            kind="visit",
            at="arrived_at",
            status="status",
            first="visit_type",
            second=Concat(
                "department__name", Value(" · "), "department__floor", output_field=_TEXT
            ),
            third=Concat(
                Coalesce("expert__name", Value("")),
                Value(" "),
                "chief_complaint",
                output_field=_TEXT,
            ),
            amount=Subquery(charged, output_field=_MONEY),
        )
    )


def visit_entry(row) -> TimelineEntry:
    detail = [Visit.Type(row["t_first"]).label, row["t_second"], row["t_third"].strip()]
    if row["t_amount"]:
        detail.append(_("charged ¥%(amount)s") % {"amount": _money(row["t_amount"])})
    return TimelineEntry(
        at=row["t_at"],
        kind="visit",
        title=_("Visit (%(status)s)") % {"status": Visit.Status(row["t_status"]).label},
        detail=" · ".join(str(part) for part in detail if part),
        url=row_link("guide:visit_detail")(row["t_number"]),
        view_name="guide:visit_detail",
    )


def card_rows(client):
    return MembershipCardEvent.objects.filter(card__client=client).values(
        **timeline_columns(
            kind="card",
            at="at",
            number="card_id",
            status="action",
            first="card__number",
            second="card__level",
            third="valid_until",
            actor=user_name("actor"),
            amount=Cast("fee", _MONEY),
        )
    )


def card_entry(row) -> TimelineEntry:
    detail = [MembershipCard.Level(row["t_second"]).label]
    if row["t_third"]:
        detail.append(_("valid until %(date)s") % {"date": row["t_third"][:10]})
    if row["t_amount"]:
        detail.append(_("fee ¥%(amount)s") % {"amount": _money(row["t_amount"])})
    return TimelineEntry(
        at=row["t_at"],
        kind="card",
        title=_("Membership card %(number)s: %(action)s")
        % {"number": row["t_first"], "action": MembershipCardEvent.Action(row["t_status"]).label},
        detail=" · ".join(str(part) for part in detail),
        actor=row["t_actor"],
        url=row_link("guide:card_detail")(row["t_number"]),
        view_name="guide:card_detail",
    )


def exam_rows(client):
    return ExamOrder.objects.filter(client=client).values(
        **timeline_columns(
            kind="exam",
            at=Coalesce("completed_at", "ordered_at"),
            status="status",
            first="package__price_item__name",
            # The results' summary: the client's health archive shows it (clientmgmt).
            second=Substr("result_summary", 1, 300),
        )
    )


def exam_entry(row) -> TimelineEntry:
    return TimelineEntry(
        at=row["t_at"],
        kind="exam",
        title=_("Exam order #%(number)s: %(status)s")
        % {"number": row["t_number"], "status": ExamOrder.Status(row["t_status"]).label},
        detail=" · ".join(part for part in (row["t_first"], row["t_second"]) if part),
        url=row_link("guide:exam_detail")(row["t_number"]),
        view_name="guide:exam_detail",
    )


def _money(value) -> str:
    # SQLite hands a UNION's decimals back as numbers: show them as yuan and fen, always.
    return f"{Decimal(str(value)):.2f}"


# --- Queue numbers and calling -------------------------------------------------------

CALLING_ROLES = roles.CALLING_DESK
LIVE_TICKET_STATUSES = ("waiting", "called", "skipped")
# The display shows this many numbers called and waiting: what a screen across a room can hold.
DISPLAY_CALLED = 4
DISPLAY_WAITING = 12


def queue_version(*, department_id, day=None) -> str:
    """The version of a department's queue today (zhongdu.live): one indexed lookup."""
    day = day or timezone.localdate()
    counter = (
        QueueCounter.objects.filter(department_id=department_id, day=day)
        .values_list("version", flat=True)
        .first()
    )
    return live.version(day, counter)


def display_screen_live(token: str, *, day=None) -> DisplayScreen | None:
    """The live screen of a display link, with its department and its queue's version today
    (`queue_version`), in ONE query on two unique indexes (the token, the counter's department
    and day): every poll of every screen asks it. None for an unknown or revoked link."""
    day = day or timezone.localdate()
    if not token or len(token) > 64:
        return None
    version = QueueCounter.objects.filter(department=OuterRef("department"), day=day).values(
        "version"
    )[:1]
    try:
        screen = (
            DisplayScreen.objects.filter(token=token, revoked_at__isnull=True)
            .select_related("department")
            .annotate(counter=Subquery(version))
            .get()
        )
    except DisplayScreen.DoesNotExist:
        return None
    screen.queue_version = live.version(day, screen.counter)
    return screen


def display_screens():
    return DisplayScreen.objects.select_related("department", "created_by").order_by(
        "revoked_at", "department__sort_order", "name"
    )


def display_screen_get_for_user(user, pk) -> DisplayScreen:
    try:
        screen = DisplayScreen.objects.get(pk=pk)
    except (DisplayScreen.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, roles.DISPLAY_KEEPERS)
    return screen


def ticket_get_for_user(user, pk) -> QueueTicket:
    """The one way the calling station fetches a queue number: 404 if none, 403 if the user
    does not call patients."""
    try:
        ticket = QueueTicket.objects.select_related("visit", "department").get(pk=pk)
    except (QueueTicket.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(user, CALLING_ROLES)
    return ticket


@dataclass
class QueueRow:
    ticket_id: int
    number: str
    name: str
    status: str
    status_label: str
    doctor: str
    state: str
    calls: int
    called_at: datetime.datetime | None
    priority: bool
    visit_url: str = ""


@dataclass
class QueueBoard:
    department: Department
    called: list[QueueRow]
    waiting: list[QueueRow]
    skipped: list[QueueRow]

    @property
    def next(self) -> QueueRow | None:
        return self.waiting[0] if self.waiting else None


def queue_board(*, department, expert=None, reader=None, day=None) -> QueueBoard:
    """A department's live queue today (the numbers called, waiting and skipped), for the
    calling station (`reader`: names as that user may see them, clientmgmt's rule) or for the
    waiting-room display (no reader: names masked, 张*伟). With `expert`, the numbers for that
    doctor and those for any doctor. Waiting: VIPs first (seed: priority), then by number. Two
    queries (the tickets; for a reader, the discretion rule)."""
    from clientmgmt.selectors import clients_shown_for_user

    day = day or timezone.localdate()
    tickets = QueueTicket.objects.filter(
        department=department, day=day, status__in=LIVE_TICKET_STATUSES
    ).select_related("visit__client", "expert")
    if expert is not None:
        tickets = tickets.filter(Q(expert=expert) | Q(expert__isnull=True))
    tickets = list(tickets.order_by("number"))
    clients = [ticket.visit.client for ticket in tickets]
    if reader is None:
        names = [mask_name(client.name) for client in clients]
    else:
        names = [shown.name or "" for shown in clients_shown_for_user(reader, clients)]
    rows = []
    for ticket, name in zip(tickets, names, strict=True):
        rows.append(
            QueueRow(
                ticket_id=ticket.pk,
                number=ticket.label,
                name=name,
                status=ticket.status,
                status_label=QueueTicket.Status(ticket.status).label,
                doctor=ticket.expert.name if ticket.expert else "",
                state=ticket.state,
                calls=ticket.calls,
                called_at=ticket.called_at,
                priority=ticket.visit.priority,
                visit_url=reverse("guide:visit_detail", args=[ticket.visit_id])
                if reader is not None
                else "",
            )
        )
    called = sorted(
        (row for row in rows if row.status == "called"), key=lambda row: row.called_at, reverse=True
    )
    waiting = sorted(
        (row for row in rows if row.status == "waiting"), key=lambda row: not row.priority
    )
    skipped = [row for row in rows if row.status == "skipped"]
    return QueueBoard(department=department, called=called, waiting=waiting, skipped=skipped)
