"""Models of Consultation desk: bookings into clinic sessions (layer 2).

A booking takes one place of a ClinicSession (zhongdu.models.directory). The place is counted in
ClinicSession.booked by a single conditional UPDATE (consult.services.booking_create), and the
session's check constraint `session_not_overbooked` makes overbooking impossible in the database.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhongdu.models import ClinicSession


class BookingPolicy(models.Model):
    """The one row of booking rules administrators edit in the admin (pk is always 1)."""

    vip_share_percent = models.PositiveSmallIntegerField(
        _("places held for VIPs (%)"),
        default=10,
        help_text=_(
            "Share of each session's capacity that only VIP clients may book, rounded down."
        ),
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(vip_share_percent__lte=100), name="bookingpolicy_share_percent"
            ),
        ]

    def __str__(self):
        return str(_("Booking policy"))

    def save(self, *args, **kwargs):
        self.pk = 1  # a singleton: the admin always edits the same row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "BookingPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def held_for_vip(self, capacity: int) -> int:
        return capacity * self.vip_share_percent // 100


class Booking(models.Model):
    class Kind(models.TextChoices):
        EXPERT = "expert", _("Expert consultation")
        EXAM = "exam", _("Examination")
        SPECIAL_CARE = "special_care", _("Special care")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("clinic session"),
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.EXPERT)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    priority = models.BooleanField(_("priority (VIP)"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-created_at"]
        indexes = [
            # The day list: bookings of the sessions of one day (joined from
            # session_date_dept_idx), filtered by status.
            models.Index(fields=["session", "status"], name="booking_session_status_idx"),
            # A client's bookings, newest first (client page timeline).
            models.Index(fields=["client", "-created_at"], name="booking_client_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["booked", "arrived", "cancelled", "no_show"]),
                name="booking_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["expert", "exam", "special_care"]),
                name="booking_kind_valid",
            ),
            # One live booking per client and session: a double click books once.
            models.UniqueConstraint(
                fields=["client", "session"],
                condition=Q(status="booked"),
                name="booking_client_session_live_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.session}"

    def get_absolute_url(self):
        return reverse("consult:booking_detail", args=[self.pk])


class BookingEvent(models.Model):
    """Append-only history of a booking: created, status changes, reschedules."""

    class Action(models.TextChoices):
        CREATED = "created", _("Booked")
        STATUS = "status", _("Status changed")
        RESCHEDULED = "rescheduled", _("Rescheduled")

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=Booking.Status.choices
    )
    to_status = models.CharField(_("to"), max_length=10, blank=True, choices=Booking.Status.choices)
    from_session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("from session"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("to session"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["at", "pk"]
        indexes = [
            # A booking's history, oldest first (booking detail page).
            models.Index(fields=["booking", "at"], name="bookingevent_booking_at_idx"),
        ]

    def __str__(self):
        return f"{self.booking_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Booking history cannot be changed."))
        super().save(*args, **kwargs)
