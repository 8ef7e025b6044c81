import dataclasses
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhongdu import audit
from zhongdu.exports import audited_download
from zhongdu.forms import error_text, new_form_key
from zhongdu.private_query import address, search_by_post, search_params
from zhongdu.roles import user_may_open, user_roles

from . import consent, exports, selectors, services
from .forms import (
    ClientForm,
    ConsentForm,
    ImportUploadForm,
    MergeForm,
    MergePickForm,
    RevealForm,
)
from .imports import ImportFileError
from .models import Client, ClientImport, ClientImportRow
from .registry import (
    link_rule,
    record_panels,
    timeline_for,
    timeline_kinds,
)
from .search import parse_query

MERGE_PAGE = selectors.MERGE_PAGE


@search_by_post("q")
@require_GET
def client_list(request):
    q = search_params(request).get("q", "")
    query = parse_query(q)
    # The page's links carry the search as its address does: a full number only as a token.
    new = {"name": q} if query.kind == "name" else {"phone": q} if query.kind == "phone" else {}
    clients = selectors.client_search_for_user(request.user, query)
    context = {
        "q": q,
        "query": query,
        "new_url": address(request, reverse("clientmgmt:client_create"), new, private=["phone"]),
        "export_url": address(
            request, reverse("clientmgmt:client_export"), {"q": q}, private=["q"]
        ),
        "clients": clients,
        "rows": selectors.search_rows(clients, _merge_links(request, clients, q)),
        "limit": selectors.SEARCH_LIMIT,
        "can_create": bool(user_roles(request.user) & selectors.CLIENT_WRITERS),
        "can_import": user_may_open(request.user, "clientmgmt:import_upload"),
    }
    template = "clientmgmt/_client_results.html" if request.htmx else "clientmgmt/client_list.html"
    return render(request, template, context)


def _merge_links(request, clients, q) -> dict[int, str]:
    """{client id: "Merge with…" link} for the search results: a link on each record the user
    may see whole, for a role that merges; the merge page then offers this search's other
    records (a full number travels only as a token)."""
    if not user_may_open(request.user, MERGE_PAGE):
        return {}
    url = reverse(MERGE_PAGE)
    return {
        client.pk: address(request, url, {"merged": client.pk, "q": q}, private=["q"])
        for client in clients
        if client.whole
    }


def _form_page(request, form, client=None, duplicates=()):
    # A duplicate may be a VIP this user does not serve: its summary, not its birth date or ID.
    duplicates = selectors.clients_shown_for_user(request.user, duplicates)
    offers = selectors.merge_offers(request.user, duplicates, client)
    return render(
        request,
        "clientmgmt/client_form.html",
        {
            "form": form,
            "client": client,
            "duplicates": duplicates,
            "duplicate_rows": [(other, offers.get(other.pk, [])) for other in duplicates],
        },
    )


def _save_client(request, form, client=None):
    """Shared by create and edit: duplicates first, then the service."""
    data = form.service_data()
    key = form.cleaned_data["key"] if client is None else ""
    duplicates, stop = form.check_duplicates(exclude_pk=client.pk if client else None)
    # After the duplicates: a first click committing in between is found here, not shown there.
    if registered := selectors.client_registered_by(key):
        return redirect(registered)  # the same form sent again: its record is made
    if stop:
        return _form_page(request, form, client, duplicates)
    try:
        if client is None:
            client, new = services.client_register(
                data=data,
                by=request.user,
                request=request,
                request_key=key,
                distinct=form.cleaned_data["confirm_distinct"],
            )
            if not new:
                messages.info(request, _("This person is already on file: here is the record."))
                return redirect(client)
        else:
            client = services.client_update(
                client=client, data=data, by=request.user, request=request
            )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _form_page(request, form, client)
    messages.success(request, _("Client record saved."))
    return redirect(client)


