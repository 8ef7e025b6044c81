"""The front desk's figures of one day (/guide/daily/?date=YYYY-MM-DD) and their Excel export,
audited. Access (zhongdu/roles.py PAGE_ACCESS): the front desk reports them; client managers,
managers and administrators read them.

The figures come from guide.selectors.daily_figures (a fixed handful of queries whatever the
number of visits); the tables below are built once and drawn twice, by the page and by the
workbook, so the two cannot say different things.
"""

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consult.services import DAY_OVER_HOUR
from zhongdu import audit
from zhongdu.roles import user_may_open

from . import selectors
from .charge_forms import FIRST_DAY, LAST_DAY, DayForm

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class FigureRow:
    label: str
    value: int | float | Decimal | None  # what the workbook holds
    display: str  # what the page shows


@dataclass
class FigureTable:
    key: str
    title: str
    columns: tuple[str, str]
    rows: list[FigureRow] = field(default_factory=list)
    empty: str = ""  # said instead of the table when it has no rows


def _count(label, n) -> FigureRow:
    return FigureRow(str(label), n, str(n))


def _minutes(label, value) -> FigureRow:
    display = "—" if value is None else _("%(minutes)s min") % {"minutes": f"{value:g}"}
    return FigureRow(str(label), value, display)


def _money(label, value: Decimal) -> FigureRow:
    return FigureRow(str(label), value, f"¥{value:,.2f}")


def _percent(label, value) -> FigureRow:
    return FigureRow(str(label), value, "—" if value is None else f"{value:g}%")


def _breakdown(key, title, first_column, counts) -> FigureTable:
    return FigureTable(
        key=key,
        title=title,
        columns=(first_column, _("Arrivals")),
        rows=[_count(label, n) for label, n in counts],
        empty=_("No arrivals on this day."),
    )


def daily_tables(figures: selectors.DailyFigures) -> list[FigureTable]:
    """The page's tables, in its order; the workbook writes the same ones."""
    figure_value = (_("Figure"), _("Value"))
    return [
        FigureTable(
            "arrivals",
            _("Arrivals"),
            figure_value,
            [
                _count(_("Arrivals"), figures.arrivals),
                _count(_("Walk-ins (no booking)"), figures.walk_ins),
                _count(_("Left without being seen"), figures.left),
            ],
        ),
        FigureTable(
            "bookings",
            _("Bookings and arrivals"),
            figure_value,
            [
                _count(_("Bookings (not cancelled)"), figures.bookings),
                _count(_("Arrived"), figures.bookings_arrived),
                _count(_("Still expected"), figures.bookings_expected),
                _count(_("No-shows"), figures.no_shows),
                _percent(_("Arrival rate"), figures.arrival_rate),
            ],
        ),
        _breakdown("by_type", _("Arrivals by visit type"), _("Visit type"), figures.by_type),
        _breakdown("by_channel", _("Arrivals by channel"), _("Channel"), figures.by_channel),
        _breakdown(
            "by_department", _("Arrivals by department"), _("Department"), figures.by_department
        ),
        FigureTable(
            "waiting",
            _("Waiting time, arrival to doctor"),
            figure_value,
            [
                _minutes(_("Median"), figures.waiting_median),
                _minutes(_("90th percentile"), figures.waiting_p90),
                _count(_("Visits measured"), figures.waiting_measured),
            ],
        ),
        FigureTable(
            "cards_exams",
            _("Membership cards and exam orders"),
            figure_value,
            [
                _count(_("Cards issued"), figures.cards_issued),
                _count(_("Cards renewed"), figures.cards_renewed),
                _money(_("Card fees"), figures.card_fees),
                _count(_("Exam orders opened"), figures.exam_orders),
                _count(_("Exam orders completed"), figures.exams_completed),
            ],
        ),
        FigureTable(
            "charges",
            _("Charges"),
            figure_value,
            [_money(_("Total charged (voided lines left out)"), figures.charges_total)],
        ),
    ]


def _day(request) -> tuple[DayForm, datetime.date]:
    """The form and the day it asks for; today when the day is missing or malformed (the form
    then carries the error)."""
    form = DayForm(request.GET or None, initial={"date": timezone.localdate()})
    day = form.cleaned_data.get("date") if form.is_valid() else None
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
        "tables": daily_tables(figures),
        "is_today": day == timezone.localdate(),
        "is_future": day > timezone.localdate(),
        "previous_day": day - one_day if day > FIRST_DAY else None,
        "next_day": day + one_day if day < LAST_DAY else None,
        "sweep_hour": f"{DAY_OVER_HOUR}:00",
        "may_open_queue": user_may_open(request.user, "consult:queue"),
        "export_url": reverse("guide:daily_export") + "?" + urlencode({"date": day.isoformat()}),
    }
    return render(request, "guide/daily.html", context)


def daily_workbook(figures: selectors.DailyFigures) -> bytes:
    """The page's tables on one sheet, one under the other, and a sheet about them."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Daily figures")[:31]
    sheet.append([_("Front desk figures of %(day)s") % {"day": figures.day.isoformat()}])
    sheet["A1"].font = Font(bold=True, size=13)
    for table in daily_tables(figures):
        sheet.append([])
        sheet.append([table.title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.append(list(table.columns))
        if not table.rows:
            sheet.append([table.empty])
        for row in table.rows:
            sheet.append([row.label, row.value])
            # A channel or department named "=..." is text, not a formula for Excel to run.
            sheet.cell(row=sheet.max_row, column=1).data_type = "s"
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 16
    note = workbook.create_sheet(title=_("About")[:31])
    note.append([_("Day"), figures.day.isoformat()])
    note.append([_("Time zone"), str(timezone.get_default_timezone())])
    note.append([_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    note.append([_("Waiting time"), _("Minutes from arrival to the doctor, for the visits seen.")])
    note.append(
        [
            _("No-shows"),
            _(
                "Bookings not checked in become no-shows at the consultation desk's end-of-day "
                "sweep, which hands them to the consultants' recall queue."
            ),
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@require_GET
def daily_export(request):
    form, day = _day(request)
    if form.errors:
        # Not a workbook of a day nobody asked for: back to the page, which says what is wrong.
        return redirect(reverse("guide:daily") + "?" + request.GET.urlencode())
    response = HttpResponse(daily_workbook(selectors.daily_figures(day)), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="daily-{day.isoformat()}.xlsx"'
    audit.record(
        audit.Action.EXPORT,
        object_type="guide.daily",
        object_id=day.isoformat(),
        object_repr=f"front desk figures of {day.isoformat()}",
        request=request,
    )
    return response
