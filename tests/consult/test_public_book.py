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
    fields = {
        "name": "赵敏",
        "phone": "139 1234 0000",
        "message": "想看白癜风",
        "health_data": "on",
    }
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


# --- The privacy notice and the consents (issue 16) ----------------------------------------

PROFILE = {
    "display_name": "中都皮肤病医院",
    "address": "郑州市中原区建设路88号",
    "hotline": "0371-6666 8888",
    "privacy_notice": "我们仅为安排就诊处理您提供的健康信息。",
    "privacy_notice_version": "2026-12",
}


@pytest.fixture
def profile():
    from zhongdu.services import hospital_profile_add

    return hospital_profile_add(by=None, **PROFILE)


def test_the_page_names_the_hospital_shows_the_notice_and_asks_each_consent(client, profile):
    html = client.get(BOOK).content.decode()
    assert 'data-testid="hospital-name">中都皮肤病医院<' in html
    assert "0371-6666 8888" in html and "郑州市中原区建设路88号" in html
    assert 'data-testid="privacy-notice"' in html and PROFILE["privacy_notice"] in html
    assert 'name="health_data"' in html and 'name="marketing_sms"' in html
    # Nothing is ticked for the person, and nothing of the staff product shows.
    assert "checked" not in html
    assert "中都客服" not in html and "main-nav" not in html


def test_a_concern_without_the_health_consent_is_refused_in_both_languages(client, profile):
    page = _send(client, health_data="")
    assert page.status_code == 422
    assert "Please agree to the processing of your health information" in page.content.decode()
    page = client.post(BOOK, {"name": "赵敏", "phone": "13912340000", "message": "想看白癜风"})
    assert page.status_code == 422
    assert "请同意我们处理您的健康信息" in page.content.decode()
    assert not Enquiry.objects.exists()


def test_a_department_alone_is_a_health_concern_too(client, profile):
    page = _send(client, message="", health_data="", department=DepartmentFactory().pk)
    assert page.status_code == 422
    assert not Enquiry.objects.exists()


def test_a_request_with_only_a_name_and_number_needs_no_health_consent(client, profile):
    assert _send(client, message="", health_data="").status_code == 302
    assert Enquiry.objects.get().consents == {}


def test_the_consents_are_kept_on_the_request_with_the_notice_version(client, profile):
    _send(client, marketing_sms="on")
    enquiry = Enquiry.objects.get()
    assert enquiry.consents == {"health_data": True, "marketing_sms": True}
    assert enquiry.notice_version == "2026-12"


def test_the_health_consent_becomes_the_clients_when_the_request_is_attached(client, profile):
    from clientmgmt.models import ConsentEvent
    from clientmgmt.selectors import has_consent

    _send(client, marketing_sms="on")
    asked = Enquiry.objects.get()
    person = ClientFactory(phone="+8613912340000", name="赵敏")
    assert services.enquiries_attach_to_client(client=person) == 1
    assert has_consent(person, "health_data")
    events = ConsentEvent.objects.filter(client=person).order_by("purpose")
    assert [(e.purpose, e.granted, e.channel, e.notice_version) for e in events] == [
        ("health_data", True, "public_page", "2026-12"),
    ]
    assert all(e.at == asked.created_at and e.recorded_by is None for e in events)
    # Marketing is not: the page does not prove whose number was typed, so anyone could sign a
    # patient up. The tick stays on the request for the consultant to confirm on the call.
    assert not has_consent(person, "marketing_sms")
    assert Enquiry.objects.get().consents["marketing_sms"] is True


def test_a_refusal_on_record_outlives_an_older_request(client, profile):
    from clientmgmt.selectors import has_consent
    from tests.clientmgmt.factories import withdraw

    _send(client, marketing_sms="on")
    person = ClientFactory(phone="+8613912340000", name="赵敏")
    withdraw(person, "service_sms")  # said at the desk after sending the request
    services.enquiries_attach_to_client(client=person)
    assert has_consent(person, "health_data")
    assert not has_consent(person, "marketing_sms") and not has_consent(person, "service_sms")


@pytest.mark.parametrize("field", ["name", "message", "health_data", "marketing_sms"])
def test_control_characters_get_a_clear_answer_not_an_error(client, profile, field):
    page = _send(client, **{field: "on\x00\x1b"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "control character" in html
    # In the public pages' dress: the hospital's name, not the staff product's.
    assert 'data-testid="hospital-name">中都皮肤病医院<' in html and "中都客服" not in html
    assert not Enquiry.objects.exists()


def test_the_thanks_page_names_the_hospital_not_the_staff_product(client, profile):
    html = client.get(THANKS).content.decode()
    assert 'data-testid="hospital-name">中都皮肤病医院<' in html and "0371-6666 8888" in html
    assert "中都客服" not in html and 'name="viewport"' in html
