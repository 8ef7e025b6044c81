"""The monthly satisfaction report as an Excel workbook: the same figures as the page, one
sheet per section, this month beside the previous one."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from followup.models import Dimension


def _safe(value):
    """Text that Excel would read as a formula stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def workbook(data: dict, previous: dict | None) -> bytes:
    book = Workbook()
    summary = book.active
    summary.title = _("Summary")[:31]
    prev = previous or {}
    summary.append([_("Figure"), data["month"], prev.get("month", "")])

    def both(label, path):
        def get(d):
            for part in path:
                d = (d or {}).get(part)
            return d

        summary.append([label, get(data), get(prev)])

    both(_("Responses"), ["responses", "total"])
    both(_("From the survey page"), ["responses", "survey"])
    both(_("From return-visit calls"), ["responses", "call"])
    both(_("Overall average (1–5)"), ["overall", "average"])
    both(_("NPS"), ["nps", "score"])
    both(_("Recommend average (0–10)"), ["nps", "average"])
    both(_("Survey links sent"), ["invitations", "sent"])
    both(_("Survey response rate (%)"), ["invitations", "rate"])
    both(_("Return-visit calls due"), ["calls", "due"])
    both(_("Return-visit completion (%)"), ["calls", "completion"])
    both(_("Complaints"), ["complaints", "total"])
    both(_("Median working hours to acknowledge"), ["complaints", "acknowledge_median"])
    both(_("Median working hours to resolve"), ["complaints", "resolve_median"])
    both(_("Deadlines missed (acknowledge)"), ["complaints", "missed_acknowledge"])
    both(_("Deadlines missed (resolve)"), ["complaints", "missed_resolve"])
    sheet = book.create_sheet(_("Dimensions")[:31])
    sheet.append([_("Dimension"), _("Average"), _("Answers"), _("Previous month")])
    for key, values in data["dimensions"].items():
        before = prev.get("dimensions", {}).get(key, {})
        sheet.append(
            [str(Dimension(key).label), values["average"], values["count"], before.get("average")]
        )
    for title, key in (
        (_("Departments"), "departments"),
        (_("Doctors"), "doctors"),
        (_("Channels"), "channels"),
    ):
        sheet = book.create_sheet(str(title)[:31])
        sheet.append([str(title), _("Average"), _("Answers"), _("Responses")])
        for row in data[key]:
            sheet.append(
                [
                    _safe(row["name"] or _("Not recorded")),
                    row["average"],
                    row["answers"],
                    row["responses"],
                ]
            )
    sheet = book.create_sheet(_("Trend")[:31])
    sheet.append([_("Month"), _("Average"), _("NPS"), _("Responses")])
    for point in data.get("trend", []):
        sheet.append([point["month"], point["average"], point["nps"], point["responses"]])
    sheet = book.create_sheet(_("Lowest rated")[:31])
    sheet.append(
        [_("Date"), _("Department"), _("Doctor"), _("Lowest score"), _("Recommend"), _("Comment")]
    )
    for row in data["lowest"]:
        sheet.append(
            [
                row["date"],
                _safe(row["department"]),
                _safe(row["doctor"]),
                row["lowest"],
                row["recommend"],
                _safe(row["comment"]),
            ]
        )
    sheet = book.create_sheet(_("Complaints")[:31])
    sheet.append([_("Department"), _("Complaints")])
    for name, count in data["complaints"]["by_department"]:
        sheet.append([_safe(name), count])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
