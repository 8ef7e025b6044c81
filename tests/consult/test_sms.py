import datetime

import pytest
from django.utils import timezone

from consult import services
from messaging.models import OutboxMessage

from .factories import booking_templates, future_session, make_booking

pytestmark = pytest.mark.django_db


def _keys():
    return dict(OutboxMessage.objects.values_list("idempotency_key", "status"))


def test_booking_queues_a_confirmation_and_a_reminder_the_evening_before():
    booking_templates()
    booking = make_booking()
    reminder_key = f"booking:{booking.pk}:reminder:{booking.session_id}"
    assert _keys() == {
        f"booking:{booking.pk}:confirmation": "pending",
        reminder_key: "pending",
    }
    reminder = OutboxMessage.objects.get(idempotency_key=reminder_key)
    local = timezone.localtime(reminder.send_after)
    assert local.date() == booking.session.date - datetime.timedelta(days=1)
    assert (local.hour, local.minute) == (18, 0)
    assert reminder.expires_at == services.session_starts_at(booking.session)
    assert reminder.client_id == booking.client_id


def test_no_template_means_no_message_and_no_error():
    make_booking()
    assert OutboxMessage.objects.count() == 0


def test_a_booking_for_today_gets_no_reminder():
    booking_templates()
    booking = make_booking(session=future_session(days=0))
    assert list(_keys()) == [f"booking:{booking.pk}:confirmation"]


def test_cancel_cancels_the_reminder():
    booking_templates()
    booking = make_booking()
    services.booking_cancel(booking=booking, reason="x", by=None)
    assert set(_keys().values()) == {"cancelled"}


def test_reschedule_cancels_the_old_reminder_and_queues_a_fresh_one():
    booking_templates()
    booking = make_booking()
    old_key = f"booking:{booking.pk}:reminder:{booking.session_id}"
    new = future_session(days=6)
    services.booking_reschedule(booking=booking, session=new, by=None, reason="work")
    keys = _keys()
    assert keys[old_key] == "cancelled"
    assert keys[f"booking:{booking.pk}:reminder:{new.pk}"] == "pending"
    assert OutboxMessage.objects.filter(idempotency_key__endswith="confirmation").count() == 1


def test_moving_back_to_the_first_session_gets_a_fresh_reminder():
    booking_templates()
    booking = make_booking()
    first = booking.session
    services.booking_reschedule(
        booking=booking, session=future_session(days=6), by=None, reason="work"
    )
    services.booking_reschedule(booking=booking, session=first, by=None, reason="back")
    live = OutboxMessage.objects.filter(purpose="booking_reminder", status="pending")
    assert list(live.values_list("idempotency_key", flat=True)) == [
        f"booking:{booking.pk}:reminder:{first.pk}:2"
    ]
    assert OutboxMessage.objects.filter(purpose="booking_reminder").count() == 3


def test_booking_again_after_a_cancel_is_a_new_booking_with_its_own_messages():
    booking_templates()
    booking = make_booking()
    services.booking_cancel(booking=booking, reason="x", by=None)
    again = make_booking(client=booking.client, session=booking.session)
    assert OutboxMessage.objects.filter(status="pending").count() == 2
    assert again.pk != booking.pk
