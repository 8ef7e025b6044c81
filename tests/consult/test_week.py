"""The week calendar of bookings (consult:booking_list ?view=week): days as columns, each with
its sessions and under each session its bookings."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consult import services
from consult.models import Booking
from tests.zhongdu.factories import ClinicSessionFactory, DepartmentFactory, ExpertFactory

from .factories import ClientFactory, make_booking, make_vip

pytestmark = pytest.mark.django_db

URL = reverse("consult:booking_list")
# Session, user, roles, departments and experts of the filter form, the week's sessions and
# its bookings, whatever their number (the user menu's count of unread notifications is kept).
WEEK_QUERIES = 7


def _monday(weeks=1):
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=weeks)


def _session(day, **kwargs):
    return ClinicSessionFactory(date=day, **kwargs)


def _week(http, monday, **filters):
    return http.get(
        URL, {"view": "week", "date": f"{monday:%Y-%m-%d}", **filters}, HTTP_ACCEPT_LANGUAGE="en"
    )


def test_the_week_shows_seven_days_from_monday_whatever_day_was_asked_for(consultant_client):
    monday = _monday()
    page = _week(consultant_client, monday + datetime.timedelta(days=3))
    assert page.status_code == 200
    assert page.context["day"] == monday
    days = page.context["days"]
    assert [day.date for day in days] == [monday + datetime.timedelta(days=n) for n in range(7)]
    assert [day.label[:3] for day in days] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    html = page.content.decode()
    assert html.count('data-testid="week-day"') == 7
    assert f"Mon {monday:%m-%d}" in html
    assert 'data-testid="bookings"' not in html  # the calendar, not the day's table
    assert 'aria-current="date"' not in html  # next week holds no today


def test_today_is_highlighted_in_the_current_week(consultant_client):
    today = timezone.localdate()
    page = _week(consultant_client, today)
    html = page.content.decode()
    assert [day.today for day in page.context["days"]] == [n == today.weekday() for n in range(7)]
    assert html.count('aria-current="date"') == 1
    assert f'week-day week-today" data-testid="week-day" data-date="{today:%Y-%m-%d}"' in html


def test_each_session_shows_its_places_and_its_bookings_under_it(consultant_client):
    monday = _monday()
    wednesday = monday + datetime.timedelta(days=2)
    dermatology = DepartmentFactory(name="皮肤科", floor="3F")
    doctor = ExpertFactory(name="王医生", departments=[dermatology])
    session = _session(wednesday, expert=doctor, capacity=4)
    vip = make_booking(client=make_vip(ClientFactory(name="赵敏")), session=session, vip=True)
    plain = make_booking(client=ClientFactory(name="钱进"), session=session)
    services.booking_set_status(booking=plain, new_status="arrived", by=None)
    afternoon = {"start_time": datetime.time(14), "end_time": datetime.time(17)}
    empty = _session(wednesday, capacity=2, **afternoon)

    page = _week(consultant_client, monday)
    day = page.context["days"][2]
    assert [s.time for s in day.sessions] == ["08:30–11:30", "14:00–17:00"]
    first, second = day.sessions
    assert (first.expert, first.department, first.places) == ("王医生", "皮肤科 (3F)", "2/4")
    assert [(b.name, b.vip, b.status, b.url) for b in first.bookings] == [
        ("赵敏", True, "booked", vip.get_absolute_url()),
        ("钱进", False, "arrived", plain.get_absolute_url()),
    ]
    assert (second.places, second.bookings) == ("0/2", [])
    assert empty.expert.name == second.expert
    html = page.content.decode()
    vip_badge = '<span class="badge text-bg-warning">VIP'
    assert f'<a href="{vip.get_absolute_url()}">赵敏</a> {vip_badge}' in html
    assert '<span class="badge booking-arrived">Arrived</span>' in html
    # The client's phone is not on the calendar at all.
    assert plain.client.phone_masked not in html
    assert all(not d.sessions for i, d in enumerate(page.context["days"]) if i != 2)
    assert html.count("No sessions.") == 6


def test_a_full_and_a_cancelled_session_say_so(consultant_client):
    monday = _monday()
    full = _session(monday, capacity=1)
    make_booking(client=make_vip(ClientFactory()), session=full, vip=True)
    _session(monday, status="cancelled", start_time=datetime.time(14), end_time=datetime.time(17))
    page = _week(consultant_client, monday)
    first, cancelled = page.context["days"][0].sessions
    assert (first.full, first.cancelled) == (True, False)
    assert cancelled.cancelled is True
    assert "Session cancelled" in page.content.decode()


def test_the_filters_apply_to_the_week(consultant_client):
    monday = _monday()
    one = make_booking(session=_session(monday))
    two = make_booking(session=_session(monday + datetime.timedelta(days=1)))
    services.booking_cancel(booking=two, reason="ill", by=None)

    def names(**filters):
        days = _week(consultant_client, monday, **filters).context["days"]
        return [b.name for day in days for s in day.sessions for b in s.bookings]

    assert sorted(names()) == sorted([one.client.name, two.client.name])
    assert names(department=one.session.department_id) == [one.client.name]
    assert names(expert=two.session.expert_id) == [two.client.name]
    # A status shows only the sessions that have such a booking.
    days = _week(consultant_client, monday, status="cancelled").context["days"]
    assert [len(day.sessions) for day in days] == [0, 1, 0, 0, 0, 0, 0]
    assert names(status="cancelled") == [two.client.name]
    page = _week(consultant_client, monday, status="zzz", expert="x", date="2026-99-99")
    assert page.status_code == 200


def test_the_week_leaves_out_the_weeks_around_it(consultant_client):
    monday = _monday()
    sunday = monday + datetime.timedelta(days=6)
    inside = make_booking(session=_session(sunday))
    make_booking(session=_session(sunday + datetime.timedelta(days=1)))
    make_booking(session=_session(monday - datetime.timedelta(days=1)))
    days = _week(consultant_client, monday).context["days"]
    assert [b.url for day in days for s in day.sessions for b in s.bookings] == [
        inside.get_absolute_url()
    ]


def test_previous_and_next_week_keep_the_view_and_the_filters(consultant_client):
    monday = _monday()
    department = DepartmentFactory()
    page = _week(consultant_client, monday, department=department.pk)
    html = page.content.decode()
    previous = monday - datetime.timedelta(days=7)
    following = monday + datetime.timedelta(days=7)
    assert f"view=week&amp;department={department.pk}&amp;date={previous:%Y-%m-%d}" in html
    assert f"view=week&amp;department={department.pk}&amp;date={following:%Y-%m-%d}" in html
    assert 'name="view" value="week"' in html
    # A day's heading opens that day's table with the same filters.
    assert f'href="?department={department.pk}&amp;date={monday:%Y-%m-%d}"' in html


def test_the_week_prints_without_the_controls(consultant_client):
    html = _week(consultant_client, _monday()).content.decode()
    assert "css/print.css" in html
    assert 'class="d-flex flex-wrap gap-2 d-print-none"' in html  # the buttons
    assert 'class="d-print-none mb-3"' in html  # the filters
    assert 'class="week-calendar" data-testid="week-calendar"' in html


def test_the_week_keeps_a_fixed_query_count(consultant_client, django_assert_num_queries):
    monday = _monday()
    make_booking(session=_session(monday))
    _week(consultant_client, monday)  # warm the session and the policy row

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert _week(consultant_client, monday).status_code == 200
        return len(queries)

    one = count()
    assert one == WEEK_QUERIES
    for offset in range(7):
        session = _session(monday + datetime.timedelta(days=offset))
        for _ in range(3):
            make_booking(session=session)
    assert Booking.objects.count() == 22
    assert count() == one
    with django_assert_num_queries(one):
        _week(consultant_client, monday, status="booked")


@pytest.mark.parametrize("role", ["front_desk", "consultant", "manager"])
def test_the_roles_that_see_bookings_see_the_week(client_for, role):
    assert _week(client_for(role), _monday()).status_code == 200


def test_the_day_view_is_still_the_table(consultant_client):
    booking = make_booking(session=_session(timezone.localdate()))
    page = consultant_client.get(URL)
    assert list(page.context["bookings"]) == [booking]
    assert 'data-testid="bookings"' in page.content.decode()
    assert "days" not in page.context


def test_names_on_the_calendar_are_escaped(consultant_client):
    monday = _monday()
    make_booking(client=ClientFactory(name="<b>张</b>"), session=_session(monday))
    html = _week(consultant_client, monday).content.decode()
    assert "&lt;b&gt;张&lt;/b&gt;" in html
    assert "<b>张</b>" not in html
