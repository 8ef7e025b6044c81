from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        from clientmgmt import registry

        from .models import Referral
        from .selectors import referral_entry, referral_panel, referral_rows

        # A referral follows the person: the desks see it on whichever record they are found.
        registry.register_merge_relation(Referral, "client")
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
