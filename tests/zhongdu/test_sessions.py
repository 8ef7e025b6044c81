from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import override

from config.schedules import DEFAULT_SCHEDULES
from tests.zhongdu.factories import (
    ClinicSessionFactory,
    DepartmentFactory,
    ExpertFactory,
    SessionTemplateFactory,
)
from zhongdu import tasks
from zhongdu.directory import services
from zhongdu.models import ClinicSession

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)  # a Monday


def test_generation_creates_one_session_per_template_and_matching_weekday():
    monday = SessionTemplateFactory(weekday=0, capacity=25)
    thursday = SessionTemplateFactory(weekday=3, start_time=time(14), end_time=time(17))
    created = services.clinic_sessions_generate(start=MONDAY, weeks=2)
    assert created == 4
    assert list(ClinicSession.objects.filter(template=monday).values_list("date", "capacity")) == [
        (MONDAY, 25),
        (MONDAY + timedelta(days=7), 25),
    ]
    session = ClinicSession.objects.filter(template=thursday).first()
    assert session.date == MONDAY + timedelta(days=3)
    assert (session.start_time, session.end_time) == (time(14), time(17))
    assert session.expert == thursday.expert
    assert session.department == thursday.department
    assert session.status == ClinicSession.Status.SCHEDULED


def test_generation_starting_midweek_begins_with_the_next_matching_day():
    SessionTemplateFactory(weekday=0)  # Monday
    wednesday = MONDAY + timedelta(days=2)
    services.clinic_sessions_generate(start=wednesday, weeks=1)
    assert list(ClinicSession.objects.values_list("date", flat=True)) == [
        MONDAY + timedelta(days=7)
    ]


def test_generation_is_idempotent():
    SessionTemplateFactory(weekday=1)
    SessionTemplateFactory(weekday=5)
    assert services.clinic_sessions_generate(start=MONDAY, weeks=4) == 8
    assert services.clinic_sessions_generate(start=MONDAY, weeks=4) == 0
    assert ClinicSession.objects.count() == 8


def test_generation_leaves_cancelled_and_re_capacitied_sessions_as_the_admin_left_them():
    template = SessionTemplateFactory(weekday=0, capacity=20)
    services.clinic_sessions_generate(start=MONDAY, weeks=2)
    first, second = ClinicSession.objects.order_by("date")
    services.clinic_session_cancel(session=first, reason="专家外出会诊")
    services.clinic_session_set_capacity(session=second, capacity=8)
    template.capacity = 30
    template.save()

    assert services.clinic_sessions_generate(start=MONDAY, weeks=3) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.cancel_reason) == (ClinicSession.Status.CANCELLED, "专家外出会诊")
    assert first.capacity == 20
    assert second.capacity == 8
    assert ClinicSession.objects.order_by("date").last().capacity == 30


def test_generation_skips_inactive_templates_experts_and_departments():
    SessionTemplateFactory(active=False)
    SessionTemplateFactory(expert=ExpertFactory(active=False))
    closed = DepartmentFactory(active=False)
    SessionTemplateFactory(expert=ExpertFactory(departments=[closed]))
    assert services.clinic_sessions_generate(start=MONDAY, weeks=2) == 0
    assert not ClinicSession.objects.exists()


def test_a_dry_run_counts_but_creates_nothing():
    SessionTemplateFactory(weekday=0)
    assert services.clinic_sessions_generate(start=MONDAY, weeks=3, dry_run=True) == 3
    assert not ClinicSession.objects.exists()


def test_generation_refuses_a_silly_number_of_weeks():
    with pytest.raises(ValueError):
        services.clinic_sessions_generate(start=MONDAY, weeks=0)


def test_the_database_refuses_a_second_session_of_a_template_on_the_same_day():
    template = SessionTemplateFactory()
    services.clinic_sessions_generate(start=MONDAY, weeks=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicSessionFactory(template=template, expert=template.expert, date=MONDAY)


def test_capacity_can_be_lowered_down_to_the_places_booked():
    session = ClinicSessionFactory(capacity=20, booked=6)
    session = services.clinic_session_set_capacity(session=session, capacity=6)
    assert ClinicSession.objects.get(pk=session.pk).capacity == 6


def test_capacity_below_the_places_booked_is_refused_with_a_message():
    session = ClinicSessionFactory(capacity=20, booked=6)
    with override("en"), pytest.raises(ValidationError) as refused:
        services.clinic_session_set_capacity(session=session, capacity=5)
    assert refused.value.messages == [
        "The capacity cannot be lower than the 6 places already booked."
    ]
    assert ClinicSession.objects.get(pk=session.pk).capacity == 20


def test_the_capacity_check_reads_bookings_made_since_the_session_was_loaded():
    session = ClinicSessionFactory(capacity=20, booked=2)
    ClinicSession.objects.filter(pk=session.pk).update(booked=15)
    with pytest.raises(ValidationError):
        services.clinic_session_set_capacity(session=session, capacity=10)


def test_cancel_records_the_reason_and_keeps_the_bookings():
    session = ClinicSessionFactory(booked=3)
    services.clinic_session_cancel(session=session, reason="  停电检修 ")
    session.refresh_from_db()
    assert session.status == ClinicSession.Status.CANCELLED
    assert session.cancel_reason == "停电检修"
    assert session.booked == 3
    assert session.remaining == 0


def test_cancel_needs_a_reason_and_a_scheduled_session():
    session = ClinicSessionFactory()
    with pytest.raises(ValidationError):
        services.clinic_session_cancel(session=session, reason="   ")
    services.clinic_session_cancel(session=session, reason="专家请假")
    with pytest.raises(ValidationError):
        services.clinic_session_cancel(session=session, reason="again")


def test_the_command_generates_from_today_in_the_hospitals_time_zone(capsys):
    SessionTemplateFactory(weekday=timezone.localdate().weekday())
    call_command("generate_sessions", weeks=2)
    dates = list(ClinicSession.objects.values_list("date", flat=True))
    assert dates == [timezone.localdate(), timezone.localdate() + timedelta(days=7)]
    assert "created 2 sessions" in capsys.readouterr().out


def test_the_command_dry_run_changes_nothing(capsys):
    SessionTemplateFactory()
    call_command("generate_sessions", "--dry-run")
    assert "would create 4 sessions" in capsys.readouterr().out
    assert not ClinicSession.objects.exists()


def test_the_command_refuses_a_silly_number_of_weeks():
    with pytest.raises(CommandError, match="--weeks"):
        call_command("generate_sessions", weeks=500)


def test_the_task_generates_four_weeks_and_is_safe_to_run_twice():
    SessionTemplateFactory()
    tasks.clinic_sessions_generate.apply()
    tasks.clinic_sessions_generate.apply()
    assert ClinicSession.objects.count() == 4


def test_beat_runs_the_generation_daily():
    assert (
        "zhongdu.clinic_sessions_generate",
        "zhongdu.tasks.clinic_sessions_generate",
        86400,
    ) in DEFAULT_SCHEDULES
