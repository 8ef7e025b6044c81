"""The front desk's daily figures (/guide/daily/): the figures of a constructed day, the page,
its Excel export (audited), access, and a query count that does not grow with the day."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from clientmgmt.models import Client
from consult import services as consult
from consult.models import Booking
from guide import daily_views, selectors, services
from guide.models import Charge, ExamOrder, Visit
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import future_session, make_booking
from tests.zhongdu.factories import ChannelFactory, DepartmentFactory, ExpertFactory
from zhongdu import roles
from zhongdu.models import AuditEvent, ClinicSession

from .factories import (
    booked_today,
    checked_in,
    exam_package,
    issue_card,
    price,
    today_session,
    triaged,
    walk_in,
)

pytestmark = pytest.mark.django_db

DAILY = reverse("guide:daily")
EXPORT = reverse("guide:daily_export")
ALLOWED = sorted({roles.FRONT_DESK, roles.CLIENT_MANAGER, roles.MANAGER, roles.ADMINISTRATOR})
REFUSED = sorted({roles.CONSULTANT, roles.VIP_MANAGER})
# The signed-in page: the session, the user and their roles, then daily_figures' five (the
# visits, and one aggregate each over bookings, card events, exam orders and charges), whatever
# the number of visits (the user menu's count of unread notifications is kept since the first
# page).
PAGE_QUERIES = 8


def at(day, hour, minute=0):
    """An aware time on `day` by the hospital's clock."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(hour, minute)),
        timezone.get_default_timezone(),
    )


def waited(visit, day, *, arrived, minutes):
    """Give a visit exact times: arrived at `arrived` (hour, minute), seen `minutes` later."""
    start = at(day, *arrived)
    Visit.objects.filter(pk=visit.pk).update(
        arrived_at=start, seen_at=start + datetime.timedelta(minutes=minutes)
    )


def client_from(channel=None):
    client = ClientFactory()
    Client.objects.filter(pk=client.pk).update(source_channel=channel, last_visit_at=None)
    client.refresh_from_db()
    return client


def to_doctor(visit):
    return services.visit_set_status(visit=visit, new_status=Visit.Status.WITH_DOCTOR, by=None)


@pytest.fixture
def day():
    """Today, as the hospital counts it: the services stamp visits with today."""
    return timezone.localdate()


@pytest.fixture
def busy_day(day):
    """Four arrivals, six bookings and some cards, exams and charges; the expected figures are
    in the tests."""
    skin = DepartmentFactory(name="皮肤科")
    laser = DepartmentFactory(name="激光科")
    tv, web = ChannelFactory(name="TV"), ChannelFactory(name="Web")
    skin_session = today_session(expert=ExpertFactory(departments=[skin]))
    laser_session = today_session(expert=ExpertFactory(departments=[laser]))

    # Booked and seen: a first visit (TV) after 10 minutes, a return visit (Web) after 30.
    first = checked_in(client=client_from(tv), session=skin_session)
    first = to_doctor(triaged(first))
    services.visit_set_status(visit=first, new_status=Visit.Status.DONE, by=None)
    waited(first, day, arrived=(9, 0), minutes=10)
    second = checked_in(client=client_from(web), session=laser_session)
    to_doctor(triaged(second, visit_type=Visit.Type.RETURN))
    waited(second, day, arrived=(9, 5), minutes=30)
    # Walk-ins: an exam client (TV) seen after 20 minutes, and one (no channel) who left.
    third = walk_in(client=client_from(tv))
    to_doctor(triaged(third, department=skin, visit_type=Visit.Type.EXAM))
    waited(third, day, arrived=(10, 0), minutes=20)
    fourth = walk_in(client=client_from())
    services.visit_set_status(visit=fourth, new_status=Visit.Status.LEFT, by=None)

    # Bookings that did not arrive: one still expected, one no-show, one cancelled (not
    # counted), one in a session the hospital cancelled (not expected any more).
    booked_today(session=skin_session)
    no_show = booked_today(session=skin_session)
    consult.booking_set_status(booking=no_show, new_status=Booking.Status.NO_SHOW, by=None)
    cancelled = booked_today(session=skin_session)
    consult.booking_cancel(booking=cancelled, reason="改期", by=None)
    called_off = today_session(expert=ExpertFactory(departments=[laser]))
    booked_today(session=called_off)
    ClinicSession.objects.filter(pk=called_off.pk).update(status=ClinicSession.Status.CANCELLED)

    # Yesterday's visit and charge are not today's.
    yesterday = walk_in(client=client_from(tv))
    Visit.objects.filter(pk=yesterday.pk).update(
        day=day - datetime.timedelta(days=1), arrived_at=at(day - datetime.timedelta(days=1), 9)
    )
    old = services.charge_add(visit=yesterday, price_item=price("GH009", "999.00"), by=None)
    Charge.objects.filter(pk=old.pk).update(charged_at=at(day - datetime.timedelta(days=1), 9))

    # Cards: one issued (¥200) and renewed (¥150).
    card = issue_card(number="ZD00000001", fee="200.00")
    services.card_renew(card=card, months=6, fee=Decimal("150.00"), by=None)
    # Exams: two orders opened, one of them completed.
    package = exam_package()
    services.exam_order_create(client=third.client, package=package, by=None)
    done = services.exam_order_create(client=first.client, package=package, by=None)
    for item in done.items.all():
        services.exam_item_set_done(item=item, done=True, by=None)
    services.exam_order_complete(order=done, result_summary="未见异常", by=None)
    # Charges: ¥20 × 2 kept; ¥100 voided.
    services.charge_add(visit=first, price_item=price("GH001", "20.00"), quantity=2, by=None)
    wrong = services.charge_add(visit=second, price_item=price("ZL001", "100.00"), by=None)
    services.charge_void(charge=wrong, reason="录错", by=None)
    return {"first": first, "second": second, "third": third, "fourth": fourth}


