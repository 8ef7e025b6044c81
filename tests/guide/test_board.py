"""Today's board, check-in and walk-in registration, through the real pages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from consult.models import Booking
from guide.models import Visit
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import make_booking, make_vip, past_session
from tests.guide.factories import booked_today, checked_in, today_session, triaged, walk_in
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles

pytestmark = pytest.mark.django_db

TODAY = reverse("guide:today")


def _rows(response):
    return [(row.client_name, row.state) for row in response.context["board"].rows]


def test_the_board_lists_todays_bookings_and_walk_ins_by_time_with_their_state(
    front_desk_client,
):
    early = booked_today(
        client=ClientFactory(name="王芳"), session=today_session(start_time=datetime.time(8))
    )
    later = checked_in(
        client=ClientFactory(name="李娜"), session=today_session(start_time=datetime.time(9))
    )
    walked_in = walk_in(client=ClientFactory(name="赵敏"))
    # The walk-in came at 10:00, after both sessions began (not at "now", which between
    # midnight and 09:00 would sort it first).
    ten = datetime.datetime.combine(timezone.localdate(), datetime.time(10))
    Visit.objects.filter(pk=walked_in.pk).update(arrived_at=timezone.make_aware(ten))
    make_booking(client=ClientFactory(name="明天"))  # a later day: not on today's board
    response = front_desk_client.get(TODAY, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    rows = _rows(response)
    assert rows[:2] == [("王芳", "expected"), ("李娜", "registered")]
    assert ("赵敏", "registered") in rows and len(rows) == 3
    counts = {key: n for key, _label, n in response.context["board"].counts}
    assert counts["expected"] == 1 and counts["registered"] == 2
    html = response.content.decode()
    assert reverse("guide:check_in", args=[early.pk]) in html
    assert later.get_absolute_url() in html
    assert "138****" in html  # numbers masked


def test_cancelled_bookings_are_left_off_and_no_shows_are_shown(front_desk_client):
    cancelled = booked_today(client=ClientFactory(name="取消"))
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)
    missed = booked_today(client=ClientFactory(name="爽约"))
    Booking.objects.filter(pk=missed.pk).update(status=Booking.Status.NO_SHOW)
    response = front_desk_client.get(TODAY)
    assert _rows(response) == [("爽约", "no_show")]


def test_a_vip_is_highlighted_with_the_escort_or_a_reminder_to_assign_one(
    front_desk_client, role_user
):
    escort = role_user(roles.VIP_MANAGER)
    vip = make_vip(ClientFactory(name="贵宾"))
    visit = walk_in(client=vip)
    response = front_desk_client.get(TODAY, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["board"].vips == 1
    assert "no escort yet" in response.content.decode()
    triaged(visit, department=DepartmentFactory(), escort=escort)
    response = front_desk_client.get(TODAY, HTTP_ACCEPT_LANGUAGE="en")
    row = response.context["board"].rows[0]
    assert row.vip and row.escort == escort.get_full_name()
    assert 'class="board-vip"' in response.content.decode()


def test_the_board_is_searched_by_name_or_the_last_four_digits(front_desk_client):
    wang = booked_today(client=ClientFactory(name="王芳", phone="+8613800005678"))
    walk_in(client=ClientFactory(name="李娜", phone="+8613800001234"))
    assert _rows(front_desk_client.get(TODAY, {"q": "5678"})) == [("王芳", "expected")]
    assert _rows(front_desk_client.get(TODAY, {"q": "李"})) == [("李娜", "registered")]
    assert _rows(front_desk_client.get(TODAY, {"q": "wf"})) == [("王芳", "expected")]
    assert wang.client.name == "王芳"


def test_the_board_filters_by_department_and_state(front_desk_client):
    skin = DepartmentFactory(name="皮肤科")
    booked_today(client=ClientFactory(name="王芳"), session=today_session(department=skin))
    triaged(walk_in(client=ClientFactory(name="李娜")), department=DepartmentFactory())
    assert _rows(front_desk_client.get(TODAY, {"department": skin.pk})) == [("王芳", "expected")]
    response = front_desk_client.get(TODAY, {"state": "waiting"})
    assert _rows(response) == [("李娜", "waiting")]
    # The counts stay those of the whole day.
    assert response.context["board"].total == 2


def test_a_nonsense_filter_shows_the_whole_board_not_an_error(front_desk_client):
    walk_in()
    response = front_desk_client.get(TODAY, {"department": "abc", "state": "nope"})
    assert response.status_code == 200
    assert len(response.context["board"].rows) == 1


def test_the_board_refreshes_as_a_fragment_for_htmx(front_desk_client):
    walk_in(client=ClientFactory(name="李娜"))
    response = front_desk_client.get(TODAY, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "李娜" in html
    assert 'data-testid="board-counts"' in html


def test_an_empty_board_says_so(front_desk_client):
    response = front_desk_client.get(TODAY, HTTP_ACCEPT_LANGUAGE="en")
    assert "No bookings or arrivals yet today." in response.content.decode()


def test_the_board_runs_the_same_queries_whatever_the_number_of_rows(
    front_desk_client, django_assert_num_queries, role_user
):
    escort = role_user(roles.VIP_MANAGER)
    session = today_session(capacity=100)

    def add(n):
        for _ in range(n):
            visit = checked_in(session=session)
            triaged(visit, escort=escort)
            booked_today(session=session)
            walk_in()

    add(2)
    front_desk_client.get(TODAY)
    # Session, user, roles, the departments of the filter, the day's bookings with their
    # visits, the day's walk-ins (the user menu's count of unread notifications is kept).
    with django_assert_num_queries(6):
        front_desk_client.get(TODAY)
    add(8)
    with django_assert_num_queries(6):
        response = front_desk_client.get(TODAY)
    assert len(response.context["board"].rows) == 30


def test_checking_in_from_the_board_opens_the_visit_for_triage(front_desk_client):
    booking = booked_today()
    response = front_desk_client.post(reverse("guide:check_in", args=[booking.pk]))
    visit = Visit.objects.get(booking=booking)
    assert response.status_code == 302 and response["Location"] == visit.get_absolute_url()
    again = front_desk_client.post(reverse("guide:check_in", args=[booking.pk]), follow=True)
    assert again.status_code == 200
    assert Visit.objects.count() == 1


def test_checking_in_yesterdays_booking_is_refused_with_a_message(front_desk_client):
    booking = make_booking(session=past_session(1))
    response = front_desk_client.post(
        reverse("guide:check_in", args=[booking.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Only today&#x27;s bookings can be checked in." in response.content.decode()
    assert not Visit.objects.exists()


def test_checking_in_needs_a_post_and_the_front_desk(client_for):
    booking = booked_today()
    url = reverse("guide:check_in", args=[booking.pk])
    assert client_for(roles.FRONT_DESK).get(url).status_code == 405
    assert client_for(roles.MANAGER).post(url).status_code == 403
    assert client_for(roles.CONSULTANT).post(url).status_code == 403
    assert not Visit.objects.exists()


def test_the_board_is_closed_to_consultants_and_open_to_managers(client_for):
    assert client_for(roles.CONSULTANT).get(TODAY).status_code == 403
    response = client_for(roles.MANAGER).get(TODAY)
    assert response.status_code == 200
    booked_today()
    assert b'data-testid="check-in"' not in client_for(roles.MANAGER).get(TODAY).content


# --- Walk-ins -----------------------------------------------------------------------

WALK_IN = reverse("guide:walk_in")


def _new_client_data(**overrides):
    data = {
        "name": "孙丽",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "education": "bachelor",
        "family_status": "married",
        "health_status": "good",
        "exam_status": "yearly",
        "phone": "13912345678",
        "other_contact": "微信 sunli",
        "privacy_contact_name": "孙强",
        "privacy_contact_relation": "丈夫",
        "privacy_contact_phone": "13912340000",
        "categories": ["is_patient"],
        "service_sms": "on",
    }
    return data | overrides


def test_a_walk_in_search_by_phone_finds_the_existing_client(front_desk_client):
    client = ClientFactory(name="王芳", phone="+8613811112222")
    response = front_desk_client.get(WALK_IN, {"phone": "138 1111 2222"})
    assert [match[0] for match in response.context["matches"]] == [client]
    assert response.context["new_form"] is None


def test_an_existing_client_is_registered_without_a_new_record(front_desk_client):
    client = ClientFactory(phone="+8613811112222")
    response = front_desk_client.post(WALK_IN, {"client": client.pk})
    visit = Visit.objects.get()
    assert response["Location"] == visit.get_absolute_url()
    assert visit.client == client and visit.booking is None
    assert Client.objects.count() == 1


def test_an_unknown_number_offers_the_registration_form_with_the_number(front_desk_client):
    response = front_desk_client.get(WALK_IN, {"phone": "13912345678"})
    form = response.context["new_form"]
    assert form is not None and form.initial["phone"] == "13912345678"
    assert form.fields["name"].widget.attrs["autofocus"]


def test_a_new_walk_in_is_registered_with_the_seeds_fields_and_triaged_next(
    front_desk_client,
):
    response = front_desk_client.post(WALK_IN, _new_client_data())
    client = Client.objects.get()
    visit = Visit.objects.get()
    assert response["Location"] == visit.get_absolute_url()
    assert client.phone == "+8613912345678"
    assert (client.education, client.family_status, client.health_status) == (
        "bachelor",
        "married",
        "good",
    )
    assert client.exam_status == "yearly"
    assert client.privacy_contact_name == "孙强"
    assert visit.client == client and visit.status == Visit.Status.REGISTERED


def test_a_walk_in_who_may_already_be_on_record_is_shown_the_record_first(front_desk_client):
    existing = ClientFactory(
        name="孙丽", date_of_birth=datetime.date(1990, 3, 7), phone="+8613800000001"
    )
    response = front_desk_client.post(WALK_IN, _new_client_data(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert list(response.context["duplicates"]) == [existing]
    assert "may be the same person" in response.content.decode()
    assert Client.objects.count() == 1 and not Visit.objects.exists()
    confirmed = front_desk_client.post(WALK_IN, _new_client_data(confirm_distinct="on"))
    assert confirmed.status_code == 302
    assert Client.objects.count() == 2


def test_bad_input_on_the_walk_in_form_gets_messages_not_errors(front_desk_client):
    response = front_desk_client.post(
        WALK_IN,
        _new_client_data(phone="12", date_of_birth="2999-01-01", name=""),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    errors = response.context["new_form"].errors
    assert {"phone", "date_of_birth", "name"} <= set(errors)
    assert not Client.objects.exists()
    nonsense = front_desk_client.get(WALK_IN, {"phone": "张三"}, HTTP_ACCEPT_LANGUAGE="en")
    assert nonsense.status_code == 422
    assert "mobile number" in nonsense.content.decode()


def test_registering_someone_already_here_opens_their_visit(front_desk_client):
    visit = walk_in()
    response = front_desk_client.post(WALK_IN, {"client": visit.client_id}, follow=True)
    assert response.redirect_chain[-1][0] == visit.get_absolute_url()
    assert Visit.objects.count() == 1


def test_a_walk_in_with_a_booking_today_is_checked_in_on_it(front_desk_client):
    booking = booked_today()
    front_desk_client.post(WALK_IN, {"client": booking.client_id})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED
    assert Visit.objects.get().booking == booking


def test_a_visit_arrived_yesterday_is_not_on_todays_board(front_desk_client):
    visit = walk_in()
    Visit.objects.filter(pk=visit.pk).update(day=timezone.localdate() - datetime.timedelta(days=1))
    assert _rows(front_desk_client.get(TODAY)) == []


def test_names_on_the_board_are_escaped(front_desk_client):
    walk_in(client=ClientFactory(name="<b>王</b>"))
    html = front_desk_client.get(TODAY).content.decode()
    assert "&lt;b&gt;王&lt;/b&gt;" in html and "<b>王</b>" not in html


def test_the_board_links_the_billing_import_for_those_who_may_use_it(client_for):
    upload = reverse("guide:charge_import_upload")
    assert upload in client_for(roles.FRONT_DESK).get(TODAY).content.decode()
    vip_manager = client_for(roles.VIP_MANAGER).get(TODAY).content.decode()
    assert upload not in vip_manager
    assert reverse("guide:daily") not in vip_manager  # nor the figures it may not open
