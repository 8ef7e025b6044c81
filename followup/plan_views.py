# Views of the care plans (护理计划): decorators, an access-checked fetch, a form, one service call,
# redirect or render. A plan is written from a template whose texts and timepoints staff adjust
# for the client; its timepoints make the return-visit calls and SMS (services.plan_create), and
# editing or cancelling it moves or cancels only what is not done yet.

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user
from guide.selectors import visit_get_for_user
from messaging.models import OutboxMessage
from zhongdu import audit
from zhongdu.forms import FormKeyField, new_form_key
from zhongdu.roles import user_may_open

from . import selectors, services
from .forms import PlanCancelForm, PlanChooserForm, PlanTextsForm, StepFormSet
from .models import CarePlan, CarePlanStep

STEPS_PREFIX = "steps"


def _conflict_or_invalid(exc) -> int:
    return 409 if isinstance(exc, services.IllegalTransition) else 422


def _visit_for(request, client):
    """The visit the plan follows (?visit=), which must be this client's."""
    if not request.GET.get("visit"):
        return None
    visit = visit_get_for_user(request.user, request.GET["visit"])
    if visit.client_id != client.pk:
        raise Http404
    return visit


def _chosen(request, visit):
    """(chooser form, template, first day) from the query: the template chosen, else the one of
    the visit's department; the day chosen, else the visit's day, else today."""
    default_day = visit.day if visit is not None else timezone.localdate()
    if "template" not in request.GET and "starts_on" not in request.GET:
        template = selectors.plan_template_for_visit(visit)
        form = PlanChooserForm(initial={"template": template, "starts_on": default_day})
        return form, template, default_day
    form = PlanChooserForm(request.GET)
    if not form.is_valid():
        return form, selectors.plan_template_for_visit(visit), default_day
    return form, form.cleaned_data["template"], form.cleaned_data["starts_on"] or default_day


def _template_texts(template) -> dict:
    return {name: getattr(template, name, "") for name in services.PLAN_TEXTS} if template else {}


def _request_key(request) -> str:
    """The new-plan form's one-time key: made when the form is first shown, sent back with the
    POST (plan_create writes one plan per key, so a double click writes one plan)."""
    return FormKeyField().clean(request.POST.get("key")) or new_form_key()


