from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "consult"
    verbose_name = _("Consultation desk")

    def ready(self):
        from clientmgmt import registry

        from .models import Booking, Enquiry, Recall
        from .selectors import booking_timeline, enquiry_timeline

        # A client's bookings follow them when two records are merged.
        registry.register_merge_relation(Booking, "client")
        registry.register_timeline(booking_timeline)
        # Enquiries too: the conversion figures count the person, whichever record they were on.
        registry.register_merge_relation(Enquiry, "client")
        registry.register_timeline(enquiry_timeline)
        # A no-show's recall follows the person too (its booking already does).
        registry.register_merge_relation(Recall, "client")
        # Until the front desk records visits, an arrival at a booking is a visit.
        registry.register_visit_source(
            lambda department_id: Booking.objects.filter(
                session__department_id=department_id, status=Booking.Status.ARRIVED
            ).values("client_id")
        )
