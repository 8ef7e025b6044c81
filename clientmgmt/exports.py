"""Client rows for export, built once: the client search's export (CSV) and the archive list's
(archives.py) share their first columns and the same rules, applied here, on the way to the one
export builder (zhongdu.exports)."""

from django.utils.translation import gettext_lazy as _

from zhongdu import exports

from .registry import whole_record_ids
from .selectors import client_search

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
    out unless `user` sees VIPs' whole records (the discretion rule, clientmgmt.registry)."""
    clients = list(clients)
    allowed = whole_record_ids(user, clients) if user is not None else set()
    rows = []
    for client in clients:
        whole = not client.is_vip or client.pk in allowed
        rows.append(
            [
                client.pk,
                client.name,
                str(client.get_sex_display()),
                client.date_of_birth.isoformat() if client.date_of_birth and whole else "",
                client.phone_masked,
                client.id_number_masked if whole else "",
                " ".join(str(label) for label in client.categories),
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
