"""Results lookup's pages (/my/results/): the released orders, one order's results with the
final assessment and plan, and its report as a watermarked PDF shown in the browser. Each reads
the person through `request.patient.subject` (portal.results) and is audited."""

from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET

from exams.assessment import report_context
from zhongdu.exports import private_download
from zhongdu.pagination import keyset_page
from zhongdu.pdf import PDF_TYPE, render_pdf

from . import results
from .selectors import in_wechat

PAGE_SIZE = 20


@require_GET
def results_list(request):
    patient = request.patient
    page = keyset_page(
        results.released_orders(patient.subject), before=request.GET.get("before"), size=PAGE_SIZE
    )
    results.results_looked_at(patient=patient, request=request)
    return render(request, "portal/results.html", {"page": page})


@require_GET
def result_detail(request, pk):
    patient = request.patient
    order = results.order_get_for_patient(patient, pk)
    results.order_looked_at(patient=patient, order=order, request=request)
    context = {
        "order": order,
        "rows": results.shown_results(order),
        # The assessment and the report print every value: they wait for the call too.
        "assessment": None if order.withheld else results.final_assessment(order),
        "wechat": in_wechat(request),
    }
    return render(request, "portal/result_detail.html", context)


@require_GET
def result_report(request, pk):
    patient = request.patient
    order = results.order_get_for_patient(patient, pk)
    if order.withheld:
        return redirect("portal:result_detail", pk=order.pk)
    results.order_looked_at(patient=patient, order=order, request=request, report=True)
    # The hospital's report, in Chinese as it is printed (exams.assessment.report_context).
    with translation.override("zh-hans"):
        context = {**report_context(order), "watermark": results.watermark(patient)}
        pdf = render_pdf("portal/result_report_pdf.html", context)
    return private_download(
        pdf, content_type=PDF_TYPE, filename=f"exam-report-{order.pk}.pdf", inline=True
    )
