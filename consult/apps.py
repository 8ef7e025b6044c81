from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "consult"
    verbose_name = _("Consultation desk")

    def ready(self):
        from clientmgmt import registry

        from .models import Booking, Enquiry, Recall
        from .selectors import booking_entry, booking_rows, enquiry_entry, enquiry_rows

        # A client's bookings follow them when two records are merged.
        registry.register_merge_relation(Booking, "client")
        registry.register_timeline_source(
            registry.TimelineSource(
                kind="booking", label=_("Bookings"), rows=booking_rows, entry=booking_entry
            )
        )
        # Enquiries too: the conversion figures count the person, whichever record they were on.
        registry.register_merge_relation(Enquiry, "client")
        registry.register_timeline_source(
            registry.TimelineSource(
                kind="enquiry", label=_("Enquiries"), rows=enquiry_rows, entry=enquiry_entry
            )
        )
        # A no-show's recall follows the person too (its booking already does).
        registry.register_merge_relation(Recall, "client")
        # Until the front desk records visits, an arrival at a booking is a visit.
        registry.register_visit_source(
            lambda department_id: Booking.objects.filter(
                session__department_id=department_id, status=Booking.Status.ARRIVED
            ).values("client_id")
        )
