"""Referrals: clients sent by marketing, partner clinics, doctors or enterprises, and their
event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientmgmt.models import Client
from zhongdu.models import AppendOnlyModel


class Referral(models.Model):
    """A client sent to the hospital by the marketing department, a partner clinic, a doctor or
    an enterprise (seed: 协助安排好市场部转诊病人的就诊工作): the consultation desk calls them, the
    front desk sees them arrive. The allowed moves are a map in referrals.services; every
    change is a ReferralEvent (the client timeline reads them)."""

    class Source(models.TextChoices):
        MARKETING = "marketing", _("Marketing department")
        CLINIC = "clinic", _("Partner clinic")
        DOCTOR = "doctor", _("Doctor")
        ENTERPRISE = "enterprise", _("Enterprise")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("referral status", "New")
        CONTACTED = "contacted", pgettext_lazy("referral status", "Contacted")
        BOOKED = "booked", pgettext_lazy("referral status", "Booked")
        ARRIVED = "arrived", pgettext_lazy("referral status", "Arrived")
        CLOSED = "closed", pgettext_lazy("referral status", "Closed")

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="referrals"
    )
    source = models.CharField(
        _("referred by"), max_length=12, choices=Source.choices, default=Source.MARKETING
    )
    referrer = models.CharField(
        _("referring person or organisation"),
        max_length=100,
        help_text=_("Who sent the client: a name, a clinic, a company."),
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # The recording form's one-time key (zhongdu.forms.FormKeyField): one referral per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            # The consultation desk's "referred clients to call" and the referral list's open
            # part: the open referrals, oldest first (a small partial index).
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["new", "contacted", "booked"]),
                name="referral_open_idx",
            ),
            # A client's referrals: the client page's card, the walk-in badge, the timeline.
            models.Index(fields=["client", "-created_at"], name="referral_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["new", "contacted", "booked", "arrived", "closed"]),
                name="referral_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["marketing", "clinic", "doctor", "enterprise", "other"]),
                name="referral_source_valid",
            ),
            # One referral per recording form (a double click records it once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="referral_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_source_display()}: {self.referrer}"

    def get_absolute_url(self):
        return reverse("clientmgmt:client_detail", args=[self.client_id])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.CONTACTED, self.Status.BOOKED)


class ReferralEvent(AppendOnlyModel):
    """Append-only history of a referral: recorded, contacted, booked, arrived, closed."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True, choices=Referral.Status.choices)
    to_status = models.CharField(max_length=10, choices=Referral.Status.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["referral", "at"], name="referralevent_at_idx")]

    def __str__(self):
        return f"{self.referral_id} {self.from_status}->{self.to_status}"
