from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuideConfig(AppConfig):
    name = "guide"
    verbose_name = _("Front desk")
    # What the audit trail calls the export of the day's figures (zhongdu.audit.object_types).
    audit_object_types = {"guide.daily": _("Daily figures")}
    audit_notes = {"guide.charge_import": "guide.imports.describe_charge_import"}

    def ready(self):
        from clientmgmt import registry

        from . import selectors
        from .models import Visit
        from .services import merge_check

        registry.register_merge_check(merge_check)
        for kind, label, rows, entry in (
            ("visit", _("Visits"), selectors.visit_rows, selectors.visit_entry),
            ("card", _("Membership cards"), selectors.card_rows, selectors.card_entry),
            ("exam", _("Exam orders"), selectors.exam_rows, selectors.exam_entry),
        ):
            registry.register_timeline_source(
                registry.TimelineSource(kind=kind, label=label, rows=rows, entry=entry)
            )
        # The client search finds a client by the number printed on their membership card.
        registry.register_identifier_lookup(selectors.clients_by_card_number)
        # Who visited which department (campaign segments): the triaged visits.
        registry.register_visit_source(
            lambda department_id: Visit.objects.filter(department_id=department_id).values(
                "client_id"
            )
        )
