"""The monthly pack: on the first working day of a month the previous month's report is
generated, stored and never changed again (later data changes the live report, not the pack);
the managers are notified."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import audit
from zhongdu.workcalendar import WorkCalendar

from . import satisfaction
from .models import MonthlyReport


def first_working_day(month: datetime.date) -> datetime.date:
    return WorkCalendar.load().working_day_on_or_after(month.replace(day=1))


def pack_generate(*, month: datetime.date, by=None) -> MonthlyReport | None:
    """The pack of `month`, once: None when it exists already."""
    month = satisfaction.first_of(month)
    if MonthlyReport.objects.filter(month=month, is_pack=True).exists():
        return None
    data = satisfaction.compute(month)
    data["previous"] = satisfaction.compute(satisfaction.previous_month(month), with_trend=False)
    try:
        with transaction.atomic():
            return MonthlyReport.objects.create(
                month=month, is_pack=True, data=data, generated_by=by
            )
    except IntegrityError:  # another worker made it a moment ago
        return None


# How far back a manager may make a missing pack: two years of closed months.
MAKE_MONTHS = 24


def closed_months(*, today=None) -> list[datetime.date]:
    """The last MAKE_MONTHS months that have ended, newest first."""
    today = today or timezone.localdate()
    months, month = [], satisfaction.previous_month(today)
    for _n in range(MAKE_MONTHS):
        months.append(month)
        month = satisfaction.previous_month(month)
    return months


def months_without_pack(*, today=None) -> list[datetime.date]:
    """The closed months of the last MAKE_MONTHS that have no pack, newest first (one query):
    a month whose first working day passed while beat was down, or before the packs began."""
    months = closed_months(today=today)
    made = set(
        MonthlyReport.objects.filter(month__in=months, is_pack=True).values_list("month", flat=True)
    )
    return [month for month in months if month not in made]


def pack_make(*, month: datetime.date, by, today=None) -> tuple[MonthlyReport, bool]:
    """A manager makes the pack of a closed month that has none: (the pack, whether this call
    made it). Made once: the unique index (month, is_pack) is the key, so a double click or a
    second manager at the same moment finds the first one's pack instead of making another."""
    month = satisfaction.first_of(month)
    today = today or timezone.localdate()
    if month >= satisfaction.first_of(today):
        raise ValidationError(_("Only a month that has ended can have its pack made."))
    pack = pack_generate(month=month, by=by)
    if pack is None:
        return MonthlyReport.objects.get(month=month, is_pack=True), False
    audit.record(audit.Action.CREATE, actor=by, obj=pack, object_repr=f"{pack.month:%Y-%m}")
    return pack, True


def pack_due(*, today=None, notify=None) -> MonthlyReport | None:
    """Daily: on the first working day of a month, the previous month's pack (once)."""
    today = today or timezone.localdate()
    if today != first_working_day(today):
        return None
    pack = pack_generate(month=satisfaction.previous_month(today))
    if pack is not None and notify is not None:
        notify(pack)
    return pack


def notify_managers(pack: MonthlyReport) -> int:
    """Tell the managers and administrators that a pack is ready (in-app notifications)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from zhongdu.roles import ADMINISTRATOR, MANAGER
    from zhongdu.services import notify_role

    text = _("The satisfaction report of %(month)s is ready.") % {"month": f"{pack.month:%Y-%m}"}
    url = reverse("reports:pack_detail", args=[pack.pk])
    return sum(notify_role(role=role, text=text, url=url) for role in (MANAGER, ADMINISTRATOR))