@search_by_post("phone")
@require_http_methods(["GET", "POST"])
def client_create(request):
    if request.method == "POST":
        form = ClientForm(request.POST)
        if form.is_valid():
            return _save_client(request, form)
    else:
        asked = search_params(request)
        form = ClientForm(
            initial={
                "name": asked.get("name", ""),
                "phone": asked.get("phone", ""),
                "key": new_form_key(),
            }
        )
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
def client_edit(request, pk):
    client = selectors.client_get_for_user(request.user, pk, write=True, whole=True)
    if client.status == Client.Status.MERGED:
        return redirect(client.merged_into)
    if request.method == "POST":
        form = ClientForm(request.POST, instance=client)
        if form.is_valid():
            return _save_client(request, form, client)
    else:
        form = ClientForm(instance=client)
    return _form_page(request, form, client)


def _linked_for(user, entries):
    """The timeline's entries, linking only to pages this user may open (the SMS outbox is the
    managers', a visit page the front desk's): the others keep their title, without a link."""
    may_open: dict[str, bool] = {}
    shown = []
    for entry in entries:
        if entry.url:
            name = entry.view_name or resolve(urlsplit(entry.url).path).view_name
            if name not in may_open:
                rule = link_rule(name)
                may_open[name] = user_may_open(user, name) and (rule is None or rule(user))
            if not may_open[name]:
                entry = dataclasses.replace(entry, url="")
        shown.append(entry)
    return shown


def _detail_page(request, client, revealed=None, reveal_form=None, status=200):
    kinds = timeline_kinds()
    shown = request.GET.get("timeline", "")
    if shown not in dict(kinds):
        shown = ""
    consents, consent_history = selectors.consent_overview(client)
    context = {
        "client": client,
        "consents": consents,
        "consent_history": consent_history,
        "timeline": _linked_for(
            request.user, timeline_for(client, kinds={shown} if shown else None)
        ),
        "timeline_kinds": kinds,
        "timeline_shown": shown,
        # What the desks must see first, from the layers above (an open referral).
        "panels": record_panels(request.user, client),
        "can_refer": user_may_open(request.user, "referrals:referral_new"),
        "can_see_health_archive": user_may_open(request.user, "clientmgmt:health_archive"),
        "next": request.get_full_path(),
        "revealed": revealed or {},
        "reveal_form": reveal_form,
        "can_reveal": request.user.has_perm("clientmgmt.reveal_client_contact"),
        "can_edit": bool(user_roles(request.user) & selectors.CLIENT_WRITERS),
        "can_archive": request.user.has_perm("clientmgmt.archive_client"),
        "can_merge": user_may_open(request.user, MERGE_PAGE),
        "consent_methods": consent.Method.choices,
        "can_book": user_may_open(request.user, "consult:booking_new"),
        # The front desk's card and exam-order pages, by URL name (clientmgmt imports no guide).
        "can_issue_card": user_may_open(request.user, "guide:card_new"),
        "can_order_exam": user_may_open(request.user, "guide:exam_new"),
        # Follow-up's care plans and return-visit calls, by URL name (clientmgmt imports no
        # followup).
        "can_write_plan": user_may_open(request.user, "followup:plan_new"),
        "can_plan_call": user_may_open(request.user, "followup:call_new"),
        "can_record_complaint": user_may_open(request.user, "complaints:complaint_new"),
        # VIP's nomination and standing pages, by URL name (clientmgmt imports no vip).
        "can_nominate_vip": user_may_open(request.user, "vip:nominate"),
        "can_open_vip": user_may_open(request.user, "vip:vip_detail"),
    }
    return render(request, "clientmgmt/client_detail.html", context, status=status)


@require_GET
def client_detail(request, pk):
    client = selectors.client_get_for_user(request.user, pk)
    shown = selectors.client_shown_for_user(request.user, client)
    if not shown.whole:
        # Discretion (a VIP's record, seed 保密原则): the masked summary this user's task needs;
        # the visit is audited all the same, and the VIP manager sees who came.
        audit.record(audit.Action.VIEW, obj=client, reason="summary", request=request)
        return _summary_page(request, shown)
    audit.record(audit.Action.VIEW, obj=client, request=request)
    return _detail_page(request, client)


