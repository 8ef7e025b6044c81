from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "consult"
    verbose_name = _("Consultation desk")

    def ready(self):
        from clientmgmt import registry

        from .models import Booking
        from .selectors import booking_timeline

        # A client's bookings follow them when two records are merged.
        registry.register_merge_relation(Booking, "client")
        registry.register_timeline(booking_timeline)
