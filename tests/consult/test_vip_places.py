"""Places held back for VIPs on the booking page, and the priority mark of a VIP booking on
every list that shows bookings (issue 15, item 6); through the real pages."""

import re

import pytest
from django.urls import reverse

from consult import services
from consult.models import Booking, BookingPolicy
from tests.clientmgmt.factories import ClientFactory
from tests.guide.factories import booked_today, today_session

from .factories import future_session, make_booking, make_vip, past_session

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _new_url(client):
    return reverse("consult:booking_new") + f"?client={client.pk}"


def _share(percent):
    policy = BookingPolicy.current()
    policy.vip_share_percent = percent
    policy.save()


def _fill(session, booked):
    type(session).objects.filter(pk=session.pk).update(booked=booked)


def _session_item(html, session):
    match = re.search(
        rf'<label class="list-group-item"><input [^>]*value="{session.pk}">(.*?)</label>',
        html,
        re.DOTALL,
    )
    return match.group(1) if match else None


def test_each_session_shows_the_places_held_for_vips_to_a_non_vip(consultant_client):
    _share(20)
    session = future_session(capacity=10)  # 2 held for VIPs
    _fill(session, 3)
    page = consultant_client.get(_new_url(ClientFactory(name="王芳")), **EN)
    item = _session_item(page.content.decode(), session)
    assert "5 places left" in item  # 10 - 2 held - 3 booked
    assert 'data-testid="held-for-vips">2 more held for VIPs only<' in item


def test_a_vip_sees_the_held_places_among_the_places_left(consultant_client):
    _share(20)
    session = future_session(capacity=10)
    _fill(session, 3)
    page = consultant_client.get(_new_url(make_vip(ClientFactory(name="贵宾"))), **EN)
    item = _session_item(page.content.decode(), session)
    assert "7 places left" in item
    assert 'data-testid="held-for-vips">including 2 held for VIPs<' in item


def test_the_held_places_read_in_chinese(consultant_client):
    _share(20)
    session = future_session(capacity=10)
    page = consultant_client.get(_new_url(ClientFactory()), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "另有2个仅限VIP" in _session_item(page.content.decode(), session)


def test_a_session_with_no_held_place_says_nothing_of_vips(consultant_client):
    _share(0)
    session = future_session(capacity=10)
    page = consultant_client.get(_new_url(ClientFactory()), **EN)
    assert "held-for-vips" not in _session_item(page.content.decode(), session)


def test_a_vip_books_into_the_places_held_for_vips(consultant_client):
    _share(20)
    session = future_session(capacity=10)
    _fill(session, 8)  # only the two held places are left
    person = make_vip(ClientFactory(name="贵宾"))
    page = consultant_client.get(_new_url(person), **EN)
    item = _session_item(page.content.decode(), session)
    assert "2 places left" in item and "including 2 held for VIPs" in item
    posted = consultant_client.post(_new_url(person), {"session": session.pk, "kind": "expert"})
    assert posted.status_code == 302
    booking = Booking.objects.get(client=person)
    assert booking.session == session and booking.priority
    session.refresh_from_db()
    assert session.booked == 9


def test_a_non_vip_is_not_offered_the_held_places_and_cannot_book_them(consultant_client):
    _share(20)
    session = future_session(capacity=10)
    _fill(session, 8)
    person = ClientFactory(name="王芳")
    page = consultant_client.get(_new_url(person), **EN)
    assert _session_item(page.content.decode(), session) is None
    posted = consultant_client.post(
        _new_url(person), {"session": session.pk, "kind": "expert"}, **EN
    )
    assert posted.status_code == 409
    assert "just taken" in posted.content.decode()
    assert not Booking.objects.filter(client=person).exists()
    session.refresh_from_db()
    assert session.booked == 8


# --- The priority mark on every list of bookings ---------------------------------------------


@pytest.fixture
def two_bookings(db):
    """A VIP's booking (priority) and another client's, in the same session today."""
    session = today_session(capacity=20)
    vip = booked_today(client=make_vip(ClientFactory(name="贵宾")), session=session, vip=True)
    other = booked_today(client=ClientFactory(name="王芳"), session=session)
    return vip, other


def _table_row(html, name):
    return re.search(rf"<tr>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", html, re.DOTALL).group(0)


def test_the_day_list_marks_a_vip_booking_priority(consultant_client, two_bookings):
    html = consultant_client.get(reverse("consult:booking_list"), **EN).content.decode()
    assert 'data-testid="priority">Priority<' in _table_row(html, "贵宾")
    assert 'data-testid="priority"' not in _table_row(html, "王芳")


def test_the_week_marks_a_vip_booking_priority(consultant_client, two_bookings):
    html = consultant_client.get(
        reverse("consult:booking_list"), {"view": "week"}, **EN
    ).content.decode()
    vip, other = two_bookings
    item = re.search(rf'<li><a href="{vip.get_absolute_url()}">.*?</li>', html).group(0)
    assert 'data-testid="priority">Priority<' in item
    item = re.search(rf'<li><a href="{other.get_absolute_url()}">.*?</li>', html).group(0)
    assert "priority" not in item


def test_the_booking_page_marks_a_vip_booking_priority(consultant_client, two_bookings):
    vip, other = two_bookings
    assert (
        'data-testid="priority"' in consultant_client.get(vip.get_absolute_url()).content.decode()
    )
    assert (
        'data-testid="priority"'
        not in consultant_client.get(other.get_absolute_url()).content.decode()
    )


def test_the_queue_marks_the_recall_of_a_vips_missed_booking_priority(consultant_client):
    person = make_vip(ClientFactory(name="贵宾"))
    missed = make_booking(client=person, session=past_session(1), vip=True)
    make_booking(client=ClientFactory(name="王芳"), session=past_session(1))
    services.booking_mark_no_shows(day=missed.session.date)  # both become recalls
    html = consultant_client.get(reverse("consult:queue"), **EN).content.decode()
    recalls = html[html.index('data-testid="recalls"') :]
    assert 'data-testid="priority">Priority<' in _table_row(recalls, "贵宾")
    assert 'data-testid="priority"' not in _table_row(recalls, "王芳")


def test_the_client_pages_timeline_marks_a_vip_booking_priority(vip_manager_client):
    person = make_vip(ClientFactory(name="贵宾"))
    make_booking(client=person, session=future_session(capacity=20), vip=True)
    other = ClientFactory(name="王芳")
    make_booking(client=other, session=future_session(capacity=20))
    html = vip_manager_client.get(person.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="timeline-badge">Priority<' in html
    html = vip_manager_client.get(other.get_absolute_url(), **EN).content.decode()
    assert "timeline-badge" not in html


def test_the_health_archive_marks_a_vip_booking_priority(vip_manager_client):
    person = make_vip(ClientFactory(name="贵宾"))
    make_booking(client=person, session=future_session(capacity=20), vip=True)
    url = reverse("clientmgmt:health_archive", args=[person.pk])
    assert (
        'data-testid="timeline-badge">Priority<'
        in vip_manager_client.get(url, **EN).content.decode()
    )
