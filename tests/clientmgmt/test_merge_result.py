"""A merge's result page and its undo (issue 15, item 7): the two records as staff know them
(name, masked numbers, last visit), never an internal record number; only for a user who may see
both records whole (the VIP discretion rule), each read audited; a double click on "Merge" makes
one merge; bad input never gives a server error. Through the real pages."""

import datetime
import re

import pytest
from django.urls import reverse

from clientmgmt.models import Client, ClientEvent, ClientMerge
from tests.at_once import needs_postgres, post_at_once
from tests.clientmgmt.factories import ClientFactory
from tests.vip.factories import vip
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MERGE = reverse("clientmgmt:merge_select")
WALK_IN = reverse("guide:walk_in")
KEY = "0123456789abcdef0123456789abcdef"


def _visible_text(response) -> str:
    """The page as read on screen: the text between tags, addresses and attributes left out."""
    body = response.content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    return re.sub(r"<[^>]*>", " ", main)


def _pair(**survivor):
    stays = ClientFactory(
        name="王芳",
        phone="13912345678",
        date_of_birth=datetime.date(1990, 3, 7),
        **survivor,
    )
    goes = ClientFactory(name="王芳", phone="13700000002", date_of_birth=None)
    return stays, goes


def _merged(signed_in, stays, goes, **extra):
    response = signed_in.post(MERGE, {"survivor": stays.pk, "merged": goes.pk, **extra})
    assert response.status_code == 302, response.content[:500]
    return response


def test_the_result_shows_both_records_as_staff_know_them_and_no_record_numbers(
    client_manager_client,
):
    stays, goes = _pair()
    _merged(client_manager_client, stays, goes)
    merge = ClientMerge.objects.get()
    page = client_manager_client.get(merge.get_absolute_url(), **EN)
    text = _visible_text(page)
    assert page.status_code == 200
    assert "王芳 was merged into 王芳" in text
    assert "139****5678" in text and "137****0002" in text and "1990-03-07" in text
    assert "#" not in text
    # Dates and times on the page (a birthday, when the merge happened: 10:29) are not record
    # numbers, whatever the ids the database gave this run.
    undated = re.sub(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}", "", text)
    for number in (merge.pk, stays.pk, goes.pk):
        assert not re.search(rf"(?<!\d){number}(?!\d)", undated)
    # Both records link to their pages, and the undo is offered.
    body = page.content.decode()
    assert stays.get_absolute_url() in body and goes.get_absolute_url() in body
    assert reverse("clientmgmt:merge_undo", args=[merge.pk]) in body


def test_the_side_by_side_view_and_the_result_are_audited_as_reads_of_both_records(
    client_manager_client,
):
    stays, goes = _pair()
    client_manager_client.get(MERGE, {"survivor": stays.pk, "merged": goes.pk})
    _merged(client_manager_client, stays, goes)
    client_manager_client.get(ClientMerge.objects.get().get_absolute_url())
    reads = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, reason="merge")
    assert sorted(reads.values_list("object_id", flat=True)) == sorted(
        [str(stays.pk), str(goes.pk)] * 2
    )
    assert {event.object_type for event in reads} == {"clientmgmt.client"}


def test_a_vips_merge_is_not_shown_nor_undone_by_a_user_who_does_not_serve_them(client_for):
    stays, goes = _pair()
    vip(stays)
    officer = client_for(roles.ADMINISTRATOR)  # sees a VIP's whole record: may merge them
    _merged(officer, stays, goes)
    merge = ClientMerge.objects.get()
    assert officer.get(merge.get_absolute_url()).status_code == 200
    manager = client_for(roles.CLIENT_MANAGER)
    page = manager.get(merge.get_absolute_url())
    assert page.status_code == 403 and "139****5678" not in page.content.decode()
    assert manager.post(reverse("clientmgmt:merge_undo", args=[merge.pk])).status_code == 403
    merge.refresh_from_db()
    assert merge.undone_at is None
    assert Client.objects.get(pk=goes.pk).status == Client.Status.MERGED


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CONSULTANT, roles.VIP_MANAGER])
def test_a_role_that_cannot_merge_cannot_open_a_merge_or_undo_it(client_for, role):
    stays, goes = _pair()
    _merged(client_for(roles.CLIENT_MANAGER), stays, goes)
    merge = ClientMerge.objects.get()
    other = client_for(role)
    assert other.get(merge.get_absolute_url()).status_code == 403
    assert other.post(reverse("clientmgmt:merge_undo", args=[merge.pk])).status_code == 403
    assert ClientMerge.objects.get().undone_at is None