def _summary_page(request, client):
    """`client` as this user may see it (selectors.ShownClient): the summary only."""
    context = {
        "client": client,
        "can_book": user_may_open(request.user, "consult:booking_new"),
        "can_record_complaint": user_may_open(request.user, "complaints:complaint_new"),
    }
    return render(request, "clientmgmt/client_summary.html", context)


@require_POST
def client_reveal(request, pk):
    client = selectors.client_get_for_user(request.user, pk, whole=True)
    if not request.user.has_perm("clientmgmt.reveal_client_contact"):
        raise PermissionDenied
    form = RevealForm(request.POST)
    value = None
    if form.is_valid():
        field = form.cleaned_data["field"]
        value = services.client_reveal(
            client=client,
            field=field,
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
    if request.htmx:
        context = {
            "client": client,
            "field": request.POST.get("field"),
            "value": value,
            "form": form,
        }
        return render(
            request, "clientmgmt/_reveal.html", context, status=200 if form.is_valid() else 422
        )
    revealed = {form.cleaned_data["field"]: value} if form.is_valid() else {}
    return _detail_page(request, client, revealed, form, status=200 if form.is_valid() else 422)


@require_POST
def client_archive(request, pk):
    client = selectors.client_get_for_user(request.user, pk, write=True, whole=True)
    try:
        services.client_archive(client=client, by=request.user, request=request)
        messages.success(request, _("The record was archived. It stays searchable."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(client)


@require_POST
def client_restore(request, pk):
    client = selectors.client_get_for_user(request.user, pk, write=True, whole=True)
    try:
        services.client_restore(client=client, by=request.user, request=request)
        messages.success(request, _("The record is active again."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(client)


@search_by_post("q")
@require_GET
def client_export(request):
    query = parse_query(search_params(request).get("q", ""))
    export, count = exports.client_search_export(query, user=request.user)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return audited_download(
        request,
        export,
        filename=f"clients-{stamp}",
        object_type="clientmgmt.client",
        object_repr=audit.note("clientmgmt.search", kind=query.kind, rows=count),
    )


@search_by_post("q")
@require_http_methods(["GET", "POST"])
def merge_select(request):
    """Two records side by side (the record references come in the links of the client page,
    the search results and the duplicate warning), or the search that picks them: by name,
    last four digits or a number, posted, so a full number never enters an address."""
    if request.method == "POST":
        form = MergeForm(request.POST)
    else:
        picks = MergePickForm(request.GET)
        chosen = picks.cleaned_data if picks.is_valid() else {}
        if not (chosen.get("survivor") and chosen.get("merged")):
            return _merge_search(request, chosen)
        form = MergeForm(request.GET)
    pair = None
    if form.is_valid():
        survivor = selectors.client_get_for_user(
            request.user, form.cleaned_data["survivor"], whole=True
        )
        merged = selectors.client_get_for_user(
            request.user, form.cleaned_data["merged"], whole=True
        )
        pair = (survivor, merged)
        if request.method == "POST":
            try:
                merge = services.client_merge(
                    survivor=survivor,
                    merged=merged,
                    by=request.user,
                    request=request,
                    request_key=form.cleaned_data["key"],
                    keep_merged=form.keep_merged(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The records were merged. You can undo this below."))
                return redirect(merge)
        else:
            _audit_merge_read(request, pair)
    # The one-time key the merge button sends: a double click finds the first merge.
    key = getattr(form, "cleaned_data", {}).get("key") or new_form_key()
    context = {
        "form": form,
        "pair": pair,
        "key": key,
        "differences": selectors.merge_differences(*pair, keep_merged=form.keep_merged())
        if pair
        else [],
    }
    return render(request, "clientmgmt/merge_select.html", context)


def _audit_merge_read(request, clients):
    """The merge pages show both records (date of birth, masked numbers): a read of each."""
    for client in clients:
        audit.record(audit.Action.VIEW, obj=client, reason="merge", request=request)


def _merge_search(request, chosen):
    """The merge page with one record picked (find the other) or none (find the first)."""
    role, pk = next(((name, pk) for name, pk in chosen.items() if pk), (None, None))
    picked = selectors.client_get_for_user(request.user, pk, whole=True) if pk else None
    q = search_params(request).get("q", "")
    query = parse_query(q)
    candidates = selectors.merge_candidates(
        request.user, query, leave_out={picked.pk} if picked else ()
    )
    if picked is None:
        links = [{"merged": other.pk, "q": q} for other in candidates]
    else:
        other_role = "merged" if role == "survivor" else "survivor"
        links = [{role: picked.pk, other_role: other.pk} for other in candidates]
    url = reverse(MERGE_PAGE)
    context = {
        "picked": picked,
        "picked_as": role,
        "q": q,
        "query": query,
        "candidates": [
            (other, address(request, url, link, private=["q"]))
            for other, link in zip(candidates, links, strict=True)
        ],
    }
    return render(request, "clientmgmt/merge_search.html", context)


@require_GET
def merge_detail(request, pk):
    merge = selectors.merge_get_for_user(request.user, pk)
    _audit_merge_read(request, (merge.survivor, merge.merged))
    return render(request, "clientmgmt/merge_detail.html", {"merge": merge})


@require_POST
def merge_undo(request, pk):
    merge = selectors.merge_get_for_user(request.user, pk)
    try:
        services.client_unmerge(merge=merge, by=request.user, request=request)
        messages.success(request, _("The merge was undone: both records are active again."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(merge)


@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, initial={"key": new_form_key()}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.client_import_create(
                file_name=upload.name,
                raw=upload.read(),
                by=request.user,
                request=request,
                request_key=form.cleaned_data["key"],
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(job)
    return render(request, "clientmgmt/import_upload.html", {"form": form})


@require_GET
def import_detail(request, token):
    job = selectors.client_import_get(token)
    preview = job.status == ClientImport.Status.PREVIEW
    rows, next_after = selectors.client_import_rows(
        job, problems_only=preview, after=_int(request.GET.get("after"))
    )
    context = {
        "job": job,
        "rows": rows,
        "next_after": next_after,
        "counts": selectors.client_import_counts(job),
        "actions": ClientImportRow.Action,
    }
    return render(request, "clientmgmt/import_detail.html", context)


@require_POST
def import_start(request, token):
    job = selectors.client_import_get(token)
    actions = {
        _int(key.removeprefix("action_")): value
        for key, value in request.POST.items()
        if key.startswith("action_")
    }
    try:
        services.client_import_start(job=job, actions=actions, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(job)


@require_GET
def import_progress(request, token):
    job = selectors.client_import_get(token)
    response = render(request, "clientmgmt/_import_progress.html", {"job": job})
    if job.status == ClientImport.Status.DONE:
        response["HX-Refresh"] = "true"  # show the result table
    return response


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@require_POST
def client_consent(request, pk):
    """The client page's consent controls: the client granted or withdrew one purpose."""
    client = selectors.client_get_for_user(request.user, pk, write=True, whole=True)
    form = ConsentForm(request.POST)
    if client.status == Client.Status.MERGED or not form.is_valid():
        refused = [m for errors in form.errors.values() for m in errors]
        messages.error(request, " ".join(refused) or _("Nothing was changed."))
        return redirect(client)
    data = form.cleaned_data
    try:
        services.consent_record(
            client=client,
            purpose=data["purpose"],
            granted=data["answer"] == ConsentForm.GRANT,
            channel=consent.Channel.CLIENT_PAGE,
            method=data["method"],
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(client)
    messages.success(request, _("Consent recorded."))
    return redirect(client)
