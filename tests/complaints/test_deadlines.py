"""Complaint deadlines on a frozen clock: the handler is warned before a deadline and the managers
are told when one is missed, each once however often the job runs, with working hours counted
across a night, a weekend and a holiday; the SMS to the managers when it is configured; a step
taken late records the miss; the monthly figures count them."""

import datetime
import threading
from unittest import mock

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaints
from complaints import tasks
from complaints.models import Complaint, ComplaintDeadline
from config.schedules import DEFAULT_SCHEDULES
from messaging import services as messaging
from messaging.models import OutboxMessage
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import handler_user, make_complaint, move
from zhongdu import roles, sms
from zhongdu.models import CalendarDay, Notification, WorkingHours

pytestmark = pytest.mark.django_db

Status = Complaint.Status
TZ = timezone.get_default_timezone()
FRIDAY = datetime.date(2026, 11, 27)
SATURDAY, SUNDAY, MONDAY, TUESDAY, WEDNESDAY = (
    FRIDAY + datetime.timedelta(days=n) for n in range(1, 6)
)


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


@pytest.fixture(autouse=True)
def _monday_to_friday():
    # 8:00–17:30, Monday to Friday: Saturday and Sunday make a weekend.
    WorkingHours.objects.create(weekdays="01234")


@pytest.fixture
def handler():
    return handler_user("cm1", first_name="小王")


@pytest.fixture
def manager():
    return handler_user("boss", role=roles.MANAGER)


def check(now):
    return complaints.complaints_check_deadlines(now=now)


def _notes(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def _events(complaint, action):
    return complaint.events.filter(action=action).count()


# --- Warnings and escalations ---------------------------------------------------------------


def test_the_deadline_to_acknowledge_counts_working_hours_over_the_night_and_the_weekend(
    handler, manager
):
    complaint = make_complaint(received_at=at(FRIDAY, 16))  # normal: 4 working hours
    # 1.5 hours on Friday, 2.5 on Monday morning.
    assert complaint.acknowledge_due_at == at(MONDAY, 10, 30)
    assigned = len(_notes(handler))
    # 2.5 working hours left all weekend long: more than the 2 hours' warning.
    for moment in (at(FRIDAY, 17), at(FRIDAY, 23), at(SATURDAY, 12), at(SUNDAY, 23, 59)):
        assert check(moment) == {"warned": 0, "escalated": 0}
    assert check(at(MONDAY, 8, 29)) == {"warned": 0, "escalated": 0}
    assert check(at(MONDAY, 8, 31)) == {"warned": 1, "escalated": 0}
    warnings = _notes(handler)[assigned:]
    assert len(warnings) == 1
    assert warnings[0].url == complaint.get_absolute_url()
    assert f"#{complaint.pk}" in warnings[0].text and "2026-11-30 10:30" in warnings[0].text
    assert _notes(manager) == []
    assert check(at(MONDAY, 10, 29)) == {"warned": 0, "escalated": 0}
    assert check(at(MONDAY, 10, 31)) == {"warned": 0, "escalated": 1}
    told = _notes(manager)
    assert len(told) == 1 and f"#{complaint.pk}" in told[0].text and "小王" in told[0].text
    complaint.refresh_from_db()
    assert complaint.acknowledge_warned_at == at(MONDAY, 8, 31)
    assert complaint.acknowledge_escalated_at == at(MONDAY, 10, 31)
    assert _events(complaint, "acknowledge_warned") == 1
    assert _events(complaint, "acknowledge_missed") == 1


def test_each_warning_and_escalation_is_sent_once_when_the_job_runs_twice(handler, manager):
    complaint = make_complaint(received_at=at(FRIDAY, 16))
    assigned = len(_notes(handler))
    for moment in (at(MONDAY, 8, 31), at(MONDAY, 8, 31), at(MONDAY, 9)):
        check(moment)
    for moment in (at(MONDAY, 10, 31), at(MONDAY, 10, 31), at(MONDAY, 16)):
        check(moment)
    assert len(_notes(handler)) == assigned + 1
    assert len(_notes(manager)) == 1
    assert _events(complaint, "acknowledge_warned") == 1
    assert _events(complaint, "acknowledge_missed") == 1


def test_two_workers_claiming_the_same_escalation_send_it_once(handler, manager):
    complaint = make_complaint(received_at=at(FRIDAY, 16))
    now = at(MONDAY, 11)
    assert complaints._escalate(complaint.pk, "acknowledge", now) is True
    assert complaints._escalate(complaint.pk, "acknowledge", now) is False
    assert complaints._warn(complaint.pk, "acknowledge", at(MONDAY, 9)) is False  # too late
    assert len(_notes(manager)) == 1


def test_a_holiday_does_not_count(handler, manager):
    CalendarDay.objects.create(date=MONDAY, name="节日")
    complaint = make_complaint(received_at=at(FRIDAY, 16))
    assert complaint.acknowledge_due_at == at(TUESDAY, 10, 30)
    assert check(at(MONDAY, 12)) == {"warned": 0, "escalated": 0}
    assert check(at(TUESDAY, 8, 29)) == {"warned": 0, "escalated": 0}
    assert check(at(TUESDAY, 8, 31)) == {"warned": 1, "escalated": 0}
    assert check(at(TUESDAY, 10, 31)) == {"warned": 0, "escalated": 1}
    assert len(_notes(manager)) == 1


def test_a_night_does_not_count(handler):
    complaint = make_complaint(received_at=at(TUESDAY, 17))
    assert complaint.acknowledge_due_at == at(WEDNESDAY, 11, 30)
    assert check(at(TUESDAY, 23)) == {"warned": 0, "escalated": 0}
    assert check(at(WEDNESDAY, 9, 29)) == {"warned": 0, "escalated": 0}
    assert check(at(WEDNESDAY, 9, 31)) == {"warned": 1, "escalated": 0}


def test_the_deadline_to_resolve_is_warned_and_escalated_too(handler, manager, settings):
    settings.LANGUAGE_CODE = "en"  # notifications are written in the hospital's language
    complaint = make_complaint(received_at=at(MONDAY, 8))  # normal: 27 working hours
    assert complaint.resolve_due_at == at(WEDNESDAY, 16)
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 9)):
        move(complaint, Status.ACKNOWLEDGED, by=handler)
    assert check(at(WEDNESDAY, 13, 59)) == {"warned": 0, "escalated": 0}
    assert check(at(WEDNESDAY, 14, 1)) == {"warned": 1, "escalated": 0}
    assert check(at(WEDNESDAY, 16, 1)) == {"warned": 0, "escalated": 1}
    assert check(at(WEDNESDAY, 17)) == {"warned": 0, "escalated": 0}
    assert _events(complaint, "resolve_missed") == 1
    assert _events(complaint, "acknowledge_missed") == 0
    assert "was not resolved by its deadline 2026-12-02 16:00" in _notes(manager)[0].text


