"""A full phone or ID number typed into a search never appears in an address (issue 13): not in a
redirect, not in HX-Replace-Url, not in any link, form action or htmx URL of the page that
answers. Addresses end up in access logs and browser histories. Each search page is searched
through its real rendered form (a POST carrying the form's marker), with a full phone number in
three spellings and a full ID card number; names and last-4 searches stay readable GET addresses.
"""

import html
import re
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from django.conf import settings
from django.urls import reverse

from guide.models import Visit
from tests.clientmgmt.factories import ClientFactory
from tests.events.test_events import make_event
from tests.vip.factories import enterprise
from zhongdu.private_query import FULL_NUMBER_DIGITS, MARKER, TOKEN, holds_full_number

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PHONE = "+8613912345678"
NATIONAL = "13912345678"
ID_NUMBER = "11010519491231002X"
TYPED_PHONES = [NATIONAL, "139 1234 5678", "+86 139-1234-5678"]
FULL_NUMBERS = [*TYPED_PHONES, ID_NUMBER]
URL_ATTRIBUTES = re.compile(
    r"\b(?:href|action|formaction|src|hx-get|hx-post|hx-put|hx-delete|hx-push-url|"
    r'hx-replace-url)="([^"]*)"'
)
ADDRESS_HEADERS = ("Location", "HX-Replace-Url", "HX-Push-Url", "HX-Redirect", "HX-Location")


def _addresses(response) -> list[str]:
    found = [response[name] for name in ADDRESS_HEADERS if name in response]
    if "html" in response.get("Content-Type", ""):
        body = response.content.decode()
        found += [html.unescape(value) for value in URL_ATTRIBUTES.findall(body)]
    return found


def assert_no_full_number(response):
    for address in _addresses(response):
        compact = re.sub(r"[\s\-().+]", "", unquote_plus(address)).upper()
        assert NATIONAL not in compact, address
        assert ID_NUMBER[:-1] not in compact, address


def _search(http, url, field, value, **extra):
    """Submit the page's search form as the browser does; check the redirect and its page."""
    form = http.get(url, **EN)
    assert form.status_code == 200
    assert f'name="{MARKER}"' in form.content.decode(), "the search form must post"
    posted = http.post(url, {MARKER: "1", field: value, **extra}, **EN)
    assert posted.status_code == 302
    assert_no_full_number(posted)
    page = http.get(posted["Location"], **EN)
    assert page.status_code in (200, 422)
    assert_no_full_number(page)
    return posted, page


@pytest.fixture
def person(db):
    return ClientFactory(name="李娜", phone=PHONE, id_number=ID_NUMBER)


# --- Each search page -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_the_client_search_finds_a_full_number_without_it_in_any_address(
    client_manager_client, person, typed
):
    posted, page = _search(client_manager_client, reverse("clientmgmt:client_list"), "q", typed)
    assert f"?{TOKEN}=" in posted["Location"]
    assert list(page.context["clients"]) == [person]
    assert page.context["q"] == typed  # the box still shows what was typed
    export = client_manager_client.get(page.context["export_url"])
    assert export.status_code == 200 and "李娜" in export.content.decode()


@pytest.mark.parametrize("typed", TYPED_PHONES)
def test_the_new_client_link_carries_the_searched_number_as_a_token(client_manager_client, typed):
    _, page = _search(client_manager_client, reverse("clientmgmt:client_list"), "q", typed)
    form_page = client_manager_client.get(page.context["new_url"])
    assert_no_full_number(form_page)
    assert form_page.context["form"]["phone"].value() == typed


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_the_live_client_search_posts_a_full_number_and_names_a_safe_address(
    client_manager_client, person, typed
):
    url = reverse("clientmgmt:client_list")
    live = client_manager_client.post(
        url,
        {MARKER: "1", "q": typed},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{url}",
    )
    assert live.status_code == 200
    assert list(live.context["clients"]) == [person]
    assert live["HX-Replace-Url"].startswith(f"{url}?{TOKEN}=")
    assert_no_full_number(live)


def test_the_live_search_of_another_page_leaves_that_pages_address(consultant_client):
    live = consultant_client.post(
        reverse("knowledge_desk"),
        {MARKER: "1", "q": NATIONAL},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver" + reverse("consult:call"),
    )
    assert live.status_code == 200 and "HX-Replace-Url" not in live


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_an_old_address_with_a_full_number_is_served_but_not_repeated_in_links(
    client_manager_client, person, typed
):
    page = client_manager_client.get(reverse("clientmgmt:client_list"), {"q": typed})
    assert list(page.context["clients"]) == [person]
    assert 'href="' in page.content.decode()
    assert_no_full_number(page)


