from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from clientmgmt import registry

        from .models import OutboxMessage
        from .selectors import outbox_entry, outbox_rows

        # A client's messages follow them when two records are merged (no message is resent:
        # moving a row changes only its client).
        registry.register_merge_relation(OutboxMessage, "client")
        registry.register_timeline_source(
            registry.TimelineSource(
                kind="sms", label=_("Messages"), rows=outbox_rows, entry=outbox_entry
            )
        )
