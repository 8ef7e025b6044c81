"""Models of Follow-up (layer 3): care plans with their timepoints and return-visit calls.

A care plan's timepoints (CarePlanStep) each make a return-visit call and/or a scheduled SMS
through the outbox; editing the plan moves what is not done yet, cancelling it cancels that, and
idempotency keys make sure nothing is made twice. Calls are worked from the client managers'
workbench; a call that reaches the client may carry a satisfaction survey, answered on the phone
and recorded by the survey engine (the `surveys` app, below this one) as a SurveyResponse that
the call points to.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.models import AppendOnlyModel, Policy

# --- Policy -----------------------------------------------------------------------------


class FollowUpPolicy(Policy):
    """The one row of follow-up rules administrators edit in the admin (pk is always 1)."""

    max_attempts = models.PositiveSmallIntegerField(
        _("call attempts before a call is closed as unreachable"), default=3
    )

    class Meta:
        verbose_name = _("follow-up policy")
        verbose_name_plural = _("follow-up policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1, max_attempts__lte=10),
                name="followuppolicy_attempts_range",
            ),
        ]

    def __str__(self):
        return str(_("Follow-up policy"))


# --- Care plans -------------------------------------------------------------------------


class CarePlanTemplate(models.Model):
    """A plan administrators prepare per department or procedure (laser treatment, surgery,
    chronic eczema, acne ...): the advice texts and the default timepoints."""

    class Kind(models.TextChoices):
        CARE = "care", _("After-care plan")
        HEALTH = "health", _("Health-management plan (after an exam)")

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CARE)
    department = models.ForeignKey(
        "zhongdu.Department",
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    treatment_plan = models.TextField(_("treatment plan"), blank=True)
    diet = models.TextField(_("diet"), blank=True)
    rehab = models.TextField(_("rehabilitation"), blank=True)
    lifestyle = models.TextField(_("lifestyle"), blank=True)
    exercise = models.TextField(_("exercise"), blank=True)
    mental_health = models.TextField(_("mental health"), blank=True)
    prevention = models.TextField(_("prevention"), blank=True)
    sub_health = models.TextField(_("sub-health care"), blank=True)
    insurance = models.TextField(_("health insurance"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("care plan template")
        verbose_name_plural = _("care plan templates")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="careplantemplate_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["care", "health"]), name="careplantemplate_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name


class CarePlanTemplateStep(models.Model):
    """A default timepoint: N days after the visit, a call (with its script) and/or an SMS."""

    template = models.ForeignKey(
        CarePlanTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="steps"
    )
    day_offset = models.PositiveSmallIntegerField(_("days after the visit"))
    label = models.CharField(_("label"), max_length=60, blank=True)
    call = models.BooleanField(_("return-visit call"), default=True)
    script = models.TextField(_("call script"), blank=True)
    sms_template = models.ForeignKey(
        "messaging.SmsTemplate",
        verbose_name=_("SMS"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("timepoint")
        verbose_name_plural = _("timepoints")
        ordering = ["day_offset", "pk"]

    def __str__(self):
        return self.label or str(_("Day %(day)s") % {"day": self.day_offset})


class CarePlan(models.Model):
    class Kind(models.TextChoices):
        CARE = "care", _("After-care plan")
        HEALTH = "health", _("Health-management plan (after an exam)")

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("care plan status", "Active")
        COMPLETED = "completed", pgettext_lazy("care plan status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("care plan status", "Cancelled")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="care_plans",
    )
    visit = models.ForeignKey(
        "guide.Visit",
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_plans",
    )
    exam_order = models.ForeignKey(
        "guide.ExamOrder",
        verbose_name=_("exam order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_plans",
    )
    template = models.ForeignKey(
        CarePlanTemplate,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CARE)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    starts_on = models.DateField(_("counted from"))
    diagnosis = models.TextField(_("diagnosis summary"), blank=True)
    treatment_plan = models.TextField(_("treatment plan"), blank=True)
    diet = models.TextField(_("diet"), blank=True)
    rehab = models.TextField(_("rehabilitation"), blank=True)
    lifestyle = models.TextField(_("lifestyle"), blank=True)
    exercise = models.TextField(_("exercise"), blank=True)
    mental_health = models.TextField(_("mental health"), blank=True)
    prevention = models.TextField(_("prevention"), blank=True)
    sub_health = models.TextField(_("sub-health care"), blank=True)
    insurance = models.TextField(_("health insurance"), blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The new-plan form's one-time key: a second click on "save" finds the plan the first one
    # wrote instead of writing a second one (and every reminder twice).
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["-created_at"]
        indexes = [
            # A client's plans, newest first (client page, call page).
            models.Index(fields=["client", "-created_at"], name="careplan_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "completed", "cancelled"]),
                name="careplan_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["care", "health"]), name="careplan_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="careplan_request_key_unique",
            ),
            # One health-management plan per exam order: the sweep that starts the post-exam
            # service may run twice.
            models.UniqueConstraint(
                fields=["exam_order"],
                condition=Q(exam_order__isnull=False),
                name="careplan_one_per_exam_order",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("followup:plan_detail", args=[self.pk])


class CarePlanStep(models.Model):
    """One timepoint of a client's plan: due on a date, a call and/or an SMS."""

    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("timepoint status", "Planned")
        DONE = "done", pgettext_lazy("timepoint status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("timepoint status", "Cancelled")

    plan = models.ForeignKey(
        CarePlan, verbose_name=_("care plan"), on_delete=models.CASCADE, related_name="steps"
    )
    due_on = models.DateField(_("due on"))
    label = models.CharField(_("label"), max_length=60, blank=True)
    call = models.BooleanField(_("return-visit call"), default=True)
    script = models.TextField(_("call script"), blank=True)
    sms_template = models.ForeignKey(
        "messaging.SmsTemplate",
        verbose_name=_("SMS"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )

    class Meta:
        verbose_name = _("plan timepoint")
        verbose_name_plural = _("plan timepoints")
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["planned", "done", "cancelled"]),
                name="careplanstep_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.due_on:%Y-%m-%d} {self.label}".strip()


# --- Return-visit calls -----------------------------------------------------------------


class FollowUpCall(models.Model):
    """A return-visit call (回访) to make: from a plan's timepoint, the post-exam health
    assessment, service recovery after a low score, a complaint's follow-up, or by hand."""

    class Reason(models.TextChoices):
        CARE_PLAN = "care_plan", _("Care plan")
        HEALTH_ASSESSMENT = "health_assessment", _("Health assessment after an exam")
        SERVICE_RECOVERY = "service_recovery", _("Service recovery")
        COMPLAINT = "complaint", _("Complaint follow-up")
        MAINTENANCE = "maintenance", _("Archive maintenance")
        VIP_CARE = "vip_care", _("VIP care call")
        ABNORMAL_RESULT = "abnormal_result", _("Abnormal exam result")
        MANUAL = "manual", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("call status", "To call")
        DONE = "done", pgettext_lazy("call status", "Done")
        UNREACHABLE = "unreachable", pgettext_lazy("call status", "Unreachable")
        CANCELLED = "cancelled", pgettext_lazy("call status", "Cancelled")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        REFUSED = "refused", _("Refused to talk")

    class Course(models.TextChoices):
        UNKNOWN = "", _("Not asked")
        ON_TRACK = "on_track", _("On track")
        IMPROVING = "improving", _("Improving")
        NO_CHANGE = "no_change", _("No change")
        WORSE = "worse", _("Worse")
        FINISHED = "finished", _("Course finished")
        STOPPED = "stopped", _("Stopped the treatment")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="followup_calls",
    )
    reason = models.CharField(
        _("reason"), max_length=20, choices=Reason.choices, default=Reason.MANUAL
    )
    plan = models.ForeignKey(
        CarePlan,
        verbose_name=_("care plan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    # One call per timepoint: the database refuses a second.
    step = models.OneToOneField(
        CarePlanStep,
        verbose_name=_("timepoint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followup_call",
    )
    visit = models.ForeignKey(
        "guide.Visit",
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The satisfaction answers the client gave on this call.
    survey_response = models.OneToOneField(
        "surveys.SurveyResponse",
        verbose_name=_("answers given on the call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_on_call",
    )
    # The low answers this call is to recover from (service recovery).
    recovery_for = models.ForeignKey(
        "surveys.SurveyResponse",
        verbose_name=_("recovers from the answers"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recovery_calls",
    )
    # What the call follows up, as "<model label>:<id>" (a low survey response, a complaint):
    # the same origin never makes two calls.
    source = models.CharField(_("source"), max_length=60, blank=True)
    title = models.CharField(_("subject"), max_length=120, blank=True)
    script = models.TextField(_("call script"), blank=True)
    due_on = models.DateField(_("due on"))
    # The day the call was planned for. An unanswered call comes back on the next working day
    # (due_on moves); this stays, so the day's "calls due" and "calls made" keep counting it
    # where it was planned. Moving a care plan's timepoint moves both.
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    priority = models.BooleanField(_("priority (VIP)"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_calls",
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, blank=True)
    course = models.CharField(
        _("treatment course"), max_length=12, choices=Course.choices, blank=True
    )
    rehab_guidance = models.BooleanField(_("rehabilitation guidance given"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    next_call_on = models.DateField(_("next call on"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("return-visit call")
        verbose_name_plural = _("return-visit calls")
        ordering = ["due_on", "-priority", "pk"]
        indexes = [
            # The workbench: open calls due by a day, per handler (a small partial index).
            models.Index(
                fields=["assigned_to", "due_on"],
                condition=Q(status="open"),
                name="call_open_assigned_due_idx",
            ),
            models.Index(fields=["due_on"], condition=Q(status="open"), name="call_open_due_idx"),
            # The reports' calls due and made per day.
            models.Index(fields=["planned_on"], name="call_planned_idx"),
            # A client's calls, newest first (call page, client timeline).
            models.Index(fields=["client", "-created_at"], name="call_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "done", "unreachable", "cancelled"]),
                name="call_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    reason__in=[
                        "care_plan",
                        "health_assessment",
                        "service_recovery",
                        "complaint",
                        "maintenance",
                        "vip_care",
                        "abnormal_result",
                        "manual",
                    ]
                ),
                name="call_reason_valid",
            ),
            # One call per origin (a survey response, a complaint, an exam order).
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="call_source_unique"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_reason_display()}"

    def get_absolute_url(self):
        return reverse("followup:call_detail", args=[self.pk])


class CallAttempt(AppendOnlyModel):
    """Every time someone dialled, with what happened: the call's history."""

    call = models.ForeignKey(
        FollowUpCall, verbose_name=_("call"), on_delete=models.CASCADE, related_name="history"
    )
    outcome = models.CharField(
        _("outcome"), max_length=15, choices=FollowUpCall.Outcome.choices, blank=True
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
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["call", "at"], name="callattempt_call_at_idx")]

    def __str__(self):
        return f"{self.call_id} {self.outcome}"
