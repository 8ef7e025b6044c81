"""The results of an exam order (/guide/exams/<id>/results/): entry by kind, the laboratory
file's import with its preview, the clinician's release, report files, the clinicians' worklist.

Access: PAGE_ACCESS (zhongdu/roles.py) lets the roles in; every page fetches the order through
exams.selectors.order_get_for_user (RESULT_READERS and the discretion rule). Before the release
only the examining staff and the clinicians see values, files and history (selectors.values_shown);
the other readers see "results pending release". Every read of the results and every file sent is
audited."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.imports import ImportFileError
from clientmgmt.selectors import clients_shown_for_user
from zhongdu import audit, exports, private_files
from zhongdu.forms import error_text
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import imports, selectors, services
from .result_forms import (
    ReleaseForm,
    ResultEntryForm,
    ResultImportConfirmForm,
    ResultImportForm,
    WorklistFilterForm,
)


def _audit_read(request, order, what="results"):
    """A read of the order's results (the page, a file), in the hospital's language."""
    with translation.override(settings.LANGUAGE_CODE):
        label = {
            "results": _("Results of exam order %(pk)s"),
            "file": _("Report file of exam order %(pk)s"),
        }[what] % {"pk": order.pk}
    audit.record(audit.Action.VIEW, obj=order, object_repr=label, request=request)


def _order_context(request, order) -> dict:
    """What every results page shows of the order: its client (masked phone) and, for those
    who may open it (the front desk's readers; not the clinicians), the link to the order."""
    may_open = user_may_open(request.user, "guide:exam_detail")
    return {
        "order": order,
        "client": order.client,
        "order_link": order.get_absolute_url() if may_open else "",
    }


def _results_url(order, item_pk=None):
    url = reverse("exams:results", args=[order.pk])
    return f"{url}#result-{item_pk}" if item_pk else url


def _entry_form(row, released, data=None, files=None):
    return ResultEntryForm(
        data,
        files,
        definition=row.definition,
        released=released,
        item_pk=row.pk,
        initial={"revision": row.result.revision if row.result else 0},
    )


def _page_context(request, order, *, posted=None, release_form=None):
    """The results page: each row with its form (`posted`: (item id, the bound form))."""
    release = selectors.release_of(order)
    if not selectors.values_shown(request.user, release):
        # Outside the centre before the release: the order and "results pending release" only.
        return {**_order_context(request, order), "rows": [], "release": None, "pending": True}
    may_enter = user_may_open(request.user, "exams:result_save") and order.status != "cancelled"
    rows = selectors.result_rows(order)
    for row in rows:
        row.form = None
        if may_enter and row.definition is not None:
            row.form = posted[1] if posted and posted[0] == row.pk else None
            row.form = row.form or _entry_form(row, release is not None)
    return {
        **_order_context(request, order),
        "rows": rows,
        "release": release,
        "missing": [row for row in rows if row.definition is not None and row.result is None],
        "may_enter": may_enter,
        "may_release": user_may_open(request.user, "exams:results_release")
        and release is None
        and order.status != "cancelled",
        "may_import": may_enter and user_may_open(request.user, "exams:results_import"),
        "release_form": release_form or ReleaseForm(),
    }


@require_GET
def results(request, pk):
    order = selectors.order_get_for_user(request.user, pk)
    context = _page_context(request, order)
    if not context.get("pending"):
        _audit_read(request, order)
    return render(request, "exams/results.html", context)


@require_POST
def result_save(request, pk, item_pk):
    """One examination's value: the row again (htmx) or the page; 422 with what was typed and
    the message when the value is refused."""
    order = selectors.order_get_for_user(request.user, pk)
    item = selectors.result_item_get(order, item_pk)
    row = next(r for r in selectors.result_rows(order) if r.pk == item.pk)
    if row.definition is None:
        raise Http404
    released = selectors.release_of(order) is not None
    form = _entry_form(row, released, request.POST, request.FILES)
    status = 422
    if form.is_valid():
        try:
            services.result_record(
                item=item,
                by=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
                expected_revision=form.cleaned_data["revision"],
                **form.value_kwargs(),
            )
        except services.NotAllowed as exc:
            form.add_error(None, error_text(exc))
            status = 409
        except ValidationError as exc:
            form.add_error(None, error_text(exc))
        else:
            if not request.htmx:
                messages.success(request, _("Result recorded."))
                return redirect(_results_url(order, item.pk))
            status, form = 200, None
    if request.htmx:
        context = _page_context(request, order, posted=(item.pk, form) if form else None)
        row = next(r for r in context["rows"] if r.pk == item.pk)
        # The row, and the release card out of band, so its list of what is missing stays true.
        context.update(row=row, oob=status == 200)
        return render(request, "exams/_result_row.html", context, status=status)
    context = _page_context(request, order, posted=(item.pk, form))
    return render(request, "exams/results.html", context, status=status)


@require_POST
def results_release(request, pk):
    order = selectors.order_get_for_user(request.user, pk)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        context = _page_context(request, order, release_form=form)
        return render(request, "exams/results.html", context, status=422)
    try:
        services.results_release(order=order, by=request.user, request=request)
    except services.NotAllowed as exc:
        # A second click, another tab, a cancelled order: the page says how things stand.
        messages.info(request, error_text(exc))
        return redirect(_results_url(order))
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
        context = _page_context(request, order, release_form=form)
        return render(request, "exams/results.html", context, status=422)
    messages.success(request, _("The results are released."))
    return redirect(_results_url(order))


@never_cache
@require_GET
def result_file(request, pk, item_pk):
    """A report file, decrypted (zhongdu.private_files), with its type; audited; never cached."""
    order = selectors.order_get_for_user(request.user, pk)
    if not selectors.values_shown(request.user, selectors.release_of(order)):
        raise Http404  # before the release, a file is the examining staff's only
    item = selectors.result_item_get(order, item_pk)
    result = getattr(item, "result", None)
    if result is None or not result.file:
        raise Http404
    try:
        data = private_files.read(result.file)
    except FileNotFoundError:
        raise Http404 from None
    _audit_read(request, order, "file")
    content_type = result.file_type or "application/octet-stream"
    return exports.private_download(
        data,
        content_type=content_type,
        filename=result.file_label or f"result-{item.pk}",
        inline=content_type in services.FILE_TYPES,
    )


# --- The laboratory's file -----------------------------------------------------------------


def _upload_page(request, order, form, *, errors=(), status=200):
    context = {**_order_context(request, order), "form": form, "errors": errors}
    return render(request, "exams/results_import.html", context, status=status)


@require_http_methods(["GET", "POST"])
def results_import(request, pk):
    """Upload (GET, then POST with the file) shows the preview; POST of the preview's form
    (with its payload) records."""
    order = selectors.order_get_for_user(request.user, pk)
    if request.method == "GET":
        return _upload_page(request, order, ResultImportForm())
    if "payload" in request.POST:
        return _import_confirm(request, order)
    return _import_preview(request, order)


def _import_preview(request, order):
    form = ResultImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, order, form, status=422)
    upload = form.cleaned_data["file"]
    try:
        rows = imports.read_rows(upload.name, upload.read())
    except ImportFileError as exc:
        form.add_error("file", str(exc))
        return _upload_page(request, order, form, status=422)
    released = selectors.release_of(order) is not None
    imports.match_rows(rows, order=order, released=released)
    _audit_read(request, order)  # the preview shows the values in force against the file's
    counts = dict.fromkeys(imports.OUTCOMES, 0)
    for row in rows:
        counts[row.outcome] += 1
    payload = imports.preview_dump(rows, file_name=upload.name, order=order, user=request.user)
    context = {
        **_order_context(request, order),
        "rows": rows,
        "file_name": upload.name,
        "counts": counts,
        "released": released,
        "writable": counts[imports.RECORD] + counts[imports.CORRECTION],
        "confirm_form": ResultImportConfirmForm(initial={"payload": payload}, released=released),
    }
    return render(request, "exams/results_import_preview.html", context)


