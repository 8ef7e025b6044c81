"""Consultation analysis (/consult/stats/): the figures, the page, the Excel export, access."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clientmgmt.models import Client
from consult import stats
from consult.models import Booking, Enquiry, Recall
from tests.factories import UserFactory
from tests.html_tables import table_rows
from tests.zhongdu.factories import ChannelFactory
from zhongdu import roles
from zhongdu.models import AuditEvent, ClinicSession

from .factories import ClientFactory, make_booking, make_enquiry

pytestmark = pytest.mark.django_db

# Access, declared in zhongdu/roles.py PAGE_ACCESS.
ALLOWED = sorted({roles.CONSULTANT, roles.CLIENT_MANAGER, roles.MANAGER, roles.ADMINISTRATOR})
REFUSED = sorted({roles.FRONT_DESK, roles.VIP_MANAGER})
# consult_stats: enquiries, bookings made, appointments due and recalls, per consultant and per
# channel, whatever the data.
STATS_QUERIES = 8


def _monday(weeks_ago=0, hour=10, minute=0):
    """An aware datetime on the Monday of a week, in the hospital's time zone."""
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    monday = today - datetime.timedelta(days=today.weekday(), weeks=weeks_ago)
    return timezone.make_aware(
        datetime.datetime.combine(monday, datetime.time(hour, minute)),
        timezone.get_default_timezone(),
    )


def _enquiry(by, at, *, client=None, channel=None, seconds=0):
    enquiry = make_enquiry(
        by=by, client=client, marketing_channel=channel, duration_seconds=seconds
    )
    Enquiry.objects.filter(pk=enquiry.pk).update(created_at=at)
    return enquiry


def _booking(by, client, at, status=Booking.Status.BOOKED, *, day=None):
    """A booking made at `at`, for a session on `day` (else the factory's future session)."""
    booking = make_booking(client=client, by=by)
    Booking.objects.filter(pk=booking.pk).update(created_at=at, status=status)
    if day is not None:
        ClinicSession.objects.filter(pk=booking.session_id).update(date=day)
    return booking


def _recall(booking, at, status, **kwargs):
    recall = Recall.objects.create(booking=booking, client=booking.client, status=status, **kwargs)
    Recall.objects.filter(pk=recall.pk).update(created_at=at)
    return recall


def _client(channel=None):
    client = ClientFactory()
    Client.objects.filter(pk=client.pk).update(source_channel=channel)
    return client


@pytest.fixture
def desk():
    """Two consultants, two channels; see the expected figures in the tests."""
    alice = UserFactory(username="alice", first_name="", last_name="")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Li")
    tv = ChannelFactory(name="TV")
    web = ChannelFactory(name="Web")
    x, y = _client(tv), _client(web)
    z, w = _client(), _client()
    week0, week2, week6 = _monday(0), _monday(2), _monday(6)
    # Alice, this week: two calls on TV, both booked within days; X arrived, Y did not (both
    # appointments this Monday: no-shows count on the appointment's day).
    _enquiry(alice, week0, client=x, channel=tv, seconds=120)
    _enquiry(alice, week0, client=y, channel=tv, seconds=60)
    _booking(alice, x, week0 + datetime.timedelta(days=1), Booking.Status.ARRIVED, day=week0.date())
    missed = _booking(
        alice, y, week0 + datetime.timedelta(days=2), Booking.Status.NO_SHOW, day=week0.date()
    )
    # ... and the no-show was recalled and rebooked.
    _recall(missed, week0 + datetime.timedelta(days=3), Recall.Status.REBOOKED)
    # Alice, six weeks ago, no channel: booked 31 days later by Bob, too late to convert.
    _enquiry(alice, week6, client=w)
    _booking(bob, w, week6 + datetime.timedelta(days=31), Booking.Status.CANCELLED)
    # Bob: a prospect this week (no call length), and a client two weeks ago whose only
    # booking was made the day before the enquiry (not a conversion).
    _enquiry(bob, week0, channel=web)
    _enquiry(bob, week2, client=z, channel=web, seconds=300)
    waiting = _booking(bob, z, week2 - datetime.timedelta(days=1))
    # A recall still open, two weeks ago.
    _recall(waiting, week2, Recall.Status.OPEN, next_attempt_on=week2.date())
    # Ten weeks ago: outside the period.
    _enquiry(alice, _monday(10), client=x, channel=tv, seconds=999)
    _booking(alice, x, _monday(10))
    return {"alice": alice, "bob": bob, "tv": tv, "web": web, "weeks": (week0, week2, week6)}


