# Views of the return-visit call workbench (回访工作台): decorators, an access-checked fetch
# (selectors.call_get_for_user), a form, one service call, redirect or render. The services refuse
# what the rules forbid (answers for a client not reached, a closed call, a call to someone who is
# not a client manager); their messages are shown on the page, never a 500.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user
from zhongdu import audit, roles
from zhongdu.forms import error_text, new_form_key
from zhongdu.origins import call_facts
from zhongdu.roles import user_may_open

from . import selectors, services
from .forms import CallFilterForm, CallNewForm, CallRecordForm, ReassignForm
from .models import FollowUpCall, FollowUpPolicy

Reason = FollowUpCall.Reason
Outcome = FollowUpCall.Outcome

# What to say when the call itself carries no script (its timepoint had none).
DEFAULT_SCRIPTS = {
    Reason.CARE_PLAN: gettext_lazy(
        "Introduce yourself and the hospital. Ask how the skin is healing since the visit, whether"
        " the client follows the care advice and uses the medicine as prescribed, and whether"
        " anything worries them. Remind them of the next check-up. Ask the satisfaction questions."
    ),
    Reason.HEALTH_ASSESSMENT: gettext_lazy(
        "Go through the exam results with the client, answer their questions and agree the"
        " health-management plan (exercise, diet, mental health, prevention)."
    ),
    Reason.SERVICE_RECOVERY: gettext_lazy(
        "Thank the client for their answers and apologise for what fell short. Listen, note what"
        " happened and what they expect, and say what the hospital will do. Raise a complaint if"
        " they ask for one."
    ),
    Reason.COMPLAINT: gettext_lazy(
        "Tell the client what was found and done about their complaint, and ask whether they are"
        " satisfied with the answer."
    ),
    Reason.MAINTENANCE: gettext_lazy(
        "Check that the client's details are still right and ask how they are."
    ),
    Reason.VIP_CARE: gettext_lazy(
        "Greet the client by name, ask how they are and whether they would like an appointment or"
        " anything arranged for their next visit, and note their preferences."
    ),
    Reason.MANUAL: gettext_lazy(
        "Introduce yourself and the hospital, then the subject of the call."
    ),
}


def _conflict_or_invalid(exc) -> int:
    """409 when the call is no longer open; 422 for what the user can put right."""
    return 409 if isinstance(exc, services.IllegalTransition) else 422


# --- The workbench ------------------------------------------------------------------


def _tabs(user):
    """The tabs this user has: a client manager works their own calls and the pool; those who
    oversee (or only look on) see everyone's."""
    if not selectors.is_call_handler(user):
        return [CallFilterForm.ALL, CallFilterForm.POOL]
    tabs = [CallFilterForm.MINE, CallFilterForm.POOL]
    if selectors.is_overseer(user):
        tabs.append(CallFilterForm.ALL)
    return tabs


@require_GET
def call_list(request):
    user = request.user
    tabs = _tabs(user)
    sees_everyone = CallFilterForm.ALL in tabs
    handlers = services.call_handlers().order_by("username") if sees_everyone else None
    form = CallFilterForm(request.GET or None, handlers=handlers)
    filters = form.cleaned_data if form.is_valid() else {}
    view = filters.get("view") if filters.get("view") in tabs else tabs[0]
    handler = filters.get("handler") if view == CallFilterForm.ALL else None
    today = timezone.localdate()
    calls = selectors.call_queue(
        user=user,
        today=today,
        everyone=view == CallFilterForm.ALL,
        pool=view == CallFilterForm.POOL,
        assignee=handler,
    )
    may_work = user_may_open(user, "followup:call_record")
    context = {
        # The rows as the page shows them (selectors.CallRow), not the calls themselves.
        "calls": selectors.call_queue_rows(calls, today=today),
        "counts": selectors.call_counts(user=user),
        "upcoming_days": selectors.UPCOMING_DAYS,
        "queue_limit": selectors.QUEUE_LIMIT,
        "today": today,
        "tabs": tabs,
        "view": view,
        "form": form,
        "handler_pk": handler.pk if handler is not None else None,
        # (pk, name) of each handler, for the filter and every row's reassign select.
        "handlers": selectors.handler_choices(handlers) if handlers is not None else [],
        "can_claim": may_work and selectors.is_call_handler(user),
        "can_reassign": selectors.is_overseer(user)
        and user_may_open(user, "followup:call_reassign"),
        "next": request.get_full_path(),
    }
    return render(request, "followup/call_list.html", context)


