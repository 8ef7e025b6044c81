"""The billing system's file of charges (CSV in UTF-8 or GBK, or Excel .xlsx): read, checked row
by row, kept on a ChargeImport for the preview, and written when staff confirm.

Columns, named in the first row in Chinese or English (others are ignored):

    就诊号 visit · 项目编码 code · 数量 quantity (default 1) · 金额 amount (default: price ×
    quantity) · 流水号 reference (the billing line's id, required) · 收费时间 charged_at
    ("YYYY-MM-DD HH:MM", hospital time; default: when imported)

The rows are stored as JSON with ids, not objects (ParsedRow.to_json); at confirmation they are
rebuilt from the database and checked again (rows_from_json), so a visit that has since been
recorded as left, or a price item taken off the list, is refused then. A billing line is
imported once: Charge.reference is unique in the database, so confirming twice, or uploading the
same file again, adds nothing.

charge_import_create and charge_import_confirm write (they sit here rather than in
guide/services.py while that module is being written by someone else; each is one transaction).
"""

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clientmgmt.imports import MAX_BYTES, ImportFileError, read_table
from zhongdu import audit
from zhongdu.controlchars import cells_checked
from zhongdu.models import PriceItem
from zhongdu.services import create_once

from . import services
from .models import Charge, ChargeImport, Visit

MAX_ROWS = 5_000
MAX_QUANTITY = 999
# Charge.amount holds 12 digits, 2 of them after the point.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_REFERENCE = 64  # Charge.reference

HEADERS = {
    "visit": ("visit", "就诊号", "visit number", "visit_id", "visit no"),
    "code": ("code", "项目编码", "item code", "price code", "编码"),
    "quantity": ("quantity", "数量", "qty"),
    "amount": ("amount", "金额", "amount (yuan)"),
    "reference": ("reference", "流水号", "billing reference", "ref"),
    "charged_at": ("charged_at", "收费时间", "charged at", "time"),
}
REQUIRED = {"visit": "就诊号 (visit)", "code": "项目编码 (code)", "reference": "流水号 (reference)"}
# Shown on the upload page.
SAMPLE_HEADER = "就诊号,项目编码,数量,金额,流水号,收费时间"
SAMPLE_ROW = "1024,GH001,1,20.00,B20261129-0001,2026-11-29 09:30"
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)

# A row's state in the preview.
VALID, INVALID, ALREADY_IMPORTED = "valid", "invalid", "already_imported"


@dataclass
class ParsedRow:
    """One line of the file, checked. The attributes services.charges_import reads are the
    objects (visit, price_item) and the cleaned values; `cells` keeps what the file said, for
    the preview."""

    row: int  # the line in the file; the header is line 1
    cells: dict[str, str] = field(default_factory=dict)
    visit: Visit | None = None
    price_item: PriceItem | None = None
    quantity: int | None = None
    amount: Decimal | None = None
    reference: str = ""
    charged_at: datetime.datetime | None = None  # None: the time of the import
    errors: list[str] = field(default_factory=list)
    # The reference is on a charge already: not an error, nothing to do.
    already_imported: bool = False

    @property
    def status(self) -> str:
        if self.already_imported:
            return ALREADY_IMPORTED
        return INVALID if self.errors else VALID

    def to_json(self) -> dict:
        return {
            "row": self.row,
            "cells": self.cells,
            "visit": self.visit.pk if self.visit else None,
            "price_item": self.price_item.pk if self.price_item else None,
            "code": self.price_item.code if self.price_item else self.cells.get("code", ""),
            "quantity": self.quantity,
            "amount": None if self.amount is None else str(self.amount),
            "reference": self.reference,
            "charged_at": self.charged_at.isoformat() if self.charged_at else None,
            "errors": list(self.errors),
            "already_imported": self.already_imported,
        }


# --- Reading the file -----------------------------------------------------------------


def _cell_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S" if cell.second else "%Y-%m-%d %H:%M")
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float):
        # 15 significant digits: what Excel shows, without binary noise (60.300000000000004).
        return format(cell, ".15g")
    return str(cell).strip()


def read_rows(name: str, raw: bytes) -> list[list[str]]:
    """The file's cells as text. clientmgmt.imports.read_table reads CSV (UTF-8 or GBK) and
    refuses other types and files over 5 MB; an .xlsx is read here because read_table keeps
    only the date of an Excel date-time (it reads dates of birth) and a charge needs its time."""
    if not name.lower().endswith(".xlsx") or len(raw) > MAX_BYTES:
        try:
            return read_table(name, raw)
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KB limit
            raise ImportFileError(_("This CSV file cannot be read.")) from exc
    from openpyxl import load_workbook

    table, filled = [], 0
    try:
        sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).active
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(cell) for cell in values]
            filled += any(cells)
            if filled > MAX_ROWS + 1:  # the header and one row too many: stop reading
                break
            table.append(cells)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFileError(_("This Excel file cannot be read.")) from exc
    return table