def _group(result, dimension, label):
    table = next(t for t in result.tables if t.dimension == dimension)
    return next(g for g in table.groups if g.label == label)


def test_figures_per_consultant(desk):
    result = stats.consult_stats(period=stats.WEEK)
    alice = _group(result, stats.CONSULTANT, "alice")
    this_week = alice.buckets[desk["weeks"][0].date()]
    assert (this_week.enquiries, this_week.converted, this_week.converted_arrived) == (2, 2, 1)
    assert this_week.enquiry_to_booking == 100.0
    assert this_week.booking_to_arrival == 50.0
    assert this_week.average_call_seconds == 90
    assert this_week.average_call_display == "1:30"
    assert (this_week.bookings, this_week.arrivals, this_week.no_shows) == (2, 1, 1)
    # The dashboard's no-show rate: no-shows ÷ appointments due, by the appointment's day.
    assert (this_week.appointments_due, this_week.no_show_rate) == (2, 50.0)
    assert (this_week.recalls, this_week.recalls_reached, this_week.recalls_rebooked) == (1, 1, 1)
    assert this_week.recall_rebooked_rate == 100.0
    assert alice.total.enquiries == 3
    assert alice.total.converted == 2
    assert alice.total.enquiry_to_booking == 66.7
    assert alice.total.enquiry_to_arrival == 33.3

    bob = _group(result, stats.CONSULTANT, "Bob Li (bob)")
    assert bob.total.enquiries == 2
    assert bob.total.converted == 0
    assert bob.total.enquiry_to_booking == 0.0
    # The dashboard's booking → arrival: bookings made that arrived ÷ bookings made.
    assert bob.total.booking_to_arrival == 0.0
    assert bob.total.average_call_seconds == 300  # the prospect without a call is left out
    assert (bob.total.bookings, bob.total.cancelled, bob.total.arrivals) == (2, 1, 0)
    assert (bob.total.appointments_due, bob.total.no_show_rate) == (0, None)  # none due yet
    assert (bob.total.recalls, bob.total.recalls_reached, bob.total.recall_reached_rate) == (
        1,
        0,
        0.0,
    )
    # The late booking counts in the week it was made, the week of the enquiry two weeks ago.
    assert bob.buckets[desk["weeks"][1].date()].bookings == 1
    assert bob.buckets[desk["weeks"][1].date()].enquiries == 1

    table = result.tables[0]
    assert [g.label for g in table.groups] == ["alice", "Bob Li (bob)"]
    assert table.total.enquiries == 5
    assert table.total.bookings == 4


def test_figures_per_channel(desk):
    result = stats.consult_stats(period=stats.WEEK)
    tv = _group(result, stats.CHANNEL, "TV")
    assert (tv.total.enquiries, tv.total.converted, tv.total.converted_arrived) == (2, 2, 1)
    # Bookings count for the client's channel: X (TV) arrived, Y (Web) did not come.
    assert (tv.total.bookings, tv.total.arrivals, tv.total.no_shows) == (1, 1, 0)
    web = _group(result, stats.CHANNEL, "Web")
    assert (web.total.enquiries, web.total.converted) == (2, 0)
    # Y (Web) did not come; Z has no channel of their own, so their booking (and its recall)
    # counts for the channel of their first enquiry, Web, as on the dashboard.
    assert (web.total.bookings, web.total.no_shows, web.total.no_show_rate) == (2, 1, 100.0)
    assert (web.total.recalls, web.total.recalls_rebooked) == (2, 1)
    none = _group(result, stats.CHANNEL, str(stats.NO_CHANNEL))
    # W's only enquiry named no channel: the one booking left unrecorded.
    assert (none.total.enquiries, none.total.bookings) == (1, 1)
    table = result.tables[1]
    assert table.groups[-1] is none  # the unassigned group comes last


