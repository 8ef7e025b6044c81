"""The client search's export (CSV): the rows of the search, numbers masked, built by the one
export builder (zhongdu.exports). The archive list's exports are in archives.py."""

from django.utils.translation import gettext_lazy as _

from zhongdu import exports

from . import selectors

SEARCH_HEADER = (
    _("Id"),
    _("Name"),
    _("Sex"),
    _("Date of birth"),
    _("Phone"),
    _("ID card"),
    _("Categories"),
    _("Status"),
)


def client_search_export(query, *, user) -> tuple[exports.Export, int]:
    """The search's rows as CSV (selectors.client_export_rows: masked, VIP discretion applied),
    and how many rows it holds."""
    rows = list(selectors.client_export_rows(query, user=user))
    return exports.csv_export(SEARCH_HEADER, rows), len(rows)
