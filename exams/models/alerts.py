"""Abnormal results followed to the end.

A released order with a critical value opens one CRITICAL alert: a telephone call must reach the
client within a deadline counted in clock time, day or night (EXAM_CRITICAL_MINUTES after the
release); missed, it is escalated at once to the managers on duty and the releasing clinician.
An order with abnormal values opens one ABNORMAL alert, followed by a return-visit call within
working hours (and, where a finding asks for it, a re-examination booking). Each is tracked
until closed with its outcome (exams.alerts); every change is one ResultAlertEvent, its history."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.models import AppendOnlyModel


class ResultAlert(models.Model):
    class Level(models.TextChoices):
        CRITICAL = "critical", pgettext_lazy("alert level", "Critical value")
        ABNORMAL = "abnormal", pgettext_lazy("alert level", "Abnormal result")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("alert status", "Open")
        CLOSED = "closed", pgettext_lazy("alert status", "Closed")

    class Outcome(models.TextChoices):
        NONE = "", pgettext_lazy("alert outcome", "Not closed yet")
        REACHED = "reached", pgettext_lazy("alert outcome", "Client reached")
        UNREACHABLE = "unreachable", pgettext_lazy("alert outcome", "Client unreachable")
        OTHER = "other", pgettext_lazy("alert outcome", "Closed otherwise")
        # A correction after the release took the value back into range before the call.
        CORRECTED = "corrected", pgettext_lazy("alert outcome", "Value corrected")

    order = models.ForeignKey(
        "guide.ExamOrder",
        verbose_name=_("exam order"),
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # When the client must have been reached (clock time for a critical value).
    due_at = models.DateTimeField(_("due by"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # The clinician who released the results (or corrected the value) that opened it: told
    # with the managers when a critical value's deadline is missed.
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # An abnormal result's return-visit call (within working hours); its closing closes this.
    followup_call = models.ForeignKey(
        "followup.FollowUpCall",
        verbose_name=_("return-visit call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Calls that did not reach the client (the alert stays open), the last one's time.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    reached_at = models.DateTimeField(_("reached at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, blank=True, default=""
    )
    # What was said, the advice given, or why it was closed without reaching the client.
    notes = models.TextField(_("notes"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("result alert")
        verbose_name_plural = _("result alerts")
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="open"), name="resultalert_open_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "level"], name="resultalert_order_level_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__in=["critical", "abnormal"]), name="resultalert_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "closed"]), name="resultalert_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "reached", "unreachable", "other", "corrected"]),
                name="resultalert_outcome_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_level_display()} #{self.order_id}"


class ResultAlertEvent(AppendOnlyModel):
    """The alert's history, one row a change (written in the change's transaction, never
    changed): opened, told, each attempt, reached, closed, reopened, corrected, escalated."""

    DETAIL_MAX = 500

    class Action(models.TextChoices):
        OPENED = "opened", pgettext_lazy("alert event", "Opened")
        TOLD = "told", pgettext_lazy("alert event", "Workers told")
        ATTEMPT = "attempt", pgettext_lazy("alert event", "Call not answered")
        REACHED = "reached", pgettext_lazy("alert event", "Client reached")
        CLOSED = "closed", pgettext_lazy("alert event", "Closed")
        REOPENED = "reopened", pgettext_lazy("alert event", "Reopened")
        CORRECTED = "corrected", pgettext_lazy("alert event", "Closed by a correction")
        ESCALATED = "escalated", pgettext_lazy("alert event", "Escalated")

    alert = models.ForeignKey(
        ResultAlert, verbose_name=_("result alert"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    detail = models.CharField(_("detail"), max_length=DETAIL_MAX, blank=True)
    # When the call was made (an attempt, a reached client), as the caller said.
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)

    class Meta:
        verbose_name = _("result alert event")
        verbose_name_plural = _("result alert events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["alert", "at"], name="resultalertevent_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "opened",
                        "told",
                        "attempt",
                        "reached",
                        "closed",
                        "reopened",
                        "corrected",
                        "escalated",
                    ]
                ),
                name="resultalertevent_action_valid",
            ),
        ]

    def __str__(self):
        return f"{self.alert_id} {self.action}"
