"""Every figure of the managers' dashboard, defined once: which records it counts, from which
table, over which days. The daily rollups (reports.rollups), the dashboard's rates and funnel,
the drill-down lists (reports:figure_records) and docs/figures.md all read these definitions;
the consultation analysis (consult.stats) shares the conversion rules with them
(consult.selectors: enquiries_booked, bookings_direct, bookings_arrived, no_shows_rebooked).

A figure is the number (or, for revenue, the sum) of the rows its `records(start, end)` returns
for the days from `start` to `end`; each record belongs to one day (an enquiry to the day it came
in, a booking to the day it was made, an arrival to the day of the visit, revenue to the day it
was charged, a no-show to the day of its appointment). A rate divides two figures over the same
records: its numerator is always a filter of its denominator's rows, so it cannot pass 100 %.

Outcomes that come later (a booking made weeks after an enquiry, an arrival on the appointment
day, a no-show rebooked) are counted on the day of the record they belong to: its figure grows
until the outcome is known. The nightly refresh reaches back 40 days, longer than the 30-day
conversion window; an outcome later than that reaches its day through rollups.refresh_late.

The hotline's figures (calls offered, answered, abandoned…, callbacks within their deadline) are
defined in voice.figures, because the wallboard in voice reads them and voice may not import
reports; they join FIGURES and RATES here, with AVERAGES (seconds ÷ calls).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint
from consult import selectors as consult
from consult.models import Booking, Enquiry, Recall
from exams.models import ResultAlert
from followup.models import FollowUpCall
from guide.models import Charge, Visit
from messaging.models import OutboxMessage, Purpose
from surveys.models import SurveyResponse
from voice import figures as telephony
from voice import receipts
from voice.models import Call
from zhongdu import days

CHANNEL, DEPARTMENT = "channel", "department"
TELEPHONY = "telephony"
# Calls made (outbound) and voice messages: a section of their own.
VOICE_SECTION = "voice"
WINDOW_DAYS = consult.CONVERSION_WINDOW.days


# The days the figures count (zhongdu.days: hospital time, ranges on the raw columns).
day_bounds = days.day_bounds
_between = days.on_days


@dataclass(frozen=True)
class Figure:
    key: str
    label: object
    definition: object
    # (start day, end day) -> the queryset of the records the figure counts.
    records: Callable
    # {dimension: field path or annotation of `records`} for the breakdowns.
    dimensions: dict = field(default_factory=dict)
    # The field summed (revenue); empty: the records are counted.
    sums: str = ""
    # The field the drill-down list shows as the record's moment.
    when: str = "created_at"
    # "telephony": one of the hotline's figures (voice.figures), shown in a section of its own.
    section: str = ""

    @property
    def money(self) -> bool:
        return bool(self.sums) and not self.seconds

    @property
    def seconds(self) -> bool:
        """A sum of seconds (the hotline's waiting and talk time), not of yuan."""
        return self.section in (TELEPHONY, VOICE_SECTION) and bool(self.sums)

    def _value(self):
        return Sum(self.sums) if self.sums else Count("pk")

    def compute(self, day: datetime.date) -> dict:
        """{("", 0): the day's value} plus {(dimension, id): value} per breakdown."""
        return self.compute_period(day, day)

    def compute_period(self, start: datetime.date, end: datetime.date) -> dict:
        return _grouped(self.records(start, end), self._value(), self.dimensions)


def _grouped(qs, value, dimensions: dict) -> dict:
    """{("", 0): overall} plus {(dimension, id): value} for each breakdown: one query each."""
    result = {("", 0): qs.aggregate(v=value)["v"] or 0}
    for dimension, path in dimensions.items():
        rows = qs.values_list(path).annotate(v=value).order_by()
        for pk, amount in rows:
            result[(dimension, pk or 0)] = amount or 0
    return result


# --- The records --------------------------------------------------------------------------


def enquiries(start, end):
    return Enquiry.objects.filter(_between("created_at", start, end))


def bookings_made(start, end):
    """The bookings made on those days, each with `booking_channel`: the client's channel,
    else the channel of the client's first enquiry (consult.selectors.client_channel)."""
    return consult.bookings_with_channel(Booking.objects.filter(_between("created_at", start, end)))


def result_alerts(start, end, level):
    """Abnormal and critical exam values followed (exams.alerts), on the day they were opened."""
    return ResultAlert.objects.filter(_between("opened_at", start, end), level=level)


def bookings_due(start, end):
    return consult.appointments_due(start, end)


def visits(start, end, **filters):
    return Visit.objects.filter(day__range=(start, end), **filters)


def charges(start, end):
    """The lines charged on those days, voided ones left out, each with `revenue_channel`: the
    channel recorded on its visit at the front desk, else the client's channel (how they heard
    of us), else the channel of the client's first enquiry; none of them: not recorded."""
    return Charge.objects.filter(
        _between("charged_at", start, end), voided_at__isnull=True
    ).annotate(revenue_channel=consult.client_channel("visit__channel_id"))


def _sms(statuses):
    def records(start, end):
        # SMS only: voice messages of the same outbox are figures of their own.
        return OutboxMessage.objects.filter(
            _between("created_at", start, end), status__in=statuses, channel="sms"
        )

    return records


def calls_due(start, end):
    # planned_on, not due_on: an unanswered call moves on to the next working day, but it was
    # due on the day it was planned for.
    return FollowUpCall.objects.filter(planned_on__range=(start, end)).exclude(
        status=FollowUpCall.Status.CANCELLED
    )


_SENT = [OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED]
_BOOKING_CHANNEL = {CHANNEL: "booking_channel"}
_VISIT_DIMENSIONS = {CHANNEL: "channel_id", DEPARTMENT: "department_id"}

FIGURES = [
    Figure(
        "enquiries",
        _("Enquiries"),
        _(
            "Enquiries recorded on the day (phone, web, WeChat, online form, in person); by the"
            " channel the caller named."
        ),
        enquiries,
        {CHANNEL: "marketing_channel_id"},
    ),
    Figure(
        "enquiries_booked",
        _("Enquiries that led to a booking"),
        _(
            "Of the day's enquiries, those that led to a booking: one made from the enquiry, or"
            " one made for the same client within 30 days after it. Each enquiry counts once;"
            " by the enquiry's channel."
        ),
        lambda start, end: consult.enquiries_booked(enquiries(start, end)),
        {CHANNEL: "marketing_channel_id"},
    ),
    Figure(
        "bookings",
        _("Bookings made"),
        _(
            "Bookings made on the day, whatever became of them. By channel: the client's channel"
            " (how they heard of us), else the channel of the client's first enquiry; with"
            " neither, not recorded."
        ),
        bookings_made,
        _BOOKING_CHANNEL,
    ),
    Figure(
        "bookings_direct",
        _("Bookings without an enquiry"),
        _(
            "Of the day's bookings, those no enquiry led to (online, at the desk, a client"
            " calling to book): not made from an enquiry, and no enquiry of the client in the 30"
            " days before. By channel as bookings made."
        ),
        lambda start, end: consult.bookings_direct(bookings_made(start, end)),
        _BOOKING_CHANNEL,
    ),
    Figure(
        "bookings_arrived",
        _("Bookings that arrived"),
        _(
            "Of the bookings made on the day, those checked in at the front desk (so far). By"
            " channel as bookings made."
        ),
        lambda start, end: consult.bookings_arrived(bookings_made(start, end)),
        _BOOKING_CHANNEL,
    ),
    Figure(
        "arrivals",
        _("Arrivals"),
        _(
            "Visits registered at the front desk on the day: checked-in bookings and walk-ins; by"
            " the channel recorded at the desk."
        ),
        visits,
        _VISIT_DIMENSIONS,
        when="arrived_at",
    ),
    Figure(
        "first_visits",
        _("First visits"),
        _("Arrivals whose visit type is a first visit: new clients."),
        lambda start, end: visits(start, end, visit_type=Visit.Type.FIRST),
        {CHANNEL: "channel_id"},
        when="arrived_at",
    ),
    Figure(
        "return_visits",
        _("Return visits (复诊)"),
        _("Arrivals whose visit type is a return visit."),
        lambda start, end: visits(start, end, visit_type=Visit.Type.RETURN),
        {CHANNEL: "channel_id"},
        when="arrived_at",
    ),
    Figure(
        "revenue",
        _("Revenue"),
        _(
            "Charges recorded on the day, voided lines left out (yuan). By channel: the channel"
            " recorded on the visit at the front desk, else the client's channel, else the"
            " channel of the client's first enquiry; with none of them, not recorded."
        ),
        charges,
        {CHANNEL: "revenue_channel", DEPARTMENT: "visit__department_id"},
        sums="amount",
        when="charged_at",
    ),
    Figure(
        "bookings_due",
        _("Appointments due"),
        _(
            "Bookings for the day's sessions, cancelled ones left out (and those of sessions the"
            " hospital cancelled)."
        ),
        bookings_due,
        when="session__date",
    ),
    Figure(
        "no_shows",
        _("No-shows"),
        _("Of the appointments due on the day, those not checked in (swept at 21:00)."),
        lambda start, end: consult.bookings_no_show(bookings_due(start, end)),
        when="session__date",
    ),
    Figure(
        "no_shows_rebooked",
        _("No-shows rebooked"),
        _("Of the day's no-shows, those whose recall ended in a new booking (so far)."),
        lambda start, end: consult.no_shows_rebooked(bookings_due(start, end)),
        when="session__date",
    ),
    Figure(
        "recalls_reached",
        _("Recalls reached"),
        _("No-shows the consultants reached on the phone on the day."),
        lambda start, end: Recall.objects.filter(_between("reached_at", start, end)),
        when="reached_at",
    ),
    Figure(
        "complaints",
        _("Complaints received"),
        _("Complaints recorded on the day, from any channel."),
        lambda start, end: Complaint.objects.filter(_between("received_at", start, end)),
        {DEPARTMENT: "department_id"},
        when="received_at",
    ),
    Figure(
        "sms_sent",
        _("SMS sent"),
        _("Messages written on the day that reached the provider (sent or delivered)."),
        _sms(_SENT),
    ),
    Figure(
        "sms_delivered",
        _("SMS delivered"),
        _("Of the messages sent, those the provider reported delivered."),
        _sms([OutboxMessage.Status.DELIVERED]),
    ),
    Figure(
        "sms_failed",
        _("SMS failed"),
        _("Messages written on the day that failed for good, or whose outcome is unknown."),
        _sms([OutboxMessage.Status.FAILED, OutboxMessage.Status.UNKNOWN]),
    ),
    Figure(
        "calls_due",
        _("Return-visit calls due"),
        _(
            "Return-visit calls planned for the day, cancelled ones left out (an unanswered"
            " call tried again later still counts on the day it was planned for)."
        ),
        calls_due,
        when="planned_on",
    ),
    Figure(
        "calls_done",
        _("Return-visit calls made"),
        _("Of the calls due on the day, those done (the client reached or refused)."),
        lambda start, end: calls_due(start, end).filter(status=FollowUpCall.Status.DONE),
        when="planned_on",
    ),
    Figure(
        "critical_alerts",
        _("Critical exam values"),
        _(
            "Critical exam values (危急值) opened on the day: released, or made critical by a"
            " correction after release; one per exam order."
        ),
        lambda start, end: result_alerts(start, end, ResultAlert.Level.CRITICAL),
        when="opened_at",
    ),
    Figure(
        "critical_alerts_in_time",
        _("Critical values reached in time"),
        _(
            "Of the day's critical values, those whose client was reached by a call within the"
            " deadline (clock time from the release)."
        ),
        lambda start, end: result_alerts(start, end, ResultAlert.Level.CRITICAL).filter(
            reached_at__lte=F("due_at")
        ),
        when="opened_at",
    ),
    Figure(
        "critical_alerts_late",
        _("Critical values reached late"),
        _("Of the day's critical values, those whose client was reached after the deadline."),
        lambda start, end: result_alerts(start, end, ResultAlert.Level.CRITICAL).filter(
            reached_at__gt=F("due_at")
        ),
        when="opened_at",
    ),
    Figure(
        "critical_alerts_escalated",
        _("Critical values escalated"),
        _(
            "Of the day's critical values, those still open at their deadline and escalated to"
            " the managers and the releasing clinician."
        ),
        lambda start, end: result_alerts(start, end, ResultAlert.Level.CRITICAL).filter(
            escalated_at__isnull=False
        ),
        when="opened_at",
    ),
    Figure(
        "abnormal_alerts",
        _("Abnormal exam results to follow"),
        _(
            "Exam orders whose released results showed an abnormal (not critical) value on the"
            " day, each followed by a return-visit call within working hours."
        ),
        lambda start, end: result_alerts(start, end, ResultAlert.Level.ABNORMAL),
        when="opened_at",
    ),
    Figure(
        "abnormal_alerts_closed",
        _("Abnormal exam results followed"),
        _("Of the day's abnormal results to follow, those closed with an outcome (so far)."),
        lambda start, end: result_alerts(start, end, ResultAlert.Level.ABNORMAL).filter(
            status=ResultAlert.Status.CLOSED
        ),
        when="opened_at",
    ),
]

# --- Calls made and voice messages (语音通知, keypad surveys) -------------------------------
#
# Outbound calls are voice.Call rows of direction "outbound" (click-to-call from a worklist),
# counted on the day they were placed (`created_at`); connected: the client's leg answered
# (outcome "answered"). Voice messages are outbox messages of channel "voice": reminders (every
# purpose but the survey) and keypad surveys (purpose "survey"), on the day they were written.

WORKLIST, AGENT = "worklist", "agent"
# The worklists calls are made from (Call.worklist), each with the number the daily rollups
# keep it under (DailyFigure.dimension_id is a number); 0: a list not named here.
# Each of Call.Worklist's codes (a test holds the two together), named as a list; a new list
# goes at the end, so that the numbers already kept stay its own.
WORKLISTS = [
    (Call.Worklist.FOLLOWUP, _("Return-visit calls")),
    (Call.Worklist.RECALL, _("No-show recalls and callback tasks")),
    (Call.Worklist.BOOKING_REQUEST, _("Online booking requests")),
    (Call.Worklist.CALL_BACK, _("Promised call-backs")),
    (Call.Worklist.COMPLAINT, _("Complaints awaiting a call-back")),
    (Call.Worklist.CLIENT, _("Client page")),
    (Call.Worklist.RESULT_ALERT, _("Abnormal and critical exam results")),
]
WORKLIST_NUMBERS = {code: number for number, (code, _label) in enumerate(WORKLISTS, start=1)}
# A voice call's receipt outcome (the outbox message's error code) when the client did not pick
# up, as opposed to a call that failed (a refused template, a provider error).
NOT_ANSWERED_CODES = sorted(receipts.NOT_REACHED)


def worklist_names() -> dict:
    return {number: label for number, (_code, label) in enumerate(WORKLISTS, start=1)}


def calls_placed(start, end):
    """The outbound calls placed on those days, with the number of their worklist and their talk
    time (the client's leg, from the answer to the end) in whole seconds."""
    worklist = Case(
        *(When(worklist=code, then=Value(n)) for code, n in WORKLIST_NUMBERS.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    return Call.objects.filter(
        _between("created_at", start, end), direction=Call.Direction.OUTBOUND
    ).annotate(
        worklist_no=worklist,
        talk_seconds=Greatest(
            telephony.Seconds("answered_at", "ended_at") - F("hold_seconds"), Value(0)
        ),
    )


def voice_messages(start, end, *, survey: bool, **filters):
    where = Q(purpose=Purpose.SURVEY) if survey else ~Q(purpose=Purpose.SURVEY)
    return OutboxMessage.objects.filter(
        _between("created_at", start, end), where, channel="voice", **filters
    )


def keypad_surveys_answered(start, end):
    """Of the keypad surveys sent, those whose keys answered a question: a keypad response of
    the message (its reference "msg:<id>") with a score."""
    answered = SurveyResponse.objects.filter(
        source=SurveyResponse.Source.KEYPAD,
        reference=Concat(Value("msg:"), Cast(OuterRef("pk"), CharField())),
    ).filter(Q(lowest_score__isnull=False) | Q(recommend__isnull=False))
    return voice_messages(start, end, survey=True, status__in=_SENT).filter(Exists(answered))


_CALL_DIMENSIONS = {WORKLIST: "worklist_no", AGENT: "agent_id"}
_CONNECTED = Q(outcome=Call.Outcome.ANSWERED)

VOICE_FIGURES = [
    Figure(
        "outbound_attempts",
        _("Calls made"),
        _(
            "Calls placed to clients from a worklist or the client page on the day, whatever"
            " became of them; by worklist and by agent."
        ),
        calls_placed,
        _CALL_DIMENSIONS,
        section=VOICE_SECTION,
    ),
    Figure(
        "outbound_connected",
        _("Calls made that connected"),
        _("Of the calls made, those the client answered."),
        lambda start, end: calls_placed(start, end).filter(_CONNECTED),
        _CALL_DIMENSIONS,
        section=VOICE_SECTION,
    ),
    Figure(
        "outbound_completed",
        _("Connected calls made that ended"),
        _("Of the calls made that connected, those that have ended (the talk time is theirs)."),
        lambda start, end: calls_placed(start, end).filter(_CONNECTED, ended_at__isnull=False),
        _CALL_DIMENSIONS,
        section=VOICE_SECTION,
    ),
    Figure(
        "outbound_talk_seconds",
        _("Talk time of calls made (seconds)"),
        _(
            "The seconds from the client's answer to the end, summed over the connected calls"
            " made that have ended."
        ),
        lambda start, end: calls_placed(start, end).filter(_CONNECTED, ended_at__isnull=False),
        _CALL_DIMENSIONS,
        sums="talk_seconds",
        section=VOICE_SECTION,
    ),
    Figure(
        "voice_reminders",
        _("Voice reminders"),
        _(
            "Voice reminders (语音通知) written on the day, whatever became of them; keypad"
            " surveys are counted apart."
        ),
        lambda start, end: voice_messages(start, end, survey=False),
        section=VOICE_SECTION,
    ),
    Figure(
        "voice_reminders_answered",
        _("Voice reminders answered"),
        _("Of the voice reminders, those whose call the client answered."),
        lambda start, end: voice_messages(
            start, end, survey=False, status=OutboxMessage.Status.DELIVERED
        ),
        section=VOICE_SECTION,
    ),
    Figure(
        "voice_reminders_not_answered",
        _("Voice reminders not answered"),
        _(
            "Of the voice reminders, those whose call rang out for good: busy, no answer, phone"
            " switched off or out of reach."
        ),
        lambda start, end: voice_messages(
            start,
            end,
            survey=False,
            status=OutboxMessage.Status.FAILED,
            error_code__in=NOT_ANSWERED_CODES,
        ),
        section=VOICE_SECTION,
    ),
    Figure(
        "voice_reminders_failed",
        _("Voice reminders failed"),
        _(
            "Of the voice reminders, those that failed for another reason (a refused template or"
            " number, a provider error) or whose outcome is unknown."
        ),
        lambda start, end: voice_messages(
            start,
            end,
            survey=False,
            status__in=[OutboxMessage.Status.FAILED, OutboxMessage.Status.UNKNOWN],
        ).exclude(status=OutboxMessage.Status.FAILED, error_code__in=NOT_ANSWERED_CODES),
        section=VOICE_SECTION,
    ),
    Figure(
        "voice_reminders_held",
        _("Voice reminders held"),
        _(
            "Of the voice reminders, those held and never called: no consent, an opt-out, an"
            " unapproved template, a missing value."
        ),
        lambda start, end: voice_messages(
            start, end, survey=False, status=OutboxMessage.Status.SUPPRESSED
        ),
        section=VOICE_SECTION,
    ),
    Figure(
        "keypad_surveys_sent",
        _("Keypad surveys called"),
        _("Keypad surveys written on the day whose call was placed with the provider."),
        lambda start, end: voice_messages(start, end, survey=True, status__in=_SENT),
        section=VOICE_SECTION,
    ),
    Figure(
        "keypad_surveys_answered",
        _("Keypad surveys answered"),
        _("Of the keypad surveys called, those whose keys answered at least one question."),
        keypad_surveys_answered,
        section=VOICE_SECTION,
    ),
]
FIGURES += VOICE_FIGURES

# The hotline's figures are defined in voice.figures, where the wallboard reads them too (voice
# sits below reports and may not import it).
TELEPHONY_FIGURES = [
    Figure(
        spec.key,
        spec.label,
        spec.definition,
        spec.records,
        spec.dimensions,
        sums=spec.sums,
        when=spec.source.when,
        section=TELEPHONY,
    )
    for spec in telephony.FIGURES
]
FIGURES += TELEPHONY_FIGURES
BY_KEY = {figure.key: figure for figure in FIGURES}


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator, two figures whose records are a subset of one another."""

    key: str
    label: object
    definition: object
    numerator: str
    denominator: str


RATES = [
    Rate(
        "enquiry_booking",
        _("Enquiry → booking"),
        _(
            "Enquiries of the period that led to a booking (made from the enquiry, or for the"
            " same client within 30 days after it) ÷ enquiries of the period. Bookings no"
            " enquiry led to are a figure of their own."
        ),
        "enquiries_booked",
        "enquiries",
    ),
    Rate(
        "booking_arrival",
        _("Booking → arrival"),
        _("Bookings made in the period that were checked in ÷ bookings made in the period."),
        "bookings_arrived",
        "bookings",
    ),
    Rate(
        "return_visits",
        _("Return-visit rate (复诊率)"),
        _("Arrivals of the period that were return visits ÷ arrivals of the period."),
        "return_visits",
        "arrivals",
    ),
    Rate(
        "no_shows",
        _("No-show rate"),
        _("Appointments due in the period not checked in ÷ appointments due in the period."),
        "no_shows",
        "bookings_due",
    ),
    Rate(
        "recall_recovery",
        _("Recall recovery"),
        _("No-shows of the period that were rebooked ÷ no-shows of the period."),
        "no_shows_rebooked",
        "no_shows",
    ),
    Rate(
        "sms_delivered",
        _("SMS delivered"),
        _(
            "Messages written in the period reported delivered ÷ those written in the period"
            " that reached the provider."
        ),
        "sms_delivered",
        "sms_sent",
    ),
    Rate(
        "calls_done",
        _("Return-visit calls made"),
        _("Calls due in the period that were done ÷ calls due in the period."),
        "calls_done",
        "calls_due",
    ),
    Rate(
        "critical_in_time",
        _("Critical values reached in time"),
        _(
            "Critical exam values of the period whose client was reached within the deadline ÷"
            " critical values of the period."
        ),
        "critical_alerts_in_time",
        "critical_alerts",
    ),
]
VOICE_RATES = [
    Rate(
        "outbound_connect",
        _("Connect rate of calls made"),
        _("Calls made in the period that the client answered ÷ calls made in the period."),
        "outbound_connected",
        "outbound_attempts",
    ),
    Rate(
        "voice_reminders_answered",
        _("Voice reminders answered"),
        _("Voice reminders of the period the client answered ÷ voice reminders of the period."),
        "voice_reminders_answered",
        "voice_reminders",
    ),
    Rate(
        "keypad_response",
        _("Keypad survey response rate"),
        _(
            "Keypad surveys called in the period whose keys answered a question ÷ keypad"
            " surveys called in the period."
        ),
        "keypad_surveys_answered",
        "keypad_surveys_sent",
    ),
]
RATES += VOICE_RATES
TELEPHONY_RATES = [
    Rate(r.key, r.label, r.definition, r.numerator, r.denominator) for r in telephony.RATES
]
RATES += TELEPHONY_RATES
RATES_BY_KEY = {r.key: r for r in RATES}
# Averages: seconds summed ÷ the calls they were summed over (not a rate: no percentage).
AVERAGES = telephony.AVERAGES
VOICE_AVERAGES = [
    telephony.CallRate(
        "outbound_average_talk",
        _("Average talk time of calls made"),
        _("Talk seconds summed over the connected calls made that ended ÷ those calls."),
        "outbound_talk_seconds",
        "outbound_completed",
        seconds=True,
    ),
]


def compute_day(day: datetime.date) -> dict:
    """{key: {(dimension, id): value}} of every figure for one day; the hotline's in a few
    queries together (voice.figures.compute: the same rows as each figure's records)."""
    values = {figure.key: figure.compute(day) for figure in FIGURES if figure.section != TELEPHONY}
    return values | telephony.compute(day, day)


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


def definitions_markdown() -> str:
    """docs/figures.md: every figure and rate with its definition in English and Chinese, as
    the dashboard shows them (`manage.py figures_doc > docs/figures.md`; a test keeps the file
    equal to this)."""
    from django.utils import translation

    def both(text) -> tuple[str, str]:
        with translation.override("en"):
            english = str(text)
        with translation.override("zh-hans"):
            chinese = str(text)
        return english, chinese

    lines = [
        "# The dashboard's figures",
        "",
        "Generated from `reports/figures.py` (`python manage.py figures_doc > docs/figures.md`);",
        "`tests/reports/test_rates.py` fails when this file and the code differ. Each figure is",
        "counted on the day its record belongs to and opens the list of the records it counts",
        "(`/reports/figures/<key>/`). A rate's numerator is always a subset of its denominator.",
        f"The conversion window is {WINDOW_DAYS} days. The hotline's figures (`calls_*`,",
        "`callbacks*`) are defined in `voice/figures.py`, which the wallboard",
        "(`/voice/wallboard/`) reads as well; their averages are seconds summed ÷ the calls",
        "they were summed over. Calls made (`outbound_*`), voice reminders (`voice_reminders*`)",
        "and keypad surveys (`keypad_surveys_*`) are a section of their own.",
        "",
        "## Figures",
        "",
        "| key | figure | definition | 指标 | 定义 |",
        "|---|---|---|---|---|",
    ]
    for figure in FIGURES:
        (label, label_zh), (text, text_zh) = both(figure.label), both(figure.definition)
        lines.append(f"| `{figure.key}` | {label} | {text} | {label_zh} | {text_zh} |")
    lines += [
        "",
        "## Rates",
        "",
        "| rate | = | definition | 比率 | 定义 |",
        "|---|---|---|---|---|",
    ]
    for r in RATES:
        (label, label_zh), (text, text_zh) = both(r.label), both(r.definition)
        formula = f"`{r.numerator}` ÷ `{r.denominator}`"
        lines.append(f"| {label} | {formula} | {text} | {label_zh} | {text_zh} |")
    lines += [
        "",
        "## Averages (seconds)",
        "",
        "| average | = | definition | 平均 | 定义 |",
        "|---|---|---|---|---|",
    ]
    for r in AVERAGES + VOICE_AVERAGES:
        (label, label_zh), (text, text_zh) = both(r.label), both(r.definition)
        formula = f"`{r.numerator}` ÷ `{r.denominator}`"
        lines.append(f"| {label} | {formula} | {text} | {label_zh} | {text_zh} |")
    lines += ["", "## Now (read live)", "", "| key | definition | 定义 |", "|---|---|---|"]
    for key, definition in LIVE_DEFINITIONS.items():
        text, text_zh = both(definition)
        lines.append(f"| `{key}` | {text} | {text_zh} |")
    return "\n".join(lines) + "\n"
