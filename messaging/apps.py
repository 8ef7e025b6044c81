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
        # Messages to staff (a complaint's escalation) go through the same outbox.
        registry.register_staff_sms(_staff_sms)


def _staff_sms(*, idempotency_key: str, to: str, body: str):
    from .models import Purpose
    from .services import outbox_enqueue

    return outbox_enqueue(idempotency_key=idempotency_key, purpose=Purpose.OTHER, to=to, body=body)
