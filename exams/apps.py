from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExamsConfig(AppConfig):
    """After the exam (检后服务): results per exam item, their release by a clinician, the
    health assessment and plan, abnormal results followed to the end, enterprise team reports."""

    name = "exams"
    verbose_name = _("After the exam")
