"""Working days and hours: the next working day for a retried call, deadlines in working hours
across nights, weekends and holidays."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from zhongdu.models import CalendarDay, WorkingHours
from zhongdu.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()
FRIDAY = datetime.date(2026, 11, 27)
SATURDAY, SUNDAY, MONDAY = (FRIDAY + datetime.timedelta(days=n) for n in (1, 2, 3))


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


def test_the_default_week_is_monday_to_saturday_from_eight_to_half_past_five():
    calendar = WorkCalendar.load()
    assert [calendar.is_working_day(d) for d in (FRIDAY, SATURDAY, SUNDAY, MONDAY)] == [
        True,
        True,
        False,
        True,
    ]
    assert calendar.next_working_day(SATURDAY) == MONDAY
    assert calendar.next_working_day(FRIDAY) == SATURDAY


def test_holidays_and_make_up_days_override_the_weekday():
    CalendarDay.objects.create(date=MONDAY, name="元旦")
    CalendarDay.objects.create(date=SUNDAY, is_working=True, name="调休上班")
    calendar = WorkCalendar.load()
    assert calendar.next_working_day(SATURDAY) == SUNDAY
    assert calendar.next_working_day(SUNDAY) == MONDAY + datetime.timedelta(days=1)
    assert calendar.add_working_days(FRIDAY, 3) == MONDAY + datetime.timedelta(days=1)


def test_working_hours_carry_over_the_night_and_the_weekend():
    WorkingHours.objects.create(weekdays="01234")  # Monday to Friday this time
    calendar = WorkCalendar.load()
    # Received on Friday at 17:00 with 4 working hours: half an hour on Friday, 3.5 on Monday.
    assert calendar.add_working_hours(at(FRIDAY, 17), 4) == at(MONDAY, 11, 30)
    # Received in the night: the clock starts at the opening.
    assert calendar.add_working_hours(at(SUNDAY, 23), 1) == at(MONDAY, 9)
    assert calendar.working_hours_between(at(FRIDAY, 17), at(MONDAY, 11, 30)) == 4
    assert calendar.working_hours_between(at(MONDAY, 10), at(FRIDAY, 9)) == 0


def test_three_working_days_for_a_serious_complaint_skip_the_holiday():
    CalendarDay.objects.create(date=MONDAY, name="节日")
    calendar = WorkCalendar.load()
    due = calendar.add_working_hours(at(FRIDAY, 9), 3 * 9.5)
    # Friday 8.5 h, Saturday 9.5 h, Sunday off, Monday a holiday, Tuesday 9.5 h, the last
    # hour on Wednesday.
    assert due == at(MONDAY + datetime.timedelta(days=2), 9)


def test_the_calendar_is_edited_in_the_admin(admin_client_):
    assert admin_client_.get(reverse("admin:zhongdu_calendarday_add")).status_code == 200
    response = admin_client_.post(
        reverse("admin:zhongdu_workinghours_add"),
        {"start": "08:30", "end": "17:00", "weekdays": "0123489"},
    )
    assert response.status_code == 200  # refused: 8 and 9 are not weekdays
    assert not WorkingHours.objects.exists()
