# Views of Reports: the managers' dashboard, the monthly satisfaction report, its Excel export
# and the monthly packs. Roles in zhongdu/roles.py; the permission reports.view_reports too.
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from complaints.models import Complaint
from surveys.models import Dimension
from zhongdu.exports import audited_download
from zhongdu.forms import FIRST_DAY

from . import exports, figures, satisfaction, selectors
from .forms import RecordsForm
from .models import MonthlyReport

view_reports = permission_required("reports.view_reports", raise_exception=True)


def _month(request):
    """The ?month=YYYY-MM asked for, or this month; (month, error message)."""
    raw = request.GET.get("month", "")
    today = timezone.localdate()
    if not raw:
        return today.replace(day=1), ""
    try:
        month = datetime.datetime.strptime(raw, "%Y-%m").date()  # noqa: DTZ007 (a month)
    except ValueError:
        return today.replace(day=1), _("Write the month as 2026-11.")
    if month > today:
        return today.replace(day=1), _("That month has not begun yet.")
    if month < FIRST_DAY:
        # The report compares with the month before: there must be one a date can hold.
        return today.replace(day=1), _("Enter a date between %(first)s and %(last)s.") % {
            "first": FIRST_DAY.isoformat(),
            "last": today.isoformat(),
        }
    return month, ""


@require_GET
@view_reports
def dashboard(request):
    return render(request, "reports/dashboard.html", selectors.dashboard())


@require_GET
@view_reports
def figure_records(request, key):
    """The records a dashboard figure counts over a period (?from=&to=, the month to date by
    default), of one channel (?channel=, 0: not recorded)."""
    figure = figures.BY_KEY.get(key)
    if figure is None:
        raise Http404
    today = timezone.localdate()
    form = RecordsForm(request.GET)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or _("Check the period."))
        filters = {}
    else:
        filters = form.cleaned_data
    start = filters.get("start") or today.replace(day=1)
    end = filters.get("end") or max(start, today)
    records = selectors.figure_records(figure, start, end, channel=filters.get("channel"))
    return render(request, "reports/figure_records.html", {"records": records, "form": form})


def _report_page(request, data, previous, *, month, pack=None, status=200):
    previous = previous or {}
    context = {
        "data": data,
        "previous": previous,
        "dimension_rows": [
            {
                "key": key,
                "label": Dimension(key).label,
                "average": data["dimensions"].get(key, {}).get("average"),
                "count": data["dimensions"].get(key, {}).get("count", 0),
                "previous": previous.get("dimensions", {}).get(key, {}).get("average"),
            }
            for key in satisfaction.DIMENSIONS
        ],
        "breakdowns": [
            (_("By department"), data["departments"], "by-department"),
            (_("By doctor"), data["doctors"], "by-doctor"),
            (_("By channel"), data["channels"], "by-channel"),
        ],
        "complaint_categories": [
            (label, data["complaints"]["by_category"].get(value, 0))
            for value, label in Complaint.Category.choices
        ],
        "month": month,
        "previous_month": satisfaction.previous_month(month),
        "next_month": (month + datetime.timedelta(days=32)).replace(day=1),
        "this_month": timezone.localdate().replace(day=1),
        "pack": pack,
        "dimensions": satisfaction.DIMENSIONS,
    }
    return render(request, "reports/satisfaction.html", context, status=status)


@require_GET
@view_reports
def satisfaction_report(request):
    month, error = _month(request)
    if error:
        messages.error(request, error)
    data = satisfaction.report_for(month)
    previous = satisfaction.report_for(satisfaction.previous_month(month))
    return _report_page(request, data, previous, month=month)


@require_GET
@view_reports
def satisfaction_export(request):
    month, error = _month(request)
    if error:
        messages.error(request, error)
        return redirect("reports:satisfaction")
    data = satisfaction.report_for(month)
    previous = satisfaction.report_for(satisfaction.previous_month(month))
    return _xlsx(request, data, previous, name=f"satisfaction-{month:%Y-%m}")


def _xlsx(request, data, previous, *, name):
    return audited_download(
        request,
        exports.workbook(data, previous),
        filename=name,
        object_type="reports.satisfaction",
        object_repr=f"monthly satisfaction report {data['month']}",
    )


@require_GET
@view_reports
def pack_list(request):
    packs = MonthlyReport.objects.filter(is_pack=True).only("pk", "month", "computed_at")
    return render(request, "reports/pack_list.html", {"packs": packs})


@require_GET
@view_reports
def pack_detail(request, pk):
    pack = get_object_or_404(MonthlyReport, pk=pk, is_pack=True)
    return _report_page(request, pack.data, pack.data.get("previous"), month=pack.month, pack=pack)


@require_GET
@view_reports
def pack_export(request, pk):
    pack = get_object_or_404(MonthlyReport, pk=pk, is_pack=True)
    return _xlsx(request, pack.data, pack.data.get("previous"), name=f"pack-{pack.month:%Y-%m}")