def test_by_month_covers_six_months_and_the_same_totals(desk):
    result = stats.consult_stats(period=stats.MONTH)
    assert len(result.buckets) == 6
    assert all(start.day == 1 for start in result.buckets)
    alice = _group(result, stats.CONSULTANT, "alice")
    # Ten weeks ago is within six months: counted by month, not by week.
    assert alice.total.enquiries == 4
    assert all(start.day == 1 for start in alice.buckets)


def test_weeks_are_cut_in_the_hospital_time_zone():
    alice = UserFactory(username="alice", first_name="")
    # Monday 00:30 in Shanghai is Sunday 16:30 UTC: it belongs to Monday's week.
    monday = _monday(1, hour=0, minute=30)
    _enquiry(alice, monday, client=_client())
    with timezone.override(datetime.UTC):
        result = stats.consult_stats(period=stats.WEEK)
    group = _group(result, stats.CONSULTANT, "alice")
    assert list(group.buckets) == [monday.date()]


def test_period_buckets():
    wednesday = datetime.date(2026, 3, 4)
    weeks = stats.period_buckets(stats.WEEK, wednesday)
    assert weeks[-1] == datetime.date(2026, 3, 2)
    assert weeks[0] == datetime.date(2026, 1, 12)
    assert len(weeks) == 8
    months = stats.period_buckets(stats.MONTH, wednesday)
    assert months == [datetime.date(2025, m, 1) for m in (10, 11, 12)] + [
        datetime.date(2026, m, 1) for m in (1, 2, 3)
    ]


def test_the_figures_take_a_fixed_number_of_queries(desk, django_assert_num_queries):
    with django_assert_num_queries(STATS_QUERIES):
        stats.consult_stats(period=stats.WEEK)
    # More consultants, channels and weeks: the same count.
    carol = UserFactory(username="carol")
    _enquiry(carol, _monday(3), client=_client(ChannelFactory(name="Radio")), seconds=30)
    with django_assert_num_queries(STATS_QUERIES):
        stats.consult_stats(period=stats.MONTH)


