# Views of Reports: the managers' dashboard, the monthly satisfaction report, its Excel export
# and the monthly packs (preview, made by hand, Excel and PDF). Roles in zhongdu/roles.py; the
# permission reports.view_reports too.
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.models import Complaint
from surveys.models import Dimension
from zhongdu.exports import audited_download
from zhongdu.forms import FIRST_DAY
from zhongdu.pdf import pdf_export, render_pdf

from . import exports, figures, packs, satisfaction, selectors
from .forms import MAX_DAYS, PackMakeForm, RecordsForm
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
    # One end given: the period it makes is held to the same bounds as one given in full.
    if end < start or (end - start).days >= MAX_DAYS:
        messages.error(
            request,
            _("The end of the period is before its start.")
            if end < start
            else _("Choose a period of at most a year."),
        )
        start, end = today.replace(day=1), today
    records = selectors.figure_records(
        figure, start, end, channel=filters.get("channel"), page=request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/figure_records.html",
        {"records": records, "form": form, "query": query.urlencode()},
    )


def _report_context(data, previous, *, month, pack=None, preview=False) -> dict:
    """What the page and the PDF show of a month's report (its data, the month before)."""
    previous = previous or {}
    return {
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
        "preview": preview,
        "dimensions": satisfaction.DIMENSIONS,
        "telephony": satisfaction.telephony_table(data.get("telephony")),
        "voice": satisfaction.voice_table(data.get("voice")),
    }


def _report_page(request, data, previous, *, month, pack=None, preview=False):
    context = _report_context(data, previous, month=month, pack=pack, preview=preview)
    return render(request, "reports/satisfaction.html", context)


def _pdf(request, data, previous, *, month, name, pack=None, preview=False):
    context = _report_context(data, previous, month=month, pack=pack, preview=preview)
    return audited_download(
        request,
        pdf_export(render_pdf("reports/pack_pdf.html", context, request=request)),
        filename=name,
        object_type="reports.satisfaction",
        object_repr=f"{data['month']} (PDF)",
    )


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
        object_repr=str(data["month"]),
    )


@require_GET
@view_reports
def pack_list(request):
    made = MonthlyReport.objects.filter(is_pack=True).only("pk", "month", "computed_at")
    missing = packs.months_without_pack()
    form = PackMakeForm(months=missing) if missing else None
    return render(request, "reports/pack_list.html", {"packs": made, "form": form})


def _preview_data():
    """This month to date, as its pack will be (and the month before, as the pack keeps it)."""
    month = timezone.localdate().replace(day=1)
    data = satisfaction.report_for(month)
    return month, data, satisfaction.report_for(satisfaction.previous_month(month))


@require_GET
@view_reports
def pack_preview(request):
    month, data, previous = _preview_data()
    return _report_page(request, data, previous, month=month, preview=True)


@require_GET
@view_reports
def pack_preview_pdf(request):
    month, data, previous = _preview_data()
    return _pdf(
        request, data, previous, month=month, name=f"pack-{month:%Y-%m}-preview", preview=True
    )


@require_POST
@view_reports
def pack_make(request):
    # Any closed month of the window is accepted, made or not: a double click's second post
    # finds the first one's pack (packs.pack_make), it is not refused.
    form = PackMakeForm(request.POST, months=packs.closed_months())
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("reports:pack_list")
    try:
        pack, made = packs.pack_make(month=form.cleaned_data["month"], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reports:pack_list")
    named = {"month": f"{pack.month:%Y-%m}"}
    if made:
        messages.success(request, _("The pack of %(month)s is made.") % named)
    else:
        messages.info(request, _("The pack of %(month)s was made already.") % named)
    return redirect(pack)


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


@require_GET
@view_reports
def pack_pdf(request, pk):
    pack = get_object_or_404(MonthlyReport, pk=pk, is_pack=True)
    return _pdf(
        request,
        pack.data,
        pack.data.get("previous"),
        month=pack.month,
        name=f"pack-{pack.month:%Y-%m}",
        pack=pack,
    )
