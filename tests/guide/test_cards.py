"""Membership cards (会员卡) through their pages: issue, renew, suspend, reactivate, cancel; the
list with its search, filters and pages; who may do what; the admin."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from guide.models import MembershipCard, MembershipCardEvent
from tests.clientmgmt.factories import ClientFactory
from tests.guide.factories import issue_card
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIST = reverse("guide:card_list")
CARD_WRITERS = sorted(roles.CARD_DESK)
CARD_ONLY_READERS = sorted(roles.CARD_READERS - roles.CARD_DESK)


def _new_url(person):
    return reverse("guide:card_new") + f"?client={person.pk}"


def _issue_form(**overrides):
    form = {
        "number": "ZD00001234",
        "level": "gold",
        "valid_from": timezone.localdate().isoformat(),
        "months": "12",
        "fee": "1000.00",
    }
    return form | overrides


def _renew(http, card, **data):
    return http.post(reverse("guide:card_renew", args=[card.pk]), data, **EN)


def _set_status(http, card, status, reason=""):
    url = reverse("guide:card_status", args=[card.pk])
    return http.post(url, {"status": status, "reason": reason}, **EN)


def _body(response):
    return response.content.decode()


# --- Issuing ------------------------------------------------------------------------


def test_the_issue_form_suggests_the_next_number_today_and_twelve_months(front_desk_client):
    issue_card(number="ZD00000001")
    person = ClientFactory(name="李娜")
    page = front_desk_client.get(_new_url(person), **EN)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["number"] == "ZD00000002"
    assert form.initial["valid_from"] == timezone.localdate()
    assert form.initial["months"] == 12
    assert 'value="ZD00000002"' in _body(page)
    assert "李娜" in _body(page)


@pytest.mark.parametrize("role", CARD_WRITERS)
def test_card_roles_issue_a_card_and_the_client_becomes_a_member(client_for, role):
    person = ClientFactory()
    assert not person.is_member
    page = client_for(role).post(_new_url(person), _issue_form(number="zd 0000 1234"), **EN)
    card = MembershipCard.objects.get()
    assert page.status_code == 302
    assert page["Location"] == card.get_absolute_url()
    assert card.number == "ZD00001234"
    assert (card.level, card.status, card.fee) == ("gold", "active", Decimal("1000.00"))
    today = timezone.localdate()
    assert card.valid_from == today
    assert card.valid_until == today.replace(year=today.year + 1) - datetime.timedelta(days=1)
    assert Client.objects.get(pk=person.pk).is_member
    assert list(card.events.values_list("action", flat=True)) == ["issued"]
    assert AuditEvent.objects.filter(action="create", object_id=str(card.pk)).exists()


def test_the_new_card_page_says_it_was_issued(front_desk_client):
    person = ClientFactory(name="李娜")
    page = front_desk_client.post(_new_url(person), _issue_form(), follow=True, **EN)
    assert "Card ZD00001234 issued" in _body(page)
    assert "李娜" in _body(page)


@pytest.mark.parametrize("number", ["12345678", "ZD12", "ZD-0000-1234", "ABCDE1234", "中01234"])
def test_a_malformed_card_number_is_refused(front_desk_client, number):
    page = front_desk_client.post(_new_url(ClientFactory()), _issue_form(number=number), **EN)
    assert page.status_code == 422
    assert "A card number is 1 to 4 letters followed by 4 to 12 digits" in _body(page)
    assert not MembershipCard.objects.exists()


def test_a_card_number_in_use_is_refused(front_desk_client):
    issue_card(number="ZD00001234")
    page = front_desk_client.post(_new_url(ClientFactory()), _issue_form(), **EN)
    assert page.status_code == 422
    assert page.context["form"].errors["number"] == ["This card number is already in use."]
    assert MembershipCard.objects.count() == 1


def test_a_client_with_a_live_card_is_sent_to_that_card(front_desk_client):
    card = issue_card()
    page = front_desk_client.get(_new_url(card.client), follow=True, **EN)
    assert page.redirect_chain == [(card.get_absolute_url(), 302)]
    assert f"already holds card {card.number}" in _body(page)


def test_a_suspended_card_is_live_too(front_desk_client):
    card = issue_card()
    _set_status(front_desk_client, card, "suspended", "lost")
    page = front_desk_client.get(_new_url(card.client))
    assert page["Location"] == card.get_absolute_url()


def test_a_second_live_card_is_refused(front_desk_client):
    card = issue_card(number="ZD00000001")
    page = front_desk_client.post(_new_url(card.client), _issue_form(number="ZD00000002"), **EN)
    assert page.status_code == 422
    assert "already holds card ZD00000001: renew it instead" in _body(page)
    assert MembershipCard.objects.count() == 1


def test_a_client_whose_card_was_cancelled_can_be_issued_a_new_one(front_desk_client):
    card = issue_card(number="ZD00000001")
    _set_status(front_desk_client, card, "cancelled", "moved away")
    page = front_desk_client.post(_new_url(card.client), _issue_form(number="ZD00000002"))
    assert page.status_code == 302
    assert card.client.membership_cards.filter(status="active").get().number == "ZD00000002"


@pytest.mark.parametrize("months", ["0", "61", "-3", "twelve", ""])
def test_months_out_of_range_are_refused(front_desk_client, months):
    page = front_desk_client.post(_new_url(ClientFactory()), _issue_form(months=months), **EN)
    assert page.status_code == 422
    assert page.context["form"].errors["months"] == ["A card is valid for 1 to 60 months."]
    assert not MembershipCard.objects.exists()


def test_a_negative_fee_is_refused(front_desk_client):
    page = front_desk_client.post(_new_url(ClientFactory()), _issue_form(fee="-1"), **EN)
    assert page.status_code == 422
    assert "The fee cannot be negative." in _body(page)
    assert not MembershipCard.objects.exists()


def test_the_level_and_the_first_day_must_be_given(front_desk_client):
    data = _issue_form(level="platinum", valid_from="2026-02-30")
    page = front_desk_client.post(_new_url(ClientFactory()), data, **EN)
    assert page.status_code == 422
    assert set(page.context["form"].errors) == {"level", "valid_from"}


def test_without_a_client_the_page_sends_you_to_find_one(front_desk_client):
    page = front_desk_client.get(reverse("guide:card_new"), **EN)
    assert page.status_code == 200
    assert reverse("clientmgmt:client_list") in _body(page)


@pytest.mark.parametrize("query", ["?client=abc", "?client=999999", "?client="])
def test_a_bad_client_never_gives_a_server_error(front_desk_client, query):
    url = reverse("guide:card_new") + query
    assert front_desk_client.get(url).status_code in (200, 404)
    assert front_desk_client.post(url, _issue_form()).status_code in (200, 404)
    assert not MembershipCard.objects.exists()


# --- The card page: renew, suspend, reactivate, cancel ---------------------------------


def test_the_card_page_shows_the_card_its_client_and_history(manager_client):
    person = ClientFactory(name="李娜", phone="13912345678")
    card = issue_card(client=person, level="silver")
    page = manager_client.get(card.get_absolute_url(), **EN)
    body = _body(page)
    assert page.status_code == 200
    assert card.number in body and "Silver card" in body
    assert person.get_absolute_url() in body
    assert "139****5678" in body and "13912345678" not in body
    assert [event.action for event in page.context["history"]] == ["issued"]
    assert "expired" not in body


def test_an_expired_card_says_so(front_desk_client):
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    card = issue_card(valid_from=long_ago, months=12)
    page = front_desk_client.get(card.get_absolute_url(), **EN)
    assert 'data-testid="card-expired"' in _body(page)


def test_renewing_extends_the_card_from_its_expiry(front_desk_client):
    card = issue_card(months=12)
    old_expiry = card.valid_until
    page = _renew(front_desk_client, card, months="6", fee="300")
    assert page.status_code == 302
    card.refresh_from_db()
    assert card.valid_until > old_expiry
    assert (card.valid_until - old_expiry).days in range(180, 186)
    renewed = card.events.get(action="renewed")
    assert (renewed.fee, renewed.valid_until) == (Decimal("300.00"), card.valid_until)
    page = front_desk_client.get(card.get_absolute_url(), **EN)
    assert "Renewed" in _body(page)


def test_an_expired_card_is_renewed_from_today(front_desk_client):
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    card = issue_card(valid_from=long_ago, months=1)
    _renew(front_desk_client, card, months="1", fee="0")
    card.refresh_from_db()
    assert not card.expired
    assert (card.valid_until - timezone.localdate()).days in range(27, 31)


@pytest.mark.parametrize(
    "data,field",
    [
        ({"months": "0", "fee": "0"}, "months"),
        ({"months": "99", "fee": "0"}, "months"),
        ({"months": "12", "fee": "-5"}, "fee"),
        ({"months": "12", "fee": "lots"}, "fee"),
    ],
)
def test_a_renewal_with_bad_months_or_fee_is_refused(front_desk_client, data, field):
    card = issue_card()
    page = _renew(front_desk_client, card, **data)
    assert page.status_code == 422
    assert field in page.context["renew_form"].errors
    assert not card.events.filter(action="renewed").exists()


def test_suspend_needs_a_reason_then_the_card_is_reactivated_and_cancelled(front_desk_client):
    card = issue_card()
    page = _set_status(front_desk_client, card, "suspended")
    assert page.status_code == 422
    assert "Give the reason." in _body(page)
    assert _set_status(front_desk_client, card, "suspended", "card lost").status_code == 302
    card.refresh_from_db()
    assert card.status == "suspended"
    assert _set_status(front_desk_client, card, "active").status_code == 302
    card.refresh_from_db()
    assert card.status == "active"
    page = _set_status(front_desk_client, card, "cancelled")
    assert page.status_code == 422
    page = front_desk_client.post(
        reverse("guide:card_status", args=[card.pk]),
        {"status": "cancelled", "reason": "moved away"},
        follow=True,
        **EN,
    )
    assert "The card is cancelled." in _body(page)
    card.refresh_from_db()
    assert card.status == "cancelled"
    events = list(card.events.values_list("action", "reason"))
    assert events == [
        ("issued", ""),
        ("suspended", "card lost"),
        ("reactivated", ""),
        ("cancelled", "moved away"),
    ]


def test_the_card_page_offers_only_the_moves_the_status_allows(front_desk_client):
    card = issue_card()

    def actions():
        page = front_desk_client.get(card.get_absolute_url())
        return [action["status"] for action in page.context["status_actions"]]

    assert actions() == ["suspended", "cancelled"]
    _set_status(front_desk_client, card, "suspended", "lost")
    assert actions() == ["active", "cancelled"]
    _set_status(front_desk_client, card, "cancelled", "lost for good")
    assert actions() == []
    assert front_desk_client.get(card.get_absolute_url()).context["can_renew"] is False


def test_cancelling_asks_for_confirmation_first(front_desk_client):
    card = issue_card()
    body = _body(front_desk_client.get(card.get_absolute_url()))
    assert 'name="status" value="cancelled" data-confirm=' in body
    assert 'name="status" value="suspended" data-confirm=' not in body


def test_a_cancelled_card_can_be_neither_renewed_nor_reactivated(front_desk_client):
    card = issue_card()
    _set_status(front_desk_client, card, "cancelled", "moved away")
    page = _renew(front_desk_client, card, months="12", fee="0")
    assert page.status_code == 409
    assert "A cancelled card cannot be renewed" in _body(page)
    page = _set_status(front_desk_client, card, "active")
    assert page.status_code == 409
    assert "A card cannot go from Cancelled to Active." in _body(page)
    card.refresh_from_db()
    assert card.status == "cancelled"


@pytest.mark.parametrize("status", ["", "lost", "active"])
def test_an_unknown_or_illegal_status_never_gives_a_server_error(front_desk_client, status):
    card = issue_card()
    assert _set_status(front_desk_client, card, status, "x").status_code in (409, 422)
    card.refresh_from_db()
    assert card.status == "active"


def test_the_card_page_prints_without_its_buttons(front_desk_client):
    card = issue_card()
    body = _body(front_desk_client.get(card.get_absolute_url()))
    assert "css/print.css" in body
    assert 'class="col-lg-6 d-print-none"' in body


def test_an_unknown_card_is_not_found(front_desk_client):
    url = reverse("guide:card_detail", args=[999999])
    assert front_desk_client.get(url).status_code == 404
    assert front_desk_client.post(url + "renew/", {"months": "1", "fee": "0"}).status_code == 404


# --- Who may do what ----------------------------------------------------------------


@pytest.mark.parametrize("role", CARD_ONLY_READERS)
def test_read_only_roles_see_cards_but_are_refused_every_change(client_for, role):
    http = client_for(role)
    card = issue_card()
    assert http.get(LIST).status_code == 200
    page = http.get(card.get_absolute_url())
    assert page.status_code == 200
    assert page.context["can_renew"] is False and page.context["status_actions"] == []
    assert 'action="' + reverse("guide:card_renew", args=[card.pk]) not in _body(page)
    assert _renew(http, card, months="12", fee="0").status_code == 403
    assert _set_status(http, card, "suspended", "x").status_code == 403
    other = ClientFactory()
    assert http.get(_new_url(other)).status_code == 403
    assert http.post(_new_url(other), _issue_form(number="ZD00000009")).status_code == 403
    card.refresh_from_db()
    assert card.status == "active" and card.events.count() == 1


def test_a_consultant_cannot_open_the_cards(consultant_client):
    card = issue_card()
    assert consultant_client.get(LIST).status_code == 403
    assert consultant_client.get(card.get_absolute_url()).status_code == 403


def test_the_client_page_offers_a_card_and_an_exam_order_to_those_who_may(
    front_desk_client, client_manager_client, vip_manager_client, consultant_client
):
    person = ClientFactory()
    card_link = f"{reverse('guide:card_new')}?client={person.pk}"
    exam_link = f"{reverse('guide:exam_new')}?client={person.pk}"
    for http in (front_desk_client, client_manager_client):
        body = _body(http.get(person.get_absolute_url()))
        assert card_link in body and exam_link in body
    for http in (vip_manager_client, consultant_client):
        body = _body(http.get(person.get_absolute_url()))
        assert card_link not in body and exam_link not in body


def test_the_membership_card_button_of_a_member_leads_to_their_card(front_desk_client):
    card = issue_card()
    page = front_desk_client.get(card.client.get_absolute_url())
    link = f"{reverse('guide:card_new')}?client={card.client.pk}"
    assert link in _body(page)
    assert front_desk_client.get(link)["Location"] == card.get_absolute_url()


# --- Finding cards ------------------------------------------------------------------


def test_the_client_search_finds_a_client_by_card_number(front_desk_client):
    person = ClientFactory(name="李娜")
    ClientFactory(name="王芳")
    issue_card(client=person, number="ZD00000001")
    page = front_desk_client.get(reverse("clientmgmt:client_list"), {"q": "zd00000001"})
    assert page.status_code == 200
    assert [client.pk for client in page.context["clients"]] == [person.pk]
    assert person.get_absolute_url() in _body(page)


def test_the_card_list_finds_a_card_by_number_name_or_last_four_digits(front_desk_client):
    lina = issue_card(client=ClientFactory(name="李娜", phone="13912345678"), number="ZD00000001")
    wang = issue_card(client=ClientFactory(name="王芳", phone="13800002222"), number="ZD00000002")

    def found(q):
        return list(front_desk_client.get(LIST, {"q": q}).context["page"].items)

    assert found("") == [wang, lina]
    assert found("ZD00000002") == [wang]
    assert found("李娜") == [lina]
    assert found("5678") == [lina]
    assert found("ZD99999999") == []


def test_the_card_list_filters_by_status_and_cards_running_out(front_desk_client):
    today = timezone.localdate()
    soon = issue_card(number="ZD00000001", valid_from=today - datetime.timedelta(days=340))
    later = issue_card(number="ZD00000002")
    suspended = issue_card(number="ZD00000003", valid_from=today - datetime.timedelta(days=340))
    _set_status(front_desk_client, suspended, "suspended", "lost")
    expired = issue_card(number="ZD00000004", valid_from=today - datetime.timedelta(days=400))

    def found(**filters):
        page = front_desk_client.get(LIST, filters, **EN)
        assert page.status_code == 200
        return page

    assert list(found(status="suspended").context["page"].items) == [suspended]
    assert list(found(status="active").context["page"].items) == [expired, later, soon]
    page = found(expiring="on")
    assert list(page.context["page"].items) == [soon]
    assert page.context["page"].next_before is None
    assert list(found(expiring="on", status="cancelled").context["page"].items) == []
    assert "No cards match." in _body(found(status="cancelled"))


def test_an_empty_card_list_says_so(front_desk_client):
    page = front_desk_client.get(LIST, **EN)
    assert "No cards yet." in _body(page)


@pytest.mark.parametrize(
    "query", [{"status": "zzz"}, {"before": "x"}, {"q": "x" * 80}, {"expiring": "maybe"}]
)
def test_bad_list_filters_never_give_a_server_error(front_desk_client, query):
    issue_card()
    assert front_desk_client.get(LIST, query).status_code == 200


def _many_cards(count, start=1):
    for n in range(start, start + count):
        issue_card(number=f"ZD{n:08d}")


def test_the_card_list_pages_newest_first_without_counting(front_desk_client):
    _many_cards(52)
    first = front_desk_client.get(LIST, **EN)
    page = first.context["page"]
    assert len(page.items) == 50
    assert page.items[0].number == "ZD00000052"
    assert f"before={page.next_before}" in _body(first)
    second = front_desk_client.get(LIST, {"before": page.next_before}).context["page"]
    assert [card.number for card in second.items] == ["ZD00000002", "ZD00000001"]
    assert second.next_before is None and not second.is_first


def test_the_card_list_keeps_a_fixed_query_count(front_desk_client, django_assert_max_num_queries):
    _many_cards(3)
    front_desk_client.get(LIST)  # warm the session

    def count(**filters):
        with CaptureQueriesContext(connection) as queries:
            assert front_desk_client.get(LIST, filters).status_code == 200
        return len(queries)

    few = count()
    # The session, the user, the user's roles, one page of cards with clients (the user menu's
    # count of unread notifications is kept since the first page).
    assert few == 4
    # A card number has eight digits, so its search is kept out of the address: the first search
    # stashes its token in the session (one write), the same search again reuses it.
    count(q="ZD00000001")
    few_found = count(q="ZD00000001")
    _many_cards(30, start=4)
    assert count() == few
    assert count(q="ZD00000001") == few_found
    with django_assert_max_num_queries(few):
        front_desk_client.get(LIST, {"status": "active"})


# --- The admin ----------------------------------------------------------------------


def test_the_card_admin_lists_cards_masked_and_issues_none(admin_client_):
    card = issue_card(client=ClientFactory(name="李娜", phone="13912345678"))
    changelist = reverse("admin:guide_membershipcard_changelist")
    page = admin_client_.get(changelist, {"q": card.number})
    body = _body(page)
    assert page.status_code == 200
    assert card.number in body and "139****5678" in body and "13912345678" not in body
    assert admin_client_.get(reverse("admin:guide_membershipcard_add")).status_code == 403
    page = admin_client_.get(reverse("admin:guide_membershipcard_change", args=[card.pk]))
    assert page.status_code == 200
    assert "13912345678" not in _body(page)
    # Read-only: posting the change form changes nothing.
    url = reverse("admin:guide_membershipcard_change", args=[card.pk])
    admin_client_.post(url, {"status": "cancelled"})
    card.refresh_from_db()
    assert card.status == "active"
    assert MembershipCardEvent.objects.filter(card=card).count() == 1
