"""The survey pages.

- The public survey at /s/<token>/ (name "survey", config/urls.py): no sign-in, the token is
  the key. It shows the person's first name and the visit date and nothing else about them.
- The weekly satisfaction summary for the marketing department (每周填写医院客户满意度调查表),
  printable and exported to Excel (audited), and the list of responses.
- Market survey rounds (市场调查): the list, a new round (count the segment, then confirm), the
  round with its sending progress and what the answers say, and the answers as a workbook
  (audited; response numbers only, no names).

Access (zhongdu/roles.py PAGE_ACCESS): the survey is public; the summary, the responses and the
rounds are follow-up's readers'; client management sends rounds. (The visit slip that prints the
survey's QR code is the return-visit desk's page: followup/views.py.)
"""

import datetime

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clientmgmt.selectors import clients_shown_for_user
from zhongdu.exports import audited_download
from zhongdu.forms import SHOWN_FIRST_DAY, SHOWN_LAST_DAY
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import exports, selectors, services
from .forms import ResponseFilterForm, SurveyForm, SurveyRoundForm, WeekForm

# Two-character surnames: the given name starts after them (欧阳娜娜 → 娜娜).
# (A split string: thirty quoted pairs would take thirty lines once formatted.)
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 令狐 慕容 司徒 夏侯 尉迟 长孙 宇文 公孙 轩辕 独孤 南宫 西门"  # noqa: SIM905
    " 端木 百里 呼延 万俟 澹台 闻人 申屠 太史 濮阳 钟离 赫连 拓跋".split()
)


def first_name(name: str) -> str:
    """What the survey calls the person: the given name, never the full name. Chinese names
    lose the surname (王小红 → 小红, 欧阳娜娜 → 娜娜; a one-character name stays whole); names
    written with a separating dot (买买提·艾力) and Latin names keep their first part."""
    name = (name or "").strip()
    for separator in ("·", "•", " "):
        if separator in name:
            return name.split(separator)[0]
    if not name or name.isascii():
        return name
    if name[:2] in COMPOUND_SURNAMES and len(name) > 2:
        return name[2:]
    return name[1:] if len(name) > 1 else name


def _english() -> bool:
    return (get_language() or "").startswith("en")


# --- The public survey --------------------------------------------------------------


def _survey_page(request, page, invitation=None, status=200, **context):
    english = _english()
    if invitation is not None:
        template = invitation.template
        context |= {
            "survey_name": (template.name_en if english else "") or template.name,
            "intro": (template.intro_en if english else "") or template.intro,
        }
    response = render(request, f"surveys/{page}.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"  # a personal link: never in a search engine
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token):
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        # The same answer for every unknown token: it tells nothing about which links exist.
        return _survey_page(request, "survey_invalid", status=404)
    if invitation.used_at is not None:
        thanks = request.GET.get("thanks") == "1"
        return _survey_page(request, "survey_thanks" if thanks else "survey_answered", invitation)
    if invitation.is_expired:
        return _survey_page(request, "survey_invalid", status=410, expired=True)
    form = SurveyForm(request.POST or None, template=invitation.template, english=_english())
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_submit(invitation=invitation, answers=form.answers())
        except ValidationError as exc:
            if exc.code == "used":  # answered in another tab a moment ago
                return _survey_page(request, "survey_answered", invitation)
            if exc.code == "expired":
                return _survey_page(request, "survey_invalid", status=410, expired=True)
            form.add_error(None, exc)
        else:
            return redirect(reverse("survey", args=[token]) + "?thanks=1")
    visit = invitation.visit
    return _survey_page(
        request,
        "survey",
        invitation,
        status=422 if form.is_bound else 200,
        form=form,
        name=first_name(invitation.client.name),
        visit_day=visit.day if visit else None,
        missing=[item for item in form.items if item["field"].errors],
        # "Your other answers are kept" only when there were some.
        kept=form.is_bound and any(form.data.get(name) for name in form.fields),
    )


# --- The weekly summary -------------------------------------------------------------


def _shown_clients(user, clients) -> set[int]:
    """The ids of the clients a page's rows may name: not VIPs, unless the reader sees VIPs'
    whole records (the discretion rule, asked once for the page; the workbook, user None, never
    names a VIP)."""
    return {client.pk for client in clients_shown_for_user(user, clients) if client.whole}


def _comment_rows(summary: dict, user) -> list[dict]:
    may_open_client = user is not None and user_may_open(user, "clientmgmt:client_detail")
    rows = []
    shown_ids = _shown_clients(user, (response.client for response in summary["comments"]))
    for response in summary["comments"]:
        shown = response.client_id in shown_ids
        rows.append(
            {
                "date": timezone.localtime(response.submitted_at).date(),
                "department": response.department.name if response.department else "",
                "source": response.get_source_display(),
                "needs_recovery": response.needs_recovery,
                "comment": response.comment,
                "client_id": response.client_id if shown else "",
                "client_url": reverse("clientmgmt:client_detail", args=[response.client_id])
                if may_open_client and shown
                else "",
            }
        )
    return rows


