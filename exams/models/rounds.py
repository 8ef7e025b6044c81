"""An enterprise's exam round (团体体检): the exam orders of the enterprise's employees placed
within its dates, summed in a team report for the employer (exams.teams) with no individual
identifiable."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExamRound(models.Model):
    enterprise = models.ForeignKey(
        "vip.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="exam_rounds",
    )
    name = models.CharField(_("name"), max_length=80)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    advice = models.TextField(_("advice to the employer"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The report's handover to the enterprise's contact (exams.teams.round_mark_sent): when, by
    # whom, and to whom (the contact's name and masked phone as they stood then).
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_to = models.CharField(_("sent to"), max_length=80, blank=True)
    # The new-round form's one-time key (zhongdu.forms.FormKeyField): one round per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("exam round")
        verbose_name_plural = _("exam rounds")
        ordering = ["enterprise", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="examround_dates_ordered"
            ),
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="examround_request_key_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"{reverse('teams:report', args=[self.enterprise_id])}?round={self.pk}"
