"""The portal's bookings (/my/bookings/): the person's own bookings only, booking an open
session as a returning client through the desk's own services (capacity, confirmation SMS), the
cut-off, cancelling after a confirmation, moving, the consultants told at once, the audit."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consult.models import Booking
from guide.services import visit_register_walk_in
from messaging.models import OutboxMessage
from messaging.services import outbox_send
from portal.bookings import portal_booking_create
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import booking_templates, future_session, make_booking, past_session
from zhongdu import roles, sms
from zhongdu.forms import new_form_key
from zhongdu.models import AuditEvent, Notification

from .conftest import E164

LIST = reverse("portal:bookings")
NEW = reverse("portal:booking_new")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def returning(patient):
    """The patient has been to the hospital before (a walk-in visit the front desk recorded)."""
    visit_register_walk_in(client=patient, by=None)
    return patient


@pytest.fixture
def consultant(role_user):
    return role_user(roles.CONSULTANT)


def _book(client, session, key=None, **extra):
    return client.post(NEW, {"session": session.pk, "key": key or new_form_key()}, **extra)


def _detail(booking):
    return reverse("portal:booking", args=[booking.pk])


def test_the_list_has_empty_states(signed_in):
    page = signed_in.get(LIST, **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="portal-no-upcoming"' in html and 'data-testid="portal-no-past"' in html
    # Never been to the hospital: the desk's request is offered.
    assert reverse("book") in html


def test_the_list_shows_upcoming_and_past_bookings_without_desk_notes(signed_in, patient):
    upcoming = make_booking(client=patient, session=future_session(days=2))
    Booking.objects.filter(pk=upcoming.pk).update(note="staff only: difficult caller")
    past = make_booking(client=patient, session=past_session(days=5))
    other = make_booking(session=future_session(days=2))
    page = signed_in.get(LIST, **EN)
    html = page.content.decode()
    assert _detail(upcoming) in html and _detail(past) in html
    assert _detail(other) not in html
    assert "difficult caller" not in html
    session = upcoming.session
    for shown in (session.department.name, session.expert.name, session.department.floor):
        assert shown in html
    assert f"{session.date:%Y-%m-%d}" in html and "08:30" in html
    assert list(page.context["upcoming"]) == [upcoming]
    assert page.context["page"].items == [past]


def test_past_bookings_are_paged_by_keyset(signed_in, patient, settings):
    import portal.bookings

    old = [make_booking(client=patient, session=past_session(days=d)) for d in (3, 4, 5)]
    portal.bookings.PAST_PAGE_SIZE, size = 2, portal.bookings.PAST_PAGE_SIZE
    try:
        first = signed_in.get(LIST)
        assert first.context["page"].items == [old[2], old[1]]
        older = signed_in.get(LIST, {"before": first.context["page"].next_before})
        assert older.context["page"].items == [old[0]]
    finally:
        portal.bookings.PAST_PAGE_SIZE = size


def test_the_list_keeps_a_fixed_query_count(signed_in, patient, django_assert_num_queries):
    make_booking(client=patient, session=future_session(days=2))
    make_booking(client=patient, session=past_session(days=2))
    signed_in.get(LIST)  # the session's last-seen write is done
    # The session, the audit row, upcoming, a page of past ones, returning (visit, arrival), the
    # hospital profile.
    with django_assert_num_queries(7) as one:
        signed_in.get(LIST)
    for days in (3, 4, 5):
        make_booking(client=patient, session=future_session(days=days))
        make_booking(client=patient, session=past_session(days=days))
    with django_assert_num_queries(len(one.captured_queries)):
        signed_in.get(LIST)


def test_another_persons_booking_answers_404(signed_in):
    theirs = make_booking(session=future_session())
    for name in ("portal:booking", "portal:booking_cancel", "portal:booking_reschedule"):
        assert signed_in.get(reverse(name, args=[theirs.pk])).status_code == 404
        assert signed_in.post(reverse(name, args=[theirs.pk])).status_code in (404, 405)
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.BOOKED


def test_the_pages_need_a_signed_in_patient(client, patient):
    answer = client.get(LIST)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("portal:login"))


def test_a_first_time_client_is_sent_to_the_desks_request(signed_in):
    session = future_session()
    page = signed_in.get(NEW, **EN)
    assert 'data-testid="portal-first-time"' in page.content.decode()
    assert reverse("book") in page.content.decode()
    _book(signed_in, session)
    assert not Booking.objects.exists()


def test_a_returning_client_books_an_open_session_with_the_sms_confirmation(signed_in, returning):
    booking_templates()
    session = future_session(days=3)
    page = signed_in.get(NEW, {"expert": session.expert_id})
    assert list(page.context["sessions"]) == [session]
    answer = _book(signed_in, session)
    booking = Booking.objects.get()
    assert answer.status_code == 302 and answer["Location"] == _detail(booking) + "?done=booked"
    assert booking.client == returning and booking.source == Booking.Source.PORTAL
    assert booking.created_by is None
    session.refresh_from_db()
    assert session.booked == 1
    # The desk's confirmation, through the outbox's real send task.
    sms.clear()
    confirmation = OutboxMessage.objects.get(idempotency_key=f"booking:{booking.pk}:confirmation")
    outbox_send(message_id=confirmation.pk)
    (sent,) = sms.outbox
    assert sent.to == E164 and f"{session.date:%Y-%m-%d}" in sent.body
    assert "portal-done" in signed_in.get(answer["Location"]).content.decode()


def test_a_double_submit_books_once(signed_in, returning):
    session = future_session()
    key = new_form_key()
    first = _book(signed_in, session, key)
    second = _book(signed_in, session, key)
    assert first["Location"] == second["Location"]
    assert Booking.objects.count() == 1
    session.refresh_from_db()
    assert session.booked == 1
    assert AuditEvent.objects.filter(action="create", object_type="consult.booking").count() == 1


def test_a_full_session_is_refused_and_nothing_is_booked(signed_in, returning):
    session = future_session(capacity=1)
    make_booking(session=session)
    answer = signed_in.post(NEW, {"session": session.pk, "key": new_form_key()}, **EN)
    # Not even listed; sent anyway, the desk's capacity rule refuses it.
    assert answer.status_code == 409
    assert "just taken" in answer.content.decode()
    assert not Booking.objects.filter(client=returning).exists()
    session.refresh_from_db()
    assert session.booked == 1


def test_a_session_within_the_cut_off_is_not_offered_nor_booked(signed_in, returning, settings):
    settings.PORTAL_CHANGE_CUTOFF_HOURS = 24 * 5
    session = future_session(days=3)
    assert signed_in.get(NEW, {"expert": session.expert_id}).context["sessions"] == []
    answer = _book(signed_in, session, **EN)
    assert answer.status_code == 422 and "call the hotline" in answer.content.decode()
    assert not Booking.objects.exists()


def test_nothing_is_changed_after_the_cut_off(signed_in, patient, settings):
    booking = make_booking(client=patient, session=future_session(days=3))
    settings.PORTAL_CHANGE_CUTOFF_HOURS = 24 * 5
    detail = signed_in.get(_detail(booking), **EN).content.decode()
    assert "portal-too-late" in detail and "portal-cancel" not in detail
    cancel = signed_in.post(reverse("portal:booking_cancel", args=[booking.pk]), **EN)
    assert cancel.status_code == 409
    move = signed_in.post(
        reverse("portal:booking_reschedule", args=[booking.pk]),
        {"session": future_session(days=6).pk},
    )
    assert move.status_code == 409
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED and booking.session.date == (
        timezone.localdate() + datetime.timedelta(days=3)
    )


def test_cancelling_asks_for_a_confirmation_then_gives_the_place_back(signed_in, patient):
    booking_templates()
    booking = make_booking(client=patient, session=future_session(days=3))
    url = reverse("portal:booking_cancel", args=[booking.pk])
    confirm = signed_in.get(url)
    assert confirm.status_code == 200 and "portal-cancel-confirm" in confirm.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    answer = signed_in.post(url, {"reason": ""})
    assert answer["Location"] == _detail(booking) + "?done=cancelled"
    booking.refresh_from_db()
    booking.session.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_reason
    assert booking.session.booked == 0
    # The desk's cancellation withdrew the reminder not sent yet.
    reminder = OutboxMessage.objects.get(idempotency_key__startswith=f"booking:{booking.pk}:rem")
    assert reminder.status == "cancelled"


def test_moving_a_booking_takes_a_place_there_and_gives_the_old_one_back(signed_in, patient):
    booking_templates()
    booking = make_booking(client=patient, session=future_session(days=3))
    old = booking.session
    new = future_session(days=5, expert=old.expert)
    url = reverse("portal:booking_reschedule", args=[booking.pk])
    page = signed_in.get(url)
    assert list(page.context["sessions"]) == [new]  # the booking's expert, not its own session
    answer = signed_in.post(url, {"session": new.pk})
    assert answer["Location"] == _detail(booking) + "?done=moved"
    booking.refresh_from_db()
    old.refresh_from_db()
    new.refresh_from_db()
    assert booking.session == new and (old.booked, new.booked) == (0, 1)
    reminder = f"booking:{booking.pk}:reminder:{new.pk}"
    assert OutboxMessage.objects.filter(idempotency_key=reminder, status="pending").exists()


def test_moving_to_a_full_session_is_refused(signed_in, patient):
    booking = make_booking(client=patient, session=future_session(days=3))
    full = future_session(days=5, capacity=1)
    make_booking(session=full)
    url = reverse("portal:booking_reschedule", args=[booking.pk])
    assert signed_in.post(url, {"session": full.pk}).status_code == 409
    booking.refresh_from_db()
    assert booking.session_id != full.pk


def test_the_consultants_are_told_at_once_and_see_it_in_their_queue(
    signed_in, returning, consultant, client_for
):
    session = future_session(days=3)
    _book(signed_in, session)
    booking = Booking.objects.get()
    told = Notification.objects.get(recipient=consultant)
    assert told.url == booking.get_absolute_url() and f"#{booking.pk}" in told.text
    desk = client_for(roles.CONSULTANT)
    queue = desk.get(reverse("consult:queue")).content.decode()
    assert 'data-testid="portal-bookings"' in queue and f"#{booking.pk}" in queue
    section = queue.split('data-testid="portal-bookings"')[1].split("</section>")[0]
    assert returning.name not in section  # the booking's own page (access-checked) names them
    later = future_session(days=4, expert=session.expert)
    signed_in.post(reverse("portal:booking_reschedule", args=[booking.pk]), {"session": later.pk})
    signed_in.post(reverse("portal:booking_cancel", args=[booking.pk]), {"reason": "better"})
    assert Notification.objects.filter(recipient=consultant).count() == 3


def test_reads_and_changes_are_audited_under_the_portal_name(signed_in, returning):
    from portal.services import portal_username

    who = portal_username(returning)
    signed_in.get(LIST)
    _book(signed_in, future_session())
    booking = Booking.objects.get()
    signed_in.get(_detail(booking))
    signed_in.post(reverse("portal:booking_cancel", args=[booking.pk]))
    trail = AuditEvent.objects.filter(actor_username=who).exclude(action="login")
    assert list(trail.order_by("pk").values_list("action", "object_type")) == [
        ("view", "clientmgmt.client"),
        ("create", "consult.booking"),
        ("view", "consult.booking"),
        ("update", "consult.booking"),
    ]


def test_the_home_page_shows_the_next_booking(signed_in, patient):
    home = reverse("portal:home")
    html = signed_in.get(home).content.decode()
    assert 'data-testid="portal-card-bookings"' in html and NEW in html
    assert f'href="{LIST}"' in html  # the bottom bar's section
    booking = make_booking(client=patient, session=future_session(days=2))
    make_booking(client=patient, session=future_session(days=6))
    html = signed_in.get(home).content.decode()
    assert _detail(booking) in html


def test_a_relatives_booking_answers_404_without_an_authorisation(signed_in, patient):
    child = ClientFactory(name="李小宝")
    theirs = make_booking(client=child, session=future_session(days=2))
    assert signed_in.get(_detail(theirs)).status_code == 404


def test_the_queue_keeps_a_fixed_query_count_with_portal_bookings(returning, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    desk = client_for(roles.CONSULTANT)
    desk.get(reverse("consult:queue"))  # warm the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert desk.get(reverse("consult:queue")).status_code == 200
        return len(queries)

    portal_booking_create(
        client=returning, subject=returning, session=future_session(), request_key=""
    )
    one = count()
    for days in (4, 5, 6):
        portal_booking_create(
            client=returning, subject=returning, session=future_session(days=days), request_key=""
        )
    assert count() == one


@pytest.mark.parametrize("where", ["far", "inactive department", "cancelled"])
def test_a_session_the_pages_do_not_offer_is_refused_however_the_form_names_it(
    signed_in, returning, where
):
    from zhongdu.models import ClinicSession

    session = future_session(days=60 if where == "far" else 3)
    if where == "inactive department":
        type(session.department).objects.filter(pk=session.department_id).update(active=False)
    if where == "cancelled":
        ClinicSession.objects.filter(pk=session.pk).update(status=ClinicSession.Status.CANCELLED)
    answer = _book(signed_in, session, **EN)
    assert answer.status_code in (409, 422)
    assert not Booking.objects.filter(client=returning).exists()


def test_a_booking_is_not_moved_to_a_session_the_pages_do_not_offer(signed_in, patient):
    booking = make_booking(client=patient)
    far = future_session(days=90)
    answer = signed_in.post(
        reverse("portal:booking_reschedule", args=[booking.pk]), {"session": far.pk}, **EN
    )
    assert answer.status_code in (409, 422)
    booking.refresh_from_db()
    assert booking.session_id != far.pk