def test_the_figures_of_a_constructed_day_are_right(busy_day, day):
    with translation.override("en"):
        figures = selectors.daily_figures(day)
    assert (figures.arrivals, figures.walk_ins, figures.left) == (4, 2, 1)
    assert dict(figures.by_type) == {"First visit": 2, "Return visit": 1, "Examination": 1}
    assert figures.by_channel == [("TV", 2), ("Not recorded", 1), ("Web", 1)]
    assert figures.by_department == [("皮肤科", 2), ("Not triaged", 1), ("激光科", 1)]
    assert (figures.bookings, figures.bookings_arrived) == (4, 2)
    assert (figures.bookings_expected, figures.no_shows) == (1, 1)
    assert figures.arrival_rate == 50.0
    assert figures.no_show_rate == 25.0  # the dashboard's: no-shows ÷ appointments due
    assert (figures.waiting_median, figures.waiting_p90, figures.waiting_measured) == (20, 30, 3)
    assert (figures.cards_issued, figures.cards_renewed) == (1, 1)
    assert figures.card_fees == Decimal("350.00")
    assert (figures.exam_orders, figures.exams_completed) == (2, 1)
    assert figures.charges_total == Decimal("40.00")


def test_the_median_is_the_middle_and_the_90th_percentile_the_nearest_rank(day):
    # Ten visits seen after 5, 10, ... 50 minutes (out of order).
    for minutes in (50, 5, 45, 10, 40, 15, 35, 20, 30, 25):
        visit = to_doctor(triaged(walk_in(), department=DepartmentFactory()))
        waited(visit, day, arrived=(8, 0), minutes=minutes)
    # Still waiting: not measured.
    triaged(walk_in(), department=DepartmentFactory())
    figures = selectors.daily_figures(day)
    assert figures.waiting_measured == 10
    assert figures.waiting_median == 27.5  # between 25 and 30
    assert figures.waiting_p90 == 45  # the 9th of 10


def test_a_quiet_day_has_no_waiting_figures_and_no_rates(day):
    figures = selectors.daily_figures(day)
    assert figures.arrivals == 0
    assert figures.waiting_median is None and figures.waiting_p90 is None
    assert figures.arrival_rate is None
    assert figures.charges_total == Decimal("0.00")


def test_the_day_is_cut_at_midnight_by_the_hospitals_clock(day):
    order = services.exam_order_create(client=ClientFactory(), package=exam_package(), by=None)
    # 23:59 the day before, Beijing time (15:59 UTC): not today's.
    ExamOrder.objects.filter(pk=order.pk).update(
        ordered_at=at(day, 0) - datetime.timedelta(minutes=1)
    )
    with timezone.override(datetime.UTC):
        assert selectors.daily_figures(day).exam_orders == 0
        assert selectors.daily_figures(day - datetime.timedelta(days=1)).exam_orders == 1


