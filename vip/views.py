"""Views of VIP (seed: 医疗VIP客户管理制度): the roster, a VIP's page with the escort and the
revocation, their costs and the export, who opened their record, candidates and nominations, and
the policy's versions. Access (zhongdu/roles.py PAGE_ACCESS): the VIP managers run it, managers
oversee and decide, client managers may nominate; a VIP's own pages are fetched through
selectors.standing_get_for_user (the discretion rule).

Decorators, an access-checked fetch, a form, one service call, redirect or render. The services
refuse what the rules forbid (the two-person rule, an escort who is not of the desk, revoking a
standing that is not active); their messages are shown on the page, never a 500.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user
from zhongdu import audit
from zhongdu.exports import audited_download
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import exports, selectors, services
from .forms import (
    EXPIRING_SOON_DAYS,
    CostExportForm,
    DecisionForm,
    EscortForm,
    NominateForm,
    PeriodForm,
    RevokeForm,
    RosterFilterForm,
)
from .models import VipCandidate, VipPolicy, VipStanding

COST_LINES_PER_PAGE = 50


def _label(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def labelled(rows, attr: str = "actor") -> list:
    """The rows with `by_label`, the name of the user in `attr` ("" when none), so that the
    template shows a string rather than chaining lookups on a user that may be gone."""
    rows = list(rows)
    for row in rows:
        row.by_label = _label(getattr(row, attr))
    return rows


def _expiring_soon(standing, today) -> bool:
    return (
        standing.status == VipStanding.Status.ACTIVE
        and standing.valid_until is not None
        and standing.valid_until <= today + datetime.timedelta(days=EXPIRING_SOON_DAYS)
    )


# --- The roster -----------------------------------------------------------------------


@require_GET
def roster(request):
    form = RosterFilterForm(request.GET or None)
    page = keyset_page(selectors.roster(**form.filters()), before=request.GET.get("before"))
    today = timezone.localdate()
    for standing in page.items:  # display strings once, not a filter chain per cell
        standing.expiring_soon = _expiring_soon(standing, today)
        standing.escort_label = _label(standing.escort)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "counts": services.roster_counts(),
        "soon_days": EXPIRING_SOON_DAYS,
    }
    return render(request, "vip/roster.html", context)


# --- A VIP's page ---------------------------------------------------------------------


def _detail_page(request, standing, *, escort_form=None, revoke_form=None, status=200):
    active = standing.status == VipStanding.Status.ACTIVE
    context = {
        "standing": standing,
        "client": standing.client,
        "history": labelled(selectors.client_history(standing.client_id)),
        "escort_label": _label(standing.escort),
        "expiring_soon": _expiring_soon(standing, timezone.localdate()),
        "can_escort": user_may_open(request.user, "vip:vip_escort"),
        "can_revoke": active and user_may_open(request.user, "vip:vip_revoke"),
        "escort_form": escort_form or EscortForm(initial={"escort": standing.escort_id}),
        "revoke_form": revoke_form or RevokeForm(),
    }
    return render(request, "vip/vip_detail.html", context, status=status)


@require_GET
def vip_detail(request, client_id):
    standing = selectors.standing_get_for_user(request.user, client_id)
    # Every access to a VIP's record is audited (seed 保密原则); the access log lists it.
    audit.record(audit.Action.VIEW, obj=standing.client, reason="vip", request=request)
    return _detail_page(request, standing)


@require_POST
def vip_escort(request, client_id):
    standing = selectors.standing_get_for_user(request.user, client_id)
    form = EscortForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, standing, escort_form=form, status=422)
    escort = form.cleaned_data["escort"]
    try:
        services.escort_assign(standing=standing, escort=escort, by=request.user)
    except ValidationError as exc:
        form.add_error("escort", exc)
        return _detail_page(request, standing, escort_form=form, status=422)
    if escort is None:
        messages.success(request, _("No named escort any more."))
    else:
        messages.success(
            request,
            _("%(escort)s will escort %(name)s on their visits.")
            % {"escort": _label(escort), "name": standing.client.name},
        )
    return redirect(standing)


@require_POST
def vip_revoke(request, client_id):
    standing = selectors.standing_get_for_user(request.user, client_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, standing, revoke_form=form, status=422)
    try:
        services.revoke(standing=standing, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        form.add_error(None, exc)
        standing.refresh_from_db()
        return _detail_page(request, standing, revoke_form=form, status=409)
    messages.success(request, _("%(name)s is no longer a VIP.") % {"name": standing.client.name})
    return redirect(standing)


# --- Costs ----------------------------------------------------------------------------


def _period(form):
    """(first day, last day, since, until): the days asked for, else the current policy's
    window up to today; `until` is the midnight after the last day, hospital time."""
    today = timezone.localdate()
    first, last = form.period(VipPolicy.current().window_start(today).date(), today)
    tz = timezone.get_default_timezone()
    since = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        last + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return first, last, since, until


def _costs_page(request, standing, period_form, *, export_form=None, status=200):
    first, last, since, until = _period(period_form)
    client_id = standing.client_id
    # One VIP's lines over a period are a few hundred at most: numbered pages (OFFSET, and a
    # count of this client's lines on the (client, charged_at) index) are cheap here.
    lines = Paginator(
        selectors.cost_lines(client_id=client_id, since=since, until=until), COST_LINES_PER_PAGE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    initial = {"date_from": first.isoformat(), "date_to": last.isoformat()}
    context = {
        "standing": standing,
        "client": standing.client,
        "form": period_form,
        "first": first,
        "last": last,
        "summary": selectors.cost_summary(client_id=client_id, since=since, until=until),
        "lines": lines,
        "query": query.urlencode(),
        "export_form": export_form or CostExportForm(initial=initial),
    }
    return render(request, "vip/vip_costs.html", context, status=status)


@require_GET
def vip_costs(request, client_id):
    standing = selectors.standing_get_for_user(request.user, client_id)
    audit.record(audit.Action.VIEW, obj=standing.client, reason="vip costs", request=request)
    return _costs_page(request, standing, PeriodForm(request.GET or None))


@require_POST
def vip_costs_export(request, client_id):
    standing = selectors.standing_get_for_user(request.user, client_id)
    form = CostExportForm(request.POST)
    if not form.is_valid():
        period = PeriodForm({key: request.POST.get(key, "") for key in ("date_from", "date_to")})
        return _costs_page(request, standing, period, export_form=form, status=422)
    first, last, since, until = _period(form)
    summary = selectors.cost_summary(client_id=client_id, since=since, until=until)
    lines = selectors.cost_lines(client_id=client_id, since=since, until=until)
    name = f"vip-costs-{standing.client_id}-{first.isoformat()}-{last.isoformat()}"
    return audited_download(
        request,
        exports.costs_workbook(standing, summary, lines, first=first, last=last),
        filename=name,
        object_type="vip.costs",
        object_id=str(standing.client_id),
        object_repr=f"{first.isoformat()} – {last.isoformat()}",
        reason=form.cleaned_data["reason"],
    )


# --- Who opened the record --------------------------------------------------------------


@require_GET
def vip_access(request, client_id):
    standing = selectors.standing_get_for_user(request.user, client_id)
    events = labelled(selectors.record_access_log(standing.client_id))
    for event in events:
        what = _ACCESS_WHAT.get(event.object_type, _("Client record"))
        event.fields_shown = event.changed_fields
        # A look at the exam results or the report (the exams' pages, the patient's portal).
        if len(event.changed_fields) == 1 and event.changed_fields[0] in _ACCESS_PARTS:
            what, event.fields_shown = _ACCESS_PARTS[event.changed_fields[0]], []
        if event.object_type in _ACCESS_NUMBERED:
            what = f"{what} #{event.object_id}"
        event.what = what
        event.who = audit.actor_label(event.actor_username)
    context = {"standing": standing, "client": standing.client, "events": events}
    return render(request, "vip/vip_access.html", context)


# The access log's "What" column, by the audited object's type.
_ACCESS_WHAT = {
    "clientmgmt.client": gettext_lazy("Client record"),
    "vip.costs": gettext_lazy("VIP costs"),
    "followup.followupcall": gettext_lazy("Return-visit call"),
    "followup.careplan": gettext_lazy("Care plan"),
    "complaints.complaint": gettext_lazy("Complaint"),
    "guide.visit": gettext_lazy("Visit"),
    "guide.examorder": gettext_lazy("Exam order"),
}
# What was looked at, where the audit row names a part of the record rather than a field.
_ACCESS_PARTS = {
    "exam_results": gettext_lazy("Exam results"),
    "results": gettext_lazy("Exam results"),
    "report": gettext_lazy("Exam report (PDF)"),
}
_ACCESS_NUMBERED = set(_ACCESS_WHAT) - {"clientmgmt.client", "vip.costs"}


# --- Candidates and nominations ---------------------------------------------------------


def _candidates_page(request, *, failed=None, form=None, errors=(), status=200):
    candidates = list(selectors.candidates_pending())
    for candidate in candidates:
        # The two-person rule: a nomination is decided by someone other than its nominator.
        candidate.own_nomination = (
            candidate.kind == VipCandidate.Kind.NOMINATION
            and candidate.nominated_by_id == request.user.pk
        )
        candidate.nominated_by_label = _label(candidate.nominated_by)
    context = {
        "candidates": candidates,
        "can_decide": user_may_open(request.user, "vip:candidate_decide"),
        "failed": failed,
        "form": form,
        "errors": errors,
    }
    return render(request, "vip/candidate_list.html", context, status=status)


@require_GET
def candidate_list(request):
    return _candidates_page(request)


@require_POST
def candidate_decide(request, pk):
    candidate = selectors.candidate_get(pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _candidates_page(request, failed=candidate.pk, form=form, status=422)
    approve = form.cleaned_data["decision"] == DecisionForm.APPROVE
    try:
        services.candidate_decide(
            candidate=candidate,
            by=request.user,
            approve=approve,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        candidate.refresh_from_db()
        decided = candidate.status != VipCandidate.Status.PENDING
        return _candidates_page(
            request,
            failed=candidate.pk,
            form=form,
            errors=exc.messages,
            status=409 if decided else 422,
        )
    name = candidate.enterprise.name if candidate.enterprise_id else candidate.client.name
    if approve:
        messages.success(request, _("Approved: %(name)s is a VIP now.") % {"name": name})
    else:
        messages.success(request, _("Rejected: %(name)s.") % {"name": name})
    return redirect("vip:candidate_list")


@require_http_methods(["GET", "POST"])
def nominate(request):
    if not request.GET.get("client"):
        return render(request, "vip/nominate.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"])
    form = NominateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.nominate(client=client, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(name)s is nominated. A second person approves or rejects the nomination.")
                % {"name": client.name},
            )
            return redirect(client)
    refused = ""
    if client.is_vip:
        refused = _("This client is already a VIP.")
    elif client.status != client.Status.ACTIVE:
        refused = _("Only an active record can be nominated.")
    context = {"client": client, "form": form, "refused": refused}
    return render(request, "vip/nominate.html", context, status=422 if form.errors else 200)


# --- The policy -------------------------------------------------------------------------


@require_GET
def policy_history(request):
    versions = labelled(selectors.policy_versions(), "created_by")
    context = {
        "versions": versions,
        "current": versions[0] if versions else None,
        "can_add": request.user.has_perm("vip.add_vippolicy")
        and user_may_open(request.user, "admin:vip_vippolicy_add"),
    }
    return render(request, "vip/policy_history.html", context)
