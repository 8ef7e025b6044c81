"""A VIP's costs as a workbook (zhongdu.exports): the page's figures on a first sheet, every
line on a second."""

from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import exports


def costs_workbook(standing, summary, lines, *, first, last) -> exports.Export:
    """The page's figures on a first sheet, every line on a second."""
    book = exports.XlsxBook()
    sheet = book.sheet(_("Costs"))
    sheet.append([_("VIP costs of %(name)s") % {"name": standing.client.name}], bold=True, size=13)
    sheet.append([_("Period"), f"{first.isoformat()} – {last.isoformat()}"])
    sheet.append([_("Spend (yuan)"), summary["spend"]])
    sheet.append([_("List value (yuan)"), summary["listed"]])
    sheet.append([_("Discount (yuan)"), summary["discount"]])
    sheet.append([])
    sheet.append([_("By month")], bold=True)
    sheet.append([_("Month"), _("Spend (yuan)")])
    for row in summary["by_month"]:
        sheet.append([timezone.localtime(row["month"]).strftime("%Y-%m"), row["total"]])
    sheet.append([])
    sheet.append([_("By item")], bold=True)
    sheet.append([_("Code"), _("Item"), _("Quantity"), _("Spend (yuan)")])
    for row in summary["by_item"]:
        sheet.append([row["price_item__code"], row["price_item__name"], row["count"], row["total"]])
    sheet.widths({"A": 24, "B": 30})
    detail = book.sheet(_("Lines"))
    detail.append(
        [
            _("Charged at"),
            _("Code"),
            _("Item"),
            _("Department"),
            _("Quantity"),
            _("Unit price (yuan)"),
            _("Amount (yuan)"),
            _("Voided"),
        ]
    )
    for line in lines:
        department = line.visit.department.name if line.visit.department_id else ""
        detail.append(
            [
                timezone.localtime(line.charged_at).strftime("%Y-%m-%d %H:%M"),
                line.price_item.code,
                line.price_item.name,
                department,
                line.quantity,
                line.unit_price,
                line.amount,
                (line.void_reason or _("yes")) if line.voided_at else "",
            ]
        )
    detail.widths({"A": 18, "C": 30})
    return book.export()
