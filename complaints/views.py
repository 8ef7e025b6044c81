# Views of the complaint pages (投诉): decorators, an access-checked fetch, a form, one service
# call, redirect or render. The service refuses illegal moves and a close without its result or
# the call-back; its messages are shown on the page, never a 500.
import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.models import Client
from clientmgmt.selectors import client_get_for_user
from zhongdu import audit, roles
from zhongdu.forms import new_form_key
from zhongdu.origins import call_facts
from zhongdu.origins import tell as tell_call
from zhongdu.private_query import address, search_params
from zhongdu.roles import user_may_open

from . import selectors
from . import services as complaints
from .forms import (
    ComplaintAssignForm,
    ComplaintCloseForm,
    ComplaintFiguresForm,
    ComplaintFilterForm,
    ComplaintForm,
    ComplaintReopenForm,
    ComplaintStepForm,
    channel_for_source,
    status_form_for,
)
from .models import Complaint

Status = Complaint.Status

# The step buttons of the complaint page, for the moves the map allows (closing and reopening
# have forms of their own).
_STEP_BUTTONS = {
    Status.ACKNOWLEDGED: pgettext_lazy("complaint action", "Acknowledge"),
    Status.INVESTIGATING: pgettext_lazy("complaint action", "Start the investigation"),
    Status.RESOLVED: pgettext_lazy("complaint action", "Mark resolved"),
}
_DONE = {
    Status.ACKNOWLEDGED: gettext_lazy("The complaint is acknowledged."),
    Status.INVESTIGATING: gettext_lazy("The investigation has started."),
    Status.RESOLVED: gettext_lazy("Resolved. Call the client back, then close it with the result."),
    Status.CLOSED: gettext_lazy("The complaint is closed with its result."),
}


def _conflict_or_invalid(exc) -> int:
    """409 when the complaint is not in a state that allows the action; 422 for bad input."""
    return 409 if isinstance(exc, complaints.IllegalTransition) else 422


def _scope(user, chosen) -> str:
    """Client managers start on their own queue, managers on everyone's; those who do not
    handle complaints see the ones they recorded."""
    if not selectors.is_handler(user):
        return "recorded"
    if chosen in ("mine", "all"):
        return chosen
    held = roles.user_roles(user)
    return "mine" if not held & {roles.MANAGER, roles.ADMINISTRATOR} else "all"


@require_GET
def complaint_list(request):
    handler = selectors.is_handler(request.user)
    scope = _scope(request.user, request.GET.get("scope"))
    form = ComplaintFilterForm(request.GET or None, handler=handler, initial={"scope": scope})
    filters = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()
    page = selectors.complaint_queue(
        user=request.user, scope=scope, filters=filters, now=now, cursor=request.GET.get("after")
    )
    query = request.GET.copy()
    query.pop("after", None)
    overview = handler and scope == "all"
    context = {
        "form": form,
        "page": page,
        "scope": scope,
        "overview": selectors.complaint_overview(now) if overview else None,
        "age_labels": selectors.overview_age_labels() if overview else [],
        "query": query.urlencode(),
        "can_see_figures": user_may_open(request.user, "complaints:complaint_figures"),
        "can_record": user_may_open(request.user, "complaints:complaint_new"),
    }
    return render(request, "complaints/complaint_list.html", context)


def _new_page(request, client, form, status=200):
    context = {"client": client, "form": form}
    return render(request, "complaints/complaint_new.html", context, status=status)


def _new_initial(request) -> dict:
    """Prefilled from a call or a survey: ?source=followup.call:12&words=... (words holding a full
    number arrive as a token: zhongdu.private_query)."""
    asked = search_params(request)
    source = asked.get("source", "")[:60]
    channel = asked.get("channel", "")
    if channel not in Complaint.Channel.values:
        channel = channel_for_source(source)
    return {
        "channel": channel,
        "severity": Complaint.Severity.NORMAL,
        "words": asked.get("words", "")[:4000],
        "source": source,
        "key": new_form_key(),
    }


