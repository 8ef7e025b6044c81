"""Forms of the consultation desk that create something carry a one-time key: the same form
posted twice (a double click on a slow network, a resubmitted tab) writes one record."""

import pytest
from django.urls import reverse

from consult.models import Booking, Enquiry, PublicRequestAttempt

from .factories import ClientFactory, future_session

pytestmark = pytest.mark.django_db

KEY = "0123456789abcdef0123456789abcdef"
CALL = reverse("consult:call")
BOOK = reverse("consult:public_book")


def _hidden_key(page, form="form") -> str:
    key = page.context[form].initial["key"]
    assert f'type="hidden" name="key" value="{key}"' in page.content.decode()
    return key


def test_a_double_click_on_confirm_the_booking_books_once(consultant_client):
    person = ClientFactory()
    session = future_session(capacity=3)
    url = reverse("consult:booking_new") + f"?client={person.pk}"
    key = _hidden_key(consultant_client.get(url))
    form = {"session": session.pk, "kind": "expert", "key": key}
    first = consultant_client.post(url, form)
    second = consultant_client.post(url, form)
    booking = Booking.objects.get()
    assert first["Location"] == second["Location"] == booking.get_absolute_url()
    session.refresh_from_db()
    assert session.booked == 1


def test_a_double_click_on_save_records_one_enquiry(consultant_client):
    key = _hidden_key(consultant_client.get(CALL))
    form = {
        "contact_channel": "phone",
        "direction": "in",
        "duration_seconds": "60",
        "prospect_name": "赵敏",
        "outcome": "information",
        "key": key,
    }
    first = consultant_client.post(CALL, form)
    second = consultant_client.post(CALL, form)
    assert first.status_code == second.status_code == 302
    assert Enquiry.objects.get().request_key == key


def test_a_double_click_on_the_public_page_sends_one_request_and_counts_one(client):
    key = _hidden_key(client.get(BOOK))
    form = {
        "name": "赵敏",
        "phone": "139 1234 0000",
        "message": "想看白癜风",
        "health_data": "on",
        "key": key,
    }
    first = client.post(BOOK, form, REMOTE_ADDR="203.0.113.5")
    second = client.post(BOOK, form, REMOTE_ADDR="203.0.113.5")
    assert first["Location"] == second["Location"] == reverse("consult:public_book_thanks")
    assert Enquiry.objects.count() == 1
    assert PublicRequestAttempt.objects.count() == 1