def test_the_warning_comes_as_many_working_hours_before_as_configured(handler):
    ComplaintDeadline.objects.create(
        severity="serious", acknowledge_hours=3, resolve_hours=18, warn_hours=1
    )
    complaint = make_complaint(received_at=at(MONDAY, 8), severity="serious")
    assert complaint.acknowledge_due_at == at(MONDAY, 11)
    assert check(at(MONDAY, 9, 59)) == {"warned": 0, "escalated": 0}
    assert check(at(MONDAY, 10, 1)) == {"warned": 1, "escalated": 0}


def test_a_step_taken_in_time_stops_the_warnings_and_escalations(handler, manager):
    complaint = make_complaint(received_at=at(MONDAY, 8))
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 9)):
        move(complaint, Status.ACKNOWLEDGED, by=handler)
    assert check(at(MONDAY, 13)) == {"warned": 0, "escalated": 0}
    assert _notes(manager) == []


def test_an_unassigned_complaint_warns_the_managers(manager):
    complaint = make_complaint(received_at=at(MONDAY, 8))
    assert complaint.handler is None
    check(at(MONDAY, 10, 30))
    assert len(_notes(manager)) == 1


def test_with_no_manager_the_administrators_hear_of_the_escalation(handler):
    admin = handler_user("root", role=roles.ADMINISTRATOR)
    make_complaint(received_at=at(MONDAY, 8))
    check(at(MONDAY, 13))
    assert len(_notes(admin)) == 1


