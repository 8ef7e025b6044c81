"""The demo's history (seed_demo --days N): a few days of every kind of record, coherent figures,
nobody in clinic before their session, and a second run that adds nothing. A few days, not the
year: the year is the same code over more days (timed by hand, see demo/history.py)."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from complaints.models import Complaint, ComplaintEvent
from consult.models import Booking, BookingEvent, Enquiry, Recall
from demo import history
from demo.clients import seed_demo_clients
from demo.directory import seed_directory
from demo.front_desk import MORNING_BOOKINGS, seed_morning
from demo.vips import seed_lapsed_vips
from followup.models import FollowUpCall
from guide.models import Charge, Visit
from messaging.models import Campaign, OutboxMessage
from reports import figures, rollups
from reports.models import DailyFigure, MonthlyReport
from surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from vip.models import VipEvent, VipStanding
from zhongdu import roles
from zhongdu.models import ClinicSession

pytestmark = pytest.mark.django_db

DAYS = 3
HISTORY_MODELS = [
    Client,
    Enquiry,
    Booking,
    BookingEvent,
    Visit,
    Charge,
    Recall,
    Complaint,
    ComplaintEvent,
    SurveyInvitation,
    SurveyResponse,
    SurveyAnswer,
    FollowUpCall,
    OutboxMessage,
    Campaign,
    DailyFigure,
    MonthlyReport,
]


@pytest.fixture(autouse=True)
def _development(settings):
    # pytest-django runs tests with DEBUG off; the demo seeding is for development.
    settings.DEBUG = True


def _counts():
    return {model.__name__: model.objects.count() for model in HISTORY_MODELS}


def _history_days():
    today = timezone.localdate()
    return [today - datetime.timedelta(days=n) for n in range(DAYS, 0, -1)]


def test_a_short_history_has_every_kind_of_record_on_its_days_and_coherent_figures(client_for):
    out = io.StringIO()
    call_command("seed_demo", password="winter-plum-2026", days=DAYS, stdout=out)
    assert "History ready (3 days:" in out.getvalue()
    _enquiries_booked_and_linked()
    _past_bookings_arrived_or_missed()
    _complaints_at_every_step()
    _nobody_today_before_their_session()
    _figures_kept_and_rates_percentages()
    http = client_for(roles.MANAGER)
    for name in ("reports:dashboard", "reports:satisfaction", "reports:pack_list"):
        assert http.get(reverse(name)).status_code == 200
    # The closed months' packs: made once.
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    history.seed_reports(days=[last_month, today - datetime.timedelta(days=1)])
    assert MonthlyReport.objects.filter(month=last_month, is_pack=True).count() == 1
    assert MonthlyReport.objects.filter(month=last_month, is_pack=False).count() == 1
    assert history.seed_reports(days=[last_month])["packs"] == 0


def _enquiries_booked_and_linked():
    enquiries = Enquiry.objects.filter(request_key__startswith="demo-h:")
    days = {timezone.localtime(at).date() for at in enquiries.values_list("created_at", flat=True)}
    assert days == set(_history_days())
    booked = enquiries.filter(outcome=Enquiry.Outcome.BOOKED)
    # Every booked enquiry has its booking, made by its own client a few minutes later.
    for enquiry in booked:
        booking = Booking.objects.get(enquiry=enquiry)
        assert booking.client_id == enquiry.client_id
        assert booking.created_at > enquiry.created_at
    assert 0.3 <= booked.count() / enquiries.count() <= 0.6


def _past_bookings_arrived_or_missed():
    today = timezone.localdate()
    past = Booking.objects.filter(created_by__username="consultant", session__date__lt=today)
    statuses = set(past.values_list("status", flat=True))
    assert {"arrived", "no_show"} <= statuses
    assert "booked" not in statuses
    for booking in past.filter(status="no_show"):
        assert booking.recall.status == Recall.Status.OPEN  # the last days' are still to call
    for booking in past.filter(status="arrived").select_related("visit", "client"):
        assert booking.visit.day == booking.session.date
        assert booking.visit.channel_id == booking.client.source_channel_id
        assert booking.visit.channel_id is not None
    # Revenue per channel is the real channels': every charge is on a visit with a channel.
    charged = Charge.objects.filter(visit__booking__in=past)
    assert charged.exists()
    assert not charged.filter(visit__channel__isnull=True).exists()


def _complaints_at_every_step():
    seeded = Complaint.objects.filter(source__startswith="demo-h:")
    assert set(seeded.values_list("status", flat=True)) == set(Complaint.Status.values)
    received = {timezone.localtime(c.received_at).date() for c in seeded}
    assert received == set(_history_days())
    closed = seeded.filter(status=Complaint.Status.CLOSED).first()
    assert closed.received_at < closed.acknowledged_at < closed.resolved_at < closed.closed_at
    assert closed.closed_at < timezone.now()
    assert figures.live_figures()["complaints_overdue"] >= 1
    # Dated back without a "missed" deadline for the steps taken in time.
    assert not ComplaintEvent.objects.filter(complaint=closed, action__endswith="missed").exists()


def _nobody_today_before_their_session():
    now = timezone.localtime()
    for visit in Visit.objects.filter(day=now.date()).select_related("session"):
        assert visit.arrived_at <= now
        if visit.session is not None:
            starts = datetime.datetime.combine(
                visit.day, visit.session.start_time, tzinfo=now.tzinfo
            )
            assert visit.arrived_at >= starts - datetime.timedelta(minutes=20)


def _figures_kept_and_rates_percentages():
    days = _history_days()
    assert set(DailyFigure.objects.values_list("day", flat=True)) >= set(days)
    totals = rollups.period_figures(days[0], days[-1])

    def value(key):
        return totals.get(key, {}).get(("", 0), 0)

    assert value("enquiries") > 0 and value("bookings") > 0 and value("revenue") > 0
    pairs = [
        ("bookings", "enquiries"),
        ("arrivals", "bookings"),
        ("return_visits", "arrivals"),
        ("no_shows", "bookings_due"),
        ("recalls_rebooked", "no_shows"),
        ("sms_delivered", "sms_sent"),
        ("calls_done", "calls_due"),
    ]
    for numerator, denominator in pairs:
        percent = figures.rate(value(numerator), value(denominator))
        assert percent is None or 0 <= percent <= 100, (numerator, denominator, percent)
    channels = {slot[1] for slot in totals["revenue"] if slot[0] == figures.CHANNEL}
    assert channels and 0 not in channels


def test_seeding_again_adds_no_row_and_a_longer_history_only_the_days_missing():
    call_command("seed_demo", password="winter-plum-2026", days=DAYS, stdout=io.StringIO())
    counts = _counts()
    out = io.StringIO()
    call_command("seed_demo", password="winter-plum-2026", days=DAYS, stdout=out)
    assert _counts() == counts
    assert "were there already" in out.getvalue()
    names = ["frontdesk", "consultant", "clientmgr"]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    made = history.seed_history(users=users, days=DAYS + 1)
    first = timezone.localdate() - datetime.timedelta(days=DAYS + 1)
    assert made["missing"] == [first]
    seeded = Enquiry.objects.filter(request_key__startswith="demo-h:")
    added = seeded.filter(request_key__startswith=f"demo-h:{first.isoformat()}:")
    # Every enquiry the longer run added is of the missing day (the demo's other enquiries,
    # today's morning calls, are not keyed demo-h: and were counted before).
    assert added.exists() and added.count() == Enquiry.objects.count() - counts["Enquiry"]
    assert history.seed_history(users=users, days=DAYS + 1)["days"] == 0


def test_two_vips_qualified_a_year_ago_lapse_at_the_nightly_run_once():
    call_command("seed_demo", password="winter-plum-2026", days=0, stdout=io.StringIO())
    frontdesk = get_user_model().objects.get(username="frontdesk")
    assert seed_lapsed_vips(by=frontdesk) == 2
    lapsed = VipStanding.objects.filter(status=VipStanding.Status.LAPSED)
    assert lapsed.count() == 2
    for standing in lapsed:
        actions = list(
            VipEvent.objects.filter(client=standing.client_id)
            .order_by("at")
            .values_list("action", flat=True)
        )
        assert actions == ["granted", "lapsed"]
        assert not standing.client.is_vip
    assert seed_lapsed_vips(by=frontdesk) == 0


def _morning(hour, minute):
    seed_directory(weeks=1)
    by = get_user_model().objects.create(username="frontdesk")
    seed_demo_clients(MORNING_BOOKINGS + 4, by=by)
    today = timezone.localdate()
    if not ClinicSession.objects.filter(date=today).exists():
        pytest.skip("no demo expert sits on this weekday")
    now = datetime.datetime.combine(
        today, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone()
    )
    return seed_morning(by=by, now=now), now


def test_before_the_first_session_the_morning_is_all_bookings_and_nobody_in_clinic():
    made, _now = _morning(7, 45)
    assert made > 10
    assert not Visit.objects.filter(day=timezone.localdate()).exists()
    assert not Booking.objects.filter(status="arrived").exists()


def test_at_ten_only_the_morning_sessions_patients_have_arrived():
    _made, now = _morning(10, 0)
    visits = Visit.objects.filter(day=now.date(), booking__isnull=False).select_related("session")
    assert visits.exists()
    for visit in visits:
        assert visit.session.start_time <= now.time()
        assert visit.arrived_at <= now
    afternoon = Booking.objects.filter(session__date=now.date(), session__start_time__gt=now.time())
    assert afternoon.exists()
    assert not afternoon.exclude(status="booked").exists()