def test_the_undo_shows_who_undid_it_and_a_second_undo_changes_nothing(client_manager_client):
    stays, goes = _pair()
    _merged(client_manager_client, stays, goes)
    merge = ClientMerge.objects.get()
    undo = reverse("clientmgmt:merge_undo", args=[merge.pk])
    assert client_manager_client.post(undo)["Location"] == merge.get_absolute_url()
    again = client_manager_client.post(undo, follow=True, **EN)
    assert again.status_code == 200
    assert "already been undone" in again.content.decode()
    assert "Undone" in _visible_text(again) and "#" not in _visible_text(again)
    assert Client.objects.filter(status=Client.Status.ACTIVE).count() == 2


def test_the_client_pages_history_names_the_other_record_as_staff_know_it(
    client_manager_client,
):
    stays, goes = _pair()
    _merged(client_manager_client, stays, goes)
    client_manager_client.post(
        reverse("clientmgmt:merge_undo", args=[ClientMerge.objects.get().pk])
    )
    # A merge recorded before the history named the other record kept its number.
    ClientEvent.objects.create(client=stays, kind=ClientEvent.Kind.MERGED_IN, detail="#12")
    page = client_manager_client.get(stays.get_absolute_url(), **EN)
    text = _visible_text(page)
    assert text.count("王芳 (137****0002)") == 2  # merged in, then the merge undone
    assert "#" not in text


# --- The values kept -------------------------------------------------------------------------


def _differing_pair():
    stays = ClientFactory(name="王芳", phone="13912345678", date_of_birth=datetime.date(1990, 3, 7))
    goes = ClientFactory(
        name="王芳",
        phone="13700000002",
        date_of_birth=datetime.date(1991, 4, 8),
        education="",
        health_status="good",
    )
    return stays, goes


def test_the_side_by_side_view_asks_which_value_stays_where_the_two_differ(
    client_manager_client,
):
    stays, goes = _differing_pair()
    page = client_manager_client.get(MERGE, {"survivor": stays.pk, "merged": goes.pk}, **EN)
    rows = page.context["differences"]
    assert [row["name"] for row in rows] == ["date_of_birth", "phone"]  # blanks: no choice
    assert rows[1]["values"] == ("139****5678", "137****0002")
    body = page.content.decode()
    assert "13912345678" not in body and "13700000002" not in body
    # The record that stays keeps its own values unless the other's is chosen.
    assert 'name="keep_phone" value="survivor" id="keep-phone-survivor" checked' in body


def test_the_values_chosen_from_the_merged_record_stay_and_the_undo_puts_them_back(
    client_manager_client,
):
    stays, goes = _differing_pair()
    _merged(client_manager_client, stays, goes, keep_phone="merged", keep_date_of_birth="survivor")
    stays.refresh_from_db()
    assert (stays.phone, stays.phone_last4) == ("+8613700000002", "0002")
    assert stays.date_of_birth == datetime.date(1990, 3, 7)
    assert stays.health_status == "good"  # its blank, filled from the merged record
    merge = ClientMerge.objects.get()
    client_manager_client.post(reverse("clientmgmt:merge_undo", args=[merge.pk]))
    stays.refresh_from_db()
    assert (stays.phone, stays.phone_last4) == ("+8613912345678", "5678")
    assert stays.health_status == ""


# --- One merge per click ------------------------------------------------------------------------


def test_the_merge_button_carries_a_one_time_key(client_manager_client):
    stays, goes = _pair()
    page = client_manager_client.get(MERGE, {"survivor": stays.pk, "merged": goes.pk})
    key = page.context["key"]
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert f'name="key" value="{key}"' in page.content.decode()
    again = client_manager_client.get(MERGE, {"survivor": stays.pk, "merged": goes.pk})
    assert again.context["key"] != key


def test_a_double_click_on_merge_makes_one_merge_and_both_clicks_land_on_it(
    client_manager_client,
):
    stays, goes = _pair()
    first = _merged(client_manager_client, stays, goes, key=KEY)
    second = _merged(client_manager_client, stays, goes, key=KEY)
    merge = ClientMerge.objects.get()
    assert merge.request_key == KEY
    assert first["Location"] == second["Location"] == merge.get_absolute_url()


