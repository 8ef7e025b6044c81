from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        from clientmgmt import registry

        from .selectors import referral_entry, referral_panel, referral_rows

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="referral",
                label=_("Referrals"),
                rows=referral_rows,
                entry=referral_entry,
            )
        )
        # An open referral is what the desks must see first on the client page (one query).
        registry.register_record_panel(referral_panel)
