"""The hospital's profile: what every message, slip and public page tells a patient about the
hospital (its names, address, hotline, hours, website, SMS signature, privacy notice).

Versioned like the VIP rules (zhongdu.models.policy.VersionedPolicy): each change is a new row,
the newest is in force, the older ones stay so that one can tell what a patient was told when.
The first row, made on first use, takes its values from settings.HOSPITAL_PROFILE_DEFAULTS (the
environment), so a fresh database works; a value left empty there is a hole that the outbox
refuses to send (messaging.services.outbox_enqueue holds such a message).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .policy import VersionedPolicy

# The fields a version carries (the admin's form and the service copy them).
PROFILE_FIELDS = [
    "full_name",
    "display_name",
    "address",
    "hotline",
    "opening_hours",
    "website",
    "sms_signature",
    "privacy_notice",
    "privacy_notice_version",
]


class HospitalProfile(VersionedPolicy):
    """One version of the hospital's profile; the newest is in force."""

    immutable_message = _("A profile version cannot be changed; add a new version.")

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    display_name = models.CharField(
        _("name patients see"),
        max_length=50,
        blank=True,
        help_text=_("On SMS, slips and public pages. Empty: the full name."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    hotline = models.CharField(_("hotline"), max_length=30, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    sms_signature = models.CharField(
        _("SMS signature"),
        max_length=30,
        blank=True,
        help_text=_("The registered signature, e.g. 【中都皮肤病医院】."),
    )
    privacy_notice = models.TextField(_("privacy notice"), blank=True)
    privacy_notice_version = models.CharField(
        _("privacy notice version"), max_length=20, blank=True
    )

    class Meta:
        verbose_name = _("hospital profile version")
        verbose_name_plural = _("hospital profile versions")
        ordering = ["-pk"]

    def __str__(self):
        return str(_("Version %(number)s") % {"number": self.pk or "—"})

    @classmethod
    def first_values(cls) -> dict:
        defaults = getattr(settings, "HOSPITAL_PROFILE_DEFAULTS", {})
        values = {name: str(defaults.get(name, "")) for name in PROFILE_FIELDS}
        return {**values, "note": str(_("Default profile"))}

    @property
    def name(self) -> str:
        """The name patients see: the display name, else the full name, else the hospital's
        name in the reader's language (a fresh installation)."""
        return self.display_name or self.full_name or gettext("Zhongdu Hospital")

    @property
    def signature(self) -> str:
        """The SMS signature, else the name in the mainland's brackets."""
        return self.sms_signature or f"【{self.name}】"

    def placeholder_values(self) -> dict[str, str]:
        """The values SMS templates may name, by placeholder (messaging.models.PLACEHOLDERS)."""
        return {
            "hospital": self.name,
            "signature": self.signature,
            "phone": self.hotline,
            "hotline": self.hotline,
            "address": self.address,
            "opening_hours": self.opening_hours,
            "website": self.website,
        }
