"""Models of the survey engine (layer 2.7): survey templates and their questions, single-use
invitations (/s/<token>/, a QR code on the visit slip or a link by SMS), market-survey rounds,
and the responses with their answers, from the survey page and from return-visit calls.

The return-visit desk (`followup`, above) records the answers a client gives on a call through
`surveys.services.response_record_call` and keeps the response on its call
(`FollowUpCall.survey_response`); a low response hands the client to service recovery, which
`followup` performs (`surveys.services.register_recovery`).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhongdu.models import Policy

# --- Policy -----------------------------------------------------------------------------


class SurveyPolicy(Policy):
    """The one row of survey rules administrators edit in the admin (pk is always 1)."""

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
    keypad_gap_days = models.PositiveSmallIntegerField(
        _("ask a client by keypad survey at most once in (days)"), default=7
    )
    complaint_words = models.CharField(
        _("words in a comment that make it a complaint"),
        max_length=300,
        default="投诉 举报 差评 态度差 太差 很差 不满意 欺骗 乱收费 complaint",
        help_text=_("Separated by spaces."),
    )

    class Meta:
        verbose_name = _("survey policy")
        verbose_name_plural = _("survey policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(survey_valid_days__gte=1), name="surveypolicy_valid_days"
            ),
        ]

    def __str__(self):
        return str(_("Survey policy"))

    @property
    def complaint_word_list(self) -> list[str]:
        return [word for word in self.complaint_words.split() if word]


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
    SMS per client, written in the background (surveys.tasks.survey_round_send) in batches after
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
        return reverse("surveys:round_detail", args=[self.pk])

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
        KEYPAD = "keypad", _("Keypad survey by phone")

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
    # What the answers came from, where it can come twice: a keypad survey's outbox message
    # ("msg:<id>"), whose receipt may be pushed again. Empty for the survey page and calls.
    reference = models.CharField(max_length=40, blank=True, editable=False)

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
                condition=Q(source__in=["survey", "call", "keypad"]),
                name="response_source_valid",
            ),
            # A keypad survey's answers are written once, however often its receipt comes.
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(reference=""),
                name="response_reference_unique",
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