def test_the_page_shows_the_tables(desk, manager_client):
    page = manager_client.get(reverse("consult:stats"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="stats-consultant"' in html
    assert 'data-testid="stats-channel"' in html
    assert "Bob Li (bob)" in html
    assert "66.7%" in html
    assert "Recalls rebooked" in html
    month = manager_client.get(reverse("consult:stats") + "?period=month")
    assert month.context["period"] == stats.MONTH
    odd = manager_client.get(reverse("consult:stats") + "?period=year")
    assert odd.context["period"] == stats.WEEK


def test_the_page_keeps_a_fixed_query_count(desk, manager_client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("consult:stats")
    manager_client.get(url)  # warm: the session, the badge's kept count
    with CaptureQueriesContext(connection) as first:
        manager_client.get(url)
    carol = UserFactory(username="carol")
    _enquiry(carol, _monday(3), client=_client(ChannelFactory(name="Radio")), seconds=30)
    with django_assert_num_queries(len(first.captured_queries)):
        manager_client.get(url)


def test_the_empty_state(manager_client):
    page = manager_client.get(reverse("consult:stats"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["stats"].is_empty
    assert "No enquiries or bookings in this period." in page.content.decode()


def test_the_export_is_an_xlsx_with_the_same_tables_and_is_audited(desk, manager_client):
    response = manager_client.get(reverse("consult:stats_export"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith('attachment; filename="consult-stats-week')
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Consultant", "Marketing channel", "About"]
    sheet = workbook["Consultant"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == (
        "Consultant",
        "Period starting",
        "Enquiries",
        "Booked (from the enquiry or within 30 days)",
        "Enquiry → booking (%)",
    )
    alice_total = next(r for r in rows if r[0] == "alice" and r[1] == "Total")
    assert rows[0][8:14] == (
        "Bookings made",
        "Bookings that arrived",
        "Booking → arrival (%)",
        "Appointments due",
        "No-shows",
        "No-show rate (%)",
    )
    assert alice_total[2:15] == (3, 2, 66.7, 1, 33.3, 90, 2, 1, 50.0, 2, 1, 50.0, 0)
    # Recalls: made, reached, reached %, rebooked, rebooked %, closed.
    assert alice_total[15:] == (1, 1, 100, 1, 100, 0)
    # The About sheet gives the rates' definitions in the dashboard's words.
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert about["No-show rate"] == (
        "Appointments due in the period not checked in ÷ appointments due in the period."
    )
    week0 = desk["weeks"][0].date().isoformat()
    alice_week = next(r for r in rows if r[0] == "alice" and r[1] == week0)
    assert alice_week[2:5] == (2, 2, 100)
    assert rows[-1][:4] == ("All", "Total", 5, 2)
    channels = list(workbook["Marketing channel"].iter_rows(values_only=True))
    assert any(r[0] == "TV" and r[1] == "Total" and r[2] == 2 for r in channels)

    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.object_type == "consult.stats"
    assert event.actor_username == "t_manager"


def test_the_export_of_nothing_is_still_a_workbook(manager_client):
    response = manager_client.get(reverse("consult:stats_export") + "?period=month")
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the grand total
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


@pytest.mark.parametrize("role", ALLOWED)
def test_roles_that_may_see_the_analysis(client_for, role):
    http = client_for(role)
    assert http.get(reverse("consult:stats")).status_code == 200
    assert http.get(reverse("consult:stats_export")).status_code == 200


@pytest.mark.parametrize("role", REFUSED)
def test_roles_that_may_not_see_the_analysis(client_for, role):
    http = client_for(role)
    assert http.get(reverse("consult:stats")).status_code == 403
    assert http.get(reverse("consult:stats_export")).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client_for):
    response = client_for(None).get(reverse("consult:stats"))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- Bookings made from an enquiry --------------------------------------------------


def _linked_booking(by, enquiry, at, status=Booking.Status.BOOKED):
    """A booking made from `enquiry` (the call screen's link), dated `at`."""
    from consult import services

    from .factories import future_session

    booking = services.booking_create(
        client=enquiry.client, session=future_session(), kind="expert", by=by, enquiry=enquiry
    )
    Booking.objects.filter(pk=booking.pk).update(created_at=at, status=status)
    return booking


def test_an_enquiry_a_booking_was_made_from_converts_even_after_the_window():
    alice = UserFactory(username="alice", first_name="")
    week4 = _monday(4)
    enquiry = _enquiry(alice, week4, client=_client())
    # Booked from the enquiry 31 days later: outside the 30 days, but linked to it.
    _linked_booking(alice, enquiry, week4 + datetime.timedelta(days=31), Booking.Status.ARRIVED)
    group = _group(stats.consult_stats(period=stats.WEEK), stats.CONSULTANT, "alice")
    bucket = group.buckets[week4.date()]
    assert (bucket.enquiries, bucket.converted, bucket.converted_arrived) == (1, 1, 1)


def test_an_enquiry_with_a_linked_booking_and_a_booking_in_the_window_counts_once():
    alice = UserFactory(username="alice", first_name="")
    week1 = _monday(1)
    person = _client()
    enquiry = _enquiry(alice, week1, client=person)
    _linked_booking(alice, enquiry, week1 + datetime.timedelta(hours=1))
    _booking(alice, person, week1 + datetime.timedelta(days=2), Booking.Status.ARRIVED)
    group = _group(stats.consult_stats(period=stats.WEEK), stats.CONSULTANT, "alice")
    assert (group.total.enquiries, group.total.converted, group.total.converted_arrived) == (
        1,
        1,
        1,
    )
    assert group.total.bookings == 2


def test_a_booking_linked_to_one_enquiry_does_not_convert_the_clients_older_enquiries():
    alice = UserFactory(username="alice", first_name="")
    person = _client()
    old = _enquiry(alice, _monday(7), client=person)  # more than 30 days before the booking
    recent = _enquiry(alice, _monday(1), client=person)
    _linked_booking(alice, recent, _monday(1) + datetime.timedelta(hours=1))
    result = stats.consult_stats(period=stats.WEEK)
    group = _group(result, stats.CONSULTANT, "alice")
    assert group.buckets[_monday(7).date()].converted == 0
    assert group.buckets[_monday(1).date()].converted == 1
    assert old.bookings.count() == 0


def test_the_linked_rule_keeps_a_fixed_number_of_queries(desk, django_assert_num_queries):
    enquiry = _enquiry(desk["alice"], _monday(1), client=_client())
    _linked_booking(desk["alice"], enquiry, _monday(1) + datetime.timedelta(days=40))
    with django_assert_num_queries(STATS_QUERIES):
        stats.consult_stats(period=stats.WEEK)


def test_the_page_and_the_export_agree_on_linked_conversions(manager_client):
    alice = UserFactory(username="alice", first_name="")
    week3 = _monday(3)
    enquiry = _enquiry(alice, week3, client=_client())
    _linked_booking(alice, enquiry, week3 + datetime.timedelta(days=35))
    page = manager_client.get(reverse("consult:stats"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "when a booking is made from it on the call screen" in html
    assert _group(page.context["stats"], stats.CONSULTANT, "alice").total.converted == 1
    response = manager_client.get(reverse("consult:stats_export"), HTTP_ACCEPT_LANGUAGE="en")
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook["Consultant"].iter_rows(values_only=True))
    alice_total = next(r for r in rows if r[0] == "alice" and r[1] == "Total")
    assert alice_total[2:5] == (1, 1, 100)
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert "made from it on the call screen" in about["Conversion"]


def test_the_chart_gives_the_whole_desks_figures_week_by_week(desk, manager_client):
    page = manager_client.get(reverse("consult:stats"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'aria-label="Enquiries, booked and arrived"' in html
    rows = table_rows(html, "stats-chart-figures")
    assert rows[0] == ["Week of", "Enquiries", "Booked", "Arrived", "Enquiry → booking"]
    weeks = {row[0]: row[1:] for row in rows[1:]}
    assert len(weeks) == stats.PERIODS[stats.WEEK]  # every week, those without figures too
    week0, week2, week6 = (f"{at.date()}" for at in desk["weeks"])
    # This week: Alice's two calls (both booked, one arrived) and Bob's prospect.
    assert weeks[week0] == ["3", "2", "1", "66.7%"]
    assert weeks[week2] == ["1", "0", "0", "0.0%"]
    assert weeks[week6] == ["1", "0", "0", "0.0%"]
    quiet = f"{desk['weeks'][0].date() - datetime.timedelta(weeks=1)}"
    assert weeks[quiet] == ["0", "0", "0", "—"]
    # The chart draws the same numbers (its columns' titles).
    assert f"<title>Enquiries, {desk['weeks'][0]:%m-%d}: 3</title>" in html
    assert f"<title>Arrived, {desk['weeks'][0]:%m-%d}: 1</title>" in html


def test_the_chart_by_month_has_a_column_group_a_month(desk, manager_client):
    page = manager_client.get(reverse("consult:stats") + "?period=month")
    rows = table_rows(page.content.decode(), "stats-chart-figures")
    assert len(rows) == 1 + stats.PERIODS[stats.MONTH]
    # All six enquiries: the one ten weeks ago is inside six months.
    assert sum(int(row[1]) for row in rows[1:]) == 6
    assert page.context["stats"].tables[0].total.enquiries == 6


def test_an_empty_period_draws_no_chart_and_no_error(manager_client):
    page = manager_client.get(reverse("consult:stats"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'data-testid="stats-chart"' not in page.content.decode()
    assert [figures.enquiries for _start, figures in page.context["stats"].by_bucket] == [0] * 8
