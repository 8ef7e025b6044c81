"""Views of the enterprise accounts (企业VIP客户, /vip/enterprises/): the list, new and edit,
the account's page with its employees and history, adding an employee (an existing client,
found by phone or name), removing one, and importing a list of employees. Access
(zhongdu/roles.py PAGE_ACCESS): the VIP managers and administrators keep them, managers read.

Employees are always existing client records: the add page only picks, and the import matches
each row before offering to register anyone (vip.imports), so no client is duplicated here.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.imports import ImportFileError
from clientmgmt.search import parse_query
from clientmgmt.selectors import client_get_for_user, client_search_for_user
from zhongdu import phones
from zhongdu.forms import error_text, new_form_key
from zhongdu.private_query import search_by_post, search_params
from zhongdu.roles import user_may_open

from . import imports, selectors, services
from .forms import (
    EnterpriseForm,
    EnterpriseImportConfirmForm,
    EnterpriseImportForm,
    MemberAddForm,
    MemberSearchForm,
)
from .models import VipPolicy
from .views import labelled

MEMBERS_PER_PAGE = 100


@require_GET
def enterprise_list(request):
    # Enterprise accounts are a few dozen: one page, their employees counted in the same query.
    context = {
        "enterprises": selectors.enterprises(),
        "today": timezone.localdate(),
        "can_add": user_may_open(request.user, "vip:enterprise_new"),
    }
    return render(request, "vip/enterprise_list.html", context)


def _form_page(request, form, enterprise=None):
    context = {"form": form, "enterprise": enterprise}
    return render(request, "vip/enterprise_form.html", context, status=422 if form.errors else 200)


def _save(request, form, enterprise=None):
    """Shared by new and edit: the service checks the name and the dates, its messages land on
    the form's fields."""
    try:
        if enterprise is None:
            enterprise = services.enterprise_create(
                data=form.service_data(), by=request.user, request=request
            )
        else:
            enterprise = services.enterprise_update(
                enterprise=enterprise, data=form.service_data(), by=request.user, request=request
            )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _form_page(request, form, enterprise)
    messages.success(request, _("Enterprise saved."))
    return redirect(enterprise)


@require_http_methods(["GET", "POST"])
def enterprise_new(request):
    form = EnterpriseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _save(request, form)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
def enterprise_edit(request, pk):
    enterprise = selectors.enterprise_get(pk)
    # The form edits a copy: a refused save must not leave the page showing unsaved values as
    # the account's own.
    form = EnterpriseForm(request.POST or None, instance=selectors.enterprise_get(pk))
    if request.method == "POST" and form.is_valid():
        return _save(request, form, enterprise)
    return _form_page(request, form, enterprise)


@require_GET
def enterprise_detail(request, pk):
    enterprise = selectors.enterprise_get(pk)
    policy = VipPolicy.current()
    today = timezone.localdate()
    members = selectors.enterprise_members(enterprise, policy=policy, today=today)
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "enterprise": enterprise,
        "page": page,
        "window_start": policy.window_start(today).date(),
        "spend": selectors.enterprise_spend_total(enterprise, policy=policy, today=today),
        "agreement_active": enterprise.agreement_active(today),
        "contact_phone_masked": phones.mask(enterprise.contact_phone),
        "history": labelled(selectors.enterprise_history(enterprise)),
        "can_edit": user_may_open(request.user, "vip:enterprise_edit"),
    }
    return render(request, "vip/enterprise_detail.html", context)


