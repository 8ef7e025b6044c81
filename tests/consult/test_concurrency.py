"""Twenty consultants press "book" for the last place at the same moment: exactly one booking.

Needs Postgres: SQLite serialises writers on one file lock, so it proves nothing about row-level
concurrency. Each thread opens its own connection (Django connections are per thread) and waits
at a barrier so that all the UPDATEs reach the database together. The booking SMS templates are
present, so the winner writes its confirmation and reminder to the outbox inside the contended
transaction, as in production; the losers must write none.
"""

import threading

import pytest
from django.db import connection, connections
from django.utils import translation

from consult import services
from consult.models import Booking, BookingPolicy
from messaging.models import OutboxMessage, Purpose
from tests.at_once import call_at_once
from tests.clientmgmt.factories import ClientFactory

from .factories import booking_templates, future_session, make_vip

THREADS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row-level concurrency needs Postgres (SQLite locks the whole file)",
    ),
]


def test_twenty_consultants_booking_the_last_place_get_one_booking():
    BookingPolicy.objects.create(vip_share_percent=0)
    booking_templates()
    session = future_session(capacity=5)
    session.booked = 4
    session.save(update_fields=["booked"])
    clients = [ClientFactory() for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes, errors = [], []
    lock = threading.Lock()

    def press_book(client):
        try:
            barrier.wait(timeout=30)
            with translation.override("en"):  # a new thread starts in the default language
                services.booking_create(client=client, session=session, kind="expert", by=None)
            result = "booked"
        except services.SessionFull as exc:
            result = "just taken" if "just taken" in exc.messages[0] else exc.messages[0]
        except Exception as exc:  # any other error fails the test below
            with lock:
                errors.append(repr(exc))
            result = "error"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=press_book, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(outcomes) == ["booked"] + ["just taken"] * (THREADS - 1)
    session.refresh_from_db()
    assert session.booked == session.capacity == 5
    booking = Booking.objects.get(session=session)
    # One confirmation and one reminder, both the winner's; nothing from the nineteen others.
    confirmations = OutboxMessage.objects.filter(purpose=Purpose.BOOKING_CONFIRMATION)
    assert list(confirmations.values_list("idempotency_key", "client_id")) == [
        (f"booking:{booking.pk}:confirmation", booking.client_id)
    ]
    reminders = OutboxMessage.objects.filter(purpose=Purpose.BOOKING_REMINDER)
    assert list(reminders.values_list("client_id", flat=True)) == [booking.client_id]
    assert OutboxMessage.objects.count() == 2


def test_the_places_held_for_vips_survive_a_rush_of_non_vips_and_go_to_the_vips():
    """Capacity 10 with 20 % held for VIPs (2 places), 7 booked: one place is open to all.
    Fifteen other clients and three VIPs press "book" together: one other client gets the open
    place, two VIPs get the held ones, and nobody overbooks the session."""
    BookingPolicy.objects.create(vip_share_percent=20)
    session = future_session(capacity=10)
    session.booked = 7
    session.save(update_fields=["booked"])
    others = [ClientFactory() for _ in range(15)]
    vips = [make_vip(ClientFactory()) for _ in range(3)]

    def presser(client, vip):
        def press_book():
            with translation.override("en"):  # a new thread starts in the default language
                try:
                    services.booking_create(
                        client=client, session=session, kind="expert", by=None, vip=vip
                    )
                except services.SessionFull:
                    return (vip, "full")
            return (vip, "booked")

        return press_book

    people = [(client, False) for client in others] + [(client, True) for client in vips]
    outcomes = call_at_once([presser(client, vip) for client, vip in people])

    assert [answer for answer in outcomes if not isinstance(answer, tuple)] == []
    booked = [vip for vip, result in outcomes if result == "booked"]
    # The open place may go to a VIP too; the held ones never to anyone else.
    assert booked.count(False) <= 1 and len(booked) == 3
    assert booked.count(True) >= 2
    session.refresh_from_db()
    assert session.booked == session.capacity == 10
    assert Booking.objects.filter(session=session, priority=False).count() == booked.count(False)
