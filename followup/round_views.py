"""Pages of market survey rounds (市场调查): the list, a new round (count the segment, then
confirm), the round with its sending progress and what the answers say, and the answers as a
workbook (audited; response numbers only, no names).

Access (zhongdu/roles.py PAGE_ACCESS): client management sends rounds; follow-up's readers read
them.
"""

import io

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from zhongdu import audit
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import survey_rounds, survey_selectors
from .survey_forms import SurveyRoundForm
from .survey_views import XLSX_TYPE


@require_GET
def round_list(request):
    page = keyset_page(survey_selectors.round_list(), before=request.GET.get("before"), size=25)
    language = get_language() or ""
    for survey_round in page.items:
        survey_round.survey_name = survey_round.template.name_in(language)
    context = {
        "page": page,
        "may_send": user_may_open(request.user, "followup:survey_round_new"),
    }
    return render(request, "followup/survey_round_list.html", context)


@require_http_methods(["GET", "POST"])
def round_new(request):
    form = SurveyRoundForm(request.POST or None)
    recipients = None
    if request.method == "POST" and form.is_valid():
        recipients = survey_rounds.round_recipients(form.segment()).count()
        if request.POST.get("confirm") == "yes" and recipients:
            try:
                survey_round = survey_rounds.round_create(
                    name=form.cleaned_data["name"],
                    template=form.cleaned_data["template"],
                    segment=form.segment(),
                    send_at=form.cleaned_data["send_at"],
                    by=request.user,
                    request=request,
                    request_key=form.cleaned_data["key"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(survey_round)
    context = {"form": form, "recipients": recipients}
    status = 422 if form.errors else 200
    return render(request, "followup/survey_round_new.html", context, status=status)


@require_GET
def round_detail(request, pk):
    survey_round = survey_selectors.round_get(pk)
    context = {
        "round": survey_round,
        "counts": survey_selectors.round_message_counts(survey_round),
    }
    if request.htmx:
        return render(request, "followup/_survey_round_progress.html", context)
    language = get_language() or "zh-hans"
    context["results"] = survey_selectors.round_results(survey_round, language=language)
    context["survey_name"] = survey_round.template.name_in(language)
    return render(request, "followup/survey_round_detail.html", context)


@require_GET
def round_export(request, pk):
    survey_round = survey_selectors.round_get(pk)
    response = HttpResponse(round_workbook(survey_round), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="market-survey-{survey_round.pk}.xlsx"'
    audit.record(audit.Action.EXPORT, obj=survey_round, request=request)
    return response


def round_workbook(survey_round) -> bytes:
    """One row per response, one column per question; a sheet about the round."""
    from openpyxl import Workbook

    english = (get_language() or "").startswith("en")
    questions = list(survey_round.template.questions.all())
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Answers")[:31]
    sheet.append(
        [
            _("Response number"),
            _("Answered at"),
            *[(q.text_en if english else "") or q.text for q in questions],
        ]
    )
    for response, answers in survey_selectors.round_answer_rows(survey_round):
        sheet.append(
            [
                response.pk,
                timezone.localtime(response.submitted_at).strftime("%Y-%m-%d %H:%M"),
                *[answers.get(q.pk, "") for q in questions],
            ]
        )
        for column in range(3, 3 + len(questions)):  # what people wrote: never a formula
            cell = sheet.cell(row=sheet.max_row, column=column)
            if isinstance(cell.value, str):
                cell.data_type = "s"
    about = workbook.create_sheet(title=_("About")[:31])
    about.append([_("Name"), survey_round.name])
    about.append([_("Survey"), survey_round.template.name_in(get_language() or "")])
    about.append([_("Invited"), survey_round.invited])
    send_at = timezone.localtime(survey_round.send_at)
    about.append([_("Send at"), send_at.strftime("%Y-%m-%d %H:%M")])
    about.append([_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
