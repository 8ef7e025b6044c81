"""Models of Follow-up (layer 3): care plans with their timepoints, return-visit calls, and the
survey engine (templates, single-use invitations, responses).

A care plan's timepoints (CarePlanStep) each make a return-visit call and/or a scheduled SMS
through the outbox; editing the plan moves what is not done yet, cancelling it cancels that, and
idempotency keys make sure nothing is made twice. Calls are worked from the client managers'
workbench; a call that reaches the client may carry a satisfaction survey, answered on the phone.
Surveys sent as a link or a QR code are answered on a public page at /s/<token>/. Answers from
both land in SurveyResponse, linked to the visit, its department and doctor.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AppendOnly(models.Model):
    """An event row: written once, never changed."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("History cannot be changed."))
        super().save(*args, **kwargs)


# --- Policy -----------------------------------------------------------------------------


class FollowUpPolicy(models.Model):
    """The one row of follow-up rules administrators edit in the admin (pk is always 1)."""

    max_attempts = models.PositiveSmallIntegerField(
        _("call attempts before a call is closed as unreachable"), default=3
    )
    survey_valid_days = models.PositiveSmallIntegerField(_("survey link valid (days)"), default=14)
    survey_reminder_days = models.PositiveSmallIntegerField(
        _("remind non-responders after (days)"), default=3
    )
    recovery_score = models.PositiveSmallIntegerField(
        _("an answer at or below this score (1–5) starts service recovery"), default=2
    )
    recovery_recommend = models.PositiveSmallIntegerField(
        _("a recommend score at or below this (0–10) starts service recovery"), default=6
    )
    complaint_words = models.CharField(
        _("words in a comment that make it a complaint"),
        max_length=300,
        default="投诉 举报 差评 态度差 太差 很差 不满意 欺骗 乱收费 complaint",
        help_text=_("Separated by spaces."),
    )

    class Meta:
        verbose_name = _("follow-up policy")
        verbose_name_plural = _("follow-up policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1, max_attempts__lte=10),
                name="followuppolicy_attempts_range",
            ),
            models.CheckConstraint(
                condition=Q(survey_valid_days__gte=1), name="followuppolicy_valid_days"
            ),
        ]

    def __str__(self):
        return str(_("Follow-up policy"))

    def save(self, *args, **kwargs):
        self.pk = 1  # a singleton: the admin always edits the same row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "FollowUpPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    @property
    def complaint_word_list(self) -> list[str]:
        return [word for word in self.complaint_words.split() if word]


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


class CallAttempt(AppendOnly):
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


# --- Surveys ----------------------------------------------------------------------------


class Dimension(models.TextChoices):
    """What a question measures, so that answers from calls and from every template can be
    averaged together (the weekly summary, the monthly report)."""

    DOCTOR = "doctor", _("Doctor")
    NURSING = "nursing", _("Nursing")
    FRONT_DESK = "front_desk", _("Front desk")
    ENVIRONMENT = "environment", _("Environment")
    WAITING = "waiting", _("Waiting time")
    OVERALL = "overall", _("Overall")
    RECOMMEND = "recommend", _("Would recommend (0–10)")
    COMMENT = "comment", _("Comment")
    OTHER = "other", _("Other")


# The satisfaction dimensions asked on every return-visit call (1–5).
CALL_DIMENSIONS = [
    Dimension.DOCTOR,
    Dimension.NURSING,
    Dimension.FRONT_DESK,
    Dimension.ENVIRONMENT,
    Dimension.WAITING,
    Dimension.OVERALL,
]


class SurveyTemplate(models.Model):
    class Kind(models.TextChoices):
        SATISFACTION = "satisfaction", _("Satisfaction survey")
        MARKET = "market", _("Market survey")

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    kind = models.CharField(
        _("kind"), max_length=15, choices=Kind.choices, default=Kind.SATISFACTION
    )
    intro = models.TextField(_("introduction"), blank=True)
    intro_en = models.TextField(_("introduction in English"), blank=True)
    is_default = models.BooleanField(
        _("default satisfaction survey"),
        default=False,
        help_text=_("The survey sent after a visit. Only one template can be the default."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="surveytemplate_code_unique"),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="surveytemplate_one_default",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["satisfaction", "market"]),
                name="surveytemplate_kind_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def name_in(self, language: str) -> str:
        """The name in the reader's language (the English one where there is one)."""
        return (self.name_en if (language or "").startswith("en") else "") or self.name