# --- One call -----------------------------------------------------------------------


def _saved_answers(call) -> dict:
    """The record form's starting values: the answers saved as they were asked (a reload of the
    page in the middle of the call shows them chosen, and the final record sends them again)."""
    response = call.survey_response
    if response is None:
        return {}
    initial = {"outcome": Outcome.REACHED, "comment": response.comment}
    for dimension, score in response.answers.values_list("dimension", "score"):
        name = "recommend" if dimension == "recommend" else f"score_{dimension}"
        initial[name] = score
    return initial


def _detail_page(request, call, *, form=None, errors=(), status=200):
    user = request.user
    is_open = call.status == FollowUpCall.Status.OPEN
    may_work = is_open and selectors.may_work_call(user, call)
    can_record = may_work and user_may_open(user, "followup:call_record")
    # Opened from the call button's call (?call=): what its receipt said fills the form in.
    facts = call_facts(request, worklist="followup", task_id=call.pk) if can_record else None
    if can_record and form is None:
        # The answers saved as they were asked, then what the call's receipt said.
        initial = _saved_answers(call)
        if facts is not None and facts.prefill:
            initial["outcome"] = Outcome.REACHED if facts.answered else Outcome.NO_ANSWER
        form = CallRecordForm(initial=initial)
    context = {
        "call_facts": facts,
        "call": call,
        "client": call.client,
        "today": timezone.localdate(),
        "script": _script_shown(user, call),
        "results_private": not (roles.user_roles(user) & roles.RESULT_READERS),
        "history": selectors.call_history(call),
        "plans": selectors.client_live_plans(call.client),
        "previous_calls": selectors.client_previous_calls(call),
        "max_attempts": FollowUpPolicy.current().max_attempts,
        "form": form if can_record else None,
        "answer_url": reverse("followup:call_answer", args=[call.pk]) if can_record else "",
        "errors": errors,
        "can_claim": is_open
        and call.assigned_to_id != user.pk
        and selectors.is_call_handler(user)
        and may_work
        and user_may_open(user, "followup:call_claim"),
        "can_reassign": may_work and user_may_open(user, "followup:call_reassign"),
        "handlers": services.call_handlers().order_by("username") if may_work else [],
        "can_see_plans": user_may_open(user, "followup:plan_detail"),
    }
    return render(request, "followup/call_detail.html", context, status=status)


def _script_shown(user, call) -> str:
    """The call's script; for a call of a plan written from an exam's results, whose script
    names the finding, the reason's default to those who do not read results."""
    if (
        call.plan_id
        and selectors.plan_is_from_exam(call.plan)
        and not (roles.user_roles(user) & roles.RESULT_READERS)
    ):
        return _(
            "Follow-up of exam results. The findings are shown to the client managers and"
            " clinicians who read the results."
        )
    return call.script or DEFAULT_SCRIPTS.get(call.reason, "")


@require_GET
def call_detail(request, pk):
    call = selectors.call_get_for_user(request.user, pk)
    audit.record(audit.Action.VIEW, obj=call, request=request)
    return _detail_page(request, call)


def _outcome_message(call, *, reached_name, complaint=None) -> str:
    if call.outcome == Outcome.NO_ANSWER and call.status == FollowUpCall.Status.OPEN:
        return _("No answer: the call comes back on %(date)s (attempt %(n)s of %(max)s).") % {
            "date": f"{call.due_on:%Y-%m-%d}",
            "n": call.attempts,
            "max": FollowUpPolicy.current().max_attempts,
        }
    if call.outcome == Outcome.NO_ANSWER:
        return _("No answer after %(n)s attempts: closed as unreachable.") % {"n": call.attempts}
    if call.outcome == Outcome.WRONG_NUMBER:
        return _(
            "Wrong number: the call is closed as unreachable and the phone of %(name)s is flagged"
            " for correction."
        ) % {"name": reached_name}
    if call.outcome == Outcome.REFUSED:
        return _("%(name)s did not want to talk: the call is closed.") % {"name": reached_name}
    parts = [_("Call recorded: %(name)s was reached.") % {"name": reached_name}]
    if call.next_call_on:
        parts.append(_("The next call is on %(date)s.") % {"date": f"{call.next_call_on:%Y-%m-%d}"})
    if complaint is not None:
        parts.append(_("Complaint #%(n)s raised.") % {"n": complaint.pk})
    return " ".join(parts)


