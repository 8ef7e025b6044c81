"""Views of the consultation analysis: the page and its Excel export (audited).

Access (zhongdu/roles.py PAGE_ACCESS): managers, client managers, administrators and
consultants. Consultants see every consultant's figures, so that the desk can compare itself;
the front desk and the VIP managers do not take enquiries and do not see them.
"""

import io

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from zhongdu import audit

from . import stats

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_WINDOW = {"days": stats.CONVERSION_WINDOW.days}


def _period(request) -> str:
    period = request.GET.get("period", stats.WEEK)
    return period if period in stats.PERIODS else stats.WEEK


def _bucket_label(period: str, start) -> str:
    if period == stats.MONTH:
        return start.strftime("%Y-%m")
    return start.isoformat()


@require_GET
def consult_stats(request):
    period = _period(request)
    figures = stats.consult_stats(period=period)
    context = {
        "stats": figures,
        "period": period,
        "periods": [(key, label) for key, label in stats.PERIOD_LABELS.items()],
        "window_days": stats.CONVERSION_WINDOW.days,
    }
    return render(request, "consult/stats.html", context)


def _headers(table, recall: bool) -> list[str]:
    headers = [
        str(table.label),
        _("Period starting"),
        _("Enquiries"),
        _("Booked (from the enquiry or within %(days)s days)") % _WINDOW,
        _("Enquiry → booking (%)"),
        _("Arrived"),
        _("Booking → arrival (%)"),
        _("Enquiry → arrival (%)"),
        _("Average call (seconds)"),
        _("Bookings made"),
        _("Arrivals"),
        _("No-shows"),
        _("No-show rate (%)"),
        _("Cancelled"),
    ]
    if recall:
        headers += [
            _("Recalls"),
            _("Recalls reached"),
            _("Recall reached (%)"),
            _("Recalls rebooked"),
            _("Recall rebooked (%)"),
            _("Recalls closed"),
        ]
    return headers


def _cells(figures, recall: bool) -> list:
    cells = [
        figures.enquiries,
        figures.converted,
        figures.enquiry_to_booking,
        figures.converted_arrived,
        figures.booking_to_arrival,
        figures.enquiry_to_arrival,
        figures.average_call_seconds,
        figures.bookings,
        figures.arrivals,
        figures.no_shows,
        figures.no_show_rate,
        figures.cancelled,
    ]
    if recall:
        cells += [
            figures.recalls,
            figures.recalls_reached,
            figures.recall_reached_rate,
            figures.recalls_rebooked,
            figures.recall_rebooked_rate,
            figures.recalls_closed,
        ]
    return cells


def stats_workbook(figures) -> bytes:
    """The same tables as the page, one sheet per dimension, as .xlsx bytes."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    recall = figures.recall_available
    for table in figures.tables:
        sheet = workbook.create_sheet(title=str(table.label)[:31])
        sheet.append(_headers(table, recall))
        for group in table.groups:
            for start, row in group.rows:
                label = _bucket_label(figures.period, start)
                sheet.append([group.label, label, *_cells(row, recall)])
            sheet.append([group.label, _("Total"), *_cells(group.total, recall)])
        sheet.append([_("All"), _("Total"), *_cells(table.total, recall)])
        sheet.freeze_panes = "C2"
    note = workbook.create_sheet(title=_("About")[:31])
    note.append([_("Period"), str(figures.period_label)])
    note.append([_("Since"), figures.since.isoformat()])
    note.append([_("Time zone"), str(timezone.get_default_timezone())])
    note.append(
        [
            _("Conversion"),
            _(
                "An enquiry converts when a booking is made from it on the call screen, or when "
                "a booking for the same client is made within %(days)s days; it counts once."
            )
            % _WINDOW,
        ]
    )
    if not recall:
        note.append([_("Recall"), _("Recall figures are not available yet.")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@require_GET
def consult_stats_export(request):
    period = _period(request)
    figures = stats.consult_stats(period=period)
    content = stats_workbook(figures)
    response = HttpResponse(content, content_type=XLSX_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="consult-stats-{period}-{stamp}.xlsx"'
    audit.record(
        audit.Action.EXPORT,
        object_type="consult.stats",
        object_repr=f"consultation analysis by {period} since {figures.since.isoformat()}",
        request=request,
    )
    return response
