"""Client rows for export, built once: the client search's export (CSV) and the archive list's
(archives.py) share their first columns and the same rules, applied here, on the way to the one
export builder (zhongdu.exports)."""

from django.utils.translation import gettext_lazy as _

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
