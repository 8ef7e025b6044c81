"""The health assessment and management plan a client manager writes from released results
(exams.assessment). The plan itself is a health care plan (followup.CarePlan, kind "health"):
its dates become return-visit calls, reminders and re-examination bookings through the care-plan
and outbox machinery."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HealthAssessment(models.Model):
    order = models.OneToOneField(
        "guide.ExamOrder",
        verbose_name=_("exam order"),
        on_delete=models.CASCADE,
        related_name="health_assessment",
    )
    findings = models.ManyToManyField(
        "exams.Finding", verbose_name=_("findings"), blank=True, related_name="+"
    )
    assessment = models.TextField(_("health assessment"), blank=True)
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

    class Meta:
        verbose_name = _("health assessment")
        verbose_name_plural = _("health assessments")
        ordering = ["-written_at"]

    def __str__(self):
        return f"#{self.order_id}"
