"""Two clerks triage two patients to one department at the same moment: they get consecutive
numbers, never the same one and never a gap (the counter row's lock), also for the first triage of
the day, when the counter row does not exist yet. Postgres only: SQLite serialises writers on one
file lock, so it proves nothing there."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from guide import services
from guide.models import QueueCounter, QueueTicket
from tests.at_once import needs_postgres
from tests.guide.factories import walk_in
from tests.zhongdu.factories import DepartmentFactory

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction Postgres keeps the first look at the activity table: take a new one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def _triage_at_once(visits, department, *, counter_exists: bool) -> list:
    """Triage each visit from a thread of its own while this thread holds the department's
    counter row (locked, or inserted and not yet committed), until every triage waits on it:
    then they all go at the same moment, which a barrier alone rarely achieves."""
    errors, lock = [], threading.Lock()

    def triage(visit):
        try:
            services.visit_triage(visit=visit, department=department, by=None)
        except Exception as exc:  # the test's asserts show it
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=triage, args=(visit,)) for visit in visits]
    with transaction.atomic():
        counters = QueueCounter.objects.filter(department=department, day=timezone.localdate())
        if counter_exists:
            counters.select_for_update().get()
        else:
            counters.create(department=department, day=timezone.localdate())
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while _waiting_on_locks() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks() == len(threads)
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.parametrize("counter_exists", [False, True], ids=["first-of-the-day", "later"])
def test_two_triages_at_once_get_consecutive_numbers(counter_exists):
    department = DepartmentFactory()
    if counter_exists:
        services.visit_triage(visit=walk_in(), department=department, by=None)
    first = 2 if counter_exists else 1
    visits = [walk_in(), walk_in()]

    assert _triage_at_once(visits, department, counter_exists=counter_exists) == []

    numbers = sorted(QueueTicket.objects.filter(visit__in=visits).values_list("number", flat=True))
    assert numbers == [first, first + 1]
    counter = QueueCounter.objects.get(department=department)
    assert counter.last_number == first + 1
