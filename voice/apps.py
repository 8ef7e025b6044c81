from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = _("Hotline")

    def ready(self):
        from clientmgmt import registry
        from zhongdu.workbench import register_page_part, register_workbench_panel

        from .selectors import call_entry, call_rows, pop_part, presence_panel

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="hotline", label=_("Hotline calls"), rows=call_rows, entry=call_entry
            )
        )
        # The agent's presence on the workbench (no query for a user who answers no calls).
        register_workbench_panel(presence_panel)
        # The call pop on every page of an agent (no query for a user who answers no calls).
        register_page_part(pop_part)
