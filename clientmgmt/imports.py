"""Reading legacy client lists (CSV in UTF-8 or GBK, or Excel .xlsx) into checked rows.

Column headers may be Chinese or English; unknown columns are ignored. Each row is checked with
the same rules as the client form, so the preview shows exactly what the import will refuse.
"""

import csv
import datetime
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zhongdu import phones
from zhongdu.controlchars import cells_checked

from . import validation

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024

HEADERS = {
    "name": ("name", "姓名", "客户姓名", "名字"),
    "sex": ("sex", "gender", "性别"),
    "date_of_birth": ("date_of_birth", "birth date", "birthday", "出生日期", "生日"),
    "phone": ("phone", "mobile", "手机", "手机号", "手机号码", "电话", "联系电话"),
    "id_number": ("id_number", "id card", "身份证", "身份证号", "身份证号码"),
    "other_contact": ("other_contact", "other contact", "其他联系方式", "微信"),
    "notes": ("notes", "note", "备注"),
}
SEX_VALUES = {
    "男": "male",
    "m": "male",
    "male": "male",
    "女": "female",
    "f": "female",
    "female": "female",
}


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is for the user."""


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file is neither UTF-8 nor GBK text."))


def read_table(name: str, raw: bytes) -> list[list[str]]:
    if len(raw) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB; split it into smaller files."))
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        # A read-only workbook is read lazily: a damaged sheet fails while its rows are read,
        # so the reading is inside the guard too.
        try:
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).active
            return [
                ["" if cell is None else _cell_text(cell) for cell in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ImportFileError(_("This Excel file cannot be read.")) from exc
    if name.lower().endswith((".csv", ".txt")):
        try:
            return list(csv.reader(io.StringIO(_decode(raw))))
        except csv.Error as exc:  # a field over csv's size limit, a NUL byte
            raise ImportFileError(_("This CSV file cannot be read.")) from exc
    raise ImportFileError(_("Upload a .csv or .xlsx file."))


def read_records(
    name: str, raw: bytes, columns_of, *, max_rows: int, too_many
) -> list[tuple[int, dict[str, str]]]:
    """The file's non-empty rows below its header, each as (its row number in the file, its
    cells by field name): `columns_of(header)` maps column indexes to field names (raising
    ImportFileError for a header it cannot use); `too_many` is the message for a file of more
    than `max_rows` rows (with %(count)s). The one reading of an uploaded table every importer
    shares; raises ImportFileError when the file as a whole cannot be used."""
    table = read_table(name, raw)
    if not table:
        raise ImportFileError(_("The file is empty."))
    columns = columns_of(table[0])
    body = [
        (n, cells)
        for n, cells in enumerate(table[1:], start=2)
        if any(str(c).strip() for c in cells)
    ]
    if not body:
        raise ImportFileError(_("The file has no rows below its header."))
    if len(body) > max_rows:
        raise ImportFileError(too_many % {"count": max_rows})
    return [
        (
            number,
            {name: str(cells[i]).strip() if i < len(cells) else "" for i, name in columns.items()},
        )
        for number, cells in body
    ]


def _cell_text(cell) -> str:
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel stores phone numbers as floats
    return str(cell).strip()


def map_headers(header_row: list[str]) -> dict[int, str]:
    lookup = {alias.lower(): field for field, aliases in HEADERS.items() for alias in aliases}
    columns = {}
    for index, title in enumerate(header_row):
        field = lookup.get(str(title).strip().lower())
        if field and field not in columns.values():
            columns[index] = field
    if "name" not in columns.values():
        raise ImportFileError(_("The first row must name the columns, including 姓名 (name)."))
    return columns


def _parse_date(text: str):
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    raise ValidationError(_("Write the date of birth as 1985-06-01."))


def check_row(values: dict[str, str]) -> tuple[dict, list[str]]:
    """(cleaned data for client_create, error messages) for one row."""
    values, errors = cells_checked(values, multiline=("notes",))
    cleaned = {}

    def attempt(field, func):
        try:
            cleaned[field] = func(values.get(field, ""))
        except ValidationError as exc:
            errors.extend(exc.messages)

    attempt("name", validation.clean_name)
    attempt("phone", phones.normalise)
    attempt("id_number", validation.clean_id_number)
    born = values.get("date_of_birth", "").strip()
    if born:
        attempt("date_of_birth", lambda text: validation.clean_date_of_birth(_parse_date(text)))
    sex = values.get("sex", "").strip().lower()
    if sex and sex not in SEX_VALUES:
        errors.append(_("Write the sex as 男 or 女."))
    cleaned["sex"] = SEX_VALUES.get(sex, "unknown")
    cleaned["other_contact"] = values.get("other_contact", "")[:100]
    cleaned["notes"] = values.get("notes", "")
    id_number, dob = cleaned.get("id_number"), cleaned.get("date_of_birth")
    if id_number and dob and validation.id_number_birth_date(id_number) != dob:
        errors.append(_("The ID card number's birth date is not the date of birth."))
    if not cleaned.get("phone") and not id_number:
        errors.append(_("Give at least a phone or an ID card number."))
    return cleaned, errors
