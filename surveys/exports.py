"""Follow-up's workbooks (zhongdu.exports): the weekly satisfaction summary, whose tables the
page draws too (so the two cannot say different things), and a market survey round's answers."""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from zhongdu import exports

from . import selectors
from .models import Dimension


@dataclass
class Cell:
    value: object  # what the workbook holds
    display: str  # what the page shows


@dataclass
class SummaryTable:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = ""  # said instead of the table when it has no rows


def _text(value) -> Cell:
    return Cell(str(value), str(value))


def _number(value) -> Cell:
    return Cell(value, "—" if value is None else str(value))


def _average(value) -> Cell:
    if value is None:
        return Cell(None, "—")
    value = round(float(value), 2)
    return Cell(value, f"{value:.2f}")


def weekly_tables(summary: dict) -> list[SummaryTable]:
    """The summary's tables, in the page's order; the workbook writes the same ones."""
    counts = summary["counts"]
    dimensions = selectors.SUMMARY_DIMENSIONS
    labels = [str(Dimension(d).label) for d in dimensions]
    no_answers = _("No answers this week.")
    by_dimension = summary["by_dimension"]
    by_department = summary["by_department"]
    n = summary["recommend_count"]
    return [
        SummaryTable(
            "counts",
            _("Responses"),
            [_("Figure"), pgettext("how many", "Number")],
            [
                [_text(_("Responses")), _number(counts["total"])],
                [_text(_("From the survey page")), _number(counts["survey"])],
                [_text(_("From return-visit calls")), _number(counts["call"])],
                [_text(_("Needing service recovery")), _number(counts["recovery"])],
            ],
        ),
        SummaryTable(
            "dimensions",
            _("Average score by dimension (1–5)"),
            [_("Dimension"), _("Average"), _("Answers")],
            [
                [
                    _text(label),
                    _average(by_dimension.get(d, {}).get("average")),
                    _number(by_dimension.get(d, {}).get("count", 0)),
                ]
                for d, label in zip(dimensions, labels, strict=True)
            ],
        ),
        SummaryTable(
            "recommend",
            _("Would recommend (0–10)"),
            [_("Figure"), _("Value")],
            [
                [_text(_("Average")), _average(summary["recommend_average"])],
                [_text(_("Net promoter score (NPS)")), _number(summary["nps"])],
                [_text(_("Answers")), _number(n)],
                [_text(_("Promoters (9–10)")), _number(summary["promoters"])],
                [_text(_("Detractors (0–6)")), _number(summary["detractors"])],
            ]
            if n
            else [],
            empty=no_answers,
        ),
        SummaryTable(
            "departments",
            _("Average score by department (1–5)"),
            [_("Department"), *labels],
            [
                [
                    _text(department or _("Not recorded")),
                    *(_average(scores.get(d, {}).get("average")) for d in dimensions),
                ]
                for department, scores in by_department
            ],
            empty=no_answers,
        ),
    ]


def weekly_workbook(summary: dict, comments: list[dict]) -> exports.Export:
    """The page's tables on one sheet, the comments (the weekly page's rows, which name no VIP) on
    another."""
    start, end = summary["start"].isoformat(), summary["end"].isoformat()
    book = exports.XlsxBook()
    sheet = book.sheet(_("Weekly summary"))
    title = _("Customer satisfaction, week of %(start)s to %(end)s") % {"start": start, "end": end}
    sheet.append([title], bold=True, size=13)
    for table in weekly_tables(summary):
        sheet.append([])
        sheet.append([table.title], bold=True)
        sheet.append(table.columns)
        if not table.rows:
            sheet.append([table.empty])
        for row in table.rows:
            sheet.append([cell.value for cell in row])
    sheet.widths({"A": 32})
    rows = comments
    comments = book.sheet(_("Comments"))
    comments.append(
        [
            _("Date"),
            _("Department"),
            _("Source"),
            _("Needs service recovery"),
            _("Client number"),
            _("Comment"),
        ]
    )
    for row in rows:
        comments.append(
            [
                row["date"],
                row["department"],
                row["source"],
                _("Yes") if row["needs_recovery"] else _("No"),
                row["client_id"],
                row["comment"],
            ]
        )
    comments.widths({"F": 80})
    note = book.sheet(_("About"))
    note.append([_("Week"), f"{start} – {end}"])
    note.append([_("Time zone"), str(timezone.get_default_timezone())])
    note.append([_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    note.append(
        [
            _("What is counted"),
            _(
                "Satisfaction answers given on the survey page and on return-visit calls that"
                " week; market surveys are not counted."
            ),
        ]
    )
    note.append(
        [
            _("NPS"),
            _("Promoters (9–10) minus detractors (0–6), in per cent of the recommend answers."),
        ]
    )
    return book.export()


def round_workbook(survey_round) -> exports.Export:
    """One row per response, one column per question; a sheet about the round."""
    english = (get_language() or "").startswith("en")
    questions = list(survey_round.template.questions.all())
    book = exports.XlsxBook()
    sheet = book.sheet(_("Answers"))
    sheet.append(
        [
            _("Response number"),
            _("Answered at"),
            *[(q.text_en if english else "") or q.text for q in questions],
        ]
    )
    for response, answers in selectors.round_answer_rows(survey_round):
        sheet.append(
            [
                response.pk,
                timezone.localtime(response.submitted_at).strftime("%Y-%m-%d %H:%M"),
                *[answers.get(q.pk, "") for q in questions],
            ]
        )
    about = book.sheet(_("About"))
    about.append([_("Survey name"), survey_round.name])
    about.append([_("Questionnaire"), survey_round.template.name_in(get_language() or "")])
    about.append([_("Invited"), survey_round.invited])
    send_at = timezone.localtime(survey_round.send_at)
    about.append([_("Send at"), send_at.strftime("%Y-%m-%d %H:%M")])
    about.append([_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    return book.export()