def test_a_merge_sent_again_after_its_undo_does_not_merge_again(client_manager_client):
    stays, goes = _pair()
    _merged(client_manager_client, stays, goes, key=KEY)
    merge = ClientMerge.objects.get()
    client_manager_client.post(reverse("clientmgmt:merge_undo", args=[merge.pk]))
    resent = _merged(client_manager_client, stays, goes, key=KEY)  # the back button, resent
    assert resent["Location"] == merge.get_absolute_url()
    assert ClientMerge.objects.count() == 1
    assert Client.objects.filter(status=Client.Status.ACTIVE).count() == 2


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_clicks_at_once_make_one_merge(client_manager_client):
    stays, goes = _pair()
    answers = post_at_once(
        client_manager_client, MERGE, {"survivor": stays.pk, "merged": goes.pk, "key": KEY}
    )
    merge = ClientMerge.objects.get()
    assert [getattr(a, "status_code", a) for a in answers] == [302] * 10
    assert {a["Location"] for a in answers} == {merge.get_absolute_url()}


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("survivor", "merged", "key"),
    [
        ("{s}\x00", "{m}", ""),
        ("abc", "{m}", ""),
        ("99999999", "99999998", ""),
        ("9" * 30, "{m}", ""),
        ("{s}", "{s}", ""),
        ("{s}", "{m}", "\x00" * 32),
        ("{s}", "{m}", "'; DROP TABLE x; --"),
    ],
)
def test_a_garbled_merge_never_gives_a_server_error(client_manager_client, survivor, merged, key):
    stays, goes = _pair()
    data = {
        "survivor": survivor.format(s=stays.pk, m=goes.pk),
        "merged": merged.format(s=stays.pk, m=goes.pk),
        "key": key,
    }
    response = client_manager_client.post(MERGE, data)
    assert response.status_code in (200, 302, 400, 404)
    if response.status_code != 302:
        assert not ClientMerge.objects.exists()


@pytest.mark.parametrize("pk", ["0", "99999999", "1" * 30])
def test_an_unknown_merge_is_not_found(client_manager_client, pk):
    for response in (
        client_manager_client.get(f"{MERGE.removesuffix('merge/')}merges/{pk}/"),
        client_manager_client.post(f"{MERGE.removesuffix('merge/')}merges/{pk}/undo/"),
    ):
        assert response.status_code == 404


@pytest.mark.parametrize("query", [{"survivor": "\x00"}, {"merged": "1\x1f"}, {"q": "王\x00芳"}])
def test_control_characters_in_the_merge_pages_address_never_give_a_server_error(
    client_manager_client, query
):
    assert client_manager_client.get(MERGE, query).status_code in (200, 400, 404)


# --- The walk-in's duplicate warning ---------------------------------------------------------


def _walk_in(**overrides):
    return {
        "name": "孙丽",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "phone": "13912345678",
        "categories": ["is_patient"],
        "service_sms": "on",
    } | overrides


def _two_records_of_sun_li():
    born = datetime.date(1990, 3, 7)
    return (
        ClientFactory(name="孙丽", date_of_birth=born, phone="+8613800000001"),
        ClientFactory(name="孙丽", date_of_birth=born, phone="+8613800000002"),
    )


def test_the_walk_in_warning_offers_a_merge_of_the_two_records_found_to_a_role_that_merges(
    client_for,
):
    first, second = _two_records_of_sun_li()
    officer = client_for(roles.ADMINISTRATOR)  # works the walk-in desk and may merge
    warned = officer.post(WALK_IN, _walk_in(), **EN)
    assert warned.status_code == 409
    offers = re.findall(r'href="([^"]*)"[^>]*data-testid="merge-offer"', warned.content.decode())
    assert len(offers) == 1
    side_by_side = officer.get(offers[0].replace("&amp;", "&"))
    assert side_by_side.status_code == 200
    assert {c.pk for c in side_by_side.context["pair"]} == {first.pk, second.pk}


@pytest.mark.parametrize(
    "role",
    sorted(roles.PAGE_ACCESS["guide:walk_in"] - roles.PAGE_ACCESS["clientmgmt:merge_select"]),
)
def test_the_walk_in_warning_offers_no_merge_to_the_front_desk(client_for, role):
    _two_records_of_sun_li()
    warned = client_for(role).post(WALK_IN, _walk_in(), **EN)
    assert warned.status_code == 409 and len(warned.context["duplicates"]) == 2
    assert 'data-testid="merge-offer"' not in warned.content.decode()
    assert MERGE not in warned.content.decode()
