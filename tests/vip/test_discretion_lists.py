"""Lists of clients apply the discretion rule themselves (seed 保密原则): the search results, the
walk-in and new-client pages' matches and possible duplicates, and the event door show a VIP
whom the reader does not serve as the client page's summary does (name, sex, age, masked
mobile, categories, last visit), never the date of birth or the ID number, even masked. They
all go through clientmgmt.selectors.clients_shown_for_user."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from clientmgmt.search import parse_query
from clientmgmt.selectors import client_search_for_user, clients_shown_for_user
from followup import services as followup
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.vip.factories import vip
from vip.models import VipStanding
from zhongdu import roles

pytestmark = pytest.mark.django_db

FULL = {roles.VIP_MANAGER, roles.MANAGER, roles.ADMINISTRATOR}
ID_NUMBER = "110101199003074514"
BORN = datetime.date(1990, 3, 7)
SEARCH = reverse("clientmgmt:client_list")


def make_vip(name="贵宾甲", phone="13912345678", **kwargs):
    kwargs.setdefault("date_of_birth", BORN)
    person = ClientFactory(name=name, phone=phone, notes="只给VIP经理看的备注", **kwargs)
    vip(person)
    person.refresh_from_db()
    assert person.is_vip
    return person


def user(role):
    return get_user_model().objects.get(username=ROLE_USERNAMES[role])


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_search_results_show_a_vips_masked_id_only_to_those_who_serve_them(client_for, role):
    person = make_vip(id_number=ID_NUMBER)
    page = client_for(role).get(SEARCH, {"q": "贵宾甲"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "贵宾甲" in html and person.phone_masked in html  # the summary's name and mobile
    assert person.phone not in html and ID_NUMBER not in html
    if role in FULL:
        assert person.id_number_masked in html
    else:
        assert person.id_number_masked not in html
    [shown] = page.context["clients"]
    assert shown.whole == (role in FULL)


def test_the_vips_escort_and_the_handler_of_their_call_see_the_masked_id(client_for):
    person = make_vip(id_number=ID_NUMBER)
    front_desk = client_for(roles.FRONT_DESK)
    html = front_desk.get(SEARCH, {"q": "贵宾甲"}).content.decode()
    assert person.id_number_masked not in html
    VipStanding.objects.filter(client=person).update(escort=user(roles.FRONT_DESK))
    assert person.id_number_masked in front_desk.get(SEARCH, {"q": "贵宾甲"}).content.decode()

    manager = client_for(roles.CLIENT_MANAGER)
    assert person.id_number_masked not in manager.get(SEARCH, {"q": "贵宾甲"}).content.decode()
    followup.call_create(
        client=person, due_on=timezone.localdate(), assigned_to=user(roles.CLIENT_MANAGER)
    )
    assert person.id_number_masked in manager.get(SEARCH, {"q": "贵宾甲"}).content.decode()


def test_an_ordinary_clients_masked_id_stays_in_the_results(front_desk_client):
    person = ClientFactory(name="李娜", id_number=ID_NUMBER, date_of_birth=None)
    make_vip(name="李娜", phone="13900001111")
    html = front_desk_client.get(SEARCH, {"q": "李娜"}).content.decode()
    assert person.id_number_masked in html


def test_the_search_page_asks_the_rule_once_whatever_the_number_of_vips(
    front_desk_client, django_assert_max_num_queries
):
    """Session, user, roles, permissions (the export link), the clients, the escort and call
    checks of the discretion rule (two queries for the whole list), the notifications count."""

    def add_vips(n):
        start = VipStanding.objects.count()
        for i in range(start, start + n):
            make_vip(phone=f"1391000{i:04d}", date_of_birth=None)

    def measured():
        front_desk_client.get(SEARCH)
        with django_assert_max_num_queries(9) as queries:
            response = front_desk_client.get(SEARCH, {"q": "贵宾甲"})
        return len(queries), len(response.context["clients"])

    add_vips(2)
    few = measured()
    add_vips(10)
    many = measured()
    assert few[0] == many[0] and (few[1], many[1]) == (2, 12)


def test_the_walk_in_search_keeps_a_vips_birth_date(front_desk_client):
    make_vip()
    ClientFactory(name="王芳", phone="13800005678", date_of_birth=datetime.date(1970, 1, 2))
    response = front_desk_client.get(reverse("guide:walk_in"), {"phone": "5678"})
    html = response.content.decode()
    assert "贵宾甲" in html and "139****5678" in html
    assert "1990-03-07" not in html and "1970-01-02" in html


def test_the_walk_in_duplicates_keep_a_vips_birth_date_and_id(front_desk_client):
    person = make_vip(id_number=ID_NUMBER)
    data = {
        "name": "贵宾甲",
        "sex": "male",
        "date_of_birth": "1990-03-07",
        "phone": "13700001111",
        "categories": ["is_patient"],
        "service_sms": "on",
    }
    response = front_desk_client.post(reverse("guide:walk_in"), data)
    assert response.status_code == 409 and list(response.context["duplicates"]) == [person]
    # The list of possible duplicates (the form below keeps what the clerk typed).
    duplicates = response.content.decode().split('data-testid="duplicates"')[1].split("</ul>")[0]
    assert person.get_absolute_url() in duplicates
    assert "1990-03-07" not in duplicates and person.id_number_masked not in duplicates


def test_the_new_client_form_shows_a_vip_duplicate_as_its_summary(client_for):
    person = make_vip(id_number=ID_NUMBER)
    data = {
        "name": "贵宾乙",
        "sex": "male",
        "date_of_birth": "1985-06-01",
        "phone": "139 1234 5678",
        "categories": ["is_patient"],
        "service_sms": "on",
    }
    consultant = client_for(roles.CONSULTANT)
    response = consultant.post(reverse("clientmgmt:client_create"), data)
    html = response.content.decode()
    assert list(response.context["duplicates"]) == [person]
    assert person.get_absolute_url() in html and "139****5678" in html
    assert "1990-03-07" not in html and person.id_number_masked not in html
    officer = client_for(roles.VIP_MANAGER).post(reverse("clientmgmt:client_create"), data)
    officer_html = officer.content.decode()
    assert "1990-03-07" in officer_html and person.id_number_masked in officer_html


def test_a_shown_vip_reads_nothing_beyond_the_summary(role_user):
    person = make_vip(id_number=ID_NUMBER)
    ordinary = ClientFactory(name="李娜", notes="普通备注")
    front_desk = role_user(roles.FRONT_DESK)
    shown, plain = clients_shown_for_user(front_desk, [person, ordinary])
    assert (shown.name, shown.phone_masked, shown.age, shown.is_vip) == (
        "贵宾甲",
        "139****5678",
        person.age,
        True,
    )
    # Fail closed: whatever is not in the summary reads as nothing.
    assert shown.date_of_birth is None and shown.id_number_masked is None
    assert shown.notes is None and shown.phone is None and shown.privacy_contact_name is None
    assert plain.whole and plain.notes == "普通备注"
    assert [c.pk for c in client_search_for_user(front_desk, parse_query("贵宾甲"))] == [person.pk]
    assert clients_shown_for_user(None, [person])[0].whole is False  # nobody in particular


def test_the_event_door_shows_a_vip_as_their_summary(front_desk_client):
    from events import services as events
    from events.models import Event

    starts = timezone.now() + datetime.timedelta(days=7)
    event = events.event_create(
        by=None,
        title="社区皮肤健康义诊",
        kind=Event.Kind.FREE_CLINIC,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=3),
        place="文化路社区服务中心",
        capacity=30,
        description="",
        segment={},
        vip_only=False,
    )
    person = make_vip(id_number=ID_NUMBER)
    door = reverse("events:event_door", args=[event.pk])
    html = front_desk_client.get(door, {"phone": "5678"}).content.decode()
    assert "贵宾甲" in html and "139****5678" in html
    assert "1990-03-07" not in html and person.id_number_masked not in html