class SurveyQuestion(models.Model):
    class Type(models.TextChoices):
        SCALE = "scale", _("Scale 1–5")
        RECOMMEND = "recommend", _("Recommend 0–10")
        CHOICE = "choice", _("One choice")
        TEXT = "text", _("Text")

    template = models.ForeignKey(
        SurveyTemplate,
        verbose_name=_("survey"),
        on_delete=models.CASCADE,
        related_name="questions",
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("question"), max_length=200)
    text_en = models.CharField(_("question in English"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.SCALE)
    dimension = models.CharField(
        _("dimension"), max_length=15, choices=Dimension.choices, default=Dimension.OTHER
    )
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_("One per line, for questions of one choice; Chinese|English on a line."),
    )
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=["scale", "recommend", "choice", "text"]),
                name="surveyquestion_type_valid",
            ),
        ]

    def __str__(self):
        return self.text

    def choice_list(self, language: str = "zh-hans") -> list[tuple[str, str]]:
        """[(value, label)]: the value is the Chinese text, the label in the reader's
        language."""
        pairs = []
        for line in self.choices.splitlines():
            if not line.strip():
                continue
            chinese, _sep, english = line.partition("|")
            label = english.strip() if language.startswith("en") and english.strip() else chinese
            pairs.append((chinese.strip(), label.strip()))
        return pairs


def _survey_token() -> str:
    return secrets.token_urlsafe(16)


