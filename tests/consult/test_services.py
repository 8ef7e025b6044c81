import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from consult import services
from consult.models import Booking, BookingEvent, BookingPolicy
from tests.clientmgmt.factories import ClientFactory

from .factories import future_session, make_booking, make_vip

pytestmark = pytest.mark.django_db


def test_booking_takes_one_place_and_records_an_event():
    session = future_session(capacity=5)
    booking = make_booking(session=session)
    session.refresh_from_db()
    assert session.booked == 1
    assert booking.status == Booking.Status.BOOKED
    assert list(booking.events.values_list("action", flat=True)) == ["created"]


def test_the_last_free_place_is_refused_with_next_free_sessions():
    BookingPolicy.objects.create(vip_share_percent=0)
    session = future_session(capacity=1)
    other = future_session(days=4, expert=session.expert, capacity=3)
    make_booking(session=session)
    with pytest.raises(services.SessionFull) as caught, translation.override("en"):
        make_booking(session=session)
    assert "just taken" in caught.value.messages[0]
    assert caught.value.alternatives == [other]
    session.refresh_from_db()
    assert session.booked == 1


def test_held_places_are_for_vips_only():
    BookingPolicy.objects.create(vip_share_percent=50)
    session = future_session(capacity=2)  # one place for everyone, one held for VIPs
    make_booking(session=session)
    with pytest.raises(services.SessionFull):
        make_booking(session=session)
    vip = make_vip(ClientFactory())
    booking = make_booking(client=vip, session=session, vip=True)
    assert booking.priority is True
    session.refresh_from_db()
    assert session.booked == 2


def test_default_policy_holds_ten_percent_rounded_down():
    assert BookingPolicy.current().vip_share_percent == 10
    session = future_session(capacity=10)
    for _ in range(9):
        make_booking(session=session)
    with pytest.raises(services.SessionFull):
        make_booking(session=session)


def test_a_client_who_is_not_vip_cannot_use_the_held_places():
    with pytest.raises(ValidationError):
        make_booking(vip=True)


def test_a_cancelled_session_cannot_be_booked():
    session = future_session(status="cancelled")
    with pytest.raises(services.SessionFull):
        make_booking(session=session)


def test_the_same_client_cannot_book_one_session_twice():
    client = ClientFactory()
    session = future_session()
    make_booking(client=client, session=session)
    with pytest.raises(ValidationError):
        make_booking(client=client, session=session)
    session.refresh_from_db()
    assert session.booked == 1


def test_cancel_gives_the_place_back_and_needs_a_reason():
    booking = make_booking()
    with pytest.raises(ValidationError):
        services.booking_cancel(booking=booking, reason=" ", by=None)
    services.booking_cancel(booking=booking, reason="changed plans", by=None)
    booking.session.refresh_from_db()
    assert booking.session.booked == 0
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancel_reason == "changed plans"


def test_cancelling_twice_gives_back_one_place():
    booking = make_booking()
    make_booking(session=booking.session)
    services.booking_cancel(booking=booking, reason="x", by=None)
    with pytest.raises(services.IllegalTransition):
        services.booking_cancel(booking=booking, reason="x", by=None)
    booking.session.refresh_from_db()
    assert booking.session.booked == 1


@pytest.mark.parametrize(
    "first,second",
    [
        ("arrived", "cancelled"),
        ("no_show", "arrived"),
        ("cancelled", "booked"),
        ("arrived", "no_show"),
    ],
)
def test_illegal_moves_are_refused(first, second):
    booking = make_booking()
    services.booking_set_status(booking=booking, new_status=first, by=None)
    with pytest.raises(services.IllegalTransition):
        services.booking_set_status(booking=booking, new_status=second, by=None)
    assert booking.events.count() == 2


def test_arrival_is_recorded_as_a_status_event():
    booking = make_booking()
    services.booking_set_status(booking=booking, new_status="arrived", by=None)
    event = booking.events.last()
    assert (event.from_status, event.to_status) == ("booked", "arrived")


def test_reschedule_moves_the_place_and_keeps_the_history():
    booking = make_booking()
    old = booking.session
    new = future_session(days=5)
    services.booking_reschedule(booking=booking, session=new, by=None, reason="work")
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.booked, new.booked) == (0, 1)
    assert booking.session_id == new.pk
    event = booking.events.last()
    assert (event.action, event.from_session_id, event.to_session_id) == (
        "rescheduled",
        old.pk,
        new.pk,
    )


def test_reschedule_into_a_full_session_changes_nothing():
    booking = make_booking()
    full = future_session(days=5, capacity=1)
    make_booking(session=full, client=make_vip(ClientFactory()), vip=True)
    with pytest.raises(services.SessionFull):
        services.booking_reschedule(booking=booking, session=full, by=None, reason="work")
    booking.refresh_from_db()
    booking.session.refresh_from_db()
    assert booking.session.booked == 1
    assert booking.events.count() == 1


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reschedule_without_a_reason_is_refused_and_changes_nothing(reason):
    booking = make_booking()
    old = booking.session
    new = future_session(days=5)
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.booking_reschedule(booking=booking, session=new, by=None, reason=reason)
    assert refused.value.messages == ["Give the reason for moving the booking."]
    booking.refresh_from_db()
    old.refresh_from_db()
    new.refresh_from_db()
    assert booking.session_id == old.pk
    assert (old.booked, new.booked) == (1, 0)
    assert booking.events.count() == 1


def test_the_reason_for_a_reschedule_is_kept_in_the_history():
    booking = make_booking()
    services.booking_reschedule(
        booking=booking, session=future_session(days=5), by=None, reason="  出差  "
    )
    assert booking.events.last().detail == "出差"


def test_a_cancelled_booking_cannot_be_rescheduled():
    booking = make_booking()
    services.booking_cancel(booking=booking, reason="x", by=None)
    with pytest.raises(services.IllegalTransition):
        services.booking_reschedule(
            booking=booking, session=future_session(days=5), by=None, reason="work"
        )


def test_history_rows_cannot_be_changed():
    event = make_booking().events.get()
    event.detail = "edited"
    with pytest.raises(ValidationError):
        event.save()


def test_the_database_refuses_an_unknown_status():
    booking = make_booking()
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(status="lost")


def test_the_timeline_shows_bookings_and_merges_move_them():
    from clientmgmt import registry
    from clientmgmt import services as client_services

    booking = make_booking()
    entries = [e for e in registry.timeline_for(booking.client) if e.kind == "booking"]
    assert entries[0].url == booking.get_absolute_url()
    assert (Booking, "client") in client_services.merge_relations()
    assert BookingEvent.objects.count() == 1
