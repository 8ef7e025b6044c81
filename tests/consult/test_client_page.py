"""The client page shows the consultation desk's enquiries and bookings in its timeline: the
page itself, rendered, not the timeline providers alone."""

import re

import pytest
from django.urls import reverse

from consult import services
from consult.models import Booking, Enquiry

from .factories import ClientFactory, future_session

pytestmark = pytest.mark.django_db

ENTRY = re.compile(r'<li class="timeline-entry timeline-(\w+)[^"]*">(.*?)</li>', re.S)
TAG = re.compile(r"<[^>]+>")


def _timeline(http, client):
    """(kind, text, html) of each timeline entry on the client page, in page order."""
    page = http.get(client.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    return [
        (kind, " ".join(TAG.sub(" ", body).split()), body)
        for kind, body in ENTRY.findall(page.content.decode())
    ]


def test_a_call_and_the_booking_it_led_to_appear_on_the_client_page(consultant_client):
    person = ClientFactory(phone="+8613812345678")
    session = future_session(capacity=3)
    consultant_client.post(
        reverse("consult:call") + f"?client={person.pk}",
        {
            "contact_channel": "phone",
            "direction": "in",
            "duration_seconds": "90",
            "topic": "白癜风复诊",
            "outcome": "booked",
        },
    )
    enquiry = Enquiry.objects.get()
    new = reverse("consult:booking_new") + f"?client={person.pk}&enquiry={enquiry.pk}"
    consultant_client.post(new, {"session": session.pk, "kind": "expert"})
    booking = Booking.objects.get()

    entries = _timeline(consultant_client, person)
    enquiries = [(text, html) for kind, text, html in entries if kind == "enquiry"]
    bookings = [(text, html) for kind, text, html in entries if kind == "booking"]
    assert len(enquiries) == 1 and len(bookings) == 1
    text, _html = enquiries[0]
    assert "Enquiry (Phone): Booked" in text
    assert "白癜风复诊" in text
    assert "t_consultant" in text or enquiry.consultant.get_full_name() in text
    text, html = bookings[0]
    expected = (
        f"Booking: {session.date:%Y-%m-%d} {session.start_time:%H:%M} {session.expert.name}"
        " (Booked)"
    )
    assert expected in text
    assert session.department.name in text
    assert f'href="{booking.get_absolute_url()}"' in html


def test_a_cancelled_booking_shows_its_status_on_the_client_page(consultant_client):
    person = ClientFactory()
    session = future_session()
    new = reverse("consult:booking_new") + f"?client={person.pk}"
    consultant_client.post(new, {"session": session.pk, "kind": "expert"})
    booking = Booking.objects.get()
    cancel = reverse("consult:booking_cancel", args=[booking.pk])
    consultant_client.post(cancel, {"reason": "出差"})
    entries = _timeline(consultant_client, person)
    texts = [text for kind, text, _html in entries if kind == "booking"]
    assert len(texts) == 1
    assert "(Cancelled)" in texts[0]


def test_a_prospects_online_request_joins_the_client_page_once_they_are_booked(
    consultant_client,
):
    services.enquiry_request_create(name="王芳", phone="13900002222", message="想约祛斑")
    person = ClientFactory(name="王芳", phone="+8613900002222")  # registered since
    assert [kind for kind, _t, _h in _timeline(consultant_client, person)].count("enquiry") == 0
    new = reverse("consult:booking_new") + f"?client={person.pk}"
    consultant_client.post(new, {"session": future_session().pk, "kind": "expert"})
    entries = _timeline(consultant_client, person)
    enquiries = [text for kind, text, _html in entries if kind == "enquiry"]
    assert len(enquiries) == 1
    assert "Enquiry (Online form): not handled yet" in enquiries[0]
    assert "想约祛斑" in enquiries[0]
    assert [kind for kind, _t, _h in entries].count("booking") == 1
