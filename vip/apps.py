from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VipConfig(AppConfig):
    name = "vip"
    verbose_name = pgettext_lazy("section", "VIP")
    # What the audit trail calls a VIP's cost statement (zhongdu.audit.object_types).
    audit_object_types = {"vip.costs": _("VIP costs")}
    # What the trail says of an employee list's import and an employee's removal.
    audit_notes = {
        "vip.member_import": "vip.imports.describe_member_import",
        "vip.member_removed": "vip.services.describe_member_removed",
    }

    def ready(self):
        from clientmgmt import registry
        from guide import registry as guide_registry

        from . import selectors
        from .services import merge_check

        registry.register_merge_check(merge_check)
        # Discretion (seed 保密原则): a VIP's record in full only to those who serve them.
        registry.register_record_guard(
            selectors.may_see_whole_record, many=selectors.whole_record_ids
        )
        # A VIP who arrives is walked through by their named escort (seed: 专人引导), unless the
        # desk chose someone else.
        guide_registry.register_default_escort(selectors.named_escort, many=selectors.named_escorts)
