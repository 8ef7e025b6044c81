"""Pages of market survey rounds (市场调查): the list, a new round (count the segment, then
confirm), the round with its sending progress and what the answers say, and the answers as a
workbook (audited; response numbers only, no names).

Access (zhongdu/roles.py PAGE_ACCESS): client management sends rounds; follow-up's readers read
them.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from zhongdu.exports import audited_download
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import exports, survey_rounds, survey_selectors
from .survey_forms import SurveyRoundForm


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
    return audited_download(
        request,
        exports.round_workbook(survey_round),
        filename=f"market-survey-{survey_round.pk}",
        obj=survey_round,
    )
