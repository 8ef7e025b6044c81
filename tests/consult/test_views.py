import pytest
from django.urls import reverse
from django.utils import timezone

from consult.models import Booking
from zhongdu import roles

from .factories import ClientFactory, future_session, make_booking

pytestmark = pytest.mark.django_db

WRITERS = sorted(roles.CLIENT_EDITORS)
# Session, user, roles, departments and experts of the filter form, the bookings, whatever
# their number (the user menu's count of unread notifications is kept since the first page).
PINNED = 6


def _new_url(client):
    return reverse("consult:booking_new") + f"?client={client.pk}"


@pytest.mark.parametrize("role", WRITERS)
def test_booking_roles_book_a_client_into_a_session(client_for, role):
    person = ClientFactory()
    session = future_session(capacity=3)
    page = client_for(role).post(_new_url(person), {"session": session.pk, "kind": "expert"})
    booking = Booking.objects.get()
    assert page.status_code == 302
    assert page["Location"] == booking.get_absolute_url()
    assert booking.created_by.username.startswith("t_")


def test_the_new_booking_page_lists_sessions_with_free_places(consultant_client):
    person = ClientFactory()
    free = future_session(capacity=3)
    full = future_session(capacity=1)
    make_booking(session=full, client=ClientFactory())
    page = consultant_client.get(_new_url(person))
    assert page.status_code == 200
    assert list(page.context["sessions"]) == [free]


