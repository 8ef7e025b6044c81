from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from clientmgmt import registry

        from .selectors import complaint_entry, complaint_rows, is_handler

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="complaint",
                label=_("Complaints"),
                rows=complaint_rows,
                entry=complaint_entry,
            )
        )
        # A complaint's page is its handlers' (whoever recorded one finds it under "Complaints I
        # recorded"): the others see the timeline's entry without its link.
        registry.register_link_rule("complaints:complaint_detail", is_handler)