def _import_confirm(request, order):
    form = ResultImportConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise imports.PreviewExpired(" ".join(m for f in form.errors.values() for m in f))
        _file_name, rows = imports.preview_load(
            form.cleaned_data["payload"], order=order, user=request.user
        )
    except imports.PreviewExpired as exc:
        return _upload_page(request, order, ResultImportForm(), errors=[str(exc)], status=422)
    try:
        counts = imports.results_import_apply(
            order=order,
            rows=rows,
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        return _upload_page(request, order, ResultImportForm(), errors=exc.messages, status=409)
    messages.success(
        request,
        _("Results recorded: %(recorded)s; unchanged: %(unchanged)s; left out: %(skipped)s.")
        % counts,
    )
    return redirect(_results_url(order))


# --- The clinicians' worklist --------------------------------------------------------------


@require_GET
def results_worklist(request):
    form = WorklistFilterForm(request.GET or None)
    waiting = (form.cleaned_data["waiting"] if form.is_valid() else "") or selectors.BOTH
    page = keyset_page(
        selectors.results_worklist(waiting=waiting), before=request.GET.get("before")
    )
    shown = clients_shown_for_user(request.user, [order.client for order in page.items])
    for order, client in zip(page.items, shown, strict=True):
        order.shown_client = client
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "exams/results_worklist.html", context)
