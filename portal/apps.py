from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The patient's own side (网上医院, under /my/): sign-in by a one-time SMS code, their
    bookings, the online consultation with the desk, released results, their data and consents.
    A patient is not a staff user: their session is a row of its own (PatientSession) behind a
    cookie scoped to /my/, and never satisfies a staff page."""

    name = "portal"
    verbose_name = _("Patient portal")

    def ready(self):
        from clientmgmt import registry

        # Each part registers its home page card and its section of the bottom bar.
        from . import bookings, data_home, home, navigation, results  # noqa: F401 (data_home)
        from .data import dependant_panel

        if bookings.home_card not in home.CARDS:
            home.CARDS.append(bookings.home_card)
            navigation.SECTIONS.append(("portal:bookings", _("Bookings")))
        # Staff record on the client page who may see the record on the portal.
        registry.register_record_panel(dependant_panel)
        results.register()
        from . import consult_home  # noqa: F401 (registers on import, as data_home)