@search_by_post("q")
@require_http_methods(["GET", "POST"])
def enterprise_member_add(request, pk):
    enterprise = selectors.enterprise_get(pk)
    errors, status = [], 200
    if request.method == "POST":
        form = MemberAddForm(request.POST)
        if form.is_valid():
            client = client_get_for_user(request.user, form.cleaned_data["client"])
            try:
                services.enterprise_add_member(
                    enterprise=enterprise, client=client, by=request.user
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    _("%(name)s is an employee of %(enterprise)s now.")
                    % {"name": client.name, "enterprise": enterprise.name},
                )
                return redirect(enterprise)
        else:
            errors = [message for field in form.errors.values() for message in field]
        status = 422
    search = MemberSearchForm(search_params(request) or None)
    query = parse_query(search.cleaned_data["q"] if search.is_valid() else "")
    clients = client_search_for_user(request.user, query)
    context = {
        "enterprise": enterprise,
        "search": search,
        "query": query,
        "clients": clients,
        "members": selectors.member_client_ids(enterprise, clients),
        "errors": errors,
    }
    return render(request, "vip/enterprise_member_add.html", context, status=status)


@require_POST
def enterprise_member_remove(request, pk, member_pk):
    enterprise = selectors.enterprise_get(pk)
    member = enterprise.members.select_related("client").filter(pk=member_pk).first()
    if member is None:
        raise Http404
    try:
        services.enterprise_remove_member(member=member, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("%(name)s is no longer an employee of %(enterprise)s.")
            % {"name": member.client.name, "enterprise": enterprise.name},
        )
    return redirect(enterprise)


# --- Import -----------------------------------------------------------------------------


def _upload_page(request, enterprise, form, *, errors=(), status=200):
    context = {
        "enterprise": enterprise,
        "form": form,
        "errors": errors,
        "max_rows": imports.MAX_ROWS,
    }
    return render(request, "vip/enterprise_import.html", context, status=status)


@require_http_methods(["GET", "POST"])
def enterprise_import(request, pk):
    """Upload (GET, then POST with the file) shows the preview; POST of the preview's form
    (with its payload) writes."""
    enterprise = selectors.enterprise_get(pk)
    if request.method == "GET":
        return _upload_page(request, enterprise, EnterpriseImportForm())
    if "payload" in request.POST:
        return _import_confirm(request, enterprise)
    return _import_preview(request, enterprise)


def _import_preview(request, enterprise):
    form = EnterpriseImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, enterprise, form, status=422)
    upload = form.cleaned_data["file"]
    try:
        rows = imports.read_rows(upload.name, upload.read())
    except ImportFileError as exc:
        form.add_error("file", str(exc))
        return _upload_page(request, enterprise, form, status=422)
    imports.match_rows(rows, enterprise=enterprise)
    payload = imports.preview_dump(
        rows, file_name=upload.name, enterprise=enterprise, user=request.user
    )
    counts = dict.fromkeys(imports.OUTCOMES, 0)
    for row in rows:
        counts[row.outcome] += 1
    context = {
        "enterprise": enterprise,
        "rows": rows,
        "file_name": upload.name,
        "counts": counts,
        "writable": counts[imports.ADD] + counts[imports.NEW],
        "confirm_form": EnterpriseImportConfirmForm(
            initial={"payload": payload, "key": new_form_key()}
        ),
    }
    return render(request, "vip/enterprise_import_preview.html", context)


def _import_confirm(request, enterprise):
    form = EnterpriseImportConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise imports.PreviewExpired(" ".join(m for f in form.errors.values() for m in f))
        file_name, rows = imports.preview_load(
            form.cleaned_data["payload"], enterprise=enterprise, user=request.user
        )
    except imports.PreviewExpired as exc:
        return _upload_page(
            request, enterprise, EnterpriseImportForm(), errors=[str(exc)], status=422
        )
    job = imports.enterprise_import_apply(
        enterprise=enterprise,
        rows=rows,
        create_new=form.cleaned_data["new_records"] == form.CREATE,
        file_name=file_name,
        by=request.user,
        request=request,
        request_key=form.cleaned_data["key"],
    )
    messages.success(
        request,
        _(
            "Employees added: %(added)s (registered as new clients: %(created)s). Rows left"
            " out: %(skipped)s."
        )
        % job.counts,
    )
    return redirect(job)
