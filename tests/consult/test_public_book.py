"""The public booking-request page: no login, validation, honeypot, rate limit, and nothing
about existing clients."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consult import services
from consult.models import Enquiry, PublicRequestAttempt
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles

from .factories import ClientFactory

pytestmark = pytest.mark.django_db

BOOK = reverse("consult:public_book")
THANKS = reverse("consult:public_book_thanks")


def _send(client, ip="203.0.113.5", **data):
    fields = {"name": "赵敏", "phone": "139 1234 0000", "message": "想看白癜风"}
    return client.post(BOOK, fields | data, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")


def test_the_page_opens_without_signing_in_and_fits_a_phone(client):
    page = client.get(BOOK, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport"' in html
    assert 'type="tel"' in html
    assert "will call you" in html
    assert roles.PAGE_ACCESS["consult:public_book"] == roles.PUBLIC


def test_a_request_becomes_an_online_enquiry_in_the_queue(client):
    department = DepartmentFactory()
    day = timezone.localdate() + datetime.timedelta(days=3)
    page = _send(client, department=department.pk, preferred_date=day.isoformat())
    assert page.status_code == 302
    assert page["Location"] == THANKS
    enquiry = Enquiry.objects.get()
    assert enquiry.contact_channel == Enquiry.ContactChannel.ONLINE_FORM
    assert (enquiry.prospect_name, enquiry.prospect_phone) == ("赵敏", "+8613912340000")
    assert (enquiry.department, enquiry.preferred_date) == (department, day)
    assert enquiry.question == "想看白癜风"
    assert enquiry.client is None and not enquiry.handled and enquiry.outcome == ""
    thanks = client.get(THANKS, HTTP_ACCEPT_LANGUAGE="en")
    assert "The hospital will call you" in thanks.content.decode()


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": ""}, "Please tell us your name."),
        ({"name": "   "}, "Please tell us your name."),
        ({"phone": ""}, "Please give a phone number we can call."),
        ({"phone": "12345"}, "Enter a valid phone number"),
        ({"department": "999999"}, "Please choose a department from the list."),
        ({"preferred_date": "tomorrow"}, "Please enter a date"),
        ({"preferred_date": "2000-01-01"}, "Please choose today or a later date."),
        ({"message": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_each_mistake_gets_a_clear_message(client, data, message):
    page = _send(client, **data)
    assert page.status_code == 422
    assert message in page.content.decode()
    assert not Enquiry.objects.exists()


def test_a_bot_filling_the_honeypot_is_thanked_and_nothing_is_queued(client):
    page = _send(client, website="http://spam.example")
    assert page.status_code == 302
    assert page["Location"] == THANKS
    assert not Enquiry.objects.exists()
    assert PublicRequestAttempt.objects.count() == 1  # it still counts towards the limit


def test_the_honeypot_is_hidden_from_people(client):
    html = client.get(BOOK).content.decode()
    assert 'name="website"' in html
    assert 'class="d-none' in html or "d-none" in html.split('name="website"')[0][-600:]


def test_an_existing_clients_number_reveals_nothing(client):
    ClientFactory(phone="+8613912340000", name="陈静")
    known = _send(client)
    unknown = _send(client, ip="203.0.113.6", phone="13912349999")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == THANKS
    assert Enquiry.objects.filter(client__isnull=True).count() == 2
    assert "陈静" not in client.get(THANKS).content.decode()


def test_at_most_three_requests_an_hour_for_one_phone(client):
    for n in range(services.PUBLIC_LIMIT_PER_PHONE):
        assert _send(client, ip=f"203.0.113.{n}").status_code == 302
    page = _send(client, ip="203.0.113.99")
    assert page.status_code == 429
    assert "already received your request" in page.content.decode()
    assert Enquiry.objects.count() == services.PUBLIC_LIMIT_PER_PHONE


def test_at_most_five_requests_an_hour_from_one_address(client):
    for n in range(services.PUBLIC_LIMIT_PER_IP):
        assert _send(client, phone=f"1391234000{n}").status_code == 302
    page = _send(client, phone="13912340009")
    assert page.status_code == 429
    assert "already received your request" in page.content.decode()


def test_the_limit_forgets_requests_older_than_an_hour(client):
    for n in range(services.PUBLIC_LIMIT_PER_PHONE):
        _send(client, ip=f"203.0.113.{n}")
    PublicRequestAttempt.objects.update(at=timezone.now() - datetime.timedelta(minutes=61))
    assert _send(client, ip="203.0.113.99").status_code == 302


def test_a_signed_in_user_may_use_the_page_too(consultant_client):
    assert consultant_client.get(BOOK).status_code == 200


def test_the_short_address_serves_the_public_form(client):
    response = client.get("/book/")
    assert response.status_code == 200
    assert 'name="phone"' in response.content.decode()
