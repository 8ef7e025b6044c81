"""The front desk's figures of one day (/guide/daily/?date=YYYY-MM-DD) and their Excel export,
audited. Access (zhongdu/roles.py PAGE_ACCESS): the front desk reports them; client managers,
managers and administrators read them.

The figures come from guide.selectors.daily_figures (a fixed handful of queries whatever the
number of visits); the tables are built once (guide.exports) and drawn twice, by the page and
by the workbook, so the two cannot say different things.
"""

import datetime

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from consult.services import DAY_OVER_HOUR
from zhongdu.exports import audited_download
from zhongdu.forms import SHOWN_FIRST_DAY, SHOWN_LAST_DAY
from zhongdu.roles import user_may_open

from . import exports, selectors
from .charge_forms import DayForm


def _day(request) -> tuple[DayForm, datetime.date]:
    """The form and the day it asks for; today when the day is missing or malformed (the form
    then carries the error)."""
    form = DayForm(request.GET or None, initial={"date": timezone.localdate()})
    day = form.day
    return form, day or timezone.localdate()


@require_GET
def daily(request):
    form, day = _day(request)
    figures = selectors.daily_figures(day)
    one_day = datetime.timedelta(days=1)
    context = {
        "form": form,
        "day": day,
        "figures": figures,
        "tables": exports.daily_tables(figures),
        "is_today": day == timezone.localdate(),
        "is_future": day > timezone.localdate(),
        "previous_day": day - one_day if day > SHOWN_FIRST_DAY else None,
        "next_day": day + one_day if day < SHOWN_LAST_DAY else None,
        "sweep_hour": f"{DAY_OVER_HOUR}:00",
        "may_open_queue": user_may_open(request.user, "consult:queue"),
        "export_url": reverse("guide:daily_export") + "?" + urlencode({"date": day.isoformat()}),
    }
    return render(request, "guide/daily.html", context)


@require_GET
def daily_export(request):
    form, day = _day(request)
    if form.errors:
        # Not a workbook of a day nobody asked for: back to the page, which says what is wrong.
        return redirect(reverse("guide:daily") + "?" + request.GET.urlencode())
    return audited_download(
        request,
        exports.daily_workbook(selectors.daily_figures(day)),
        filename=f"daily-{day.isoformat()}",
        object_type="guide.daily",
        object_id=day.isoformat(),
        object_repr=day.isoformat(),
    )