def _new_page(request, client, visit, *, chooser, template, texts, steps, status=200):
    context = {
        "client": client,
        "visit": visit,
        "chooser": chooser,
        "template": template,
        "texts": texts,
        "steps": steps,
        "request_key": _request_key(request),
    }
    return render(request, "followup/plan_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def plan_new(request):
    if not request.GET.get("client"):
        return render(request, "followup/plan_new.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    visit = _visit_for(request, client)
    chooser, template, starts_on = _chosen(request, visit)
    kind = template.kind if template is not None else CarePlan.Kind.CARE
    if request.method == "GET":
        texts = PlanTextsForm(initial=_template_texts(template), kind=kind)
        steps = StepFormSet(
            initial=services.default_steps(template, starts_on), prefix=STEPS_PREFIX
        )
        return _new_page(
            request, client, visit, chooser=chooser, template=template, texts=texts, steps=steps
        )
    texts = PlanTextsForm(request.POST, kind=kind)
    steps = StepFormSet(request.POST, prefix=STEPS_PREFIX)
    page = {"chooser": chooser, "template": template, "texts": texts, "steps": steps}
    if chooser.errors or not (texts.is_valid() and steps.is_valid()):
        return _new_page(request, client, visit, status=422, **page)
    try:
        plan = services.plan_create(
            client=client,
            by=request.user,
            starts_on=starts_on,
            template=template,
            kind=kind,
            visit=visit,
            steps=[step for step in steps.steps() if not step["remove"]],
            request=request,
            request_key=_request_key(request) if request.POST.get("key") else "",
            **texts.cleaned_data,
        )
    except ValidationError as exc:
        texts.add_error(None, exc)
        return _new_page(request, client, visit, status=422, **page)
    messages.success(request, _plan_saved_message(plan))
    return redirect(plan)


def _plan_saved_message(plan) -> str:
    steps = selectors.plan_steps(plan)
    planned = [step for step in steps if step.status == CarePlanStep.Status.PLANNED]
    calls = sum(1 for step in planned if step.call_row is not None)
    sms = sum(
        1
        for step in planned
        if step.sms_row is not None and step.sms_row.status == OutboxMessage.Status.PENDING
    )
    return _("Care plan saved: %(calls)s return-visit calls and %(sms)s SMS reminders planned.") % {
        "calls": calls,
        "sms": sms,
    }


def _detail_page(request, plan, *, cancel_form=None, errors=(), status=200):
    user = request.user
    live = plan.status == CarePlan.Status.ACTIVE
    context = {
        "plan": plan,
        "client": plan.client,
        "steps": selectors.plan_steps(plan),
        "health": plan.kind == CarePlan.Kind.HEALTH,
        "can_edit": live and user_may_open(user, "followup:plan_edit"),
        "can_cancel": live and user_may_open(user, "followup:plan_cancel"),
        "can_see_calls": user_may_open(user, "followup:call_detail"),
        "can_see_sms": user_may_open(user, "messaging:message_detail"),
        "cancel_form": cancel_form or PlanCancelForm(),
        "errors": errors,
    }
    return render(request, "followup/plan_detail.html", context, status=status)


@require_GET
def plan_detail(request, pk):
    plan = selectors.plan_get_for_user(request.user, pk)
    audit.record(audit.Action.VIEW, obj=plan, request=request)
    return _detail_page(request, plan)


def _edit_page(request, plan, *, texts, steps, errors=(), status=200):
    context = {
        "plan": plan,
        "client": plan.client,
        "texts": texts,
        "steps": steps,
        "settled": plan.steps.exclude(status=CarePlanStep.Status.PLANNED).order_by("due_on"),
        "errors": errors,
    }
    return render(request, "followup/plan_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
def plan_edit(request, pk):
    plan = selectors.plan_get_for_user(request.user, pk, write=True)
    if plan.status != CarePlan.Status.ACTIVE:
        messages.error(request, _("Only a live plan can be changed."))
        return redirect(plan)
    if request.method == "GET":
        texts = PlanTextsForm(initial=_template_texts(plan), kind=plan.kind)
        planned = plan.steps.filter(status=CarePlanStep.Status.PLANNED).order_by("due_on", "pk")
        initial = [
            {
                "id": step.pk,
                "due_on": step.due_on,
                "label": step.label,
                "call": step.call,
                "script": step.script,
                "sms_template": step.sms_template_id,
            }
            for step in planned
        ]
        steps = StepFormSet(initial=initial, prefix=STEPS_PREFIX)
        return _edit_page(request, plan, texts=texts, steps=steps)
    texts = PlanTextsForm(request.POST, kind=plan.kind)
    steps = StepFormSet(request.POST, prefix=STEPS_PREFIX)
    if not (texts.is_valid() and steps.is_valid()):
        return _edit_page(request, plan, texts=texts, steps=steps, status=422)
    try:
        services.plan_update(
            plan=plan,
            by=request.user,
            steps=steps.steps(),
            request=request,
            **texts.cleaned_data,
        )
    except ValidationError as exc:
        status = _conflict_or_invalid(exc)
        return _edit_page(
            request, plan, texts=texts, steps=steps, errors=exc.messages, status=status
        )
    messages.success(request, _("Care plan updated: its calls and SMS follow the new dates."))
    return redirect(plan)


@require_POST
def plan_cancel(request, pk):
    plan = selectors.plan_get_for_user(request.user, pk, write=True)
    form = PlanCancelForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, plan, cancel_form=form, status=422)
    try:
        services.plan_cancel(
            plan=plan, by=request.user, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as exc:
        plan.refresh_from_db()
        status = _conflict_or_invalid(exc)
        return _detail_page(request, plan, cancel_form=form, errors=exc.messages, status=status)
    messages.success(
        request, _("Care plan cancelled: its open calls and unsent SMS are cancelled.")
    )
    return redirect(plan)