@require_POST
def call_record(request, pk):
    call = selectors.call_get_for_user(request.user, pk, write=True)
    form = CallRecordForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, call, form=form, status=422)
    data = form.service_data()
    try:
        call = services.call_record(call=call, by=request.user, request=request, **data)
    except ValidationError as exc:
        call.refresh_from_db()
        status = _conflict_or_invalid(exc)
        return _detail_page(request, call, form=form, errors=exc.messages, status=status)
    complaint = selectors.call_raised_complaint(call) if data["raise_complaint"] else None
    messages.success(
        request, _outcome_message(call, reached_name=call.client.name, complaint=complaint)
    )
    return redirect("followup:call_list")


@require_POST
def call_answer(request, pk):
    """One answer of the script, saved as it is chosen (htmx posts the one field that changed;
    without script the whole form goes to call_record at the end). Answers the small status
    beside the question, or, for a plain POST, the call page again."""
    call = selectors.call_get_for_user(request.user, pk, write=True)
    field = next((name for name in request.POST if name in services.ANSWER_FIELDS), None)
    status, text = 200, _("Saved.")
    try:
        if field is None:
            raise ValidationError(_("Choose one of the offered scores."))
        services.call_answer(call=call, by=request.user, field=field, value=request.POST[field])
    except ValidationError as exc:
        status, text = _conflict_or_invalid(exc), error_text(exc)
    if not request.htmx:
        if status != 200:
            messages.error(request, text)
        return redirect(call)
    # 200 either way: htmx swaps only a success into the page, and a refusal must show there.
    context = {"text": text, "ok": status == 200}
    return render(request, "followup/_answer_status.html", context)


def _back(request, call):
    """Back where the button was pressed: the workbench's own address, or the call."""
    target = request.POST.get("next", "")
    if target.startswith(reverse("followup:call_list")):
        return redirect(target)
    return redirect(call)


@require_POST
def call_claim(request, pk):
    call = selectors.call_get_for_user(request.user, pk, write=True)
    try:
        services.call_claim(call=call, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _back(request, call)
    messages.success(request, _("The call to %(name)s is yours.") % {"name": call.client.name})
    return _back(request, call)


@require_POST
def call_reassign(request, pk):
    call = selectors.call_get_for_user(request.user, pk, write=True)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["to"]))
        return _back(request, call)
    to = form.cleaned_data["to"]
    try:
        services.call_reassign(call=call, to=to, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _back(request, call)
    if to is None:
        messages.success(request, _("The call is back in the shared pool."))
    else:
        messages.success(
            request,
            _("The call now goes to %(who)s.") % {"who": to.get_full_name() or to.get_username()},
        )
    return _back(request, call)


# --- A call by hand -----------------------------------------------------------------


def _new_page(request, client, form, status=200):
    return render(
        request, "followup/call_new.html", {"client": client, "form": form}, status=status
    )


@require_http_methods(["GET", "POST"])
def call_new(request):
    if not request.GET.get("client"):
        return render(request, "followup/call_new.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    if request.method == "GET":
        initial = {"due_on": timezone.localdate(), "key": new_form_key()}
        return _new_page(request, client, CallNewForm(initial=initial))
    form = CallNewForm(request.POST)
    if not form.is_valid():
        return _new_page(request, client, form, status=422)
    try:
        call = services.call_create(client=client, by=request.user, **form.create_kwargs())
    except ValidationError as exc:
        form.add_error(None, exc)
        return _new_page(request, client, form, status=422)
    messages.success(
        request,
        _("Return-visit call planned for %(date)s.") % {"date": f"{call.due_on:%Y-%m-%d}"},
    )
    return redirect(call)
