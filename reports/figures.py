"""Every figure of the managers' dashboard, defined once: what it counts, from which records,
for one day, aggregated in SQL (one query per figure and breakdown, no loop over rows).

A figure is counted on the day its event happens (an enquiry on the day it came in, a booking on
the day it was made, an arrival on the day of the visit, revenue on the day it was charged). The
funnel's steps are therefore the period's flows, not one cohort followed through: "enquiries 120
→ bookings 80" reads "this month 120 enquiries came in and 80 bookings were made". Each figure's
`definition` says exactly that on the page.

reports.rollups keeps DailyFigure rows from these definitions; the dashboard sums them (and
computes today live).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint
from consult.models import Booking, Enquiry, Recall
from followup.models import FollowUpCall
from guide.models import Charge, Visit
from messaging.models import OutboxMessage

CHANNEL, DEPARTMENT = "channel", "department"


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


@dataclass(frozen=True)
class Figure:
    key: str
    label: object
    definition: object
    # (day) -> {(dimension, id): value}; dimension "" is the whole centre.
    compute: object
    dimensions: tuple = ()
    money: bool = False
    extras: dict = field(default_factory=dict)


def _grouped(qs, value, dimensions: dict) -> dict:
    """{("", 0): overall} plus {(dimension, id): value} for each breakdown: one query each."""
    result = {("", 0): qs.aggregate(v=value)["v"] or 0}
    for dimension, path in dimensions.items():
        rows = qs.values_list(path).annotate(v=value).order_by()
        for pk, amount in rows:
            result[(dimension, pk or 0)] = amount or 0
    return result


def _count(model_qs_for_day, dimensions=None):
    def compute(day):
        return _grouped(model_qs_for_day(day), Count("pk"), dimensions or {})

    return compute


def _created(model, field_name="created_at"):
    def qs(day):
        start, end = day_bounds(day)
        return model.objects.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})

    return qs


def _visits(day, **filters):
    return Visit.objects.filter(day=day, **filters)


def _revenue(day):
    start, end = day_bounds(day)
    qs = Charge.objects.filter(voided_at__isnull=True, charged_at__gte=start, charged_at__lt=end)
    return _grouped(
        qs, Sum("amount"), {CHANNEL: "visit__channel_id", DEPARTMENT: "visit__department_id"}
    )


def _bookings_due(day):
    return Booking.objects.filter(session__date=day).exclude(status=Booking.Status.CANCELLED)


def _sms(status_filter):
    def compute(day):
        start, end = day_bounds(day)
        qs = OutboxMessage.objects.filter(created_at__gte=start, created_at__lt=end).filter(
            status_filter
        )
        return _grouped(qs, Count("pk"), {})

    return compute


def _calls_due(day, **filters):
    # planned_on, not due_on: an unanswered call moves on to the next working day, but it was
    # due on the day it was planned for.
    return FollowUpCall.objects.filter(planned_on=day, **filters).exclude(
        status=FollowUpCall.Status.CANCELLED
    )


FIGURES = [
    Figure(
        "enquiries",
        _("Enquiries"),
        _("Enquiries recorded that day (phone, web, WeChat, online form, in person)."),
        _count(_created(Enquiry), {CHANNEL: "marketing_channel_id"}),
        (CHANNEL,),
    ),
    Figure(
        "bookings",
        _("Bookings made"),
        _("Bookings made that day, whatever became of them; by the client's channel."),
        _count(_created(Booking), {CHANNEL: "client__source_channel_id"}),
        (CHANNEL,),
    ),
    Figure(
        "arrivals",
        _("Arrivals"),
        _("Visits registered at the front desk that day: checked-in bookings and walk-ins."),
        _count(lambda day: _visits(day), {CHANNEL: "channel_id", DEPARTMENT: "department_id"}),
        (CHANNEL, DEPARTMENT),
    ),
    Figure(
        "first_visits",
        _("First visits"),
        _("Arrivals whose visit type is a first visit: new clients."),
        _count(lambda day: _visits(day, visit_type=Visit.Type.FIRST), {CHANNEL: "channel_id"}),
        (CHANNEL,),
    ),
    Figure(
        "return_visits",
        _("Return visits (复诊)"),
        _("Arrivals whose visit type is a return visit."),
        _count(lambda day: _visits(day, visit_type=Visit.Type.RETURN), {CHANNEL: "channel_id"}),
        (CHANNEL,),
    ),
    Figure(
        "revenue",
        _("Revenue"),
        _("Charges recorded that day, voided lines left out (yuan)."),
        _revenue,
        (CHANNEL, DEPARTMENT),
        money=True,
    ),
    Figure(
        "bookings_due",
        _("Appointments due"),
        _("Bookings for that day's sessions, cancelled ones left out."),
        _count(_bookings_due),
    ),
    Figure(
        "no_shows",
        _("No-shows"),
        _("Bookings for that day's sessions not checked in by the end of the day."),
        _count(lambda day: _bookings_due(day).filter(status=Booking.Status.NO_SHOW)),
    ),
    Figure(
        "recalls_reached",
        _("Recalls reached"),
        _("No-shows the consultants reached on the phone that day."),
        _count(_created(Recall, "reached_at")),
    ),
    Figure(
        "recalls_rebooked",
        _("Recalls rebooked"),
        _("No-shows rebooked, counted on the day the recall was settled."),
        _count(
            lambda day: _created(Recall, "handled_at")(day).filter(status=Recall.Status.REBOOKED)
        ),
    ),
    Figure(
        "complaints",
        _("Complaints received"),
        _("Complaints recorded that day, from any channel."),
        _count(_created(Complaint, "received_at"), {DEPARTMENT: "department_id"}),
        (DEPARTMENT,),
    ),
    Figure(
        "sms_sent",
        _("SMS sent"),
        _("Messages written that day that reached the provider (sent or delivered)."),
        _sms(Q(status__in=[OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED])),
    ),
    Figure(
        "sms_delivered",
        _("SMS delivered"),
        _("Messages written that day that the provider reported delivered."),
        _sms(Q(status=OutboxMessage.Status.DELIVERED)),
    ),
    Figure(
        "sms_failed",
        _("SMS failed"),
        _("Messages written that day that failed for good, or whose outcome is unknown."),
        _sms(Q(status__in=[OutboxMessage.Status.FAILED, OutboxMessage.Status.UNKNOWN])),
    ),
    Figure(
        "calls_due",
        _("Return-visit calls due"),
        _(
            "Return-visit calls planned for that day, cancelled ones left out (an unanswered"
            " call tried again later still counts on the day it was planned for)."
        ),
        _count(lambda day: _calls_due(day)),
    ),
    Figure(
        "calls_done",
        _("Return-visit calls made"),
        _("Of the calls due that day, those done (the client reached or refused)."),
        _count(lambda day: _calls_due(day, status=FollowUpCall.Status.DONE)),
    ),
]
BY_KEY = {figure.key: figure for figure in FIGURES}


def compute_day(day: datetime.date) -> dict:
    """{key: {(dimension, id): value}} of every figure for one day."""
    return {figure.key: figure.compute(day) for figure in FIGURES}


# --- Figures of "now", not of a day: read live (small, indexed tables) ------------------


def live_figures(now=None) -> dict:
    now = now or timezone.now()
    from vip.models import VipStanding

    complaints = Complaint.objects.exclude(status=Complaint.Status.CLOSED).aggregate(
        open=Count("pk"),
        overdue=Count(
            "pk",
            filter=Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
            | Q(resolved_at__isnull=True, resolve_due_at__lt=now),
        ),
    )
    vips = VipStanding.objects.filter(status=VipStanding.Status.ACTIVE).aggregate(
        count=Count("pk"), spend=Sum("spend")
    )
    return {
        "complaints_open": complaints["open"],
        "complaints_overdue": complaints["overdue"],
        "vip_count": vips["count"],
        "vip_spend": vips["spend"] or Decimal("0.00"),
    }


LIVE_DEFINITIONS = {
    "complaints_open": _("Complaints not yet closed, now."),
    "complaints_overdue": _(
        "Open complaints past their deadline to be acknowledged or resolved (working hours), now."
    ),
    "vip_count": _("Clients whose VIP standing is active, now."),
    "vip_spend": _("Their spend in the VIP policy's evaluation window (yuan), now."),
}


def rate(numerator, denominator) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return round(100 * float(numerator) / float(denominator), 1)
