from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExamsConfig(AppConfig):
    """After the exam (检后服务): results per exam item, their release by a clinician, the
    health assessment and plan, abnormal results followed to the end, enterprise team reports."""

    name = "exams"
    verbose_name = _("After the exam")

    def ready(self):
        from . import alerts, services

        # Abnormal and critical values open their alerts in the release's own transaction.
        services.register_release_hook(alerts.release_hook)
