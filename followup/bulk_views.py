# Bulk actions other departments' lists post here. The archive list of client management
# (clientmgmt.archive_views) ticks clients and posts them to call_bulk by URL name: clientmgmt
# is a lower layer and imports nothing of follow-up.
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from clientmgmt.archive_forms import filters_from_query, ticked_ids
from clientmgmt.selectors import clients_get_for_user
from clientmgmt.services import BULK_LIMIT

from . import services
from .forms import CallBulkForm


def _back_to_archives(query: str):
    url = reverse("clientmgmt:archive_list")
    return redirect(f"{url}?{query}" if query else url)


@require_POST
def call_bulk(request):
    """A maintenance call to each ticked client, on one date with one subject."""
    _filters, query = filters_from_query(request.POST.get("query", ""))
    form = CallBulkForm(request.POST)
    ids = ticked_ids(request.POST)
    if not ids:
        messages.error(request, _("Tick the clients first."))
        return _back_to_archives(query)
    if len(ids) > BULK_LIMIT:
        messages.error(request, _("At most %(n)s clients at a time.") % {"n": f"{BULK_LIMIT:,}"})
        return _back_to_archives(query)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return _back_to_archives(query)
    clients = clients_get_for_user(request.user, ids, write=True)
    due_on = form.cleaned_data["due_on"]
    made, planned = services.calls_plan_maintenance(
        clients=clients, due_on=due_on, title=form.cleaned_data["title"], by=request.user
    )
    text = ngettext(
        "%(n)s maintenance call planned for %(date)s.",
        "%(n)s maintenance calls planned for %(date)s.",
        made,
    ) % {"n": made, "date": f"{due_on:%Y-%m-%d}"}
    if planned:
        text += " " + ngettext(
            "%(n)s was planned already.", "%(n)s were planned already.", planned
        ) % {"n": planned}
    messages.success(request, text)
    return _back_to_archives(query)
