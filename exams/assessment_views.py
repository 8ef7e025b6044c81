# Views of the health assessment and the client's report: decorators, an access-checked fetch,
# a form, one service call (exams.assessment), redirect or render. The role check is
# PAGE_ACCESS's (ASSESSMENT_WRITERS write, RESULT_READERS read); the client is fetched with the
# discretion rule (a VIP's results only for those who serve them); every read is audited.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from zhongdu import audit, roles
from zhongdu.exports import audited_download
from zhongdu.forms import error_text
from zhongdu.pdf import pdf_export, render_pdf

from . import assessment as services
from . import selectors
from .assessment_forms import AssessmentForm
from .models import HealthAssessment
from .models.assessment import PLAN_HEADINGS


def _order_for(request, pk, *, write=False):
    """The order through exams.selectors.order_get_for_user (RESULT_READERS, with `write`
    ASSESSMENT_WRITERS, and the discretion rule); the read audited."""
    order = selectors.order_get_for_user(request.user, pk, write=write)
    audit.record(
        audit.Action.VIEW, actor=request.user, obj=order, fields=["results"], request=request
    )
    return order


def _may_write(user) -> bool:
    return bool(roles.user_roles(user) & roles.ASSESSMENT_WRITERS)


def _page(request, order, form=None, *, status=200, filled=False):
    release = services.released(order)
    assessment = HealthAssessment.objects.filter(order=order).select_related("plan").first()
    if form is None and release is not None:
        if assessment is not None:
            initial = {name: getattr(assessment, name) for name in (*PLAN_HEADINGS, "assessment")}
            initial["findings"] = list(assessment.findings.all())
        else:
            initial = {"findings": services.findings_suggested(order)}
        form = AssessmentForm(initial=initial)
    chosen = assessment.findings.all() if assessment is not None else []
    context = {
        "order": order,
        "release": release,
        "results": services.results_of(order) if release else [],
        "assessment": assessment,
        "form": form,
        "filled": filled,
        "may_write": _may_write(request.user),
        "heading_fields": [form[name] for name in PLAN_HEADINGS] if form else [],
        "plan_steps": list(assessment.plan.steps.all()) if assessment and assessment.plan else [],
        "education": services.education_for(chosen),
    }
    return render(request, "exams/assessment.html", context, status=status)


@require_http_methods(["GET", "POST"])
def assessment(request, pk):
    order = _order_for(request, pk, write=request.method == "POST")
    if request.method == "GET":
        return _page(request, order)
    if services.released(order) is None:
        messages.error(request, _("The results are not released yet."))
        return _page(request, order, status=409)
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        return _page(request, order, form, status=422)
    action = request.POST.get("action", "save")
    findings = list(form.cleaned_data["findings"])
    if action == "fill":
        texts = services.fill_from_templates(findings, current=form.texts())
        filled = AssessmentForm(initial={**texts, "findings": findings})
        return _page(request, order, filled, filled=True)
    try:
        services.assessment_save(
            order=order, by=request.user, findings=findings, texts=form.texts(), request=request
        )
        # A final assessment is changed in its plan too: the report never prints a plan that
        # differs from the assessment.
        final = HealthAssessment.objects.filter(
            order=order, status=HealthAssessment.Status.FINAL
        ).exists()
        if action == "finalise" or final:
            services.assessment_finalise(order=order, by=request.user, request=request)
            messages.success(request, _("The assessment is final and the plan is written."))
        else:
            messages.success(request, _("The assessment is saved as a draft."))
    except services.NotReleased as exc:
        messages.error(request, error_text(exc))
        return _page(request, order, form, status=409)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _page(request, order, form, status=422)
    return redirect("exams:assessment", pk=order.pk)


@require_GET
def report_pdf(request, pk):
    order = _order_for(request, pk)
    if services.released(order) is None:
        messages.error(request, _("The results are not released yet."))
        return _page(request, order, status=409)
    with translation.override("zh-hans"):
        context = services.report_context(order)
        pdf = render_pdf("exams/report_pdf.html", context)
    return audited_download(
        request,
        pdf_export(pdf),
        filename=f"exam-report-{order.pk}",
        obj=order,
        object_repr=f"{order} (PDF)",
    )
