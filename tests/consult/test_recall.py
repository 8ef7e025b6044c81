"""No-shows and recall: the end-of-day sweep, recall attempts, rebooking, the queue, figures."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.schedules import DEFAULT_SCHEDULES
from consult import services, tasks
from consult.models import Booking, BookingEvent, Recall
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from zhongdu import roles
from zhongdu.models import ClinicSession

from .factories import (
    future_session,
    make_booking,
    make_no_show,
    make_vip,
    past_session,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("consult:queue")
TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)
# The queue's QUEUE_QUERIES (tests/consult/test_enquiries.py) counts, after the call-backs and
# online requests, the due recalls (client, booking and session joined; the no-shows, then the
# hotline's callbacks for those who answer it, each kind to its own limit) and the figures (one
# aggregate), the referred clients to call, the bookings made on the portal: whatever their
# number (the user menu's count of unread notifications is kept since the first page).
QUEUE_QUERIES = 10


def _detail(recall):
    return reverse("consult:recall_detail", args=[recall.pk])


def _attempt(recall):
    return reverse("consult:recall_attempt", args=[recall.pk])


def _close(recall):
    return reverse("consult:recall_close", args=[recall.pk])


# --- The sweep ----------------------------------------------------------------------


def test_the_sweep_makes_past_unchecked_bookings_no_shows_with_one_recall_each():
    yesterday, last_week = past_session(1), past_session(7)
    missed = [make_booking(session=yesterday), make_booking(session=last_week)]
    arrived = make_booking(session=yesterday)
    services.booking_set_status(booking=arrived, new_status="arrived", by=None)
    cancelled = make_booking(session=yesterday)
    services.booking_cancel(booking=cancelled, reason="ill", by=None)
    upcoming = make_booking(session=future_session(1))

    assert services.booking_mark_no_shows(day=TODAY() - DAY, batch_size=1) == 2

    for booking in missed:
        booking.refresh_from_db()
        assert booking.status == "no_show"
        assert booking.recall.status == "open"
        assert booking.recall.client_id == booking.client_id
        assert booking.recall.next_attempt_on == TODAY()
        assert booking.events.filter(action="status", to_status="no_show").count() == 1
    for booking, status in ((arrived, "arrived"), (cancelled, "cancelled"), (upcoming, "booked")):
        booking.refresh_from_db()
        assert booking.status == status
    assert Recall.objects.count() == 2


def test_the_sweep_is_idempotent():
    make_booking(session=past_session(2))
    assert services.booking_mark_no_shows(day=TODAY() - DAY) == 1
    assert services.booking_mark_no_shows(day=TODAY() - DAY) == 0
    assert Recall.objects.count() == 1
    assert BookingEvent.objects.filter(to_status="no_show").count() == 1


def test_the_sweep_leaves_today_alone_until_the_day_is_over(monkeypatch):
    today = make_booking(session=past_session(0))
    # Before 21:00 the last day over is yesterday, even when asked for today or later.
    monkeypatch.setattr(services, "last_day_over", lambda: TODAY() - DAY)
    assert services.booking_mark_no_shows(day=TODAY() + DAY) == 0
    today.refresh_from_db()
    assert today.status == "booked"
    # From 21:00 today is over.
    monkeypatch.setattr(services, "last_day_over", lambda: TODAY())
    assert services.booking_mark_no_shows(day=TODAY()) == 1
    today.refresh_from_db()
    assert today.status == "no_show"
    assert today.recall.next_attempt_on == TODAY() + DAY


def test_a_day_is_over_at_nine_in_the_evening_hospital_time():
    tz = timezone.get_default_timezone()
    day = datetime.date(2026, 3, 10)
    evening = datetime.datetime.combine(day, datetime.time(21, 0), tzinfo=tz)
    afternoon = datetime.datetime.combine(day, datetime.time(20, 59), tzinfo=tz)
    assert services.last_day_over(evening) == day
    assert services.last_day_over(afternoon) == day - DAY


def test_the_sweep_skips_sessions_the_hospital_cancelled():
    booking = make_booking(session=past_session(1))
    ClinicSession.objects.filter(pk=booking.session_id).update(status="cancelled")
    assert services.booking_mark_no_shows(day=TODAY() - DAY) == 0
    assert not Recall.objects.exists()


def test_a_no_show_recorded_by_hand_gets_its_recall_from_the_sweep():
    booking = make_booking(session=past_session(1))
    services.booking_set_status(booking=booking, new_status="no_show", by=None)
    assert services.booking_mark_no_shows(day=TODAY() - DAY) == 0
    assert Recall.objects.get().booking == booking


def test_the_task_calls_the_service_and_beat_runs_it_hourly():
    make_booking(session=past_session(1))
    assert tasks.bookings_mark_no_shows.run((TODAY() - DAY).isoformat()) == 1
    assert tasks.bookings_mark_no_shows.run() == 0
    assert tasks.bookings_mark_no_shows.acks_late
    assert (
        "consult.bookings_mark_no_shows",
        "consult.tasks.bookings_mark_no_shows",
        3600,
    ) in DEFAULT_SCHEDULES


def test_the_database_refuses_a_bad_recall():
    recall = make_no_show()
    for fields in ({"status": "maybe"}, {"reason": "bored"}, {"next_attempt_on": None}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Recall.objects.filter(pk=recall.pk).update(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Recall.objects.create(booking=recall.booking, client=recall.client, next_attempt_on=TODAY())


# --- Attempts -----------------------------------------------------------------------


def test_a_reached_client_gives_a_reason_and_the_recall_can_be_closed():
    user = UserFactory()
    recall = make_no_show()
    recall = services.recall_record_attempt(
        recall=recall, reached=True, reason="too_far", action="close", note="moving", by=user
    )
    assert (recall.status, recall.reason, recall.attempts) == ("closed", "too_far", 1)
    assert recall.reached_at and recall.handled_by == user and recall.next_attempt_on is None
    assert "moving" in recall.notes
    with pytest.raises(services.IllegalTransition):
        services.recall_record_attempt(recall=recall, reached=False, by=user)


@pytest.mark.parametrize(
    "kwargs", [{"reason": ""}, {"reason": "bored"}, {"reason": "price", "action": "x"}]
)
def test_reached_needs_a_reason_and_a_next_step(kwargs):
    recall = make_no_show()
    with pytest.raises(services.ValidationError):
        services.recall_record_attempt(recall=recall, reached=True, by=None, **kwargs)
    recall.refresh_from_db()
    assert (recall.status, recall.attempts) == ("open", 0)


def test_unreachable_counts_the_attempt_and_the_third_closes_the_recall():
    recall = make_no_show()
    for attempt in (1, 2):
        recall = services.recall_record_attempt(recall=recall, reached=False, by=None)
        assert (recall.status, recall.attempts) == ("open", attempt)
        assert recall.next_attempt_on == TODAY() + DAY
    recall = services.recall_record_attempt(recall=recall, reached=False, by=None)
    assert (recall.status, recall.attempts, recall.next_attempt_on) == ("closed", 3, None)
    assert recall.reached_at is None


def test_rebook_waits_for_the_new_booking_which_rebooks_the_recall():
    user = UserFactory()
    recall = make_no_show()
    recall = services.recall_record_attempt(
        recall=recall, reached=True, reason="forgot", action="rebook", by=user
    )
    assert recall.status == "reached"
    other = make_no_show()  # another client's recall is not touched
    new = make_booking(client=recall.client, by=user)
    recall.refresh_from_db()
    other.refresh_from_db()
    assert (recall.status, recall.rebooking, recall.handled_by) == ("rebooked", new, user)
    assert other.status == "open"


def test_a_client_who_books_by_themselves_closes_their_open_recall():
    recall = make_no_show()
    make_booking(client=recall.client)
    recall.refresh_from_db()
    assert recall.status == "rebooked"


def test_a_recall_can_be_closed_once():
    recall = services.recall_close(recall=make_no_show(), by=None, note="deceased")
    assert recall.status == "closed" and "deceased" in recall.notes
    with pytest.raises(services.IllegalTransition):
        services.recall_close(recall=recall, by=None)


# --- Pages --------------------------------------------------------------------------


def test_the_queue_shows_the_due_recalls(consultant_client):
    due = make_no_show(days_ago=3)
    later = make_no_show()
    Recall.objects.filter(pk=later.pk).update(next_attempt_on=TODAY() + DAY)
    done = make_no_show()
    services.recall_close(recall=done, by=None)
    page = consultant_client.get(QUEUE)
    assert list(page.context["recalls"]) == [due]
    html = page.content.decode()
    assert _detail(due) in html and _detail(later) not in html
    assert due.client.name in html and due.client.phone not in html


def test_each_recall_row_names_the_missed_appointment_and_opens_the_recall(
    consultant_client, manager_client
):
    session = past_session(2)
    booking = make_booking(client=make_vip(ClientFactory()), session=session, vip=True)
    services.booking_mark_no_shows(day=session.date)
    plain = make_no_show(days_ago=1)
    html = consultant_client.get(QUEUE).content.decode()
    table = html.split('data-testid="recalls"')[1]
    row = table.split(f'href="{_detail(booking.recall)}"')[0].rsplit("<tr>", 1)[1]
    assert booking.client.name in row and 'data-testid="priority"' in row
    assert booking.client.phone_masked in row and booking.client.phone not in row
    missed = (
        f"{session.date:%Y-%m-%d} {session.start_time:%H:%M} {session.expert.name}"
        f" · {session.department.name}"
    )
    assert missed in row
    row = table.split(f'href="{_detail(plain)}"')[0].rsplit("<tr>", 1)[1]
    assert plain.client.name in row and 'data-testid="priority"' not in row
    # Those who only look on open the recall to view it.
    html = manager_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<a href="{_detail(plain)}">View</a>' in html


def test_an_empty_recall_list_says_so(consultant_client):
    assert 'data-testid="no-recalls"' in consultant_client.get(QUEUE).content.decode()


def test_the_queue_keeps_a_fixed_query_count_with_recalls(consultant_client):
    from django.db import connection

    consultant_client.get(QUEUE)  # warm the session
    make_no_show()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert consultant_client.get(QUEUE).status_code == 200
        return len(queries)

    assert count() == QUEUE_QUERIES
    for days in (1, 2, 3, 4):
        make_no_show(days_ago=days)
    assert count() == QUEUE_QUERIES


def test_recording_an_unreachable_call_from_the_page(consultant_client):
    recall = make_no_show()
    page = consultant_client.get(_detail(recall))
    assert page.status_code == 200
    assert _attempt(recall) in page.content.decode()
    response = consultant_client.post(_attempt(recall), {"outcome": "unreachable"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    recall.refresh_from_db()
    assert (recall.attempts, recall.next_attempt_on) == (1, TODAY() + DAY)
    assert recall.handled_by.username == "t_consultant"


def test_rebooking_from_the_page_goes_to_the_booking_screen(consultant_client):
    recall = make_no_show()
    response = consultant_client.post(
        _attempt(recall), {"outcome": "reached", "reason": "price", "action": "rebook"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("consult:booking_new") + f"?client={recall.client_id}"
    session = future_session(capacity=3)
    consultant_client.post(response["Location"], {"session": session.pk, "kind": "expert"})
    recall.refresh_from_db()
    assert recall.status == "rebooked"
    assert recall.rebooking == Booking.objects.get(session=session)
    assert (
        "rebooked"
        in consultant_client.get(_detail(recall), HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
        .lower()
    )


def test_closing_from_the_page_needs_a_note(consultant_client):
    recall = make_no_show()
    page = consultant_client.post(_close(recall), {"note": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 422
    assert "Say why the recall is closed." in page.content.decode()
    assert consultant_client.post(_close(recall), {"note": "moved away"}).status_code == 302
    recall.refresh_from_db()
    assert recall.status == "closed"
    # A second close is refused with a message, not an error page.
    assert consultant_client.post(_close(recall), {"note": "again"}).status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"outcome": "maybe"},
        {"outcome": "reached"},
        {"outcome": "reached", "reason": "bored", "action": "rebook"},
        {"outcome": "reached", "reason": "price", "action": "later"},
    ],
)
def test_bad_input_gets_clear_messages_not_a_server_error(consultant_client, data):
    recall = make_no_show()
    page = consultant_client.post(_attempt(recall), data, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 422
    assert page.context["attempt_form"].errors
    recall.refresh_from_db()
    assert (recall.status, recall.attempts) == ("open", 0)


def test_an_attempt_on_a_closed_recall_is_refused_clearly(consultant_client):
    recall = services.recall_close(recall=make_no_show(), by=None)
    page = consultant_client.post(
        _attempt(recall), {"outcome": "unreachable"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.redirect_chain == [(_detail(recall), 302)]
    assert "This recall has already been dealt with." in page.content.decode()
    recall.refresh_from_db()
    assert recall.attempts == 0


def test_unknown_recalls_are_404(consultant_client):
    assert consultant_client.get("/consult/recalls/999999/").status_code == 404
    assert consultant_client.post("/consult/recalls/999999/attempt/").status_code == 404


def test_attempts_are_post_only(consultant_client):
    recall = make_no_show()
    assert consultant_client.get(_attempt(recall)).status_code == 405
    assert consultant_client.get(_close(recall)).status_code == 405


# --- Access -------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_each_role_opens_and_works_recalls_as_the_table_says(client_for, role):
    recall = make_no_show()
    client = client_for(role)
    expected = 200 if role in roles.PAGE_ACCESS["consult:recall_detail"] else 403
    assert client.get(_detail(recall)).status_code == expected
    may_call = role in roles.PAGE_ACCESS["consult:recall_attempt"]
    response = client.post(_attempt(recall), {"outcome": "unreachable"})
    assert response.status_code == (302 if may_call else 403)
    recall.refresh_from_db()
    assert recall.attempts == (1 if may_call else 0)


def test_the_manager_views_recalls_without_the_forms(manager_client):
    recall = make_no_show()
    page = manager_client.get(_detail(recall))
    assert page.status_code == 200
    assert _attempt(recall) not in page.content.decode()
    assert roles.MANAGER not in roles.PAGE_ACCESS["consult:recall_close"]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    recall = make_no_show()
    assert client.get(_detail(recall))["Location"].startswith(reverse("login"))


# --- Figures ------------------------------------------------------------------------


def test_the_figures_count_no_shows_and_recall_outcomes():
    reached = make_no_show()
    services.recall_record_attempt(
        recall=reached, reached=True, reason="ill", action="rebook", by=None
    )
    make_booking(client=reached.client)  # rebooks it
    closed = make_no_show(days_ago=2)
    services.recall_record_attempt(
        recall=closed, reached=True, reason="price", action="close", by=None
    )
    make_no_show(days_ago=3)  # not reached yet
    make_no_show(days_ago=40)  # too old
    arrived = make_booking(session=past_session(1))
    services.booking_set_status(booking=arrived, new_status="arrived", by=None)
    cancelled = make_booking(session=past_session(1))
    services.booking_cancel(booking=cancelled, reason="ill", by=None)
    make_booking(session=future_session(2))  # not over

    from consult.selectors import recall_figures

    figures = recall_figures()
    assert (figures["over"], figures["no_shows"], figures["reached"], figures["rebooked"]) == (
        4,
        3,
        2,
        1,
    )
    assert figures["rate"] == 75.0


def test_the_queues_no_show_rate_counts_the_dashboards_appointments_due():
    make_no_show(days_ago=2)
    arrived = make_booking(session=past_session(1))
    services.booking_set_status(booking=arrived, new_status="arrived", by=None)
    # Still booked in a session the hospital cancelled: no appointment, as on the dashboard.
    stranded = make_booking(session=past_session(1))
    ClinicSession.objects.filter(pk=stranded.session_id).update(
        status=ClinicSession.Status.CANCELLED
    )

    from consult.selectors import recall_figures

    figures = recall_figures()
    assert (figures["over"], figures["no_shows"], figures["rate"]) == (2, 1, 50.0)


def test_the_queue_shows_the_figures(consultant_client):
    make_no_show()
    html = consultant_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="recall-figures"' in html
    assert "1 no-shows out of 1 appointments (100.0%)" in html
