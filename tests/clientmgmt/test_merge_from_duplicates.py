"""Merging from where duplicates are found (issue 15, item 7): the duplicate warning, the client
page and the search results offer "merge with…" between two records the user may see, leading
to the side-by-side view and its undo; records are picked by searching, never by typing record
numbers, and no full phone number enters an address. Through the real pages."""

import datetime
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from clientmgmt.models import Client, ClientMerge
from tests.clientmgmt.factories import ClientFactory
from tests.vip.factories import vip
from tests.zhongdu.test_no_number_in_address import assert_no_full_number
from zhongdu import roles
from zhongdu.private_query import MARKER, TOKEN

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NEW = reverse("clientmgmt:client_create")
MERGE = reverse("clientmgmt:merge_select")
PHONE = "13912345678"
MERGERS = sorted(roles.PAGE_ACCESS["clientmgmt:merge_select"])


def _form(**overrides):
    data = {
        "name": "王芳",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "phone": PHONE,
        "categories": ["is_patient"],
        "service_sms": "on",
        "notes": "",
    }
    data.update(overrides)
    return data


def _offers(response) -> list[str]:
    body = response.content.decode()
    return [
        html.unescape(url)
        for url in re.findall(r'<a [^>]*href="([^"]*)"[^>]*data-testid="merge-offer"', body)
    ]


def _pair(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(r'data-testid="merge-side" data-client="(\d+)"', _text(response))
    ]


def _text(response) -> str:
    return response.content.decode()


def _vip(name="贵宾甲", phone=PHONE):
    person = ClientFactory(name=name, phone=phone)
    vip(person)
    person.refresh_from_db()
    return person


# --- The duplicate warning --------------------------------------------------------------------


def test_the_duplicate_warning_on_an_edit_leads_to_those_two_records_side_by_side(
    client_manager_client,
):
    other = ClientFactory(name="王芳", phone=PHONE, date_of_birth=None)
    ClientFactory(name="李娜", phone="13800000001")  # not a duplicate: never offered
    edited = ClientFactory(name="王芳", phone="13700000002", date_of_birth=None)
    url = reverse("clientmgmt:client_edit", args=[edited.pk])
    warned = client_manager_client.post(url, _form(), **EN)
    assert "may be the same person" in _text(warned)
    offers = _offers(warned)
    assert len(offers) == 1
    assert_no_full_number(warned)
    side_by_side = client_manager_client.get(offers[0], **EN)
    assert side_by_side.status_code == 200
    assert sorted(_pair(side_by_side)) == sorted([other.pk, edited.pk])
    # The existing merge and undo follow from there.
    survivor, merged = _pair(side_by_side)
    done = client_manager_client.post(MERGE, {"survivor": survivor, "merged": merged})
    merge = ClientMerge.objects.get()
    assert done["Location"] == merge.get_absolute_url()
    assert {merge.survivor_id, merge.merged_id} == {other.pk, edited.pk}
    client_manager_client.post(reverse("clientmgmt:merge_undo", args=[merge.pk]))
    assert not Client.objects.filter(status=Client.Status.MERGED).exists()


def test_the_duplicate_warning_of_a_new_record_offers_to_merge_the_records_it_found(
    client_manager_client,
):
    first = ClientFactory(name="王芳", phone=PHONE, date_of_birth=None)
    second = ClientFactory(
        name="王芳", phone="13700000002", date_of_birth=datetime.date(1990, 3, 7)
    )
    warned = client_manager_client.post(NEW, _form(), **EN)
    assert {c.pk for c in warned.context["duplicates"]} == {first.pk, second.pk}
    offers = _offers(warned)
    assert len(offers) == 1  # one pair, offered once
    assert sorted(_pair(client_manager_client.get(offers[0]))) == sorted([first.pk, second.pk])


def test_a_single_duplicate_of_a_new_record_has_nothing_to_merge_with(client_manager_client):
    ClientFactory(name="王芳", phone=PHONE)
    warned = client_manager_client.post(NEW, _form(), **EN)
    assert "may be the same person" in _text(warned) and _offers(warned) == []


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CONSULTANT, roles.VIP_MANAGER])
def test_a_role_that_cannot_merge_is_not_offered_the_link(client_for, role):
    ClientFactory(name="王芳", phone=PHONE, date_of_birth=None)
    edited = ClientFactory(name="王芳", phone="13700000002", date_of_birth=None)
    browser = client_for(role)
    warned = browser.post(reverse("clientmgmt:client_edit", args=[edited.pk]), _form(), **EN)
    assert "may be the same person" in _text(warned) and _offers(warned) == []
    assert MERGE not in _text(browser.get(edited.get_absolute_url()))
    results = browser.get(reverse("clientmgmt:client_list"), {"q": "王芳"})
    assert _offers(results) == [] and MERGE not in _text(results)
    assert browser.get(MERGE).status_code == 403


def test_a_vip_the_user_does_not_serve_is_not_offered_for_a_merge(client_for):
    person = _vip()
    edited = ClientFactory(name="王芳", phone="13700000002", date_of_birth=None)
    manager = client_for(roles.CLIENT_MANAGER)
    warned = manager.post(reverse("clientmgmt:client_edit", args=[edited.pk]), _form(), **EN)
    assert [c.pk for c in warned.context["duplicates"]] == [person.pk]  # warned, in summary
    assert _offers(warned) == []
    # An administrator, who may see the whole record (a VIP officer), is offered the merge.
    officer = client_for(roles.ADMINISTRATOR)
    offers = _offers(
        officer.post(reverse("clientmgmt:client_edit", args=[edited.pk]), _form(), **EN)
    )
    assert len(offers) == 1
    assert sorted(_pair(officer.get(offers[0]))) == sorted([person.pk, edited.pk])