@pytest.mark.parametrize("typed", TYPED_PHONES)
def test_a_walk_in_search_and_its_new_client_link_carry_no_full_number(
    front_desk_client, person, typed
):
    url = reverse("guide:walk_in")
    _, page = _search(front_desk_client, url, "phone", typed)
    assert [match[0] for match in page.context["matches"]] == [person]
    new_link = re.search(r'href="(\?[^"]*new=1)"', page.content.decode()).group(1)
    with_form = front_desk_client.get(url + html.unescape(new_link), **EN)
    assert_no_full_number(with_form)
    assert with_form.context["new_form"].initial["phone"] == NATIONAL


def test_an_unknown_walk_in_number_is_offered_for_registration_by_token(front_desk_client):
    _, page = _search(front_desk_client, reverse("guide:walk_in"), "phone", "137 0000 1111")
    assert page.context["new_form"].initial["phone"] == "13700001111"
    assert_no_full_number(page)
    # A registration with a mistake comes back on the same page: no full number in it either.
    refused = front_desk_client.post(
        reverse("guide:walk_in"), {"phone": "13700001111", "name": ""}, **EN
    )
    assert refused.status_code == 422
    assert_no_full_number(refused)


@pytest.mark.parametrize("typed", TYPED_PHONES)
def test_the_call_screen_finds_the_caller_by_token(consultant_client, typed):
    first = ClientFactory(name="甲", phone=PHONE)
    ClientFactory(name="乙", phone=PHONE)
    _, page = _search(consultant_client, reverse("consult:call"), "phone", typed)
    assert len(page.context["matches"]) == 2
    # "This caller" keeps the number (as its token) while it names the client.
    link = next(address for address in _addresses(page) if f"client={first.pk}" in address)
    chosen = consultant_client.get(reverse("consult:call") + link, **EN)
    assert chosen.context["client"] == first
    assert chosen.context["phone"] == typed
    assert_no_full_number(chosen)


def test_a_booked_prospect_goes_to_registration_without_the_number_in_the_address(
    consultant_client,
):
    data = {"prospect_name": "赵敏", "prospect_phone": NATIONAL, "outcome": "booked"}
    data |= {"contact_channel": "phone", "direction": "in", "duration_seconds": "60"}
    response = consultant_client.post(reverse("consult:call"), data, **EN)
    assert response.status_code == 302
    assert_no_full_number(response)
    registration = consultant_client.get(response["Location"], **EN)
    assert registration.context["form"]["phone"].value() == PHONE
    assert_no_full_number(registration)


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_the_knowledge_desk_search_carries_no_full_number(consultant_client, typed):
    _, page = _search(consultant_client, reverse("knowledge_desk"), "q", typed)
    assert page.context["query"] == typed


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_the_board_filter_carries_no_full_number(front_desk_client, typed):
    _, page = _search(front_desk_client, reverse("guide:today"), "q", typed, state="")
    assert page.context["form"]["q"].value() == typed
    refresh = front_desk_client.post(
        reverse("guide:today"),
        {MARKER: "1", "q": typed},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver" + reverse("guide:today"),
    )
    assert refresh.status_code == 200
    assert_no_full_number(refresh)


@pytest.mark.parametrize("typed", TYPED_PHONES)
def test_the_event_door_search_and_its_redirects_carry_no_full_number(
    front_desk_client, person, typed
):
    event = make_event()
    url = reverse("events:event_door", args=[event.pk])
    _, page = _search(front_desk_client, url, "phone", typed)
    assert [match["client"] for match in page.context["matches"]] == [person]
    ticked = front_desk_client.post(
        reverse("events:event_attend", args=[event.pk]),
        {"client": person.pk, "phone": typed},
    )
    assert ticked.status_code == 302
    assert_no_full_number(ticked)


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_the_enterprise_employee_search_carries_no_full_number(vip_manager_client, person, typed):
    firm = enterprise()
    url = reverse("vip:enterprise_member_add", args=[firm.pk])
    _, page = _search(vip_manager_client, url, "q", typed)
    assert [client.pk for client in page.context["clients"]] == [person.pk]


