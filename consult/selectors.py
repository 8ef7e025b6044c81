"""Reads of Consultation desk: querysets that already select_related what their page shows."""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Least, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name
from clientmgmt.search import parse_query
from clientmgmt.selectors import client_search
from referrals.models import Referral
from zhongdu import roles
from zhongdu.converters import row_id
from zhongdu.links import row_link
from zhongdu.models import ClinicSession

from .models import Booking, BookingEvent, BookingPolicy, Enquiry, Recall

_TEXT = TextField()

# Roles that book, reschedule and cancel (everyone else with access reads).
BOOKING_WRITERS = roles.CLIENT_EDITORS

BOOKABLE_DAYS = 7
NEXT_FREE_LIMIT = 5
NEXT_FREE_DAYS = 7
BOOKABLE_LIMIT = 100


def booking_get_for_user(user, pk, *, write=False) -> Booking:
    """The one way views fetch a booking: 404 if there is none, 403 if the user may not."""
    try:
        booking = Booking.objects.select_related(
            "client", "session__expert", "session__department", "created_by", "enquiry"
        ).get(pk=pk)
    except (Booking.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not (roles.user_roles(user) & BOOKING_WRITERS):
        raise PermissionDenied
    return booking


def booking_list(
    *, day: datetime.date, days: int = 1, department=None, expert=None, status: str = ""
):
    """The bookings of `days` days' sessions from `day`, in session order: one query whatever
    their number."""
    qs = (
        Booking.objects.filter(session__date__range=(day, day + datetime.timedelta(days=days - 1)))
        .select_related("client", "session__expert", "session__department")
        .only(
            "id",
            "kind",
            "status",
            "priority",
            "note",
            "client__id",
            "client__name",
            "client__phone",
            "client__is_vip",
            "session__id",
            "session__date",
            "session__start_time",
            "session__end_time",
            "session__expert__name",
            "session__expert__title",
            "session__department__name",
            "session__department__floor",
        )
        .order_by(
            "session__date", "session__start_time", "session__expert__name", "-priority", "id"
        )
    )
    if department is not None:
        qs = qs.filter(session__department=department)
    if expert is not None:
        qs = qs.filter(session__expert=expert)
    if status:
        qs = qs.filter(status=status)
    return qs


# --- The week calendar ----------------------------------------------------------------
# Plain rows with their display strings prepared here, so the template only prints them: a busy
# week holds thousands of bookings, and every filter or method call per cell costs (see
# CONVENTIONS.md, performance habits).


@dataclass
class WeekBooking:
    name: str
    status: str
    status_label: str
    vip: bool
    url: str
    priority: bool = False


@dataclass
class WeekSession:
    time: str  # "08:30–11:30"
    expert: str
    department: str  # "Dermatology (2F)"
    places: str  # "3/20": booked / capacity
    full: bool
    cancelled: bool
    bookings: list[WeekBooking] = field(default_factory=list)


@dataclass
class WeekDay:
    date: datetime.date
    label: str  # "Mon 03-02" in the current language
    iso: str  # "2026-03-02", for the link to the day's table
    today: bool
    sessions: list[WeekSession] = field(default_factory=list)


def booking_week(*, monday: datetime.date, department=None, expert=None, status: str = ""):
    """The week from `monday` as seven days, each with its sessions (of the department and
    expert, if given) and under each session its bookings (of the status, if given). Two queries
    whatever the number of sessions and bookings (session_date_dept_idx, then
    booking_session_status_idx). With a status filter, sessions without such a booking are left
    out: the week then answers "where are the no-shows?", not "which clinics run?"."""
    sunday = monday + datetime.timedelta(days=6)
    sessions = ClinicSession.objects.filter(date__range=(monday, sunday))
    bookings = Booking.objects.filter(session__date__range=(monday, sunday))
    if department is not None:
        sessions = sessions.filter(department=department)
        bookings = bookings.filter(session__department=department)
    if expert is not None:
        sessions = sessions.filter(expert=expert)
        bookings = bookings.filter(session__expert=expert)
    if status:
        bookings = bookings.filter(status=status)

    labels = {value: str(label) for value, label in Booking.Status.choices}
    url = row_link("consult:booking_detail")
    per_session: dict[int, list[WeekBooking]] = {}
    rows = bookings.order_by("-priority", "id").values_list(
        "id", "session_id", "status", "priority", "client__name", "client__is_vip"
    )
    for pk, session_id, booking_status, priority, name, is_vip in rows:
        per_session.setdefault(session_id, []).append(
            WeekBooking(
                name=name,
                status=booking_status,
                status_label=labels.get(booking_status, booking_status),
                vip=is_vip,
                url=url(pk),
                priority=priority,
            )
        )

    today = timezone.localdate()
    days = []
    for offset in range(7):
        date = monday + datetime.timedelta(days=offset)
        label = formats.date_format(date, "D m-d")
        days.append(WeekDay(date=date, label=label, iso=date.isoformat(), today=date == today))
    cancelled = ClinicSession.Status.CANCELLED
    session_rows = sessions.order_by("date", "start_time", "expert__name", "pk").values_list(
        "pk",
        "date",
        "start_time",
        "end_time",
        "capacity",
        "booked",
        "status",
        "expert__name",
        "department__name",
        "department__floor",
    )
    for (
        pk,
        date,
        start,
        end,
        capacity,
        booked,
        session_status,
        expert_name,
        dept,
        floor,
    ) in session_rows:
        session_bookings = per_session.get(pk, [])
        if status and not session_bookings:
            continue
        days[(date - monday).days].sessions.append(
            WeekSession(
                time=f"{start:%H:%M}–{end:%H:%M}",
                expert=expert_name,
                department=f"{dept} ({floor})" if floor else dept,
                places=f"{booked}/{capacity}",
                full=booked >= capacity,
                cancelled=session_status == cancelled,
                bookings=session_bookings,
            )
        )
    return days


# The booking reminder's idempotency key (consult.services._reminder_key) names its booking.
REMINDER_KEY = re.compile(r"booking:([0-9]{1,18}):reminder:([0-9]{1,18})")


def booking_for_reminder(idempotency_key: str) -> Booking | None:
    """The booking a reminder message was written for, or None (another message, or a booking
    moved to another session since: a key pressed on the old appointment's reminder is not an
    answer about the new one)."""
    match = REMINDER_KEY.match(idempotency_key or "")
    if match is None:
        return None
    return (
        Booking.objects.select_related("client", "session")
        .filter(pk=int(match[1]), session_id=int(match[2]))
        .first()
    )


def booking_history(booking):
    return BookingEvent.objects.filter(booking=booking).select_related(
        "actor", "from_session__expert", "to_session__expert"
    )


def _not_over(qs):
    """Leave out today's sessions that have already ended: nobody can be booked into them."""
    now = timezone.localtime()
    return qs.exclude(date=now.date(), end_time__lte=now.time())


def _with_free_places(qs, *, vip: bool):
    """Sessions with a place this client may take; annotates `free` (places they may book),
    `held` (the places held back for VIPs, BookingPolicy.held_for_vip: integer division on
    Postgres and SQLite, as consult.services._take_place counts them) and `held_free` (how many
    of those are still free: the held places are the last to go, so they are what is left of
    the session up to their number)."""
    share = BookingPolicy.current().vip_share_percent
    held = ExpressionWrapper(F("capacity") * Value(share) / Value(100), output_field=IntegerField())
    limit = F("capacity") if vip else F("capacity") - F("held")
    free = ExpressionWrapper(limit - F("booked"), output_field=IntegerField())
    held_free = ExpressionWrapper(
        Least(F("held"), F("capacity") - F("booked")), output_field=IntegerField()
    )
    return (
        _not_over(qs)
        .annotate(held=held)
        .annotate(free=free, held_free=held_free)
        .filter(free__gt=0)
    )


def sessions_bookable(
    *, vip: bool = False, department=None, expert=None, today=None, days: int = BOOKABLE_DAYS
):
    """Scheduled sessions from today for `days` days with a free place, earliest first."""
    today = today or timezone.localdate()
    qs = ClinicSession.objects.filter(
        date__range=(today, today + datetime.timedelta(days=days - 1)),
        status=ClinicSession.Status.SCHEDULED,
    ).select_related("expert", "department")
    if department is not None:
        qs = qs.filter(department=department)
    if expert is not None:
        qs = qs.filter(expert=expert)
    return _with_free_places(qs, vip=vip).order_by("date", "start_time", "pk")[:BOOKABLE_LIMIT]


def sessions_next_free(*, session, vip: bool = False, today=None, limit: int = NEXT_FREE_LIMIT):
    """The next sessions with a free place of the same expert, then of the same department,
    over the coming week: what a consultant offers when a place was just taken."""
    today = today or timezone.localdate()
    window = ClinicSession.objects.filter(
        date__range=(today, today + datetime.timedelta(days=NEXT_FREE_DAYS - 1)),
        status=ClinicSession.Status.SCHEDULED,
    ).exclude(pk=session.pk)
    same_expert = list(
        _with_free_places(window.filter(expert_id=session.expert_id), vip=vip)
        .select_related("expert", "department")
        .order_by("date", "start_time", "pk")[:limit]
    )
    if len(same_expert) >= limit:
        return same_expert
    others = (
        _with_free_places(
            window.filter(department_id=session.department_id).exclude(expert_id=session.expert_id),
            vip=vip,
        )
        .select_related("expert", "department")
        .order_by("date", "start_time", "pk")[: limit - len(same_expert)]
    )
    return same_expert + list(others)


def booking_rows(client):
    """The client's bookings, for the client page's timeline (clientmgmt.registry)."""
    return Booking.objects.filter(client=client).values(
        **timeline_columns(
            kind="booking",
            at="created_at",
            status="status",
            first=Concat(
                Cast("session__date", _TEXT),
                Value(" "),
                Cast("session__start_time", _TEXT),
                output_field=_TEXT,
            ),
            second="session__expert__name",
            # department|kind|P: "P" marks a VIP booking served first (the "Priority" badge).
            third=Concat(
                "session__department__name",
                Value("|"),
                "kind",
                Value("|"),
                Case(When(priority=True, then=Value("P")), default=Value("")),
                output_field=_TEXT,
            ),
        )
    )


def booking_entry(row) -> TimelineEntry:
    department, kind, priority = [*row["t_third"].split("|"), "", ""][:3]
    return TimelineEntry(
        at=row["t_at"],
        kind="booking",
        title=_("Booking: %(date)s %(time)s %(expert)s (%(status)s)")
        % {
            "date": row["t_first"][:10],
            "time": row["t_first"][11:16],
            "expert": row["t_second"],
            "status": Booking.Status(row["t_status"]).label,
        },
        detail=f"{department} · {Booking.Kind(kind).label}" if kind in Booking.Kind.values else "",
        url=row_link("consult:booking_detail")(row["t_number"]),
        view_name="consult:booking_detail",
        badge=pgettext("booking", "Priority") if priority == "P" else "",
    )


# --- Enquiries ----------------------------------------------------------------------

# Roles that take calls and work the queue (the manager only looks at it).
CALL_TAKERS = roles.CLIENT_EDITORS
QUEUE_LIMIT = 100


def callers_by_phone(raw: str) -> list:
    """The clients with this number, however it was written (what a telephone system pops).
    A partial number finds nobody: a pop must name the caller, not guess."""
    query = parse_query(raw)
    if query.kind != "phone":
        return []
    return client_search(query)


def enquiry_for_booking(pk, *, client) -> Enquiry | None:
    """The enquiry a booking is made from (`?enquiry=` on the new-booking page): None when none
    is named; 404 when it does not exist or is not the client's (nor a prospect's from the
    client's number), so a wrong link never books against somebody else's enquiry."""
    if pk in (None, ""):
        return None
    try:
        enquiry = Enquiry.objects.get(pk=int(pk))
    except (Enquiry.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    if not enquiry.is_from(client):
        raise Http404
    return enquiry


def enquiry_followed(pk) -> Enquiry | None:
    """The queued enquiry a call answers (`?follows=` on the call screen), if it is still open."""
    try:
        return Enquiry.objects.select_related("client").filter(pk=int(pk), handled=False).first()
    except (TypeError, ValueError):
        return None


def _queue_rows(qs):
    return qs.select_related("client", "department", "consultant").only(
        "id",
        "prospect_name",
        "prospect_phone",
        "contact_channel",
        "outcome",
        "topic",
        "question",
        "call_back_date",
        "preferred_date",
        "created_at",
        "consents",
        "notice_version",
        "client__id",
        "client__name",
        "client__phone",
        "department__id",
        "department__name",
        "consultant__id",
        "consultant__username",
        "consultant__first_name",
        "consultant__last_name",
    )


def enquiry_callbacks_due(*, consultant, today=None):
    """The consultant's call-backs due today or overdue, oldest first
    (enquiry_consultant_cb_idx)."""
    today = today or timezone.localdate()
    qs = Enquiry.objects.filter(
        consultant=consultant,
        handled=False,
        outcome=Enquiry.Outcome.CALL_BACK,
        call_back_date__lte=today,
    ).order_by("call_back_date", "created_at")
    return _queue_rows(qs)[:QUEUE_LIMIT]


def online_request_get_for_user(user, pk, *, write=False) -> Enquiry:
    """The one way to fetch an online booking request (a form sent from /book/, on the queue):
    404 if there is none; 403 unless the user works the queue (with `write`: takes calls)."""
    try:
        enquiry = Enquiry.objects.select_related("client", "department").get(
            pk=pk, contact_channel=Enquiry.ContactChannel.ONLINE_FORM
        )
    except (Enquiry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    allowed = CALL_TAKERS if write else CALL_TAKERS | {roles.MANAGER}
    if not roles.user_roles(user) & allowed:
        raise PermissionDenied
    return enquiry


def call_back_get_for_user(user, pk, *, write=False) -> Enquiry:
    """The one way to fetch an enquiry whose caller was promised a call back (the queue's "my
    call-backs due"): 404 if there is none; 403 unless the user works the queue (with `write`:
    takes calls). Another consultant may cover a colleague's promise."""
    try:
        enquiry = Enquiry.objects.select_related("client", "department").get(
            pk=pk, outcome=Enquiry.Outcome.CALL_BACK
        )
    except (Enquiry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    allowed = CALL_TAKERS if write else CALL_TAKERS | {roles.MANAGER}
    if not roles.user_roles(user) & allowed:
        raise PermissionDenied
    return enquiry


def enquiry_online_requests():
    """Online booking requests nobody has handled, oldest first, for every consultant
    (enquiry_form_unhandled_idx)."""
    qs = Enquiry.objects.filter(
        contact_channel=Enquiry.ContactChannel.ONLINE_FORM, handled=False
    ).order_by("created_at")
    return _queue_rows(qs)[:QUEUE_LIMIT]


def enquiry_rows(client):
    """The client's enquiries, for the client page's timeline (clientmgmt.registry)."""
    return Enquiry.objects.filter(client=client).values(
        **timeline_columns(
            kind="enquiry",
            at="created_at",
            status="outcome",
            first="contact_channel",
            second=Concat(
                Coalesce("department__name", Value("")), Value("|"), "topic", output_field=_TEXT
            ),
            third=Substr("question", 1, 200),
            actor=user_name("consultant"),
        )
    )


def enquiry_entry(row) -> TimelineEntry:
    department, _sep, topic = row["t_second"].partition("|")
    channel, outcome = row["t_first"], row["t_status"]
    return TimelineEntry(
        at=row["t_at"],
        kind="enquiry",
        title=_("Enquiry (%(channel)s): %(outcome)s")
        % {
            "channel": Enquiry.ContactChannel(channel).label,
            "outcome": Enquiry.Outcome(outcome).label if outcome else _("not handled yet"),
        },
        detail=" · ".join(part for part in (department, topic, row["t_third"]) if part),
        actor=row["t_actor"],
    )


# --- No-shows and recall ------------------------------------------------------------

FIGURES_DAYS = 30


def recall_get_for_user(user, pk, *, write=False) -> Recall:
    """The one way views fetch a recall: 404 if there is none, 403 if the user may not."""
    try:
        recall = Recall.objects.select_related(
            "client",
            "booking__session__expert",
            "booking__session__department",
            "rebooking__session__expert",
            "handled_by",
            "assigned_to",
        ).get(pk=pk)
    except (Recall.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    user_roles = roles.user_roles(user)
    if recall.is_callback and not user_roles & roles.CALLBACK_READERS:
        raise PermissionDenied  # the hotline's callers are called back by those who answer it
    takers = roles.CALLBACK_TAKERS if recall.is_callback else CALL_TAKERS
    if write and not (user_roles & takers):
        raise PermissionDenied
    return recall


def _due(*, today=None, kind: str = "", assigned_to=None):
    today = today or timezone.localdate()
    recalls = Recall.objects.filter(status=Recall.Status.OPEN, next_attempt_on__lte=today)
    if kind:
        recalls = recalls.filter(kind=kind)
    if assigned_to is not None:
        recalls = recalls.filter(assigned_to=assigned_to)
    return recalls


def recalls_due_counts(**filters) -> dict:
    """How many recalls recalls_due(**filters) has in all (it shows the first QUEUE_LIMIT), and
    how many of them are past their deadline: one aggregate (recall_open_due_idx)."""
    return _due(**filters).aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=timezone.now()))
    )


def recalls_due(*, today=None, kind: str = "", assigned_to=None):
    """Open recalls whose next call is due today or overdue, for every consultant
    (recall_open_due_idx): no-shows and the hotline's callbacks, or one `kind`, or those
    `assigned_to` a user. The callbacks' deadlines first, then the days, oldest first; the first
    QUEUE_LIMIT."""
    recalls = _due(today=today, kind=kind, assigned_to=assigned_to)
    return (
        recalls.select_related(
            "client",
            "booking__session__expert",
            "booking__session__department",
            "assigned_to",
        )
        .only(
            "id",
            "kind",
            "status",
            "phone",
            "due_at",
            "attempts",
            "next_attempt_on",
            "client__id",
            "client__name",
            "client__phone",
            "client__is_vip",
            "booking__id",
            "booking__priority",
            "booking__session__id",
            "booking__session__date",
            "booking__session__start_time",
            "booking__session__expert__name",
            "booking__session__department__name",
            "assigned_to__id",
            "assigned_to__username",
            "assigned_to__first_name",
            "assigned_to__last_name",
        )
        .order_by(F("due_at").asc(nulls_last=True), "next_attempt_on", "pk")[:QUEUE_LIMIT]
    )


# How long after a callback reached its caller the call screen still opens from it.
CALLBACK_FOLLOWED_FOR = datetime.timedelta(hours=12)


def callback_followed(pk) -> Recall | None:
    """The callback task the call screen was opened from (`?recall=`), when it is one still
    open or just reached (the outcome form sends the consultant here to record the call)."""
    pk = row_id(pk)
    if pk is None:
        return None
    recent = Q(reached_at__gte=timezone.now() - CALLBACK_FOLLOWED_FOR)
    callbacks = Recall.objects.filter(kind=Recall.Kind.CALLBACK, pk=pk)
    return callbacks.filter(Q(status=Recall.Status.OPEN) | recent).first()


def recall_figures(*, today=None, days: int = FIGURES_DAYS) -> dict:
    """Over the appointments due (appointments_due) whose session is over, of the last `days`
    days (one query): how many, how many were no-shows (and the rate, in %), and of their
    recalls how many reached the client and how many rebooked them."""
    now = timezone.localtime()
    today = today or now.date()
    since = today - datetime.timedelta(days=days)
    over = (
        Q(session__date__lt=today) | Q(session__date=today, session__end_time__lte=now.time())
        if today == now.date()
        else Q(session__date__lt=today)
    )
    # The dashboard's no-show rate (no-shows ÷ appointments due), over the sessions that are over.
    figures = (
        appointments_due(since, today)
        .filter(over)
        .aggregate(
            over=Count("pk"),
            no_shows=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
            reached=Count("recall", filter=Q(recall__reached_at__isnull=False)),
            rebooked=Count("recall", filter=Q(recall__status=Recall.Status.REBOOKED)),
        )
    )
    figures["rate"] = (
        round(100 * figures["no_shows"] / figures["over"], 1) if figures["over"] else 0
    )
    figures["days"] = days
    return figures


# --- The queue's rows -----------------------------------------------------------------
# The queue page (views.queue) shows its call-backs, online requests, recalls and referred
# clients as rows prepared here, each value worked out once per row rather than per cell in the
# template: dates as text, phones masked (the models' own *_masked), the addresses filled in
# from a pattern reversed once (zhongdu.links.row_link, or the call screen's address reversed
# once per page). No query beyond what the lists' own selectors read.


def _day(value) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _truncated(text: str, length: int = 80) -> str:
    """As the truncatechars filter cuts a note or a message."""
    return Truncator(text).chars(length)


@dataclass
class EnquiryRow:
    """A call-back or an online request on the queue."""

    pk: int
    caller_name: str
    phone: str  # masked
    department: str  # "" for none
    call_url: str  # the call screen for this enquiry
    due: str = ""  # a call-back's date
    topic: str = ""
    received: str = ""  # an online request's date and time
    preferred_date: str = ""
    question: str = ""
    consents: str = ""  # what the person agreed to, "—" for nothing
    notice_version: str = ""


def callback_rows(enquiries) -> list[EnquiryRow]:
    """The consultant's call-backs due (enquiry_callbacks_due) as the queue shows them."""
    call_url = reverse("consult:call")
    rows = []
    for enquiry in enquiries:
        client = f"client={enquiry.client_id}&" if enquiry.client_id else ""
        rows.append(
            EnquiryRow(
                pk=enquiry.pk,
                caller_name=enquiry.caller_name,
                phone=enquiry.caller_phone_masked,
                department=enquiry.department.name if enquiry.department_id else "",
                call_url=f"{call_url}?{client}follows={enquiry.pk}",
                due=_day(enquiry.call_back_date),
                topic=enquiry.topic,
            )
        )
    return rows


def online_request_rows(enquiries) -> list[EnquiryRow]:
    """The online booking requests waiting (enquiry_online_requests) as the queue shows them:
    the Call link names the request, never the number."""
    call_url = reverse("consult:call")
    return [
        EnquiryRow(
            pk=enquiry.pk,
            caller_name=enquiry.caller_name,
            phone=enquiry.caller_phone_masked,
            department=enquiry.department.name if enquiry.department_id else "",
            call_url=f"{call_url}?follows={enquiry.pk}",
            received=timezone.localtime(enquiry.created_at).strftime("%Y-%m-%d %H:%M"),
            preferred_date=_day(enquiry.preferred_date),
            question=_truncated(enquiry.question),
            consents="、".join(str(label) for label in enquiry.consent_labels) or "—",
            notice_version=enquiry.notice_version,
        )
        for enquiry in enquiries
    ]


# The bookings clients made or changed on the portal that the queue shows: the last day's.
PORTAL_QUEUE_HOURS = 24


def bookings_from_portal(*, now=None):
    """The bookings clients made, moved or cancelled themselves on the portal in the last
    PORTAL_QUEUE_HOURS, latest change first (booking_portal_updated_idx)."""
    since = (now or timezone.now()) - datetime.timedelta(hours=PORTAL_QUEUE_HOURS)
    return (
        Booking.objects.filter(source=Booking.Source.PORTAL, updated_at__gte=since)
        .select_related("session__department", "session__expert")
        .order_by("-updated_at", "-pk")[:QUEUE_LIMIT]
    )


@dataclass
class PortalBookingRow:
    number: str
    changed: str
    session: str  # date, time, expert · department
    status: str
    url: str


def portal_booking_rows(bookings) -> list[PortalBookingRow]:
    """The portal's bookings (bookings_from_portal) as the queue shows them: no name or number,
    the booking's page (access-checked) has them."""
    url = row_link("consult:booking_detail")
    statuses = dict(Booking.Status.choices)
    rows = []
    for booking in bookings:
        session = booking.session
        rows.append(
            PortalBookingRow(
                number=f"#{booking.pk}",
                changed=timezone.localtime(booking.updated_at).strftime("%Y-%m-%d %H:%M"),
                session=f"{session.date:%Y-%m-%d} {session.start_time:%H:%M} "
                f"{session.expert.name} · {session.department.name}",
                status=str(statuses[booking.status]),
                url=url(booking.pk),
            )
        )
    return rows


@dataclass
class RecallRow:
    pk: int
    kind: str  # "No-show" or "Callback"
    due: str  # the day, or a callback's deadline (date and time)
    overdue: bool  # a callback past its deadline
    client_name: str  # or, for a caller with no record, what to call them
    priority: bool  # the missed booking was a VIP's: the "Priority" badge
    phone: str  # masked
    missed: str  # the missed appointment (date, time, expert · department), or the calls
    attempts: int
    assigned_to: str
    url: str


# What the apps above say of the recalls they made (the hotline: a callback's calls in words),
# asked once per list: `source(recalls) -> {pk: text}`.
_recall_details: list = []


def register_recall_details(source) -> None:
    if source not in _recall_details:
        _recall_details.append(source)


def recall_rows(recalls) -> list[RecallRow]:
    """The recalls due (recalls_due) as the lists show them (the queue, the hotline's callback
    tasks): a no-show's missed appointment, or what the registered sources say of a callback."""
    url = row_link("consult:recall_detail")
    kinds = dict(Recall.Kind.choices)
    now = timezone.now()
    recalls = list(recalls)
    details = {}
    for source in _recall_details:
        details |= source(recalls)
    rows = []
    for recall in recalls:
        booking = recall.booking
        if booking is not None:
            session = booking.session
            start = f"{session.start_time:%H:%M}" if session.start_time else ""
            expert = session.expert.name if session.expert_id else ""
            department = session.department.name if session.department_id else ""
            missed = f"{_day(session.date)} {start} {expert} · {department}"
        else:
            missed = details.get(recall.pk, "")
        client = recall.client
        if recall.due_at is not None:
            due = timezone.localtime(recall.due_at).strftime("%Y-%m-%d %H:%M")
        else:
            due = _day(recall.next_attempt_on)
        assignee = recall.assigned_to
        rows.append(
            RecallRow(
                pk=recall.pk,
                kind=str(kinds.get(recall.kind, recall.kind)),
                due=due,
                overdue=recall.due_at is not None and recall.due_at < now,
                client_name=client.name if client is not None else _("A caller we do not know yet"),
                priority=booking.priority
                if booking is not None
                else bool(client is not None and client.is_vip),
                phone=recall.number_masked,
                missed=missed,
                attempts=recall.attempts,
                assigned_to=(assignee.get_full_name() or assignee.get_username())
                if assignee is not None
                else "",
                url=url(recall.pk),
            )
        )
    return rows


@dataclass
class ReferralRow:
    """A referred client to call. `pk`, `actions` and `status_url` are what
    referrals/_referral_actions.html reads."""

    pk: int
    created: str
    client_name: str
    client_url: str
    vip: bool
    phone: str  # masked
    source: str
    referrer: str
    note: str
    call_url: str  # the call screen for the client: the number stays out of the address
    actions: list
    status_url: str


def referral_to_call_rows(referrals) -> list[ReferralRow]:
    """The referred clients to call (referrals.selectors.referrals_to_call, which gives each
    its `actions` and `status_url`) as the queue shows them."""
    call_url = reverse("consult:call")
    client_url = row_link("clientmgmt:client_detail")
    sources = {value: str(label) for value, label in Referral.Source.choices}
    rows = []
    for referral in referrals:
        client = referral.client
        rows.append(
            ReferralRow(
                pk=referral.pk,
                created=_day(timezone.localtime(referral.created_at)),
                client_name=client.name,
                client_url=client_url(client.pk),
                vip=client.is_vip,
                phone=client.phone_masked,
                source=sources.get(referral.source, referral.source),
                referrer=referral.referrer,
                note=_truncated(referral.note),
                call_url=f"{call_url}?client={client.pk}",
                actions=referral.actions,
                status_url=referral.status_url,
            )
        )
    return rows


# --- The conversion rules every figure shares -------------------------------------------
# consult.stats (the desk's analysis) and reports.figures (the managers' dashboard, its daily
# rollups and drill-down lists) count with these, so that the same words mean the same rows
# everywhere: an enquiry "led to a booking", a booking "came from an enquiry", "arrived", a
# no-show "was rebooked".

# How long after an enquiry a booking for the same client still counts as its result.
CONVERSION_WINDOW = datetime.timedelta(days=30)


def _conversions():
    """The bookings an enquiry (OuterRef) led to: made from it on the call screen
    (booking_enquiry_idx), whenever; or made for its client within CONVERSION_WINDOW after it
    (booking_client_created_idx). Needs the enquiry annotated with `window_end`."""
    return Booking.objects.filter(
        Q(enquiry=OuterRef("pk"))
        | Q(
            client=OuterRef("client"),
            created_at__gte=OuterRef("created_at"),
            created_at__lte=OuterRef("window_end"),
        )
    )


def enquiries_with_outcome(qs):
    """`qs` (enquiries) annotated with `has_booking` (it led to a booking) and `has_arrival`
    (one of those bookings arrived)."""
    conversions = _conversions()
    return qs.annotate(
        window_end=F("created_at") + CONVERSION_WINDOW,
        has_booking=Exists(conversions),
        has_arrival=Exists(conversions.filter(ARRIVED)),
    )


def enquiries_booked(qs):
    """The enquiries of `qs` that led to a booking: a subset of `qs`, each counted once."""
    return enquiries_with_outcome(qs).filter(has_booking=True)


def bookings_from_enquiry(qs):
    """`qs` (bookings) annotated with `from_enquiry`: made from an enquiry, or made for a client
    who enquired within CONVERSION_WINDOW before (the mirror of _conversions)."""
    recent = Enquiry.objects.filter(
        client=OuterRef("client"),
        created_at__lte=OuterRef("created_at"),
        created_at__gte=OuterRef("window_start"),
    )
    return qs.annotate(
        window_start=F("created_at") - CONVERSION_WINDOW,
        from_enquiry=ExpressionWrapper(
            Q(enquiry__isnull=False) | Exists(recent), output_field=BooleanField()
        ),
    )


def bookings_direct(qs):
    """The bookings of `qs` no enquiry led to (online, at the desk, a client calling to book
    without a recorded enquiry): their own figure, never a rate's numerator."""
    return bookings_from_enquiry(qs).filter(from_enquiry=False)


# A booking's outcomes, as conditions (for a filter, or a Count's filter in consult.stats).
ARRIVED = Q(status=Booking.Status.ARRIVED)  # checked in at the front desk
NO_SHOW = Q(status=Booking.Status.NO_SHOW)  # not checked in by the end of its day
REBOOKED = NO_SHOW & Q(recall__status=Recall.Status.REBOOKED)  # its recall ended in a booking


def bookings_arrived(qs):
    """The bookings of `qs` that were checked in."""
    return qs.filter(ARRIVED)


def bookings_no_show(qs):
    return qs.filter(NO_SHOW)


def no_shows_rebooked(qs):
    """The no-shows of `qs` whose recall ended in a new booking."""
    return qs.filter(REBOOKED)


def first_enquiry_channel():
    """The marketing channel of the client's (OuterRef("client")) first enquiry that names
    one (enquiry_client_created_idx)."""
    return (
        Enquiry.objects.filter(client=OuterRef("client"), marketing_channel__isnull=False)
        .order_by("created_at", "pk")
        .values("marketing_channel")[:1]
    )


def client_channel(*first: str):
    """The channel a client's record is attributed to: the client's own channel (how they
    heard of us), else their first enquiry's; None when neither is recorded. `first` names
    fields tried before them (revenue: the visit's channel)."""
    return Coalesce(
        *first,
        "client__source_channel_id",
        Subquery(first_enquiry_channel()),
        output_field=IntegerField(),
    )


def bookings_with_channel(qs):
    """`qs` (bookings) annotated with `booking_channel`: client_channel(). Bookings carry no
    channel of their own; the dashboard, its drill-down lists and the consultation analysis
    count bookings (and their no-shows and recalls) by this."""
    return qs.annotate(booking_channel=client_channel())


def appointments_due(start: datetime.date, end: datetime.date):
    """The bookings for sessions from `start` to `end`: cancelled ones left out, and those still
    open in a session the hospital cancelled (the end-of-day sweep leaves them alone, so they
    would otherwise stay expected for ever). The front desk's day figures and the dashboard's
    appointments due, no-shows and recall recovery count these."""
    return (
        Booking.objects.filter(session__date__range=(start, end))
        .exclude(status=Booking.Status.CANCELLED)
        .exclude(status=Booking.Status.BOOKED, session__status=ClinicSession.Status.CANCELLED)
    )