def test_the_page_shows_the_tables_and_the_recall_queue(busy_day, day, front_desk_client):
    page = front_desk_client.get(DAILY, {"date": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Front desk figures of {day.isoformat()}" in html
    for key in ("arrivals", "bookings", "by_type", "by_channel", "by_department", "waiting"):
        assert f'data-testid="daily-{key}"' in html
    assert "皮肤科" in html and "Walk-ins (no booking)" in html
    assert "20 min" in html and "30 min" in html
    # Hover text: the dashboard's definition of the same figure.
    assert (
        'title="Of the appointments due on the day, those not checked in (swept at 21:00)."' in html
    )
    assert "¥350.00" in html and "¥40.00" in html
    assert "hands them to the consultants' recall queue" in html
    assert reverse("consult:queue") in html
    assert f"?date={(day - datetime.timedelta(days=1)).isoformat()}" in html
    assert f"?date={(day + datetime.timedelta(days=1)).isoformat()}" in html
    assert f"{EXPORT}?date={day.isoformat()}" in html
    assert "data-print" in html and "js/print-button.js" in html


def test_the_recall_queue_is_linked_only_for_those_who_may_open_it(front_desk_client, monkeypatch):
    asked = []

    def may_open(user, name):
        asked.append(name)
        return False

    # Every role that reads the figures may open the queue today; the page asks the access
    # table all the same, and says where no-shows go without the link when the answer is no.
    monkeypatch.setattr(daily_views, "user_may_open", may_open)
    html = front_desk_client.get(DAILY, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert asked == ["consult:queue"]
    assert 'data-testid="no-show-note"' in html
    assert 'data-testid="recall-queue"' not in html


def test_a_day_without_arrivals_says_so(front_desk_client):
    page = front_desk_client.get(DAILY, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("No arrivals on this day.") == 3
    assert 'data-testid="daily-future"' not in html


def test_a_future_day_is_allowed_and_shows_only_its_bookings(front_desk_client, day):
    later = day + datetime.timedelta(days=3)
    make_booking(session=future_session(days=3))
    page = front_desk_client.get(DAILY, {"date": later.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["day"] == later
    assert page.context["figures"].arrivals == 0
    assert page.context["figures"].bookings_expected == 1
    assert 'data-testid="daily-future"' in page.content.decode()


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", "0001-01-01", "9999-12-31"])
def test_a_bad_date_shows_a_message_and_todays_figures(front_desk_client, day, bad):
    page = front_desk_client.get(DAILY, {"date": bad}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["day"] == day
    html = page.content.decode()
    assert "Write the day as 2026-03-01." in html or "Choose a day between" in html
    assert f"Front desk figures of {day.isoformat()}" in html


def test_the_page_takes_the_same_queries_for_one_visit_or_twenty(
    front_desk_client, django_assert_max_num_queries
):
    department = DepartmentFactory()
    to_doctor(triaged(walk_in(), department=department))
    front_desk_client.get(DAILY)  # the session's first write is not the page's
    with CaptureQueriesContext(connection) as one:
        front_desk_client.get(DAILY)
    for _n in range(19):
        to_doctor(triaged(walk_in(client=client_from(ChannelFactory())), department=department))
    checked_in()
    with django_assert_max_num_queries(PAGE_QUERIES):
        page = front_desk_client.get(DAILY)
    assert page.context["figures"].arrivals == 21
    assert len(one.captured_queries) == PAGE_QUERIES


def test_the_export_is_an_xlsx_of_the_same_tables_and_is_audited(busy_day, day, manager_client):
    response = manager_client.get(EXPORT, {"date": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == f'attachment; filename="daily-{day.isoformat()}.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Daily figures", "About"]
    rows = list(workbook["Daily figures"].iter_rows(values_only=True))
    assert rows[0][0] == f"Front desk figures of {day.isoformat()}"
    values = {row[0]: row[1] for row in rows if row and row[0]}
    assert values["Arrivals"] == 4
    assert values["Walk-ins (no booking)"] == 2
    assert values["Left without being seen"] == 1
    assert values["Still expected"] == 1 and values["No-shows"] == 1
    assert values["Arrival rate"] == 50
    assert values["Appointments due"] == 4 and values["No-show rate"] == 25
    assert values["First visit"] == 2 and values["Examination"] == 1
    assert values["TV"] == 2 and values["皮肤科"] == 2
    assert values["Median"] == 20 and values["90th percentile"] == 30
    assert values["Visits measured"] == 3
    assert values["Card fees"] == 350
    assert values["Exam orders completed"] == 1
    assert values["Total charged (voided lines left out)"] == 40
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert about["No-shows"].startswith("Of the appointments due on the day")
    titles = [row[0] for row in rows if row and row[1] is None and row[0]]
    assert "Arrivals by channel" in titles and "Waiting time, arrival to doctor" in titles

    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.object_type == "guide.daily"
    assert event.object_id == day.isoformat()
    assert event.actor_username == "t_manager"


def test_a_name_that_looks_like_a_formula_is_exported_as_text(front_desk_client, day):
    walk_in(client=client_from(ChannelFactory(name="=HYPERLINK(1)")))
    response = front_desk_client.get(EXPORT)
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"


def test_the_export_of_a_quiet_day_is_still_a_workbook(front_desk_client, day):
    response = front_desk_client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="en")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert ("No arrivals on this day.", None) in rows
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_the_export_of_a_bad_date_goes_back_to_the_page_and_exports_nothing(front_desk_client):
    response = front_desk_client.get(EXPORT, {"date": "2026-02-30"})
    assert response.status_code == 302
    assert response["Location"] == f"{DAILY}?date=2026-02-30"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize("role", ALLOWED)
def test_roles_that_may_see_the_figures(client_for, role):
    http = client_for(role)
    assert http.get(DAILY).status_code == 200
    assert http.get(EXPORT).status_code == 200


@pytest.mark.parametrize("role", REFUSED)
def test_roles_that_may_not_see_the_figures(client_for, role):
    http = client_for(role)
    assert http.get(DAILY).status_code == 403
    assert http.get(EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client_for):
    response = client_for(None).get(DAILY)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_figures_refuse_a_post(front_desk_client):
    assert front_desk_client.post(DAILY).status_code == 405
