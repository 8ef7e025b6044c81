"""The front desk's figures of one day as tables and as a workbook (zhongdu.exports). The
tables are built once and drawn twice, by the page (daily_views) and by the workbook, so the two
cannot say different things."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhongdu import exports

from . import selectors


@dataclass
class FigureRow:
    label: str
    value: int | float | Decimal | None  # what the workbook holds
    display: str  # what the page shows
    definition: str = ""  # the hover text: the dashboard's definition of the same figure


# The rows that are a figure of the managers' dashboard (reports.figures, above guide, which may
# not import it) carry its definition word for word, as hover text and in the workbook's About
# sheet; tests/reports/test_rates.py checks each equals the dashboard's, in both languages.
DEFINITIONS = {
    "arrivals": gettext_lazy(
        "Visits registered at the front desk on the day: checked-in bookings and walk-ins; by"
        " the channel recorded at the desk."
    ),
    "bookings_due": gettext_lazy(
        "Bookings for the day's sessions, cancelled ones left out (and those of sessions the"
        " hospital cancelled)."
    ),
    "no_shows": gettext_lazy(
        "Of the appointments due on the day, those not checked in (swept at 21:00)."
    ),
    "rate:no_shows": gettext_lazy(
        "Appointments due in the period not checked in ÷ appointments due in the period."
    ),
    "revenue": gettext_lazy(
        "Charges recorded on the day, voided lines left out (yuan). By channel: the channel"
        " recorded on the visit at the front desk, else the client's channel, else the"
        " channel of the client's first enquiry; with none of them, not recorded."
    ),
}


def _defined(row: FigureRow, key: str) -> FigureRow:
    row.definition = str(DEFINITIONS[key])
    return row


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
                _defined(_count(_("Arrivals"), figures.arrivals), "arrivals"),
                _count(_("Walk-ins (no booking)"), figures.walk_ins),
                _count(_("Left without being seen"), figures.left),
            ],
        ),
        FigureTable(
            "bookings",
            _("Bookings and arrivals"),
            figure_value,
            [
                _defined(_count(_("Appointments due"), figures.bookings), "bookings_due"),
                _count(_("Arrived"), figures.bookings_arrived),
                _count(_("Still expected"), figures.bookings_expected),
                _defined(_count(_("No-shows"), figures.no_shows), "no_shows"),
                _defined(_percent(_("No-show rate"), figures.no_show_rate), "rate:no_shows"),
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
            [
                _defined(
                    _money(_("Total charged (voided lines left out)"), figures.charges_total),
                    "revenue",
                )
            ],
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
    for table in daily_tables(figures):
        for row in table.rows:
            if row.definition:
                note.append([row.label, row.definition])
    return book.export()
