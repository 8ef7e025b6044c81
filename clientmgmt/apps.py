from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientmgmtConfig(AppConfig):
    name = "clientmgmt"
    verbose_name = _("Client management")
    # The audit trail's word for a client (zhongdu.audit.object_types): staff open a record.
    audit_object_types = {"clientmgmt.client": _("Client record")}
    # What the trail says of an export (zhongdu.audit.note): the kind of search or list and how
    # many clients, in the reader's language.
    audit_notes = {
        "clientmgmt.search": "clientmgmt.exports.describe_search_export",
        "clientmgmt.archives": "clientmgmt.exports.describe_archive_export",
    }

    def ready(self):
        from . import registry, search  # noqa: F401  (search registers the term_prefix lookup)
        from .selectors import client_event_entry, client_event_rows

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="record",
                label=_("Record"),
                rows=client_event_rows,
                entry=client_event_entry,
            )
        )
