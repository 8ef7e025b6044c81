# Views of the archives (客户档案) and of a client's health archive (健康档案): decorators, an
# access-checked fetch, a form, one service or selector call, redirect or render. Bulk actions
# post the ticked rows with the list's query string, so that the page comes back as it was; bad
# input is a message on the page, never a 500.
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from zhongdu import audit
from zhongdu.exports import audited_download
from zhongdu.forms import error_text
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import archives, selectors, services
from .archive_forms import ArchiveExportForm, ArchiveFilterForm, filters_from_query, ticked_ids
from .models import Client
from .registry import timeline_by_source, timeline_kinds
from .views import _summary_page

# The health archive reads this many of the client's latest entries (one query).
HEALTH_ARCHIVE_LIMIT = 300


@require_GET
def archive_list(request):
    form = ArchiveFilterForm(request.GET or None)
    rows = archives.archive_clients(form.filters())
    page = keyset_page(rows, before=request.GET.get("before"), size=archives.PAGE_SIZE)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_review": user_may_open(request.user, "clientmgmt:archive_review"),
        "can_export": user_may_open(request.user, "clientmgmt:archive_export"),
        # Follow-up's bulk call planning, by URL name (clientmgmt imports no followup).
        "can_plan_calls": user_may_open(request.user, "followup:call_bulk"),
        "export_form": ArchiveExportForm(),
        "export_cap": archives.EXPORT_CAP,
        "today": timezone.localdate(),
    }
    return render(request, "clientmgmt/archive_list.html", context)


def _back_to_list(query: str):
    url = reverse("clientmgmt:archive_list")
    return redirect(f"{url}?{query}" if query else url)


@require_POST
def archive_review(request):
    _filters, query = filters_from_query(request.POST.get("query", ""))
    try:
        marked = services.client_mark_reviewed(
            client_ids=ticked_ids(request.POST), by=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            ngettext(
                "%(n)s archive marked as reviewed today.",
                "%(n)s archives marked as reviewed today.",
                marked,
            )
            % {"n": marked},
        )
    return _back_to_list(query)


@require_POST
def archive_export(request):
    if not request.user.has_perm("clientmgmt.export_client"):
        raise PermissionDenied
    filters, query = filters_from_query(request.POST.get("query", ""))
    form = ArchiveExportForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _back_to_list(query)
    scope = form.cleaned_data["scope"]
    if scope == ArchiveExportForm.SELECTED:
        ids = ticked_ids(request.POST)
        if not ids:
            messages.error(request, _("Tick the clients first."))
            return _back_to_list(query)
        clients, was_capped = archives.capped(archives.archive_selected(ids))
    else:
        clients, was_capped = archives.capped(archives.archive_clients(filters))
    rows = archives.export_rows(clients, user=request.user)
    file_format = form.cleaned_data["format"]
    export = archives.export_file(rows, file_format=file_format, was_capped=was_capped)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = audited_download(
        request,
        export,
        filename=f"archives-{stamp}",
        object_type="clientmgmt.client",
        object_repr=audit.note(
            "clientmgmt.archives",
            scope=scope,
            rows=len(rows),
            **({"capped": archives.EXPORT_CAP} if was_capped else {}),
        ),
        reason=form.cleaned_data["reason"],
    )
    if was_capped:
        response["X-Export-Capped"] = str(archives.EXPORT_CAP)
    return response


@require_GET
def health_archive(request, pk):
    """The client's health archive on one printable page: the summary (numbers masked) and
    every department's entries from the timeline registry, grouped, filterable by kind."""
    client = selectors.client_get_for_user(request.user, pk)
    if client.status == Client.Status.MERGED and client.merged_into_id:
        return redirect("clientmgmt:health_archive", client.merged_into_id)
    shown = selectors.client_shown_for_user(request.user, client)
    if not shown.whole:
        # Discretion (a VIP's record): the masked summary, audited as on the client page.
        audit.record(audit.Action.VIEW, obj=client, reason="summary", request=request)
        return _summary_page(request, shown)
    kinds = timeline_kinds()
    shown = request.GET.get("timeline", "")
    if shown not in dict(kinds):
        shown = ""
    groups = timeline_by_source(
        client, limit=HEALTH_ARCHIVE_LIMIT, kinds={shown} if shown else None
    )
    audit.record(audit.Action.VIEW, obj=client, reason="health archive", request=request)
    context = {
        "client": client,
        "groups": groups,
        "timeline_kinds": kinds,
        "timeline_shown": shown,
        "limit": HEALTH_ARCHIVE_LIMIT,
        "limit_reached": sum(len(entries) for _kind, _label, entries in groups)
        >= HEALTH_ARCHIVE_LIMIT,
        "printed_at": timezone.now(),
    }
    return render(request, "clientmgmt/health_archive.html", context)
