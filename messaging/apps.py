from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from clientmgmt import registry

        from .selectors import outbox_entry, outbox_rows

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="sms", label=_("Messages"), rows=outbox_rows, entry=outbox_entry
            )
        )
