"""Reads of the archives (客户档案): the client management department's lists of clients by
archive category, for its maintenance round (seed: 负责来院就诊病人、会员及体检客户的健康档案分类
管理工作并进行定期维护), and their exports.

The client table has a million rows in the benchmark: the list is paged by keyset on id (newest
records first, ORDER BY id DESC LIMIT 51) and never counted; each selective filter has an index
(Client.Meta). Exports are capped at EXPORT_CAP rows, numbers masked.
"""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import exports

from .exports import CLIENT_COLUMNS, client_rows
from .models import Client
from .registry import visited_condition

PAGE_SIZE = 50
# An export is for a maintenance round or a mailing, not a copy of the database.
EXPORT_CAP = 5000

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


def export_header() -> list:
    return [
        *CLIENT_COLUMNS,
        _("VIP"),
        _("Heard of us through"),
        _("Last visit"),
        _("Archive reviewed"),
    ]


def _day(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def _archive_cells(client) -> list:
    return [
        _("yes") if client.is_vip else "",
        client.source_channel.name if client.source_channel_id else "",
        _day(client.last_visit_at),
        _day(client.archive_reviewed_at),
    ]


def export_rows(clients, *, user=None) -> list[list]:
    """One row per client, numbers masked and the VIP discretion rule applied
    (clientmgmt.exports.client_rows), then the archive's own columns."""
    return client_rows(clients, user=user, extra=_archive_cells)


def capped(queryset) -> tuple[list, bool]:
    """At most EXPORT_CAP records of `queryset`, and whether there were more."""
    clients = list(queryset[: EXPORT_CAP + 1])
    return clients[:EXPORT_CAP], len(clients) > EXPORT_CAP


def cap_note() -> str:
    return _(
        "Only the first %(cap)s rows were exported: narrow the filters to export the rest."
    ) % {"cap": f"{EXPORT_CAP:,}"}


def export_file(rows: list[list], *, file_format: str, was_capped: bool) -> exports.Export:
    """The rows as CSV or as a workbook (zhongdu.exports), with the cap's note last."""
    footer = [[cap_note()]] if was_capped else []
    if file_format == "csv":
        return exports.csv_export(export_header(), rows, footer=footer)
    book = exports.XlsxBook()
    sheet = book.sheet(_("Archives"))
    sheet.append(export_header(), bold=True)
    sheet.append_rows(rows)
    for row in footer:
        sheet.append(row, bold=True)
    sheet.widths(dict(zip("ABCDEFGHIJK", (9, 12, 8, 12, 15, 22, 20, 6, 16, 12, 12), strict=True)))
    return book.export()
