"""The health assessment and management plan a client manager writes from released results
(exams.assessment). The plan itself is a health care plan (followup.CarePlan, kind "health"):
its dates become return-visit calls, reminders and re-examination bookings through the care-plan
and outbox machinery.

A draft keeps the writer's texts (the assessment and the outline's six headings); finalising it
writes them into the order's health plan with the templates' timepoints (once) and makes the
report printable with the plan."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The outline's six headings of a health-management plan, in its order (the field names of
# followup.CarePlan and CarePlanTemplate as well).
PLAN_HEADINGS = ("exercise", "diet", "mental_health", "prevention", "sub_health", "insurance")


class HealthAssessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("health assessment status", "Draft")
        FINAL = "final", pgettext_lazy("health assessment status", "Final")

    order = models.OneToOneField(
        "guide.ExamOrder",
        verbose_name=_("exam order"),
        on_delete=models.CASCADE,
        related_name="health_assessment",
    )
    findings = models.ManyToManyField(
        "exams.Finding", verbose_name=_("findings"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    assessment = models.TextField(_("health assessment"), blank=True)
    exercise = models.TextField(_("exercise"), blank=True)
    diet = models.TextField(_("diet"), blank=True)
    mental_health = models.TextField(_("mental health"), blank=True)
    prevention = models.TextField(_("prevention"), blank=True)
    sub_health = models.TextField(_("sub-health care"), blank=True)
    insurance = models.TextField(_("health insurance"), blank=True)
    plan = models.OneToOneField(
        "followup.CarePlan",
        verbose_name=_("health-management plan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assessment",
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    written_at = models.DateTimeField(_("written at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finalised by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("health assessment")
        verbose_name_plural = _("health assessments")
        ordering = ["-written_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "final"]), name="healthassessment_status_valid"
            ),
        ]

    def __str__(self):
        return f"#{self.order_id}"
