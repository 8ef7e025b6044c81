from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")
    # What the audit trail calls the weekly summary's export (zhongdu.audit.object_types).
    audit_object_types = {"surveys.survey_weekly": _("Weekly satisfaction summary")}

    def ready(self):
        from clientmgmt import registry

        from . import selectors

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="survey",
                label=_("Satisfaction answers"),
                rows=selectors.response_rows,
                entry=selectors.response_entry,
            )
        )