class SurveyRound(models.Model):
    """A market survey (市场调查) sent to a segment of clients: one invitation and one marketing
    SMS per client, written in the background (followup.tasks.survey_round_send) in batches after
    the last client id done. Only clients who agreed to marketing SMS are asked; the outbox
    applies the opt-outs and quiet hours again when it sends."""

    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(
        SurveyTemplate, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="rounds"
    )
    # The segment, as messaging.selectors.campaign_segment reads it.
    segment = models.JSONField(_("segment"), default=dict, blank=True)
    send_at = models.DateTimeField(_("send at"))
    expires_at = models.DateTimeField(_("links expire at"))
    total = models.PositiveIntegerField(_("clients in the segment"), default=0)
    invited = models.PositiveIntegerField(_("invited"), default=0)
    # Clients whose number cannot receive a link through the SMS backend in use.
    no_link = models.PositiveIntegerField(_("number cannot receive links"), default=0)
    sending_after = models.BigIntegerField(default=0, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the job last wrote a batch: beat starts it again when this stands still.
    progress_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The form's one-time key: a second click on "confirm" (or a resent POST) finds the round
    # the first one made instead of asking the whole segment twice.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("market survey round")
        verbose_name_plural = _("market survey rounds")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="surveyround_request_key_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("followup:survey_round_detail", args=[self.pk])

    @property
    def percent_done(self) -> int:
        if self.done_at:
            return 100
        if not self.total:
            return 0
        return min(99, round(100 * (self.invited + self.no_link) / self.total))


class SurveyInvitation(models.Model):
    """A single-use link to a survey (/s/<token>/), printed as a QR code on the visit slip or
    sent by SMS. The token is unguessable; the page shows nothing about the person beyond their
    first name and the visit date."""

    class Channel(models.TextChoices):
        QR = "qr", _("QR code on the visit slip")
        SMS = "sms", _("SMS")
        CAMPAIGN = "campaign", _("Survey sent to a segment")

    token = models.CharField(max_length=32, default=_survey_token, editable=False)
    template = models.ForeignKey(
        SurveyTemplate,
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="survey_invitations",
    )
    visit = models.ForeignKey(
        "guide.Visit",
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.CharField(
        _("sent as"), max_length=10, choices=Channel.choices, default=Channel.QR
    )
    round = models.ForeignKey(
        SurveyRound,
        verbose_name=_("market survey round"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitations",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(_("SMS sent at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at"]
        indexes = [
            # The reminder sweep: unanswered SMS invitations not yet reminded (a small index).
            models.Index(
                fields=["sms_sent_at"],
                condition=Q(used_at__isnull=True, reminded_at__isnull=True),
                name="invitation_to_remind_idx",
            ),
            models.Index(fields=["client", "-created_at"], name="invitation_client_idx"),
        ]
        constraints = [
            # The public address: unguessable, unlike the row id.
            models.UniqueConstraint(fields=["token"], name="invitation_token_unique"),
            # One satisfaction survey per visit and template, however often the slip is printed.
            models.UniqueConstraint(
                fields=["visit", "template"],
                condition=Q(visit__isnull=False),
                name="invitation_one_per_visit",
            ),
            # One invitation per client and market survey round, however often the job runs.
            models.UniqueConstraint(
                fields=["round", "client"],
                condition=Q(round__isnull=False),
                name="invitation_one_per_round",
            ),
        ]

    def __str__(self):
        return f"{self.template} · {self.created_at:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("survey", args=[self.token])

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class SurveyResponse(models.Model):
    """One set of answers, from the survey page or a return-visit call, linked to the visit and
    its department and doctor (copied, so reports need no join and keep what was true)."""

    class Source(models.TextChoices):
        SURVEY = "survey", _("Survey page")
        CALL = "call", _("Return-visit call")

    template = models.ForeignKey(
        SurveyTemplate,
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    invitation = models.OneToOneField(
        SurveyInvitation,
        verbose_name=_("invitation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
    )
    call = models.OneToOneField(
        FollowUpCall,
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
    )
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="survey_responses",
    )
    visit = models.ForeignKey(
        "guide.Visit",
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "zhongdu.Department",
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expert = models.ForeignKey(
        "zhongdu.Expert",
        verbose_name=_("doctor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recommend = models.PositiveSmallIntegerField(_("would recommend (0–10)"), null=True, blank=True)
    lowest_score = models.PositiveSmallIntegerField(_("lowest score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    needs_recovery = models.BooleanField(_("needs service recovery"), default=False)
    submitted_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at"]
        indexes = [
            # The weekly summary and the monthly report: responses of a period.
            models.Index(fields=["submitted_at"], name="response_submitted_idx"),
            models.Index(fields=["client", "-submitted_at"], name="response_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["survey", "call"]), name="response_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(recommend__isnull=True) | Q(recommend__lte=10),
                name="response_recommend_range",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.submitted_at:%Y-%m-%d}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(
        SurveyResponse, verbose_name=_("response"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        SurveyQuestion,
        verbose_name=_("question"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dimension = models.CharField(_("dimension"), max_length=15, choices=Dimension.choices)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["pk"]
        indexes = [
            # Averages by dimension over a period's responses.
            models.Index(fields=["dimension", "response"], name="answer_dimension_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="answer_score_range"
            ),
        ]

    def __str__(self):
        return f"{self.dimension}: {self.score if self.score is not None else self.text[:20]}"


# --- Events -----------------------------------------------------------------------------


class Event(models.Model):
    """A free clinic (义诊), a lecture of the skin-health school (皮肤健康学校) or another event
    the centre invites clients to (seed: 活动邀请): its audience is a segment of clients in
    messaging's campaign shape, invited by SMS through the outbox; staff record the replies and
    take attendance at the door. Each event has a channel of its own (kind "community"): new
    people met there are registered with it as the way they heard of the hospital."""

    class Kind(models.TextChoices):
        FREE_CLINIC = "free_clinic", _("Free clinic")
        LECTURE = "lecture", _("Skin-health school lecture")
        OTHER = "other", _("Other event")

    title = models.CharField(pgettext_lazy("event", "title"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=12, choices=Kind.choices, default=Kind.FREE_CLINIC
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=120)
    capacity = models.PositiveIntegerField(_("places"))
    description = models.TextField(_("description"), blank=True)
    # The audience, as messaging.selectors.campaign_segment reads it (categories, channel,
    # department, visited_within_days); vip_only is kept apart because it also closes the door.
    segment = models.JSONField(_("audience"), default=dict, blank=True)
    vip_only = models.BooleanField(_("VIP clients only"), default=False)
    channel = models.ForeignKey(
        "zhongdu.Channel",
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    # The invitations are written in the background (followup.tasks.event_invitations_send),
    # batch by batch after the last client id done: a redelivered job continues from there.
    invitations_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    invitations_done_at = models.DateTimeField(null=True, blank=True, editable=False)
    invitations_after = models.BigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The new-event form's one-time key (zhongdu.forms.FormKeyField): one event per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            # The event list: upcoming ones by date, past ones newest first.
            models.Index(fields=["starts_at", "id"], name="event_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["free_clinic", "lecture", "other"]),
                name="event_kind_valid",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="event_capacity_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="event_ends_after_start",
            ),
            models.UniqueConstraint(fields=["channel"], name="event_channel_unique"),
            # One event per new-event form (a double click saves one event and one channel).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="event_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({timezone.localtime(self.starts_at):%Y-%m-%d})"

    def get_absolute_url(self):
        return reverse("followup:event_detail", args=[self.pk])

    @property
    def audience(self) -> dict:
        """The segment messaging.selectors.campaign_segment reads, VIP rule included."""
        return {**(self.segment or {}), "vip_only": self.vip_only}


class EventInvitation(models.Model):
    """One client invited to an event: the SMS (through the outbox, idempotency key `sms_key`)
    and the reply staff record. No unique (event, client): when two records of one person are
    merged, both invitations follow the survivor; the figures count people (distinct clients)."""

    class Rsvp(models.TextChoices):
        NONE = "", _("No reply")
        YES = "yes", _("Coming")
        NO = "no", _("Not coming")

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="invitations"
    )
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="event_invitations",
    )
    sms_key = models.CharField(_("SMS key"), max_length=120)
    rsvp = models.CharField(
        _("reply"), max_length=3, choices=Rsvp.choices, blank=True, default=Rsvp.NONE
    )
    rsvp_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    rsvp_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reply recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("invited at"), default=timezone.now)

    class Meta:
        verbose_name = _("event invitation")
        verbose_name_plural = _("event invitations")
        indexes = [
            # The event page's invitation list and figures.
            models.Index(fields=["event", "client"], name="eventinvitation_event_idx"),
            # A client's invitations (client timeline).
            models.Index(fields=["client", "event"], name="eventinvitation_client_idx"),
        ]
        constraints = [
            # One invitation per event and client record: the batch job may run twice.
            models.UniqueConstraint(fields=["sms_key"], name="eventinvitation_key_unique"),
            models.CheckConstraint(
                condition=Q(rsvp__in=["", "yes", "no"]), name="eventinvitation_rsvp_valid"
            ),
        ]

    def __str__(self):
        return f"{self.event_id}:{self.client_id}"


class EventAttendance(models.Model):
    """Someone who came, ticked at the door: an invited or known client found by phone, or a new
    person registered there (`registered_here`, with the event's channel). Once per person per
    event: followup.events checks it under a lock on the event row (with the capacity), not with
    a unique index, so that merging two records of one person never fails on it."""

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="attendances"
    )
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="event_attendances",
    )
    registered_here = models.BooleanField(_("registered at the door"), default=False)
    at = models.DateTimeField(_("arrived at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ticked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("event attendance")
        verbose_name_plural = _("event attendances")
        ordering = ["-at", "-pk"]
        indexes = [
            # The door page's latest arrivals, the figures.
            models.Index(fields=["event", "-at"], name="eventattendance_event_idx"),
            # A client's events (client timeline).
            models.Index(fields=["client", "event"], name="eventattendance_client_idx"),
        ]

    def __str__(self):
        return f"{self.event_id}:{self.client_id}"
