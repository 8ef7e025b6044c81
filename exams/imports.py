"""An order's results from the laboratory's export (CSV in UTF-8 or GBK, or Excel .xlsx), read
through the shared importer (clientmgmt.imports.read_records and its guards).

Columns in Chinese or English: 项目编码 / code (the examination's price-list code), 结果 / value,
and where given 单位 / unit (checked against the definition's). Each row's outcome is decided
before anything is written: recorded, unchanged (the value in force is the same), a correction
(the results are released and the value differs: recorded only with a reason for the whole
import), or an error with its reason (unknown code, not in this order, not a number, not one of
the answers, a report file ...).

Nothing is written until the preview is confirmed. The preview's rows (codes and values, no
names) travel in the confirm form, signed for this order and this user and encrypted (they are
health information), valid for an hour; they are judged again at the confirmation, under the
order's lock, so what changed in between is respected and confirming twice records nothing new
(the values are then unchanged).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt.imports import ImportFileError, read_records
from guide.models import ExamOrder
from zhongdu import crypto
from zhongdu.controlchars import cells_checked
from zhongdu.models import PriceItem

from . import services
from .models import ExamResult, ResultDefinition, ResultRelease

MAX_ROWS = 500
PREVIEW_MAX_AGE = 3600  # seconds between the preview and its confirmation

HEADERS = {
    "code": ("code", "item code", "项目编码", "编码", "项目代码", "检验编码", "代码"),
    "value": ("value", "result", "结果", "检验结果", "结果值", "数值"),
    "unit": ("unit", "单位", "结果单位"),
}

RECORD, UNCHANGED, CORRECTION, ERROR = "record", "unchanged", "correction", "error"
OUTCOMES = {
    RECORD: (gettext_lazy("Will be recorded"), "success"),
    UNCHANGED: (gettext_lazy("Unchanged"), "secondary"),
    CORRECTION: (gettext_lazy("Correction: needs a reason"), "warning"),
    ERROR: (gettext_lazy("Not imported"), "danger"),
}


class PreviewExpired(Exception):
    """The confirmation's rows cannot be read back; the message is for the user."""


@dataclass
class ImportRow:
    number: int
    code: str = ""
    value: str = ""
    unit: str = ""
    errors: list[str] = field(default_factory=list)
    outcome: str = ""
    detail: str = ""
    name: str = ""  # the examination's name, once matched
    parsed: Decimal | None = None
    item: object = None

    @property
    def label(self) -> str:
        return str(OUTCOMES[self.outcome][0]) if self.outcome else ""

    @property
    def css(self) -> str:
        return OUTCOMES[self.outcome][1] if self.outcome else ""


def _columns(header_row) -> dict[int, str]:
    lookup = {alias.lower(): name for name, aliases in HEADERS.items() for alias in aliases}
    columns = {}
    for index, title in enumerate(header_row):
        name = lookup.get(str(title).strip().lower())
        if name and name not in columns.values():
            columns[index] = name
    if not {"code", "value"} <= set(columns.values()):
        raise ImportFileError(
            _("The first row must name the columns, including 项目编码 (code) and 结果 (value).")
        )
    return columns


def read_rows(file_name: str, raw: bytes) -> list[ImportRow]:
    """The file's rows with their cells; raises ImportFileError when the file as a whole
    cannot be used."""
    records = read_records(
        file_name,
        raw,
        _columns,
        max_rows=MAX_ROWS,
        too_many=_("At most %(count)s results per file; split the file."),
    )
    rows = []
    for number, values in records:
        values, errors = cells_checked(values)
        rows.append(ImportRow(number, errors=errors, **values))
    return rows


def _judge_row(row: ImportRow, definition: ResultDefinition, result, released: bool) -> None:
    """The outcome of a row whose examination is in the order."""
    if definition.kind == ResultDefinition.Kind.FILE:
        row.outcome, row.detail = ERROR, _("A report file is attached on the results page.")
        return
    if row.unit and definition.unit and row.unit != definition.unit:
        row.outcome = ERROR
        row.detail = _("The unit %(unit)s is not this examination's (%(expected)s).") % {
            "unit": row.unit,
            "expected": definition.unit,
        }
        return
    number, text = None, row.value
    try:
        if definition.kind == ResultDefinition.Kind.NUMBER:
            number = row.parsed = services.parse_number(row.value, definition)
            text = ""
        elif definition.kind == ResultDefinition.Kind.CHOICE:
            answers = [choice["value"] for choice in definition.choices]
            if row.value not in answers:
                raise ValidationError(
                    _("Not one of the answers: %(answers)s.") % {"answers": "、".join(answers)}
                )
        elif not row.value:
            raise ValidationError(_("Write the result."))
        elif len(row.value) > 500:
            raise ValidationError(_("Keep the result under 500 characters."))
    except ValidationError as exc:
        row.outcome, row.detail = ERROR, " ".join(exc.messages)
        return
    if result is not None and services.value_unchanged(result, number=number, text=text):
        row.outcome = UNCHANGED
    elif result is not None and released:
        row.outcome = CORRECTION
    else:
        row.outcome = RECORD


