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
        # Each part adds its home-page card and its bottom-bar section.
        from . import consult_home  # noqa: F401
