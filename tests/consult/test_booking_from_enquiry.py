"""A booking made from an enquiry is linked to it (Booking.enquiry): the call screen's "booked"
leads to the new-booking page with the enquiry, which the booking keeps."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from consult import services
from consult.models import Booking, Enquiry

from .factories import ClientFactory, future_session, make_booking, make_enquiry

pytestmark = pytest.mark.django_db

CALL = reverse("consult:call")


def _new_url(client, enquiry):
    return reverse("consult:booking_new") + f"?client={client.pk}&enquiry={enquiry.pk}"


def _book(http, client, enquiry, session):
    return http.post(_new_url(client, enquiry), {"session": session.pk, "kind": "expert"})


def test_a_call_recorded_as_booked_leads_to_a_booking_linked_to_the_enquiry(consultant_client):
    person = ClientFactory(phone="+8613812345678")
    session = future_session(capacity=3)
    call = consultant_client.post(
        CALL + f"?client={person.pk}",
        {
            "contact_channel": "phone",
            "direction": "in",
            "duration_seconds": "60",
            "outcome": "booked",
            "topic": "痤疮",
        },
    )
    enquiry = Enquiry.objects.get()
    assert call["Location"] == _new_url(person, enquiry)

    page = consultant_client.get(call["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["enquiry"] == enquiry
    html = page.content.decode()
    assert 'data-testid="from-enquiry"' in html and "痤疮" in html
    # Changing the session filters keeps the enquiry.
    assert f'name="enquiry" value="{enquiry.pk}"' in html

    booked = _book(consultant_client, person, enquiry, session)
    booking = Booking.objects.get()
    assert booked["Location"] == booking.get_absolute_url()
    assert booking.enquiry == enquiry
    assert list(enquiry.bookings.all()) == [booking]
    detail = consultant_client.get(booking.get_absolute_url()).content.decode()
    assert 'data-testid="from-enquiry"' in detail


def test_a_booking_made_without_an_enquiry_has_none(consultant_client):
    person = ClientFactory()
    url = reverse("consult:booking_new") + f"?client={person.pk}"
    consultant_client.post(url, {"session": future_session().pk, "kind": "expert"})
    assert Booking.objects.get().enquiry is None


def test_another_clients_enquiry_is_refused_and_nothing_is_booked(consultant_client):
    person, other = ClientFactory(), ClientFactory()
    enquiry = make_enquiry(client=other)
    session = future_session()
    assert consultant_client.get(_new_url(person, enquiry)).status_code == 404
    assert _book(consultant_client, person, enquiry, session).status_code == 404
    assert not Booking.objects.exists()
    session.refresh_from_db()
    assert session.booked == 0


@pytest.mark.parametrize("enquiry", ["999999", "abc", "-1"])
def test_an_unknown_enquiry_is_not_found(consultant_client, enquiry):
    person = ClientFactory()
    url = reverse("consult:booking_new") + f"?client={person.pk}&enquiry={enquiry}"
    assert consultant_client.get(url).status_code == 404


def test_a_prospects_enquiry_from_the_clients_number_is_linked_and_attached(consultant_client):
    enquiry = make_enquiry(prospect_name="赵敏", prospect_phone="13912340000")
    person = ClientFactory(name="赵敏", phone="+8613912340000")  # registered since
    _book(consultant_client, person, enquiry, future_session())
    enquiry.refresh_from_db()
    assert Booking.objects.get().enquiry == enquiry
    assert enquiry.client == person
    assert (enquiry.prospect_name, enquiry.prospect_phone) == ("", "")


def test_a_prospects_enquiry_from_another_number_is_refused(consultant_client):
    enquiry = make_enquiry(prospect_name="赵敏", prospect_phone="13912340000")
    person = ClientFactory(phone="+8613800000000")
    assert _book(consultant_client, person, enquiry, future_session()).status_code == 404
    assert not Booking.objects.exists()


def test_the_service_refuses_an_enquiry_that_is_not_the_clients():
    enquiry = make_enquiry(client=ClientFactory())
    person, session = ClientFactory(), future_session()
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.booking_create(
            client=person, session=session, kind="expert", by=None, enquiry=enquiry
        )
    assert refused.value.messages == ["That enquiry is not from this client."]
    assert not Booking.objects.exists()


def test_the_last_place_taken_keeps_the_enquiry_on_the_page(consultant_client):
    person = ClientFactory()
    enquiry = make_enquiry(client=person)
    full = future_session(capacity=1)
    make_booking(session=full)
    page = _book(consultant_client, person, enquiry, full)
    assert page.status_code == 409
    assert page.context["enquiry"] == enquiry


def test_deleting_an_enquiry_keeps_its_bookings():
    person = ClientFactory()
    enquiry = make_enquiry(client=person)
    booking = services.booking_create(
        client=person, session=future_session(), kind="expert", by=None, enquiry=enquiry
    )
    Enquiry.objects.filter(pk=enquiry.pk).delete()
    booking.refresh_from_db()
    assert booking.enquiry is None