def match_rows(rows: list[ImportRow], *, order: ExamOrder, released: bool) -> list[ImportRow]:
    """Decide each row's outcome against the order (three queries for the file)."""
    items = {
        item.price_item.code: item
        for item in order.items.select_related("price_item__result_definition")
    }
    results = {r.item_id: r for r in ExamResult.objects.filter(order=order)}
    codes = {row.code for row in rows if row.code and row.code not in items}
    known = set(PriceItem.objects.filter(code__in=codes).values_list("code", flat=True))
    seen: dict[str, int] = {}
    for row in rows:
        row.outcome, row.detail, row.item, row.name, row.parsed = "", "", None, "", None
        if row.errors:
            row.outcome, row.detail = ERROR, " ".join(row.errors)
            continue
        if not row.code:
            row.outcome, row.detail = ERROR, _("The row has no examination code.")
            continue
        if row.code in seen:
            row.outcome = ERROR
            row.detail = _("Same examination as row %(row)s.") % {"row": seen[row.code]}
            continue
        seen[row.code] = row.number
        item = items.get(row.code)
        if item is None:
            row.outcome = ERROR
            row.detail = (
                _("This examination is not in this order.")
                if row.code in known
                else _("Unknown examination code.")
            )
            continue
        row.item, row.name = item, item.price_item.name
        definition = getattr(item.price_item, "result_definition", None)
        if definition is None:
            row.outcome, row.detail = ERROR, _("This examination yields no result to record.")
            continue
        _judge_row(row, definition, results.get(item.pk), released)
    return rows


# --- The preview travels in the confirm form --------------------------------------------


def _salt(order, user) -> str:
    return f"exams.result_import:{order.pk}:{user.pk}"


def preview_dump(rows: list[ImportRow], *, file_name: str, order, user) -> str:
    data = {
        "file": file_name[:200],
        "rows": [
            [r.number, r.code, r.value, r.unit] for r in rows if r.outcome in (RECORD, CORRECTION)
        ],
    }
    return crypto.encrypt(signing.dumps(data, salt=_salt(order, user), compress=True))


def preview_load(payload: str, *, order, user) -> tuple[str, list[ImportRow]]:
    try:
        data = signing.loads(
            crypto.decrypt(payload), salt=_salt(order, user), max_age=PREVIEW_MAX_AGE
        )
    except (ValueError, signing.BadSignature):
        raise PreviewExpired(
            _("This preview has expired or was not made here; upload the file again.")
        ) from None
    rows = [
        ImportRow(number, code=code, value=value, unit=unit)
        for number, code, value, unit in data["rows"]
    ]
    return data["file"], rows


# --- The confirmation -------------------------------------------------------------------


def results_import_apply(*, order: ExamOrder, rows: list[ImportRow], reason: str, by, request=None):
    """Record the rows that are still to record, as imported values, in one transaction (one
    file, all or nothing). The rows are judged again under the order's lock: a confirmation
    posted twice, or racing itself, finds its values in force and records nothing new. After
    the release, a row that changes a value is a correction: recorded with `reason`, left out
    without one. Returns the counts (recorded, unchanged, skipped)."""
    counts = {"recorded": 0, "unchanged": 0, "skipped": 0}
    with transaction.atomic():
        # The order's row lock, as result_record's: one writer of this order's results at a time.
        order = ExamOrder.objects.select_for_update().select_related("client").get(pk=order.pk)
        released = ResultRelease.objects.filter(order=order).exists()
        for row in match_rows(rows, order=order, released=released):
            if row.outcome == UNCHANGED:
                counts["unchanged"] += 1
                continue
            if row.outcome == ERROR or (row.outcome == CORRECTION and not reason):
                counts["skipped"] += 1
                continue
            value = {"number": row.parsed} if row.parsed is not None else {"text": row.value}
            services.result_record(
                item=row.item,
                by=by,
                reason=reason if released else "",
                source=ExamResult.Source.IMPORTED,
                request=request,
                **value,
            )
            counts["recorded"] += 1
    return counts