# --- The client page and the search results --------------------------------------------------


def test_the_client_pages_link_picks_the_record_and_the_search_finds_the_other(
    client_manager_client,
):
    here = ClientFactory(name="王芳", phone=PHONE)
    there = ClientFactory(name="王芳", phone="13700000002")
    page = client_manager_client.get(here.get_absolute_url(), **EN)
    link = re.search(r'href="([^"]*)">Merge with…<', _text(page)).group(1)
    picked = client_manager_client.get(html.unescape(link), **EN)
    assert picked.context["picked"].pk == here.pk
    # Search by name: the other record is offered, the picked one is not.
    found = client_manager_client.post(
        html.unescape(link), {MARKER: "1", "q": "王芳", "merged": here.pk}, follow=True, **EN
    )
    assert [other.pk for other, _url in found.context["candidates"]] == [there.pk]
    compare = found.context["candidates"][0][1]
    assert sorted(_pair(client_manager_client.get(compare))) == sorted([here.pk, there.pk])


def test_the_search_results_offer_a_merge_that_carries_the_search(client_manager_client):
    one = ClientFactory(name="王芳", phone=PHONE)
    two = ClientFactory(name="王芳", phone="13700000002")
    results = client_manager_client.get(reverse("clientmgmt:client_list"), {"q": "王芳"}, **EN)
    offers = _offers(results)
    assert len(offers) == 2
    picked = client_manager_client.get(offers[0], **EN)
    first = picked.context["picked"]
    candidates = [other.pk for other, _url in picked.context["candidates"]]
    assert candidates == [({one.pk, two.pk} - {first.pk}).pop()]


def test_the_merge_page_is_searched_by_name_or_masked_phone_not_by_record_numbers(
    client_manager_client,
):
    ClientFactory(name="王芳", phone=PHONE)
    page = client_manager_client.get(MERGE, **EN)
    body = _text(page)
    assert 'name="survivor"' not in body and 'name="merged"' not in body
    assert "(number)" not in body and 'inputmode="numeric"' not in body
    found = client_manager_client.get(MERGE, {"q": "5678"}, **EN)
    assert "139****5678" in _text(found)
    assert len(found.context["candidates"]) == 1


@pytest.mark.parametrize("typed", [PHONE, "139 1234 5678", "+86 139-1234-5678"])
def test_no_full_phone_number_enters_any_address_of_the_merge(client_manager_client, typed):
    one = ClientFactory(name="王芳", phone=PHONE)
    two = ClientFactory(name="王小芳", phone=PHONE)
    # The client search's results, searched by the full number, and their merge links.
    listed = client_manager_client.post(
        reverse("clientmgmt:client_list"), {MARKER: "1", "q": typed}, follow=True, **EN
    )
    assert_no_full_number(listed)
    offers = _offers(listed)
    assert len(offers) == 2 and all(f"{TOKEN}=" in url for url in offers)
    picked = client_manager_client.get(offers[0], **EN)
    assert_no_full_number(picked)
    assert len(picked.context["candidates"]) == 1  # the token brought the search along
    # The merge page's own search posts, and answers with a token.
    posted = client_manager_client.post(MERGE, {MARKER: "1", "q": typed, "merged": one.pk}, **EN)
    assert posted.status_code == 302 and PHONE not in posted["Location"]
    assert parse_qs(urlsplit(posted["Location"]).query).get("merged") == [str(one.pk)]
    page = client_manager_client.get(posted["Location"], **EN)
    assert_no_full_number(page)
    compare = page.context["candidates"][0][1]
    side_by_side = client_manager_client.get(compare, **EN)
    assert_no_full_number(side_by_side)
    assert sorted(_pair(side_by_side)) == sorted([one.pk, two.pk])


def test_the_merge_search_leaves_out_a_vip_the_user_does_not_serve(client_for):
    _vip(name="王芳")
    plain = ClientFactory(name="王芳", phone="13700000002")
    manager = client_for(roles.CLIENT_MANAGER)
    found = manager.get(MERGE, {"q": "王芳"}, **EN)
    assert [other.pk for other, _url in found.context["candidates"]] == [plain.pk]
    results = manager.get(reverse("clientmgmt:client_list"), {"q": "王芳"}, **EN)
    assert len(results.context["clients"]) == 2 and len(_offers(results)) == 1


@pytest.mark.parametrize("role", MERGERS)
def test_every_role_that_may_open_the_merge_reaches_the_side_by_side_view(client_for, role):
    one, two = ClientFactory(name="甲"), ClientFactory(name="乙")
    page = client_for(role).get(MERGE, {"survivor": one.pk, "merged": two.pk})
    assert page.status_code == 200 and _pair(page) == [one.pk, two.pk]


@pytest.mark.parametrize(
    "query", [{"merged": "abc"}, {"survivor": "-1"}, {"merged": "99999999"}, {"q": "王\u3000"}]
)
def test_bad_picks_never_give_a_server_error(client_manager_client, query):
    assert client_manager_client.get(MERGE, query).status_code in (200, 404)
