"""The monthly satisfaction report as an Excel workbook: the same figures as the page, one
sheet per section, this month beside the previous one (zhongdu.exports)."""

from django.utils.translation import gettext as _

from surveys.models import Dimension
from zhongdu import exports


def workbook(data: dict, previous: dict | None) -> exports.Export:
    book = exports.XlsxBook()
    summary = book.sheet(_("Summary"))
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
    sheet = book.sheet(_("Dimensions"))
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
        sheet = book.sheet(title)
        sheet.append([str(title), _("Average"), _("Answers"), _("Responses")])
        for row in data[key]:
            sheet.append(
                [
                    row["name"] or _("Not recorded"),
                    row["average"],
                    row["answers"],
                    row["responses"],
                ]
            )
    sheet = book.sheet(_("Trend"))
    sheet.append([_("Month"), _("Average"), _("NPS"), _("Responses")])
    for point in data.get("trend", []):
        sheet.append([point["month"], point["average"], point["nps"], point["responses"]])
    sheet = book.sheet(_("Lowest rated"))
    sheet.append(
        [_("Date"), _("Department"), _("Doctor"), _("Lowest score"), _("Recommend"), _("Comment")]
    )
    for row in data["lowest"]:
        sheet.append(
            [
                row["date"],
                row["department"],
                row["doctor"],
                row["lowest"],
                row["recommend"],
                row["comment"],
            ]
        )
    sheet = book.sheet(_("Complaints"))
    sheet.append([_("Department"), _("Complaints")])
    for name, count in data["complaints"]["by_department"]:
        sheet.append([name, count])
    return book.export()
