"""Views of the front desk's charges: voiding a line, and the billing system's file of charges
(upload, preview, confirm). Access (zhongdu/roles.py PAGE_ACCESS): voiding is the desk's
(front desk, VIP managers, administrators, checked again by charge_get_for_user); imports are
the front desk's and the administrators'.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.imports import ImportFileError
from zhongdu.forms import error_text, new_form_key

from . import imports, selectors, services
from .charge_forms import ChargeImportUploadForm, ChargeVoidForm
from .models import ChargeImport


@require_POST
def charge_void(request, pk):
    charge = selectors.charge_get_for_user(request.user, pk, write=True)
    form = ChargeVoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect(charge.visit)
    try:
        services.charge_void(
            charge=charge, reason=form.cleaned_data["reason"], by=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, _("The charge was voided: it no longer counts in the bill or the spend.")
        )
    return redirect(charge.visit)


@require_http_methods(["GET", "POST"])
def charge_import_upload(request):
    form = ChargeImportUploadForm(
        request.POST or None, request.FILES or None, initial={"key": new_form_key()}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.charge_import_create(
                file_name=upload.name,
                raw=upload.read(),
                by=request.user,
                request_key=form.cleaned_data["key"],
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(job)
    context = {
        "form": form,
        "sample_header": imports.SAMPLE_HEADER,
        "sample_row": imports.SAMPLE_ROW,
        "max_rows": imports.MAX_ROWS,
    }
    return render(
        request,
        "guide/charge_import_upload.html",
        context,
        status=422 if form.errors else 200,
    )


@require_GET
def charge_import_detail(request, token):
    job = imports.charge_import_get(token)
    problems_only = request.GET.get("problems") == "1"
    rows, next_after = imports.preview_rows(
        job, problems_only=problems_only, after=_int(request.GET.get("after"))
    )
    context = {
        "job": job,
        "done": job.status == ChargeImport.Status.DONE,
        "rows": rows,
        "next_after": next_after,
        "problems_only": problems_only,
        "counts": imports.status_counts(job.rows),
        "total": len(job.rows),
    }
    return render(request, "guide/charge_import_detail.html", context)


@require_POST
def charge_import_confirm(request, token):
    job = imports.charge_import_get(token)
    try:
        job = imports.charge_import_confirm(job=job, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        imported = job.result["imported"]
        messages.success(
            request,
            ngettext("%(count)s charge imported.", "%(count)s charges imported.", imported)
            % {"count": imported},
        )
    return redirect(job)


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