@pytest.mark.parametrize("typed", FULL_NUMBERS)
def test_the_membership_card_search_carries_no_full_number(admin_client_, typed):
    _, page = _search(admin_client_, reverse("guide:card_list"), "q", typed, status="")
    assert page.context["form"]["q"].value() == typed


# --- What stays a readable address -------------------------------------------------------------


@pytest.mark.parametrize("typed", ["李娜", "lina", "5678"])
def test_names_and_last_four_digits_stay_readable_get_addresses(client_manager_client, typed):
    url = reverse("clientmgmt:client_list")
    posted = client_manager_client.post(url, {MARKER: "1", "q": typed})
    assert posted.status_code == 302
    assert unquote_plus(posted["Location"]) == f"{url}?q={typed}"
    assert TOKEN not in client_manager_client.get(posted["Location"]).context["q"]


def test_the_live_searches_read_the_full_number_rule_from_the_server(client_manager_client):
    """The script that switches live searches to POST (static/js/app.js) takes its threshold from
    the page, rendered from the Python rule: one home, no second copy to drift."""
    page = client_manager_client.get(reverse("clientmgmt:client_list"))
    body = page.content.decode()
    assert "data-private-search" in body
    digits = re.search(r'<body[^>]* data-full-number-digits="(\d+)"', body)
    assert digits and int(digits.group(1)) == FULL_NUMBER_DIGITS
    assert holds_full_number("1" * FULL_NUMBER_DIGITS)
    assert not holds_full_number("1" * (FULL_NUMBER_DIGITS - 1))
    script = (Path(settings.BASE_DIR) / "static" / "js" / "app.js").read_text()
    assert "dataset.fullNumberDigits" in script
    assert not re.search(r"\{\d+,\d*\}", script), "a digit count of its own in the script"


def test_a_token_is_good_only_in_the_session_that_made_it(client_for, person):
    url = reverse("clientmgmt:client_list")
    posted = client_for("client_manager").post(url, {MARKER: "1", "q": NATIONAL})
    stranger = client_for("front_desk").get(posted["Location"])
    assert stranger.status_code == 200
    assert stranger.context["query"].kind == "empty"


def test_an_unknown_token_is_an_empty_search(client_manager_client):
    page = client_manager_client.get(reverse("clientmgmt:client_list"), {TOKEN: "nonsense"})
    assert page.status_code == 200 and page.context["query"].kind == "empty"


def test_a_search_pages_other_posts_are_not_taken_for_searches(front_desk_client):
    """The walk-in page also registers arrivals by POST: those reach the view unchanged."""
    person = ClientFactory(phone=PHONE)
    response = front_desk_client.post(reverse("guide:walk_in"), {"client": person.pk})
    assert response["Location"] == Visit.objects.get(client=person).get_absolute_url()


# --- The list pages' filters that stay GET have nowhere to type a number ------------------------

GET_FILTER_PAGES = [
    "messaging:outbox_list",
    "complaints:complaint_list",
    "referrals:referral_list",
    "clientmgmt:archive_list",
    "clientmgmt:merge_select",
    "consult:booking_list",
    "guide:card_list",
    "guide:exam_list",
    "followup:call_list",
    "events:event_list",
    "vip:roster",
    "audit_event_list",
    "guide:daily",
    "surveys:weekly",
]
# What a GET form may ask for in a text box: record numbers and account names, never a person's
# phone or ID number (those search forms post, above).
ID_FIELDS = {"client", "survivor", "merged", "object_id", "username", "object_type", "before"}
GET_FORM = re.compile(r"<form\b[^>]*\bmethod=\"get\"[^>]*>(.*?)</form>", re.DOTALL | re.IGNORECASE)
TEXT_INPUT = re.compile(
    r"<input\b(?![^>]*\btype=\"(?:hidden|date|month|number|checkbox|radio|submit)\")[^>]*>"
)


@pytest.mark.parametrize("name", GET_FILTER_PAGES)
def test_a_filter_that_stays_get_has_no_box_for_a_phone_or_id_number(admin_client_, name):
    page = admin_client_.get(reverse(name), **EN)
    assert page.status_code == 200
    for form in GET_FORM.findall(page.content.decode()):
        for box in TEXT_INPUT.findall(form):
            field = re.search(r'\bname="([^"]*)"', box).group(1)
            assert field in ID_FIELDS, f"{name}: a GET form lets a number be typed into {field}"
