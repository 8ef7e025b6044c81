"""The survey pages.

- The public survey at /s/<token>/ (name "survey", config/urls.py): no sign-in, the token is
  the key. It shows the person's first name and the visit date and nothing else about them.
- The visit slip with the survey's QR code, printed by the front desk at the end of a visit.
- The weekly satisfaction summary for the marketing department (每周填写医院客户满意度调查表),
  printable and exported to Excel (audited), and the list of responses.

Access (zhongdu/roles.py PAGE_ACCESS): the survey is public; the slip is the front desk's (and
client management's); the summary and the responses are follow-up's readers'.
"""

import datetime

import segno
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clientmgmt.selectors import clients_shown_for_user
from guide.selectors import visit_get_for_user
from zhongdu.exports import audited_download
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import exports, selectors, survey_selectors, surveys
from .survey_forms import FIRST_DAY, LAST_DAY, ResponseFilterForm, SurveyForm, WeekForm

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
    response = render(request, f"followup/{page}.html", context, status=status)
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
            surveys.survey_submit(invitation=invitation, answers=form.answers())
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


# --- The visit slip -----------------------------------------------------------------


def qr_svg(link: str) -> str:
    """The link as a QR code, inline SVG markup (no image request, nothing the CSP refuses);
    sized by CSS through its viewBox."""
    code = segno.make(link, error="m")
    return code.svg_inline(scale=4, omitsize=True, svgclass="survey-qr", title=link)


@require_GET
def visit_slip(request, pk):
    visit = visit_get_for_user(request.user, pk)
    # Printing the slip makes the visit's survey link, once: a second print (or a second clerk)
    # gets the same link (a unique index per visit and template), so this GET is idempotent.
    try:
        invitation = surveys.invitation_for_visit(visit=visit)
    except ValidationError:
        invitation = None  # no default survey set up: the slip prints without the code
    link = surveys.survey_link(invitation) if invitation else ""
    context = {
        "visit": visit,
        "client": visit.client,
        "invitation": invitation,
        "link": link,
        # segno's markup: paths and the link in an escaped <title>, nothing from the request.
        "qr": mark_safe(qr_svg(link)) if link else "",  # noqa: S308
        "next_followup": survey_selectors.client_next_followup(visit.client),
    }
    return render(request, "followup/visit_slip.html", context)


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
    day = form.cleaned_data.get("week") if form.is_valid() else None
    return form, day or timezone.localdate()


@require_GET
def weekly(request):
    form, day = _week(request)
    summary = survey_selectors.weekly_summary(day)
    start = summary["start"]
    week = datetime.timedelta(days=7)
    this_week = selectors.week_bounds(timezone.localdate())[0].date()
    context = {
        "form": form,
        "summary": summary,
        "tables": exports.weekly_tables(summary),
        "comments": _comment_rows(summary, request.user),
        "is_this_week": start == this_week,
        "previous_week": start - week if start - week >= FIRST_DAY else None,
        "next_week": start + week if start + week <= LAST_DAY else None,
        "export_url": reverse("followup:survey_weekly_export")
        + "?"
        + urlencode({"week": start.isoformat()}),
        "may_open_responses": user_may_open(request.user, "followup:response_list"),
    }
    return render(request, "followup/survey_weekly.html", context)


@require_GET
def weekly_export(request):
    form, day = _week(request)
    if form.errors:
        # Not a workbook of a week nobody asked for: back to the page, which says what is wrong.
        return redirect(reverse("followup:survey_weekly") + "?" + request.GET.urlencode())
    summary = survey_selectors.weekly_summary(day)
    start = summary["start"].isoformat()
    return audited_download(
        request,
        exports.weekly_workbook(summary, _comment_rows(summary, user=None)),
        filename=f"survey-week-{start}",
        object_type="followup.survey_weekly",
        object_id=start,
        object_repr=f"satisfaction summary of the week of {start}",
    )


# --- Responses ----------------------------------------------------------------------


@require_GET
def response_list(request):
    form = ResponseFilterForm(request.GET or None)
    page = keyset_page(
        survey_selectors.response_list(**form.filters()), before=request.GET.get("before")
    )
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
    return render(request, "followup/response_list.html", context)
