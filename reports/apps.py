from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")
    # What the audit trail calls the monthly report's export (zhongdu.audit.object_types).
    audit_object_types = {"reports.satisfaction": _("Monthly satisfaction report")}
