from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from clientmgmt import registry

        from .selectors import outbox_entry, outbox_rows
        from .services import client_consent_withdrawn

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="sms", label=_("Messages"), rows=outbox_rows, entry=outbox_entry
            )
        )
        # A withdrawn consent stops the client's pending messages at once.
        registry.register_consent_withdrawn(client_consent_withdrawn)
