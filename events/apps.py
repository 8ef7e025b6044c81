from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self):
        from clientmgmt import registry

        from . import selectors

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="event",
                label=_("Events"),
                rows=selectors.event_rows,
                entry=selectors.event_entry,
            )
        )
