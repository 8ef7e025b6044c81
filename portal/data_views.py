"""My data (/my/data/): the person's consents, the copy of their information, their requests
to correct or delete it. Every page reads the person through request.patient.subject."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clientmgmt import consent
from zhongdu import audit, exports
from zhongdu.forms import new_form_key
from zhongdu.pdf import pdf_export, render_pdf

from . import data
from .data_forms import DataRequestForm
from .selectors import in_wechat
from .services import portal_username


@require_GET
def my_data(request):
    patient = request.patient
    subject = patient.subject
    audit.record(
        audit.Action.VIEW,
        obj=subject,
        object_repr=_("My data page of the patient portal"),
        username=portal_username(patient.client),
    )
    context = {
        "consents": data.portal_consents(subject),
        "requests": data.data_requests_for_person(subject),
        "kept_records": data.KEPT_RECORDS,
        "wechat": in_wechat(request),
        "page_url": request.build_absolute_uri(),
    }
    return render(request, "portal/data/my_data.html", context)


@require_http_methods(["GET", "POST"])
def consent_withdraw(request, purpose):
    if purpose not in consent.PURPOSES:
        raise Http404
    shown = {row.purpose.code: row for row in data.portal_consents(request.patient.subject)}
    if purpose not in shown or not shown[purpose].granted:
        return redirect("portal:my_data")
    if request.method == "GET":
        audit.record(
            audit.Action.VIEW,
            obj=request.patient.subject,
            object_repr=_("My data page of the patient portal"),
            username=portal_username(request.patient.client),
        )
        context = {"row": shown[purpose], "needing": _needing(purpose, shown)}
        return render(request, "portal/data/consent_withdraw.html", context)
    data.portal_consent_withdraw(patient=request.patient, purpose=purpose)
    messages.success(request, _("Your consent was withdrawn."))
    return redirect("portal:my_data")


def _needing(purpose, shown):
    """The purposes withdrawn with this one (marketing SMS with all SMS)."""
    return [shown[code].purpose for code in consent.dependants(purpose) if shown[code].granted]


@require_GET
def data_copy(request, fmt):
    if fmt not in ("pdf", "json"):
        raise Http404
    patient = request.patient
    if data.copies_left(patient) <= 0:
        messages.error(request, _("Too many copies downloaded in the last hour: try again later."))
        return redirect("portal:my_data")
    copy = data.personal_copy(patient.subject)
    if fmt == "json":
        export = data.json_export(copy)
    else:
        export = pdf_export(render_pdf("portal/data/copy_pdf.html", {"copy": copy}))
    return exports.audited_download(
        request,
        export,
        filename=f"my-data-{timezone.localdate():%Y%m%d}",
        obj=patient.subject,
        object_repr=_("Copy of personal information (%(format)s)") % {"format": fmt.upper()},
        username=portal_username(patient.client),
    )


@require_http_methods(["GET", "POST"])
def data_request_new(request):
    form = DataRequestForm(request.POST or None, initial={"key": new_form_key()})
    context = {"form": form, "days": settings.DATA_REQUEST_WORKING_DAYS}
    if request.method == "GET" or not form.is_valid():
        status = 422 if form.errors else 200
        return render(request, "portal/data/request_new.html", context, status=status)
    try:
        data.data_request_create(
            patient=request.patient,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            key=form.cleaned_data["key"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "portal/data/request_new.html", context, status=422)
    messages.success(request, _("Your request was sent. You will find the answer here."))
    return redirect("portal:my_data")