def test_the_last_place_just_taken_shows_the_next_free_sessions(consultant_client):
    person = ClientFactory()
    full = future_session(capacity=1)
    later = future_session(days=4, expert=full.expert)
    make_booking(session=full)
    page = consultant_client.post(
        _new_url(person), {"session": full.pk, "kind": "expert"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 409
    assert "just taken" in page.content.decode()
    assert page.context["alternatives"] == [later]


@pytest.mark.parametrize(
    "query,data",
    [
        ("?client=abc", {}),
        ("?client=999999", {}),
        ("?client={pk}", {"session": "x", "kind": "expert"}),
        ("?client={pk}", {"session": "999999", "kind": "nonsense"}),
        ("?client={pk}&department=x&expert=99999", {}),
    ],
)
def test_bad_input_never_gives_a_server_error(consultant_client, query, data):
    person = ClientFactory()
    url = reverse("consult:booking_new") + query.format(pk=person.pk)
    assert consultant_client.get(url).status_code in (200, 404)
    assert consultant_client.post(url, data).status_code in (404, 422)


def test_without_a_client_the_page_sends_you_to_find_one(consultant_client):
    page = consultant_client.get(reverse("consult:booking_new"))
    assert page.status_code == 200
    assert reverse("clientmgmt:client_list") in page.content.decode()


def test_a_manager_views_but_cannot_book_or_cancel(manager_client):
    booking = make_booking()
    assert manager_client.get(booking.get_absolute_url()).status_code == 200
    assert manager_client.get(reverse("consult:booking_list")).status_code == 200
    assert manager_client.get(_new_url(booking.client)).status_code == 403
    url = reverse("consult:booking_cancel", args=[booking.pk])
    assert manager_client.post(url, {"reason": "x"}).status_code == 403
    assert manager_client.get(booking.get_absolute_url()).context["can_change"] is False


def test_cancel_needs_a_reason_and_asks_first(front_desk_client):
    booking = make_booking()
    url = reverse("consult:booking_cancel", args=[booking.pk])
    page = front_desk_client.get(booking.get_absolute_url())
    assert f'action="{url}" data-confirm=' in page.content.decode()
    assert front_desk_client.post(url, {"reason": ""}).status_code == 422
    assert front_desk_client.post(url, {"reason": "ill"}).status_code == 302
    booking.refresh_from_db()
    booking.session.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.session.booked == 0


def test_cancelling_a_cancelled_booking_is_refused_politely(front_desk_client):
    booking = make_booking()
    url = reverse("consult:booking_cancel", args=[booking.pk])
    front_desk_client.post(url, {"reason": "ill"})
    page = front_desk_client.post(url, {"reason": "again"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "cannot go from" in page.content.decode()


def test_reschedule_moves_the_booking(consultant_client):
    booking = make_booking()
    new = future_session(days=5, expert=booking.session.expert)
    url = reverse("consult:booking_reschedule", args=[booking.pk])
    page = consultant_client.get(booking.get_absolute_url())
    assert new in page.context["sessions"]
    assert consultant_client.post(url, {"session": new.pk, "reason": "work"}).status_code == 302
    booking.refresh_from_db()
    assert booking.session == new
    assert consultant_client.post(url, {"session": "nope", "reason": "work"}).status_code == 422
    assert consultant_client.post(url, {"session": new.pk, "reason": "again"}).status_code == 409


def test_reschedule_without_a_reason_is_refused_with_a_message(consultant_client):
    booking = make_booking()
    new = future_session(days=5, expert=booking.session.expert)
    url = reverse("consult:booking_reschedule", args=[booking.pk])
    page = consultant_client.post(
        url, {"session": new.pk, "reason": "  "}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 422
    assert "Give the reason for moving the booking." in page.content.decode()
    booking.refresh_from_db()
    assert booking.session != new
    assert consultant_client.post(url, {"session": new.pk}).status_code == 422


def test_the_reschedule_form_marks_the_reason_as_required(consultant_client):
    booking = make_booking()
    html = consultant_client.get(booking.get_absolute_url()).content.decode()
    assert 'name="reason" maxlength="300" class="textinput form-control" required' in html


def test_the_slip_prints_the_booking(consultant_client):
    booking = make_booking()
    page = consultant_client.get(reverse("consult:booking_slip", args=[booking.pk]))
    assert page.status_code == 200
    assert booking.session.department.floor in page.content.decode()
    assert "css/print.css" in page.content.decode()


def test_unknown_booking_is_not_found(consultant_client):
    assert (
        consultant_client.get(reverse("consult:booking_detail", args=[999999])).status_code == 404
    )


def test_the_day_list_filters_and_survives_bad_filters(consultant_client):
    booking = make_booking(session=future_session(days=0))
    other = make_booking(session=future_session(days=0))
    url = reverse("consult:booking_list")
    assert list(consultant_client.get(url).context["bookings"]) == [booking, other] or list(
        consultant_client.get(url).context["bookings"]
    ) == [other, booking]
    page = consultant_client.get(url, {"expert": booking.session.expert_id})
    assert list(page.context["bookings"]) == [booking]
    page = consultant_client.get(url, {"status": "cancelled"})
    assert list(page.context["bookings"]) == []
    page = consultant_client.get(url, {"date": "2026-13-45", "status": "zzz", "expert": "x"})
    assert page.status_code == 200
    assert page.context["day"] == timezone.localdate()


def test_the_day_list_keeps_a_fixed_query_count(consultant_client, django_assert_num_queries):
    url = reverse("consult:booking_list")
    make_booking(session=future_session(days=0))
    consultant_client.get(url)  # warm the session and the policy row

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert consultant_client.get(url).status_code == 200
        return len(queries)

    one = count()
    assert one == PINNED
    for _ in range(5):
        make_booking(session=future_session(days=0))
    assert count() == one
    with django_assert_num_queries(one):
        consultant_client.get(url)


def test_the_client_page_offers_to_book(consultant_client, manager_client):
    from django.urls import reverse

    from tests.clientmgmt.factories import ClientFactory

    person = ClientFactory()
    link = f"{reverse('consult:booking_new')}?client={person.pk}"
    assert link in consultant_client.get(person.get_absolute_url()).content.decode()
    assert link not in manager_client.get(person.get_absolute_url()).content.decode()


def test_sessions_that_ended_today_cannot_be_booked(consultant_client):
    import datetime

    from django.utils import timezone

    from tests.zhongdu.factories import ClinicSessionFactory

    now = timezone.localtime()
    if now.hour < 1:
        pytest.skip("needs an hour of today behind us")
    ended = ClinicSessionFactory(
        date=now.date(),
        start_time=datetime.time(0, 0),
        end_time=(now - datetime.timedelta(minutes=1)).time(),
    )
    person = ClientFactory()
    page = consultant_client.get(_new_url(person))
    assert ended not in list(page.context["sessions"])


def test_the_day_list_opens_on_today(consultant_client):
    from django.utils import timezone

    page = consultant_client.get(reverse("consult:booking_list"))
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in page.content.decode()
