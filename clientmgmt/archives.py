"""Reads of the archives (客户档案): the client management department's lists of clients by
archive category, for its maintenance round (seed: 负责来院就诊病人、会员及体检客户的健康档案分类
管理工作并进行定期维护), and their exports.

The client table has a million rows in the benchmark: the list is paged by keyset on id (newest
records first, ORDER BY id DESC LIMIT 51) and never counted; each selective filter has an index
(Client.Meta). Exports are capped at EXPORT_CAP rows, numbers masked.
"""

import csv
import datetime
import io

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Client
from .registry import visited_condition

PAGE_SIZE = 50
# An export is for a maintenance round or a mailing, not a copy of the database.
EXPORT_CAP = 5000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CATEGORIES = {
    "patient": "is_patient",
    "member": "is_member",
    "exam_client": "is_exam_client",
}
_LIST_FIELDS = (
    "id",
    "name",
    "sex",
    "date_of_birth",
    "phone",
    "id_number_masked",
    "is_patient",
    "is_member",
    "is_exam_client",
    "is_vip",
    "last_visit_at",
    "archive_reviewed_at",
    "status",
    "source_channel__name",
)


def months_ago(now: datetime.datetime, months: int) -> datetime.datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the month's
    last day)."""
    local = timezone.localtime(now)
    total = local.year * 12 + (local.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def archive_clients(filters: dict, *, now=None):
    """Active client records matching the archive list's filters, newest record first. Not
    counted, not evaluated: the caller pages it (zhongdu.pagination.keyset_page) or caps it."""
    now = now or timezone.now()
    qs = Client.objects.filter(status=Client.Status.ACTIVE)
    field = CATEGORIES.get(filters.get("category") or "")
    if field:
        qs = qs.filter(**{field: True})
    if filters.get("visited_from"):
        qs = qs.filter(last_visit_at__gte=_start_of(filters["visited_from"]))
    if filters.get("visited_before"):
        qs = qs.filter(last_visit_at__lt=_start_of(filters["visited_before"]))
    if filters.get("department"):
        # A page walks the records in id order and stops at its LIMIT (registry: paged).
        qs = qs.filter(visited_condition(filters["department"].pk, paged=True))
    if filters.get("channel"):
        qs = qs.filter(source_channel=filters["channel"])
    if filters.get("vip") == "yes":
        qs = qs.filter(is_vip=True)
    elif filters.get("vip") == "no":
        qs = qs.filter(is_vip=False)
    if filters.get("not_reviewed_months"):
        cutoff = months_ago(now, filters["not_reviewed_months"])
        qs = qs.filter(Q(archive_reviewed_at__isnull=True) | Q(archive_reviewed_at__lt=cutoff))
    return qs.select_related("source_channel").only(*_LIST_FIELDS).order_by("-id")


def archive_selected(client_ids):
    """The ticked records (merged ones left out), in the list's order."""
    return (
        Client.objects.filter(pk__in=client_ids)
        .exclude(status=Client.Status.MERGED)
        .select_related("source_channel")
        .only(*_LIST_FIELDS)
        .order_by("-id")
    )


def export_header() -> list[str]:
    return [
        _("Id"),
        _("Name"),
        _("Sex"),
        _("Date of birth"),
        _("Phone"),
        _("ID card"),
        _("Categories"),
        _("VIP"),
        _("Heard of us through"),
        _("Last visit"),
        _("Archive reviewed"),
    ]


def _day(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def export_rows(clients, *, user=None) -> list[list]:
    """One row per client, numbers masked (zhongdu.masking): never a full phone or ID number.
    A VIP's date of birth and ID number stay out unless `user` sees VIPs' whole records (the
    discretion rule, applied by clientmgmt.selectors.clients_shown_for_user); the channel and
    the review date are the archive's own bookkeeping, exported for every row."""
    from .selectors import clients_shown_for_user

    clients = list(clients)
    return [
        [
            shown.pk,
            shown.name,
            str(shown.get_sex_display()),
            shown.date_of_birth.isoformat() if shown.date_of_birth else "",
            shown.phone_masked,
            shown.id_number_masked or "",
            " ".join(str(label) for label in shown.categories),
            _("yes") if shown.is_vip else "",
            client.source_channel.name if client.source_channel_id else "",
            _day(shown.last_visit_at),
            _day(client.archive_reviewed_at),
        ]
        for client, shown in zip(clients, clients_shown_for_user(user, clients), strict=True)
    ]


def capped(queryset) -> tuple[list, bool]:
    """At most EXPORT_CAP records of `queryset`, and whether there were more."""
    clients = list(queryset[: EXPORT_CAP + 1])
    return clients[:EXPORT_CAP], len(clients) > EXPORT_CAP


def cap_note() -> str:
    return _(
        "Only the first %(cap)s rows were exported: narrow the filters to export the rest."
    ) % {"cap": f"{EXPORT_CAP:,}"}


def export_csv(rows: list[list], *, was_capped: bool) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(buffer)
    writer.writerow(export_header())
    writer.writerows([_safe(row) for row in rows])
    if was_capped:
        writer.writerow([cap_note()])
    return buffer.getvalue()


def _safe(row: list) -> list:
    # A name typed as "=..." must stay text when a spreadsheet opens the CSV (formula injection).
    return [f"'{cell}" if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in row]


def export_xlsx(rows: list[list], *, was_capped: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Archives")[:31]
    sheet.append(export_header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula for Excel to run
    if was_capped:
        sheet.append([cap_note()])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJK", (9, 12, 8, 12, 15, 22, 20, 6, 16, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
