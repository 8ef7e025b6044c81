"""Complaints (投诉): received at any step, handled in working hours, closed with a recorded
result; their append-only event log and the deadlines per severity."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientmgmt.models import Client
from zhongdu.models import AppendOnlyModel


class Complaint(models.Model):
    """A client's complaint (投诉), from any step: received, acknowledged, investigated, resolved
    and closed with a recorded result. The allowed moves are a map in complaints.services;
    every step is a ComplaintEvent. Deadlines count working hours (zhongdu.workcalendar)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")
        RETURN_CALL = "return_call", _("Return-visit call")
        SURVEY = "survey", _("Survey")
        SMS = "sms", _("SMS")
        WEB = "web", _("Web or WeChat")
        LETTER = "letter", _("Letter")
        OTHER = "other", _("Other")

    class Category(models.TextChoices):
        ATTITUDE = "attitude", _("Service attitude")
        MEDICAL = "medical", _("Medical quality")
        WAITING = "waiting", _("Waiting time")
        BILLING = "billing", _("Billing")
        ENVIRONMENT = "environment", _("Environment")
        PRIVACY = "privacy", _("Privacy")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        NORMAL = "normal", _("Normal")
        SERIOUS = "serious", _("Serious")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("complaint status", "Received")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("complaint status", "Acknowledged")
        INVESTIGATING = "investigating", pgettext_lazy("complaint status", "Investigating")
        RESOLVED = "resolved", pgettext_lazy("complaint status", "Resolved")
        CLOSED = "closed", pgettext_lazy("complaint status", "Closed")

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="complaints"
    )
    channel = models.CharField(
        _("received by"), max_length=15, choices=Channel.choices, default=Channel.PHONE
    )
    category = models.CharField(
        _("category"), max_length=15, choices=Category.choices, default=Category.OTHER
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    department = models.ForeignKey(
        "zhongdu.Department",
        verbose_name=_("department concerned"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    person_concerned = models.CharField(_("person concerned"), max_length=50, blank=True)
    words = models.TextField(_("the client's words"))
    # Where it came from, as "<model label>:<id>" (a return-visit call, a survey response): the
    # same origin never raises two complaints.
    source = models.CharField(_("source"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.RECEIVED
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Deadline warnings and escalations sent (the beat job sends each once).
    acknowledge_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledge_escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The result, required to close.
    findings = models.TextField(_("findings"), blank=True)
    action_taken = models.TextField(_("action taken"), blank=True)
    compensation = models.CharField(_("compensation"), max_length=200, blank=True)
    client_accepted = models.BooleanField(_("the client accepted the result"), null=True)
    client_called_at = models.DateTimeField(
        _("client called back about the result at"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at"]
        indexes = [
            # The handler's queue and the managers' overview: open complaints by age.
            models.Index(
                fields=["handler", "received_at"],
                condition=~Q(status="closed"),
                name="complaint_open_handler_idx",
            ),
            models.Index(fields=["status", "received_at"], name="complaint_status_received_idx"),
            # A client's complaints (client page, health archive).
            models.Index(fields=["client", "-received_at"], name="complaint_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["received", "acknowledged", "investigating", "resolved", "closed"]
                ),
                name="complaint_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=["minor", "normal", "serious", "critical"]),
                name="complaint_severity_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "attitude",
                        "medical",
                        "waiting",
                        "billing",
                        "environment",
                        "privacy",
                        "other",
                    ]
                ),
                name="complaint_category_valid",
            ),
            # A closed complaint has its result, whether the client accepted it, and the call
            # to the client about it (complaints.services.complaint_close checks first).
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (
                    Q(closed_at__isnull=False)
                    & ~Q(findings="")
                    & ~Q(action_taken="")
                    & Q(client_accepted__isnull=False)
                    & Q(client_called_at__isnull=False)
                ),
                name="complaint_closed_has_result",
            ),
            # One complaint per origin (a call, a survey response).
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="complaint_source_unique"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_category_display()}"

    def get_absolute_url(self):
        return reverse("complaints:complaint_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class ComplaintEvent(AppendOnlyModel):
    """Append-only history of a complaint: who moved it, when, and what they wrote."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=15, blank=True, choices=Complaint.Status.choices)
    to_status = models.CharField(max_length=15, blank=True, choices=Complaint.Status.choices)
    detail = models.TextField(_("detail"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaintevent_at_idx")]

    def __str__(self):
        return f"{self.complaint_id} {self.action}"


class ComplaintDeadline(models.Model):
    """How many working hours a complaint of each severity has to be acknowledged and resolved
    (administrators edit them; zhongdu.workcalendar counts the hours)."""

    severity = models.CharField(_("severity"), max_length=10, choices=Complaint.Severity.choices)
    acknowledge_hours = models.PositiveSmallIntegerField(_("acknowledge within (working hours)"))
    resolve_hours = models.PositiveSmallIntegerField(_("resolve within (working hours)"))
    warn_hours = models.PositiveSmallIntegerField(
        _("warn the handler this many working hours before"), default=2
    )

    class Meta:
        verbose_name = _("complaint deadline")
        verbose_name_plural = _("complaint deadlines")
        ordering = ["severity"]
        constraints = [
            models.UniqueConstraint(fields=["severity"], name="complaintdeadline_severity_unique"),
        ]

    def __str__(self):
        return str(self.get_severity_display())
