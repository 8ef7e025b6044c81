"""Client rows for export, built once: the client search's export (CSV) and the archive list's
(archives.py) share their first columns and the same rules, applied here, on the way to the one
export builder (zhongdu.exports)."""

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zhongdu import exports

from .selectors import client_search, clients_shown_for_user

CLIENT_COLUMNS = (
    _("Id"),
    _("Name"),
    _("Sex"),
    _("Date of birth"),
    _("Phone"),
    _("ID card"),
    _("Categories"),
)


def client_rows(clients, *, user=None, extra=lambda client: []) -> list[list]:
    """One row per client (CLIENT_COLUMNS, then `extra(client)`), numbers masked
    (zhongdu.masking): never a full phone or ID number. A VIP's date of birth and ID number stay
    out unless `user` sees VIPs' whole records (the discretion rule, applied by
    clientmgmt.selectors.clients_shown_for_user); `extra` reads the record itself (an archive's
    own bookkeeping: channel, review date)."""
    clients = list(clients)
    rows = []
    for client, shown in zip(clients, clients_shown_for_user(user, clients), strict=True):
        rows.append(
            [
                shown.pk,
                shown.name,
                str(shown.get_sex_display()),
                shown.date_of_birth.isoformat() if shown.date_of_birth else "",
                shown.phone_masked,
                shown.id_number_masked or "",
                " ".join(str(label) for label in shown.categories),
                *extra(client),
            ]
        )
    return rows


def client_search_export(query, *, user) -> tuple[exports.Export, int]:
    """The search's results as CSV, and how many rows it holds."""
    rows = client_rows(
        client_search(query), user=user, extra=lambda client: [client.get_status_display()]
    )
    return exports.csv_export([*CLIENT_COLUMNS, _("Status")], rows), len(rows)


# --- What the audit trail says of an export (zhongdu.audit.note, ClientmgmtConfig.audit_notes) --

# The search's kind of query (clientmgmt.search.ClientQuery.kind).
SEARCH_KINDS = {
    "empty": _("client list"),
    "name": _("name search"),
    "phone": _("phone number search"),
    "last4": _("search by a number's last four digits"),
    "id_number": _("ID number search"),
    "card": _("card number search"),
}
# The archive export's scope (archive_forms.ArchiveExportForm.scope).
ARCHIVE_SCOPES = {
    "selected": _("archives, the ticked clients"),
    "filtered": _("archives, every client of the filters"),
}


def _clients(what, rows: int) -> str:
    return ngettext("%(what)s: %(rows)s client", "%(what)s: %(rows)s clients", rows) % {
        "what": capfirst(what),
        "rows": rows,
    }


def describe_search_export(*, kind: str, rows: int) -> str:
    return _clients(SEARCH_KINDS.get(kind, kind), rows)


def describe_archive_export(*, scope: str, rows: int, capped: int | None = None) -> str:
    text = _clients(ARCHIVE_SCOPES.get(scope, scope), rows)
    if capped:
        text += str(_(" (stopped at %(cap)s; more matched)") % {"cap": capped})
    return text
