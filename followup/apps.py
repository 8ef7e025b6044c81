from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self):
        from clientmgmt import registry
        from surveys import services as surveys

        from . import selectors, services

        for kind, label, rows, entry in (
            ("call", _("Return-visit calls"), selectors.call_rows, selectors.call_entry),
            ("plan", _("Care plans"), selectors.plan_rows, selectors.plan_entry),
        ):
            registry.register_timeline_source(
                registry.TimelineSource(kind=kind, label=label, rows=rows, entry=entry)
            )
        # A low survey answer: the return-visit desk calls the client back.
        surveys.register_recovery(services.recovery_call_create)