def _columns(header: list[str]) -> dict[int, str]:
    lookup = {alias.lower(): name for name, aliases in HEADERS.items() for alias in aliases}
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        name = lookup.get(str(title).strip().lower())
        if name and name not in columns.values():
            columns[index] = name
    missing = [label for name, label in REQUIRED.items() if name not in columns.values()]
    if missing:
        raise ImportFileError(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    return columns


# --- Checking one row's shape (no database) -------------------------------------------


def _visit_number(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise ValidationError(_("Write the visit number as shown on the visit page, e.g. 1024."))
    return int(text)


def _quantity(text: str) -> int:
    if not text:
        return 1
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise ValidationError(_("The quantity must be a whole number."))
    if not 1 <= number <= MAX_QUANTITY:
        raise ValidationError(
            _("The quantity must be between 1 and %(max)s.") % {"max": MAX_QUANTITY}
        )
    return int(number)


def _amount(text: str) -> Decimal | None:
    text = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    if not text:
        return None  # the price list's price times the quantity
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(_("The amount must be a number of yuan, e.g. 20.00."))
    if amount < 0:
        raise ValidationError(_("The amount cannot be negative."))
    if amount != amount.quantize(Decimal("0.01")) or amount > MAX_AMOUNT:
        raise ValidationError(_("The amount must be in yuan with at most two decimals."))
    return amount.quantize(Decimal("0.01"))


def _reference(text: str) -> str:
    if not text:
        raise ValidationError(_("The billing reference (流水号) is missing."))
    if len(text) > MAX_REFERENCE:
        raise ValidationError(
            _("The billing reference is longer than %(max)s characters.") % {"max": MAX_REFERENCE}
        )
    return text


def _charged_at(text: str) -> datetime.datetime | None:
    if not text:
        return None
    for fmt in DATETIME_FORMATS:
        try:
            moment = datetime.datetime.strptime(text, fmt)  # noqa: DTZ007 (made aware below)
        except ValueError:
            continue
        return timezone.make_aware(moment, timezone.get_default_timezone())
    raise ValidationError(_("Write the time of the charge as 2026-11-29 09:30."))


def _shape(number: int, cells: dict[str, str]) -> tuple[ParsedRow, int | None]:
    """The row with its cleaned values and shape errors, and the visit number it names."""
    cells, errors = cells_checked(cells)
    row = ParsedRow(row=number, cells=cells, errors=errors)

    def attempt(func, text):
        try:
            return func(text)
        except ValidationError as exc:
            row.errors.extend(exc.messages)
            return None

    visit_number = attempt(_visit_number, cells["visit"])
    if not cells["code"]:
        row.errors.append(_("The item code (项目编码) is missing."))
    row.quantity = attempt(_quantity, cells["quantity"])
    row.amount = attempt(_amount, cells["amount"])
    row.reference = attempt(_reference, cells["reference"]) or ""
    row.charged_at = attempt(_charged_at, cells["charged_at"])
    return row, visit_number


# --- Checking against the database -------------------------------------------------


def _check_visit(row: ParsedRow, visit: Visit | None, number) -> None:
    if visit is None:
        if number is not None:
            row.errors.append(_("There is no visit number %(number)s.") % {"number": number})
        return
    if visit.status == Visit.Status.LEFT:
        row.errors.append(
            _("Visit %(number)s left without being seen: nothing to charge.") % {"number": visit.pk}
        )
        return
    row.visit = visit


def _check_item(row: ParsedRow, item: PriceItem | None, code: str) -> None:
    if item is None:
        if code:
            row.errors.append(_("There is no price item with the code %(code)s.") % {"code": code})
        return
    if not item.active:
        row.errors.append(_("%(code)s is no longer on the price list.") % {"code": item.code})
        return
    row.price_item = item
    if row.amount is None and row.quantity is not None and not row.errors:
        # What the preview shows is what is imported: the price of the day of the upload.
        row.amount = (item.price * row.quantity).quantize(Decimal("0.01"))


def _imported_references(references) -> set[str]:
    return set(
        Charge.objects.filter(reference__in=[r for r in references if r]).values_list(
            "reference", flat=True
        )
    )


def parse_charges(name: str, raw: bytes) -> list[ParsedRow]:
    """Every row of the file, checked. Raises ImportFileError when the file as a whole cannot
    be used (unreadable, empty, missing columns, more than MAX_ROWS rows). Four queries: the
    visits, the price items and the references already imported, each read once for the file."""
    table = read_rows(name, raw)
    if not table or not any(str(cell).strip() for cell in table[0]):
        raise ImportFileError(_("The file is empty."))
    columns = _columns(table[0])
    body = [
        (number, cells)
        for number, cells in enumerate(table[1:], start=2)
        if any(str(cell).strip() for cell in cells)
    ]
    if not body:
        raise ImportFileError(_("The file has no rows below its header."))
    if len(body) > MAX_ROWS:
        raise ImportFileError(_("At most 5,000 rows per file; split the file."))
    shaped = []
    for number, cells in body:
        values = dict.fromkeys(HEADERS, "")
        values.update(
            {name: str(cells[i]).strip() for i, name in columns.items() if i < len(cells)}
        )
        shaped.append(_shape(number, values))
    visit_numbers = {n for _row, n in shaped if n is not None}
    visits = Visit.objects.only("id", "status", "client_id").in_bulk(visit_numbers)
    codes = {row.cells["code"] for row, _n in shaped if row.cells["code"]}
    items = {item.code: item for item in PriceItem.objects.filter(code__in=codes)}
    imported = _imported_references(row.reference for row, _n in shaped)
    first_seen: dict[str, int] = {}
    rows = []
    for row, number in shaped:
        _check_visit(row, visits.get(number), number)
        _check_item(row, items.get(row.cells["code"]), row.cells["code"])
        if row.reference in imported:
            row.already_imported = True
        elif row.reference and row.reference in first_seen:
            row.errors.append(
                _("The same billing reference as row %(row)s.") % {"row": first_seen[row.reference]}
            )
        elif row.reference:
            first_seen[row.reference] = row.row
        rows.append(row)
    return rows


def rows_from_json(data: list[dict]) -> list[ParsedRow]:
    """The stored rows with their objects loaded again and checked again: a visit recorded as
    left since the upload, a price item taken off the list or a reference imported meanwhile is
    caught here. Three queries."""
    visits = Visit.objects.in_bulk({d["visit"] for d in data if d["visit"]})
    items = PriceItem.objects.in_bulk({d["price_item"] for d in data if d["price_item"]})
    imported = _imported_references(d["reference"] for d in data)
    rows = []
    for d in data:
        row = ParsedRow(
            row=d["row"],
            cells=d["cells"],
            quantity=d["quantity"],
            amount=None if d["amount"] is None else Decimal(d["amount"]),
            reference=d["reference"],
            charged_at=datetime.datetime.fromisoformat(d["charged_at"])
            if d["charged_at"]
            else None,
            errors=list(d["errors"]),
            # A row with errors stays as it was: it is not imported either way.
            already_imported=d["already_imported"]
            or (not d["errors"] and d["reference"] in imported),
        )
        if not row.errors and not row.already_imported:
            if d["visit"] not in visits:
                row.errors.append(_("This visit no longer exists."))
            else:
                _check_visit(row, visits[d["visit"]], d["visit"])
            if d["price_item"] not in items:
                row.errors.append(_("This price item no longer exists."))
            else:
                _check_item(row, items[d["price_item"]], d["code"])
        rows.append(row)
    return rows


# --- The import's pages and writes -------------------------------------------------


def charge_import_get(token) -> ChargeImport:
    """An import by its token. Imports are the desk's shared work, not one person's: who may
    open them at all is PAGE_ACCESS's (front desk and administrators)."""
    try:
        return ChargeImport.objects.select_related("uploaded_by").get(token=token)
    except (ChargeImport.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _stored_status(data: dict) -> str:
    if data["already_imported"]:
        return ALREADY_IMPORTED
    return INVALID if data["errors"] else VALID


def status_counts(rows: list[dict]) -> dict[str, int]:
    """How many stored rows are ready, have errors, or were imported before."""
    counts = dict.fromkeys((VALID, INVALID, ALREADY_IMPORTED), 0)
    for data in rows:
        counts[_stored_status(data)] += 1
    return counts


@dataclass
class PreviewRow:
    """One row of the preview, its display strings prepared here (a 5,000-row preview is drawn
    without a template filter per cell)."""

    row: int
    visit: str
    visit_url: str
    code: str
    quantity: str
    amount: str
    reference: str
    charged_at: str
    status: str
    status_label: str
    errors: str


PREVIEW_PAGE = 500


def preview_rows(job: ChargeImport, *, problems_only=False, after=0, size=PREVIEW_PAGE):
    """A page of the import's rows in file order after row `after` (keyset), and the row to
    continue after (None on the last page). The rows are the import's JSON; once it is done,
    one query tells which of the page's lines were charged."""
    page, next_after = [], None
    for data in job.rows:
        if data["row"] <= after or (problems_only and _stored_status(data) == VALID):
            continue
        if len(page) == size:
            next_after = page[-1]["row"]
            break
        page.append(data)
    charged = set()
    if job.status == ChargeImport.Status.DONE:
        charged = _imported_references(d["reference"] for d in page)
    return [_preview_row(data, job, charged) for data in page], next_after


def _preview_row(data: dict, job: ChargeImport, charged: set[str]) -> PreviewRow:
    status = _stored_status(data)
    if status == ALREADY_IMPORTED:
        label = _("Imported before")
    elif status == INVALID:
        label = _("Not imported")
    elif job.status != ChargeImport.Status.DONE:
        label = _("Ready")
    elif data["reference"] in charged:
        label = ChargeImport.Status.DONE.label  # "Imported"
    else:
        label = _("Refused on import")
    cells = data["cells"]
    amount = cells.get("amount", "")
    if not amount and data["amount"] is not None:
        amount = _("%(amount)s (price list)") % {"amount": data["amount"]}
    return PreviewRow(
        row=data["row"],
        visit=cells.get("visit", ""),
        visit_url=reverse("guide:visit_detail", args=[data["visit"]]) if data["visit"] else "",
        code=cells.get("code", ""),
        quantity=cells.get("quantity", "") or "1",
        amount=amount or "—",
        reference=cells.get("reference", "") or "—",
        charged_at=cells.get("charged_at", "") or _("when imported"),
        status=status,
        status_label=str(label),
        errors=" ".join(data["errors"]),
    )


def charge_import_create(*, file_name: str, raw: bytes, by, request_key: str = "") -> ChargeImport:
    """Read and check a billing file and keep it for the preview; no charge is written yet.
    Raises ImportFileError (nothing saved) when the file cannot be used. The upload form sent
    twice (`request_key`, its one-time key) keeps one import."""

    def write():
        rows = parse_charges(file_name, raw)
        return ChargeImport.objects.create(
            file_name=file_name[:200],
            uploaded_by=by,
            rows=[row.to_json() for row in rows],
            request_key=request_key,
        )

    return create_once(ChargeImport, request_key, write)[0]


class AlreadyDone(ValidationError):
    pass


def charge_import_confirm(*, job: ChargeImport, by, request=None) -> ChargeImport:
    """Write the valid rows (services.charges_import), each in its own savepoint, and record the
    counts. The import's row is locked for the whole run: a second confirmation (a double click,
    two clerks) waits, then finds the import done and writes nothing; and were it to run anyway,
    the unique reference would refuse every line a second time."""
    with transaction.atomic():
        locked = ChargeImport.objects.select_for_update().get(pk=job.pk)
        if locked.status == ChargeImport.Status.DONE:
            raise AlreadyDone(_("This file has already been imported; nothing was added again."))
        invalid_at_upload = status_counts(locked.rows)[INVALID]
        rows = rows_from_json(locked.rows)
        counts = services.charges_import(rows=[r for r in rows if r.status == VALID], by=by)
        refused_now = sum(r.status == INVALID for r in rows) - invalid_at_upload
        locked.result = {
            "imported": counts["imported"],
            # Already imported at the upload, since then, or meanwhile (the database refused).
            "duplicate": counts["duplicate"] + sum(r.status == ALREADY_IMPORTED for r in rows),
            # Fine at the upload, refused now (the visit left, the item was withdrawn).
            "failed": counts["failed"] + refused_now,
            # Rows with errors at the upload: never tried.
            "invalid": invalid_at_upload,
        }
        locked.status = ChargeImport.Status.DONE
        locked.imported_at = timezone.now()
        locked.save(update_fields=["result", "status", "imported_at"])
        audit.record(
            audit.Action.CREATE,
            actor=by,
            obj=locked,
            object_repr=audit.note(
                "guide.charge_import", file=locked.file_name[:100], imported=counts["imported"]
            ),
            request=request,
        )
    job.refresh_from_db()
    return job


def describe_charge_import(*, file: str, imported: int) -> str:
    """What the audit trail says of an import (zhongdu.audit.note)."""
    return ngettext(
        "%(file)s: %(n)s charge imported", "%(file)s: %(n)s charges imported", imported
    ) % {"file": file, "n": imported}
