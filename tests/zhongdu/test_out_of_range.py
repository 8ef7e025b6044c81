"""Numbers and dates beyond what Python or the database can hold, typed into an address or a
filter, get a clear answer (the form's message, "not found", or the out-of-range page), never a
server error. The cases are the ones a fuzzing review found answering 500."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.vip.factories import vip
from zhongdu import roles

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
FILTERS = [
    ("clientmgmt:archive_list", {"visited_from": "0001-01-01"}),
    ("clientmgmt:archive_list", {"visited_before": "9999-12-31"}),
    ("reports:satisfaction", {"month": "0001-01"}),
    ("reports:satisfaction", {"month": "0001-02"}),
    ("reports:satisfaction_export", {"month": "0001-02"}),
    ("consult:booking_list", {"date": "0001-01-01"}),
    ("consult:booking_list", {"date": "9999-12-31"}),
    ("consult:booking_list", {"date": "9999-12-31", "view": "week"}),
    ("audit_event_list", {"date_from": "0001-01-01"}),
    ("messaging:outbox_list", {"date": "0001-01-01"}),
    ("messaging:outbox_list", {"date": "9999-12-31"}),
    ("messaging:outbox_list", {"client": HUGE}),
]


@pytest.fixture
def admin(client_for):
    return client_for(roles.ADMINISTRATOR)


@pytest.mark.parametrize(("name", "query"), FILTERS)
def test_out_of_range_filters_are_explained(admin, name, query):
    response = admin.get(reverse(name), query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 302, 422)
    if response.status_code != 302:
        body = response.content.decode()
        assert "Enter a date between" in body or "Ensure this value is less than" in body


@pytest.mark.parametrize("suffix", ["", "access/", "costs/"])
def test_an_id_no_column_can_hold_is_not_found(admin, suffix):
    assert admin.get(f"/vip/{HUGE}/{suffix}").status_code == 404
    assert admin.get(f"/clients/{HUGE}/").status_code == 404


def test_vip_costs_with_far_dates_say_so(admin):
    standing = vip()
    url = reverse("vip:vip_costs", args=[standing.client_id])
    for query in ({"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}):
        response = admin.get(url, query, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 422)
        assert "Enter a date between 1900-01-01 and 2099-12-31." in response.content.decode()
    export = admin.post(
        reverse("vip:vip_costs_export", args=[standing.client_id]),
        {"date_from": "0001-01-01", "reason": "audit check"},
    )
    assert export.status_code < 500


def test_the_safety_net_answers_400_with_a_page(role_user, monkeypatch):
    """A form not bounded yet: the middleware turns the overflow into a page saying what is
    wrong, instead of a server error."""
    from clientmgmt import views

    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(views.selectors, "client_search", overflow)
    browser = Client(raise_request_exception=False)
    browser.force_login(role_user(roles.CLIENT_MANAGER))
    page = browser.get(reverse("clientmgmt:client_list"), {"q": "李娜"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "A number or date is out of range" in page.content.decode()
