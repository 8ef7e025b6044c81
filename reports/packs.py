"""The monthly pack: on the first working day of a month the previous month's report is
generated, stored and never changed again (later data changes the live report, not the pack);
the managers are notified."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

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
