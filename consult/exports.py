"""The consultation analysis as a workbook (zhongdu.exports): the same tables as the page
(consult.stats), one sheet per dimension, and a sheet about the figures."""

from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import exports

from . import stats

_WINDOW = {"days": stats.CONVERSION_WINDOW.days}


def _bucket_label(period: str, start) -> str:
    if period == stats.MONTH:
        return start.strftime("%Y-%m")
    return start.isoformat()


def _headers(table, recall: bool) -> list[str]:
    headers = [
        str(table.label),
        _("Period starting"),
        _("Enquiries"),
        _("Booked (from the enquiry or within %(days)s days)") % _WINDOW,
        _("Enquiry → booking (%)"),
        _("Arrived"),
        _("Enquiry → arrival (%)"),
        _("Average call (seconds)"),
        _("Bookings made"),
        _("Bookings that arrived"),
        _("Booking → arrival (%)"),
        _("Appointments due"),
        _("No-shows"),
        _("No-show rate (%)"),
        _("Cancelled"),
    ]
    if recall:
        headers += [
            _("Recalls"),
            _("Reached (of the recalls made)"),
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
        figures.enquiry_to_arrival,
        figures.average_call_seconds,
        figures.bookings,
        figures.arrivals,
        figures.booking_to_arrival,
        figures.appointments_due,
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


def stats_workbook(figures) -> exports.Export:
    """The same tables as the page, one sheet per dimension."""
    book = exports.XlsxBook()
    recall = figures.recall_available
    for table in figures.tables:
        sheet = book.sheet(table.label)
        sheet.append(_headers(table, recall))
        for group in table.groups:
            for start, row in group.rows:
                label = _bucket_label(figures.period, start)
                sheet.append([group.label, label, *_cells(row, recall)])
            sheet.append([group.label, _("Total"), *_cells(group.total, recall)])
        sheet.append([_("All"), _("Total"), *_cells(table.total, recall)])
        sheet.freeze("C2")
    note = book.sheet(_("About"))
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
    # The rates' definitions, word for word the managers' dashboard's (reports.figures.RATES).
    for label, definition in (
        (
            _("Enquiry → booking"),
            _(
                "Enquiries of the period that led to a booking (made from the enquiry, or for the"
                " same client within 30 days after it) ÷ enquiries of the period. Bookings no"
                " enquiry led to are a figure of their own."
            ),
        ),
        (
            _("Booking → arrival"),
            _("Bookings made in the period that were checked in ÷ bookings made in the period."),
        ),
        (
            _("No-show rate"),
            _("Appointments due in the period not checked in ÷ appointments due in the period."),
        ),
        (
            _("Marketing channel"),
            _(
                "Bookings, appointments and recalls count for the client's channel, else the"
                " channel of the client's first enquiry."
            ),
        ),
    ):
        note.append([label, definition])
    if not recall:
        note.append([_("Recall"), _("Recall figures are not available yet.")])
    return book.export()