def test_a_late_step_records_the_miss_once_and_the_figures_count_it(
    handler, manager, manager_client
):
    complaint = make_complaint(received_at=at(MONDAY, 8))
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 12, 5)):
        move(complaint, Status.ACKNOWLEDGED, by=handler)  # due at 12:00, the job not yet run
    assert _events(complaint, "acknowledge_missed") == 1
    assert check(at(MONDAY, 12, 10)) == {"warned": 0, "escalated": 0}
    escalated = make_complaint(received_at=at(MONDAY, 8))
    check(at(MONDAY, 12, 10))
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 12, 30)):
        move(escalated, Status.ACKNOWLEDGED, by=handler)
    assert _events(escalated, "acknowledge_missed") == 1  # the job's, not a second one
    figures = manager_client.get(reverse("complaints:complaint_figures"), {"month": "2026-11"})
    assert figures.context["figures"]["missed_acknowledge"] == 2


# --- The SMS to the managers ------------------------------------------------------------------


@pytest.fixture
def memory_sms(settings):
    settings.SMS_BACKEND = "memory"
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0
    sms.clear()
    yield sms.outbox
    sms.clear()


def test_no_sms_unless_configured(handler, manager, memory_sms, settings):
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613800138000"]
    make_complaint(received_at=at(MONDAY, 8))
    check(at(MONDAY, 13))
    assert not OutboxMessage.objects.exists()


def test_the_escalation_is_sent_by_sms_to_each_configured_number_once(
    handler, manager, memory_sms, settings
):
    settings.COMPLAINT_ESCALATION_SMS = True
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613800138000", "139 0013 9000", "not a number"]
    complaint = make_complaint(received_at=at(MONDAY, 8), client=ClientFactory(name="赵敏"))
    check(at(MONDAY, 13))
    check(at(MONDAY, 13))
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert [m.idempotency_key for m in messages] == [
        f"complaint:{complaint.pk}:escalate:acknowledge:+8613800138000",
        f"complaint:{complaint.pk}:escalate:acknowledge:+8613900139000",
    ]
    assert {m.purpose for m in messages} == {"other"}
    assert all(m.client is None for m in messages)
    for message in messages:
        messaging.outbox_send(message_id=message.pk)
    assert [sent.to for sent in memory_sms] == ["+8613800138000", "+8613900139000"]
    assert f"#{complaint.pk}" in memory_sms[0].body
    assert "赵敏" not in memory_sms[0].body  # no client's name in an SMS
    # The deadline to resolve, missed later, is a message of its own.
    check(at(WEDNESDAY, 17))
    assert OutboxMessage.objects.count() == 4


# --- The beat job ---------------------------------------------------------------------------


def test_the_job_is_scheduled_every_fifteen_minutes():
    entries = {name: (task, every) for name, task, every in DEFAULT_SCHEDULES}
    assert entries["complaints.complaints_check_deadlines"] == (
        "complaints.tasks.complaints_check_deadlines",
        900,
    )


def test_the_task_runs_the_check_on_the_real_clock(handler, manager):
    complaint = make_complaint(received_at=timezone.now() - datetime.timedelta(days=20))
    assert tasks.complaints_check_deadlines() == {"warned": 0, "escalated": 2}
    complaint.refresh_from_db()
    assert complaint.acknowledge_escalated_at and complaint.resolve_escalated_at
    assert tasks.complaints_check_deadlines() == {"warned": 0, "escalated": 0}


# --- Two workers at once (Postgres) -------------------------------------------------------------

WORKERS = 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-level concurrency needs Postgres (SQLite locks the whole file)",
)
def test_jobs_running_at_once_escalate_each_missed_deadline_once(settings):
    """Eight runs of the job at the same moment (a beat firing twice, a redelivered task): each
    missed deadline is claimed by one of them, so the managers hear of it, and get its SMS, once."""
    settings.COMPLAINT_ESCALATION_SMS = True
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613800138000"]
    handler_user("cm1")
    boss = handler_user("boss", role=roles.MANAGER)
    made = [make_complaint(received_at=at(MONDAY, 8)) for _n in range(5)]
    barrier = threading.Barrier(WORKERS)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            result = check(at(MONDAY, 13))
        except Exception as exc:  # any error fails the test below
            with lock:
                errors.append(repr(exc))
            return
        finally:
            connections.close_all()
        with lock:
            results.append(result["escalated"])

    threads = [threading.Thread(target=run) for _n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(results) == len(made)
    assert Notification.objects.filter(recipient=boss).count() == len(made)
    assert OutboxMessage.objects.count() == len(made)
    for complaint in made:
        assert _events(complaint, "acknowledge_missed") == 1
