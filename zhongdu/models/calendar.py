"""The customer-service centre's working calendar: its working hours and weekdays, and the days
that differ (public holidays, and the make-up working days of 调休). Follow-up retries calls on
the next working day; complaint deadlines count working hours (zhongdu.workcalendar)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .directory import Weekday
from .policy import Policy


def _default_weekdays():
    return "012345"  # Monday to Saturday: the centre answers clients six days a week


class WorkingHours(Policy):
    """The one row of working hours administrators edit in the admin (pk is always 1)."""

    start = models.TimeField(_("work starts"), default=datetime.time(8, 0))
    end = models.TimeField(_("work ends"), default=datetime.time(17, 30))
    weekdays = models.CharField(
        _("working weekdays"),
        max_length=7,
        default=_default_weekdays,
        help_text=_("Digits of the working weekdays, Monday = 0 … Sunday = 6; e.g. 012345."),
    )

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="workinghours_end_after"),
        ]

    def __str__(self):
        days = "、".join(str(Weekday(int(d)).label) for d in sorted(set(self.weekdays)))
        return f"{self.start:%H:%M}–{self.end:%H:%M} · {days}"

    def save(self, *args, **kwargs):
        self.weekdays = "".join(sorted(set(self.weekdays)))
        super().save(*args, **kwargs)

    def clean(self):
        if not self.weekdays or any(ch not in "0123456" for ch in self.weekdays):
            raise ValidationError(
                {"weekdays": _("Write the working weekdays as digits 0 (Monday) to 6 (Sunday).")}
            )

    @property
    def working_weekdays(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.weekdays)


class CalendarDay(models.Model):
    """A day that is not what its weekday says: a public holiday (not working) or a make-up
    working day (调休上班)."""

    date = models.DateField(_("date"))
    is_working = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Ticked: a working day (调休上班). Not ticked: a holiday."),
    )
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        constraints = [
            # One entry a day; the calendar reads a range of them by date.
            models.UniqueConstraint(fields=["date"], name="calendarday_date_unique"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()
