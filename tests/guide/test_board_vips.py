"""VIPs on today's board (issue 15, item 6): the VIP chip counts the VIPs on the board, each VIP
row names the VIP's escort, and a VIP booking is marked priority; through the real page."""

import re

import pytest
from django.urls import reverse

from guide.selectors import user_label
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.guide.factories import booked_today, checked_in, today_session, walk_in
from tests.vip.factories import vip
from vip import services as vip_services
from zhongdu import roles

pytestmark = pytest.mark.django_db

TODAY = reverse("guide:today")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _chip(html: str) -> str:
    return re.search(r'data-testid="board-vips">([^<]*)<', html).group(1)


def _row(html: str, client) -> str:
    return re.search(rf'<tr [^>]*data-client="{client.pk}".*?</tr>', html, re.DOTALL).group(0)


def _escorted_vip(name, escort, *, by):
    standing = vip(ClientFactory(name=name))
    return vip_services.escort_assign(standing=standing, escort=escort, by=by).client


def test_the_vip_chip_counts_every_vip_on_the_board(front_desk_client):
    booked_today(client=vip(ClientFactory(name="贵宾一")).client, vip=True)
    checked_in(client=vip(ClientFactory(name="贵宾二")).client)
    walk_in(client=vip(ClientFactory(name="贵宾三")).client)
    booked_today(client=ClientFactory(name="王芳"))
    walk_in(client=ClientFactory(name="李娜"))
    page = front_desk_client.get(TODAY, **EN)
    assert _chip(page.content.decode()) == "VIP 3"
    # The refresh (htmx) writes the same chip.
    fragment = front_desk_client.get(TODAY, HTTP_HX_REQUEST="true", **EN)
    assert _chip(fragment.content.decode()) == "VIP 3"


def test_the_vip_chip_says_zero_when_no_vip_is_on_the_board(front_desk_client):
    vip(ClientFactory(name="不在今天"))  # a VIP, but not here today
    booked_today(client=ClientFactory(name="王芳"))
    assert _chip(front_desk_client.get(TODAY, **EN).content.decode()) == "VIP 0"


def test_an_expected_vip_row_names_the_vips_escort(front_desk_client, role_user):
    manager = role_user(roles.VIP_MANAGER)
    escort = UserFactory(
        username="escort_chen", first_name="小", last_name="陈", roles=[roles.FRONT_DESK]
    )
    person = _escorted_vip("贵宾", escort, by=manager)
    booked_today(client=person, vip=True)
    page = front_desk_client.get(TODAY, **EN)
    row = _row(page.content.decode(), person)
    assert 'data-testid="named-escort">小 陈<' in row and "(named escort)" in row
    assert "no escort yet" not in row


def test_a_walk_in_vip_whose_escort_was_named_later_shows_that_escort(front_desk_client, role_user):
    manager = role_user(roles.VIP_MANAGER)
    standing = vip(ClientFactory(name="贵宾"))
    visit = walk_in(client=standing.client)  # nobody named yet: the visit has no escort
    assert visit.escort is None
    vip_services.escort_assign(standing=standing, escort=manager, by=manager)
    row = _row(front_desk_client.get(TODAY, **EN).content.decode(), standing.client)
    assert f'data-testid="named-escort">{user_label(manager)}<' in row


def test_the_escort_of_the_visit_itself_is_shown_as_it_is(front_desk_client, role_user):
    manager = role_user(roles.VIP_MANAGER)
    person = _escorted_vip("贵宾", manager, by=manager)
    visit = checked_in(client=person)  # the named escort becomes the visit's escort
    assert visit.escort == manager
    row = _row(front_desk_client.get(TODAY, **EN).content.decode(), person)
    assert user_label(manager) in row and "named-escort" not in row


def test_a_vip_booking_is_marked_priority_on_the_board(front_desk_client):
    person = vip(ClientFactory(name="贵宾")).client
    booked_today(client=person, vip=True)
    other = ClientFactory(name="王芳")
    booked_today(client=other)
    html = front_desk_client.get(TODAY, **EN).content.decode()
    assert 'data-testid="priority">Priority<' in _row(html, person)
    assert 'data-testid="priority"' not in _row(html, other)
    chinese = front_desk_client.get(TODAY, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="priority">优先<' in _row(chinese, person)


def test_the_escorts_of_any_number_of_vips_cost_one_query(
    front_desk_client, role_user, django_assert_num_queries
):
    manager = role_user(roles.VIP_MANAGER)
    session = today_session(capacity=100)

    def add(n):
        for i in range(n):
            person = _escorted_vip(f"贵宾{i}", manager, by=manager)
            booked_today(client=person, session=session, vip=True)

    add(1)
    front_desk_client.get(TODAY)
    # The board's six (test_board.py) and the VIPs' escorts.
    with django_assert_num_queries(7) as captured:
        front_desk_client.get(TODAY)
    assert any("vip_vipstanding" in q["sql"] for q in captured.captured_queries)
    add(5)
    with django_assert_num_queries(7):
        page = front_desk_client.get(TODAY)
    assert page.context["board"].vips == 6
