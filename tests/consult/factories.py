"""Factories for bookings. Sessions come from tests.zhongdu.factories; bookings are made
through the real service, so the session's count of booked places stays true."""

import datetime

from django.utils import timezone

from consult import services
from consult.models import Booking
from messaging.models import Kind, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory
from tests.zhongdu.factories import ClinicSessionFactory


def future_session(days=3, **kwargs):
    return ClinicSessionFactory(date=timezone.localdate() + datetime.timedelta(days=days), **kwargs)


def make_booking(*, client=None, session=None, by=None, kind=Booking.Kind.EXPERT, vip=False):
    return services.booking_create(
        client=client or ClientFactory(),
        session=session or future_session(),
        kind=kind,
        by=by,
        vip=vip,
    )


def make_vip(client):
    type(client).objects.filter(pk=client.pk).update(is_vip=True)
    client.refresh_from_db()
    return client


def booking_templates():
    SmsTemplate.objects.create(
        code="booking_confirmation",
        purpose=Purpose.BOOKING_CONFIRMATION,
        kind=Kind.SERVICE,
        body="{name} {date} {time} {department} {expert} {floor}",
    )
    SmsTemplate.objects.create(
        code="booking_reminder",
        purpose=Purpose.BOOKING_REMINDER,
        kind=Kind.SERVICE,
        body="{name} {time} {department}",
    )


def make_enquiry(*, by=None, client=None, outcome="information", **kwargs):
    """An enquiry through the real service; a prospect with a phone unless a client is given."""
    from consult.services import enquiry_create

    if client is None:
        kwargs.setdefault("prospect_name", "李娜")
        kwargs.setdefault("prospect_phone", "13900001111")
    return enquiry_create(by=by, client=client, outcome=outcome, **kwargs)


def past_session(days=1, **kwargs):
    return ClinicSessionFactory(date=timezone.localdate() - datetime.timedelta(days=days), **kwargs)


def make_no_show(*, client=None, days_ago=1, by=None):
    """A booking into a session `days_ago` days back, swept into a no-show with its recall."""
    booking = make_booking(client=client, session=past_session(days_ago), by=by)
    services.booking_mark_no_shows(day=booking.session.date)
    booking.refresh_from_db()
    return booking.recall
