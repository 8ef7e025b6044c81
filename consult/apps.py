from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "consult"
    verbose_name = _("Consultation desk")
    # What the audit trail calls the export of the analysis page (zhongdu.audit.object_types).
    audit_object_types = {"consult.stats": _("Consultation analysis")}
    audit_notes = {"consult.stats": "consult.stats.describe_stats_export"}

    def ready(self):
        from clientmgmt import registry
        from messaging.models import Purpose
        from messaging.services import register_voice_fallback

        from .selectors import booking_entry, booking_rows, enquiry_entry, enquiry_rows
        from .services import reminder_voice_fallback

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="booking", label=_("Bookings"), rows=booking_rows, entry=booking_entry
            )
        )
        registry.register_timeline_source(
            registry.TimelineSource(
                kind="enquiry", label=_("Enquiries"), rows=enquiry_rows, entry=enquiry_entry
            )
        )
        # A voice reminder whose template was refused after it was written goes by SMS (or
        # as a call by staff) when it is due.
        register_voice_fallback(Purpose.BOOKING_REMINDER, reminder_voice_fallback)
