"""Outcomes later than the nightly refresh (reports.rollups.refresh_late): a booking made
from an old enquiry, the check-in of a booking made weeks ahead, a no-show of long ago
rebooked. Each reaches the daily rollups of the day its record belongs to, from the booking
history, however old that day is."""

import datetime

import pytest
from django.utils import timezone

from consult import services as consult
from consult.models import Booking, Enquiry, Recall
from reports import rollups, tasks
from reports.models import DailyFigure, RollupCursor
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import make_booking, make_enquiry
from tests.zhongdu.factories import ClinicSessionFactory

pytestmark = pytest.mark.django_db

LONG_AGO = 60  # days: older than the nightly refresh's 40
LATER = datetime.timedelta(minutes=10)  # past rollups.LATE_LAG


def _ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def _at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _value(day, key):
    row = DailyFigure.objects.filter(day=day, key=key, dimension="").first()
    return row.value if row else None


def _before():
    return _ago(tasks.NIGHTLY_DAYS - 2)


def _settled():
    """Every event so far read: the tests see only what comes after."""
    rollups.refresh_late(before=_ago(1000), now=timezone.now() + LATER)


def test_a_booking_from_an_enquiry_older_than_the_nightly_window_reaches_its_day():
    client = ClientFactory()
    enquiry = make_enquiry(client=client)
    old = _ago(LONG_AGO)
    Enquiry.objects.filter(pk=enquiry.pk).update(created_at=_at(old))
    rollups.refresh_day(old)
    _settled()
    assert _value(old, "enquiries_booked") == 0

    booking = consult.booking_create(
        client=client,
        session=ClinicSessionFactory(date=_ago(-2)),
        kind=Booking.Kind.EXPERT,
        by=None,
        enquiry=Enquiry.objects.get(pk=enquiry.pk),
    )
    assert booking.enquiry_id == enquiry.pk
    assert rollups.refresh_late(before=_before(), now=timezone.now() + LATER) >= 1
    assert _value(old, "enquiries_booked") == 1


def test_the_check_in_of_a_booking_made_weeks_ago_counts_on_the_day_it_was_made():
    booking = make_booking(session=ClinicSessionFactory(date=timezone.localdate()))
    made = _ago(LONG_AGO)
    Booking.objects.filter(pk=booking.pk).update(created_at=_at(made))
    rollups.refresh_day(made)
    _settled()
    assert (_value(made, "bookings"), _value(made, "bookings_arrived")) == (1, 0)

    consult.booking_set_status(booking=booking, new_status=Booking.Status.ARRIVED, by=None)
    rollups.refresh_late(before=_before(), now=timezone.now() + LATER)
    assert _value(made, "bookings_arrived") == 1


def test_a_no_show_of_long_ago_rebooked_counts_on_its_appointment_day():
    client = ClientFactory()
    old = _ago(LONG_AGO)
    missed = make_booking(client=client, session=ClinicSessionFactory(date=_ago(-1)))
    Booking.objects.filter(pk=missed.pk).update(created_at=_at(old - datetime.timedelta(days=3)))
    missed.session.__class__.objects.filter(pk=missed.session_id).update(date=old)
    consult.booking_mark_no_shows(day=old)
    assert Recall.objects.get(booking=missed).status == Recall.Status.OPEN
    rollups.refresh_day(old)
    _settled()
    assert (_value(old, "no_shows"), _value(old, "no_shows_rebooked")) == (1, 0)

    make_booking(client=client)  # the client calls in and books again
    assert Recall.objects.get(booking=missed).status == Recall.Status.REBOOKED
    rollups.refresh_late(before=_before(), now=timezone.now() + LATER)
    assert _value(old, "no_shows_rebooked") == 1


def test_each_event_is_read_once_young_ones_wait_and_recent_days_are_left_to_the_others():
    booking = make_booking(session=ClinicSessionFactory(date=timezone.localdate()))
    made = _ago(LONG_AGO)
    Booking.objects.filter(pk=booking.pk).update(created_at=_at(made))
    _settled()
    consult.booking_set_status(booking=booking, new_status=Booking.Status.ARRIVED, by=None)
    # Younger than the lag: not read yet (a lower id might still commit), the cursor stays.
    cursor = RollupCursor.objects.get(name=rollups.LATE_CURSOR).last_id
    assert rollups.refresh_late(before=_before()) == 0
    assert RollupCursor.objects.get(name=rollups.LATE_CURSOR).last_id == cursor
    # Read: only the day made (60 days ago); today, the appointment day, is the others' job.
    assert rollups.refresh_late(before=_before(), now=timezone.now() + LATER) == 1
    assert DailyFigure.objects.filter(day=timezone.localdate()).count() == 0
    assert RollupCursor.objects.get(name=rollups.LATE_CURSOR).last_id > cursor
    # Read once: nothing more to do.
    assert rollups.refresh_late(before=_before(), now=timezone.now() + LATER) == 0


def test_the_beat_task_refreshes_the_late_days(monkeypatch):
    booking = make_booking(session=ClinicSessionFactory(date=timezone.localdate()))
    made = _ago(LONG_AGO)
    Booking.objects.filter(pk=booking.pk).update(created_at=_at(made))
    _settled()
    consult.booking_set_status(booking=booking, new_status=Booking.Status.ARRIVED, by=None)
    monkeypatch.setattr(rollups, "LATE_LAG", datetime.timedelta(0))
    assert tasks.reports_refresh_late.apply().get() == 1
    assert _value(made, "bookings_arrived") == 1
