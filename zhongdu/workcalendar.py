"""Working days and working hours, in hospital time (Asia/Shanghai), from the calendar
administrators keep (zhongdu.models.WorkingHours and CalendarDay).

    calendar = WorkCalendar.load()
    calendar.next_working_day(date)             # follow-up: retry an unreached call
    calendar.add_working_hours(moment, 4)        # complaints: acknowledge within 4 working hours
    calendar.working_hours_between(start, end)   # complaints: time to acknowledge

A WorkCalendar reads the settings and the exceptions once (two queries), then answers in memory;
a nightly beat job or a request builds one, uses it and drops it.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from .models.calendar import CalendarDay, WorkingHours

# Never search further than this for a working day: a calendar with no working day at all
# (a misconfiguration) must not loop for ever.
MAX_DAYS = 366


@dataclass
class WorkCalendar:
    start: datetime.time
    end: datetime.time
    weekdays: frozenset[int]
    exceptions: dict[datetime.date, bool]

    @classmethod
    def load(cls) -> "WorkCalendar":
        hours = WorkingHours.current()
        exceptions = dict(CalendarDay.objects.values_list("date", "is_working"))
        return cls(
            start=hours.start,
            end=hours.end,
            weekdays=hours.working_weekdays,
            exceptions=exceptions,
        )

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() in self.weekdays

    def working_day_on_or_after(self, day: datetime.date) -> datetime.date:
        for offset in range(MAX_DAYS):
            candidate = day + datetime.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        return day

    def next_working_day(self, day: datetime.date) -> datetime.date:
        """The first working day after `day`."""
        return self.working_day_on_or_after(day + datetime.timedelta(days=1))

    def add_working_days(self, day: datetime.date, days: int) -> datetime.date:
        for _n in range(days):
            day = self.next_working_day(day)
        return day

    # --- Working hours --------------------------------------------------------------

    def _bounds(self, day: datetime.date):
        tz = timezone.get_default_timezone()
        return (
            datetime.datetime.combine(day, self.start, tzinfo=tz),
            datetime.datetime.combine(day, self.end, tzinfo=tz),
        )

    def add_working_hours(self, moment: datetime.datetime, hours: float) -> datetime.datetime:
        """The moment `hours` working hours after `moment`: a complaint received on Friday at
        17:00 with 4 hours to answer is due on the next working day at 11:30 (8:00–17:30)."""
        remaining = datetime.timedelta(hours=hours)
        moment = timezone.localtime(moment)
        day = moment.date()
        for _n in range(MAX_DAYS):
            if self.is_working_day(day):
                opens, closes = self._bounds(day)
                begin = max(moment, opens)
                if begin < closes:
                    if begin + remaining <= closes:
                        return begin + remaining
                    remaining -= closes - begin
            day += datetime.timedelta(days=1)
            moment = self._bounds(day)[0]
        return moment + remaining

    def working_hours_between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """Working hours from `start` to `end` (0 if end is not after start)."""
        if end <= start:
            return 0.0
        start, end = timezone.localtime(start), timezone.localtime(end)
        total = datetime.timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                opens, closes = self._bounds(day)
                begin, finish = max(start, opens), min(end, closes)
                if finish > begin:
                    total += finish - begin
            day += datetime.timedelta(days=1)
        return total.total_seconds() / 3600
