"""Staff's side of My data: the worklist of people's requests to correct or delete their
information, a request's page to decide it, and the client page's dependant authorisations."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user, clients_shown_for_user
from zhongdu import audit
from zhongdu.forms import error_text

from . import data
from .data_forms import DecisionForm, DependantForm
from .models import PortalDependant
from .services import dependant_authorise, dependant_revoke


@require_GET
def request_list(request):
    rows, following = data.data_requests_worklist(after=request.GET.get("after", ""))
    shown = clients_shown_for_user(request.user, [row.client for row in rows])
    today = timezone.localdate()
    items = [
        {"request": row, "client": client, "late": row.due_on < today}
        for row, client in zip(rows, shown, strict=True)
    ]
    context = {"items": items, "following": following, "first": not request.GET.get("after")}
    return render(request, "portal/data/staff_request_list.html", context)


def _request_page(request, row, form, status=200):
    client = client_get_for_user(request.user, row.client_id, whole=True)
    context = {
        "row": row,
        "client": client,
        "events": row.events.select_related("by"),
        "form": form,
        "kept_records": data.KEPT_RECORDS,
    }
    return render(request, "portal/data/staff_request_detail.html", context, status=status)


@require_GET
def request_detail(request, token):
    row = data.data_request_get(token)
    response = _request_page(request, row, DecisionForm())
    audit.record(audit.Action.VIEW, obj=row.client, fields=["data_request"], request=request)
    return response


@require_POST
def request_decide(request, token):
    row = data.data_request_get(token)
    client_get_for_user(request.user, row.client_id, whole=True)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _request_page(request, row, form, status=422)
    try:
        data.data_request_decide(request=row, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error_text(error))
        return _request_page(request, row, form, status=422)
    messages.success(request, _("Decision recorded; the person can read the answer."))
    return redirect("datarequests:request_list")


@require_POST
def dependant_add(request, pk):
    dependant = client_get_for_user(request.user, pk, write=True, whole=True)
    form = DependantForm(request.POST)
    problem = ""
    if form.is_valid():
        try:
            holder = data.dependant_holder_for_phone(
                form.cleaned_data["holder_phone"], dependant=dependant
            )
            dependant_authorise(
                holder=holder,
                dependant=dependant,
                relation=form.cleaned_data["relation"],
                evidence=form.cleaned_data["evidence"],
                by=request.user,
            )
        except ValidationError as error:
            problem = error_text(error)
    else:
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("Recorded: they may now see this record on the portal."))
    return redirect(dependant.get_absolute_url())


@require_http_methods(["GET", "POST"])
def dependant_withdraw(request, pk, authorisation):
    client = client_get_for_user(request.user, pk, write=True, whole=True)
    row = get_object_or_404(
        PortalDependant.objects.select_related("holder", "dependant"),
        pk=authorisation,
        dependant=client,
        revoked_at__isnull=True,
    )
    if request.method == "GET":
        return render(request, "portal/data/staff_dependant_withdraw.html", {"row": row})
    dependant_revoke(authorisation=row, by=request.user)
    messages.success(request, _("Withdrawn: the other person no longer sees this record."))
    return redirect(client.get_absolute_url())
