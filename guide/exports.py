"""The front desk's figures of one day as tables and as a workbook (zhongdu.exports). The
tables are built once and drawn twice, by the page (daily_views) and by the workbook, so the two
cannot say different things."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import exports

from . import selectors


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


def daily_workbook(figures: selectors.DailyFigures) -> exports.Export:
    """The page's tables on one sheet, one under the other, and a sheet about them."""
    book = exports.XlsxBook()
    sheet = book.sheet(_("Daily figures"))
    title = _("Front desk figures of %(day)s") % {"day": figures.day.isoformat()}
    sheet.append([title], bold=True, size=13)
    for table in daily_tables(figures):
        sheet.append([])
        sheet.append([table.title], bold=True)
        sheet.append(list(table.columns))
        if not table.rows:
            sheet.append([table.empty])
        for row in table.rows:
            sheet.append([row.label, row.value])
    sheet.widths({"A": 40, "B": 16})
    note = book.sheet(_("About"))
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
    return book.export()