@require_http_methods(["GET", "POST"])
def complaint_new(request):
    """Record a complaint for a client (`?client=`), from a call or a survey when `source` and
    `words` are given."""
    if not request.GET.get("client"):
        return render(request, "complaints/complaint_new.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    if client.status == Client.Status.MERGED and client.merged_into_id:
        query = search_params(request)
        query["client"] = client.merged_into_id
        # The client's words may hold a phone number: they travel on as a token, never in full.
        return redirect(
            address(request, reverse("complaints:complaint_new"), query, private=["words"])
        )
    may_assign = selectors.is_handler(request.user)
    if request.method == "GET":
        return _new_page(
            request, client, ComplaintForm(initial=_new_initial(request), may_assign=may_assign)
        )
    form = ComplaintForm(request.POST, may_assign=may_assign)
    if not form.is_valid():
        return _new_page(request, client, form, status=422)
    try:
        complaint = complaints.complaint_create(
            client=client, by=request.user, request=request, **form.create_kwargs()
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _new_page(request, client, form, status=422)
    tell_call(request, complaint)  # made of a hotline call's voicemail (?call=): its audio
    if complaint.received_by_id != request.user.pk and not may_assign:
        # The same call or survey raised it before, recorded by someone else.
        messages.info(
            request, _("This complaint was already recorded (#%(n)s).") % {"n": complaint.pk}
        )
        return redirect(client)
    messages.success(request, _("Complaint #%(n)s recorded.") % {"n": complaint.pk})
    return redirect(complaint)


def _steps(complaint):
    allowed = complaints.COMPLAINT_TRANSITIONS[complaint.status]
    if complaint.status == Status.CLOSED:
        return []  # reopening has its own form
    return [
        {"status": status, "label": label}
        for status, label in _STEP_BUTTONS.items()
        if status in allowed
    ]


def _detail_page(request, complaint, *, posted=None, errors=(), status=200):
    """The complaint, its deadlines and history, and the forms for what this user may do.
    `posted` is a form sent back with its errors; it takes the place of the blank one."""
    user = request.user
    handler = selectors.is_handler(user)
    may_work = handler and complaints.complaint_may_work(user, complaint)
    is_open = complaint.status != Status.CLOSED

    def form(kind, blank):
        return posted if isinstance(posted, kind) else blank()

    steps = _steps(complaint) if may_work else []
    # Opened from the call button's call (?call=): an answered call is the call-back, its time
    # filled in.
    facts = call_facts(request, worklist="complaint", task_id=complaint.pk) if may_work else None
    called_at = None
    if facts is not None and facts.prefill and facts.answered and facts.answered_at:
        called_at = timezone.localtime(facts.answered_at).replace(second=0, microsecond=0)
    context = {
        "complaint": complaint,
        "call_facts": facts,
        "deadlines": selectors.complaint_deadlines(complaint, now=timezone.now()),
        "history": selectors.complaint_history(complaint),
        "errors": errors,
        "may_work": may_work,
        "steps": steps,
        # Resolving may record the findings and the action taken already.
        "resolving": any(step["status"] == Status.RESOLVED for step in steps),
        "step_form": form(ComplaintStepForm, ComplaintStepForm) if may_work else None,
        "close_form": form(
            ComplaintCloseForm,
            lambda: ComplaintCloseForm(
                initial={
                    "findings": complaint.findings,
                    "action_taken": complaint.action_taken,
                    "compensation": complaint.compensation,
                    "client_called_at": called_at,
                }
            ),
        )
        if may_work and complaint.status == Status.RESOLVED
        else None,
        "reopen_form": form(ComplaintReopenForm, ComplaintReopenForm)
        if may_work and not is_open
        else None,
        "assign_form": form(
            ComplaintAssignForm,
            lambda: ComplaintAssignForm(initial={"handler": complaint.handler_id}),
        )
        if handler and is_open
        else None,
        "may_take_over": handler
        and is_open
        and complaint.handler_id != user.pk
        and complaints.complaint_handlers().filter(pk=user.pk).exists(),
    }
    return render(request, "complaints/complaint_detail.html", context, status=status)


@require_GET
def complaint_detail(request, pk):
    complaint = selectors.complaint_get_for_user(request.user, pk)
    audit.record(audit.Action.VIEW, obj=complaint, request=request)
    return _detail_page(request, complaint)


@require_POST
def complaint_status(request, pk):
    complaint = selectors.complaint_get_for_user(request.user, pk, write=True)
    form = status_form_for(complaint, request.POST)
    if not form.is_valid():
        return _detail_page(request, complaint, posted=form, status=422)
    try:
        _take_step(form, complaint=complaint, by=request.user, request=request)
    except ValidationError as exc:
        complaint.refresh_from_db()
        return _detail_page(
            request, complaint, posted=form, errors=exc.messages, status=_conflict_or_invalid(exc)
        )
    if isinstance(form, ComplaintReopenForm):
        messages.success(request, _("The complaint is reopened, with a new deadline to resolve."))
    else:
        messages.success(request, _DONE[form.cleaned_data["status"]])
    return redirect(complaint)


def _take_step(form, **common):
    """The service of the step the valid form posts: one per transition."""
    data = form.cleaned_data
    if isinstance(form, ComplaintReopenForm):
        return complaints.complaint_reopen(reason=data["detail"], **common)
    common["detail"] = data.get("detail", "")
    if isinstance(form, ComplaintCloseForm):
        keys = ("findings", "action_taken", "compensation", "client_accepted", "client_called_at")
        return complaints.complaint_close(**common, **{key: data[key] for key in keys})
    if data["status"] == Status.RESOLVED:
        found = {key: data.get(key) or None for key in ("findings", "action_taken")}
        return complaints.complaint_resolve(**common, **found)
    if data["status"] == Status.ACKNOWLEDGED:
        return complaints.complaint_acknowledge(**common)
    return complaints.complaint_investigate(**common)


@require_POST
def complaint_assign(request, pk):
    complaint = selectors.complaint_get_for_user(request.user, pk)
    form = ComplaintAssignForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, complaint, posted=form, status=422)
    handler = form.cleaned_data["handler"]
    try:
        complaints.complaint_assign(
            complaint=complaint, handler=handler, by=request.user, request=request
        )
    except ValidationError as exc:
        complaint.refresh_from_db()
        return _detail_page(
            request, complaint, posted=form, errors=exc.messages, status=_conflict_or_invalid(exc)
        )
    who = handler.get_full_name() or handler.get_username()
    messages.success(request, _("The complaint is assigned to %(who)s.") % {"who": who})
    return redirect(complaint)


def _month(form) -> datetime.date:
    this_month = timezone.localdate().replace(day=1)
    if form.is_valid() and form.cleaned_data.get("month"):
        return datetime.date.fromisoformat(form.cleaned_data["month"] + "-01")
    return this_month


@require_GET
def complaint_figures(request):
    form = ComplaintFiguresForm(request.GET or None)
    month = _month(form)
    if not form.is_bound:
        form = ComplaintFiguresForm(initial={"month": month.strftime("%Y-%m")})
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    context = {
        "form": form,
        "month": month,
        "previous_month": previous.strftime("%Y-%m"),
        "next_month": following.strftime("%Y-%m"),
        "figures": selectors.complaint_figures(month),
        "list_url": reverse("complaints:complaint_list") + "?" + urlencode({"status": "all"}),
    }
    return render(request, "complaints/complaint_figures.html", context)