def _week(request) -> tuple[WeekForm, datetime.date]:
    """The form and the day it asks for; today when the day is missing or malformed (the form
    then carries the error)."""
    form = WeekForm(request.GET or None)
    return form, form.day or timezone.localdate()


@require_GET
def weekly(request):
    form, day = _week(request)
    summary = selectors.weekly_summary(day)
    start = summary["start"]
    week = datetime.timedelta(days=7)
    this_week = selectors.week_bounds(timezone.localdate())[0].date()
    context = {
        "form": form,
        "summary": summary,
        "tables": exports.weekly_tables(summary),
        "comments": _comment_rows(summary, request.user),
        "is_this_week": start == this_week,
        "previous_week": start - week if start - week >= SHOWN_FIRST_DAY else None,
        "next_week": start + week if start + week <= SHOWN_LAST_DAY else None,
        "export_url": reverse("surveys:weekly_export")
        + "?"
        + urlencode({"week": start.isoformat()}),
        "may_open_responses": user_may_open(request.user, "surveys:response_list"),
    }
    return render(request, "surveys/survey_weekly.html", context)


@require_GET
def weekly_export(request):
    form, day = _week(request)
    if form.errors:
        # Not a workbook of a week nobody asked for: back to the page, which says what is wrong.
        return redirect(reverse("surveys:weekly") + "?" + request.GET.urlencode())
    summary = selectors.weekly_summary(day)
    start = summary["start"].isoformat()
    return audited_download(
        request,
        exports.weekly_workbook(summary, _comment_rows(summary, user=None)),
        filename=f"survey-week-{start}",
        object_type="surveys.survey_weekly",
        object_id=start,
        object_repr=f"{start}–",
    )


# --- Responses ----------------------------------------------------------------------


@require_GET
def response_list(request):
    form = ResponseFilterForm(request.GET or None)
    page = keyset_page(selectors.response_list(**form.filters()), before=request.GET.get("before"))
    english = _english()
    shown_ids = _shown_clients(request.user, (response.client for response in page.items))
    for response in page.items:
        response.client_shown = response.client_id in shown_ids
        template = response.template
        response.survey_name = (
            ((template.name_en if english else "") or template.name) if template else ""
        )
    query = request.GET.copy()
    query.pop("before", None)
    first_url = "?" + query.urlencode()
    next_url = ""
    if page.next_before:
        query["before"] = page.next_before
        next_url = "?" + query.urlencode()
    context = {
        "form": form,
        "page": page,
        "first_url": first_url,
        "next_url": next_url,
        "may_open_client": user_may_open(request.user, "clientmgmt:client_detail"),
        "may_open_call": user_may_open(request.user, "followup:call_detail"),
    }
    return render(request, "surveys/response_list.html", context)


# --- Market survey rounds ------------------------------------------------------------


@require_GET
def round_list(request):
    page = keyset_page(selectors.round_list(), before=request.GET.get("before"), size=25)
    language = get_language() or ""
    for survey_round in page.items:
        survey_round.survey_name = survey_round.template.name_in(language)
    context = {
        "page": page,
        "may_send": user_may_open(request.user, "surveys:round_new"),
    }
    return render(request, "surveys/survey_round_list.html", context)


@require_http_methods(["GET", "POST"])
def round_new(request):
    form = SurveyRoundForm(request.POST or None)
    recipients = breakdown = None
    if request.method == "POST" and form.is_valid():
        recipients = services.round_recipients(form.segment()).count()
        breakdown = selectors.round_breakdown(form.segment(), at=form.cleaned_data["send_at"])
        if request.POST.get("confirm") == "yes" and recipients:
            try:
                survey_round = services.round_create(
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
    context = {"form": form, "recipients": recipients, "breakdown": breakdown}
    status = 422 if form.errors else 200
    return render(request, "surveys/survey_round_new.html", context, status=status)


@require_GET
def round_detail(request, pk):
    survey_round = selectors.round_get(pk)
    context = {
        "round": survey_round,
        "counts": selectors.round_message_counts(survey_round),
        "outcomes": selectors.round_outcomes(survey_round),
    }
    if request.htmx:
        return render(request, "surveys/_survey_round_progress.html", context)
    language = get_language() or "zh-hans"
    context["results"] = selectors.round_results(survey_round, language=language)
    context["survey_name"] = survey_round.template.name_in(language)
    return render(request, "surveys/survey_round_detail.html", context)


@require_GET
def round_export(request, pk):
    survey_round = selectors.round_get(pk)
    return audited_download(
        request,
        exports.round_workbook(survey_round),
        filename=f"market-survey-{survey_round.pk}",
        obj=survey_round,
    )
