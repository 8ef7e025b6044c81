"""What an exam item yields and the values it gave.

An exam item (a PriceItem of category "exam") has at most one ResultDefinition: a number with a
unit and reference ranges by sex and age (ReferenceRange), a choice among fixed answers each with
its flag (阴性 normal, 阳性 abnormal), free text, or an attached report file (a dermoscopy image, a
PDF) kept in the encrypted private file store (zhongdu.private_files).

An order item's value is one ExamResult (the value in force, flagged by exams.flags when it was
recorded, with the rule that flagged it written out); every value ever recorded is also an
ExamResultRevision (append-only), so a correction after release keeps the earlier value. The
order's ResultRelease is the clinician's release: before it nothing is shown outside the centre.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.models.appendonly import AppendOnlyModel


class Flag(models.TextChoices):
    """How a value stands against its rule. NONE: nothing to compare (free text, a file, a
    number without a range for the person)."""

    NONE = "", pgettext_lazy("result flag", "Not flagged")
    NORMAL = "normal", pgettext_lazy("result flag", "Normal")
    ABNORMAL = "abnormal", pgettext_lazy("result flag", "Abnormal")
    CRITICAL = "critical", pgettext_lazy("result flag", "Critical")


FLAG_VALUES = [value for value, _label in Flag.choices]


def months_of(text: str) -> set[int]:
    """The months written in `text` ("4 5", "4,5", "4、5")."""
    words = (text or "").replace(",", " ").replace("，", " ").replace("、", " ").split()
    return {int(word) for word in words if word.isdigit() and 1 <= int(word) <= 12}


def validate_months(text: str) -> None:
    words = (text or "").replace(",", " ").replace("，", " ").replace("、", " ").split()
    if any(not word.isdigit() or not 1 <= int(word) <= 12 for word in words):
        raise ValidationError(_("Write months as numbers from 1 to 12, such as 4 5."))


class Finding(models.Model):
    """Something an exam can show (a fungal infection, acne, a pigmented lesion to watch) and
    what the centre does about it: the health-management plan template the assessment starts
    from, the re-examination, the articles and events that teach about it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    plan_template = models.ForeignKey(
        "followup.CarePlanTemplate",
        verbose_name=_("plan template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "health"},
    )
    # An abnormal value opens a follow-up call in working hours; where this is set it also
    # proposes a re-examination booking this many days after the release.
    reexam_after_days = models.PositiveSmallIntegerField(
        _("re-examination after (days)"), null=True, blank=True
    )
    articles = models.ManyToManyField(
        "zhongdu.KnowledgeArticle",
        verbose_name=_("knowledge articles"),
        blank=True,
        related_name="+",
    )
    # Education (exams.assessment.education_for): words matched against the titles and
    # descriptions of the skin-health school's coming lectures, separated by spaces.
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_("Words of the skin-health school lectures that fit, separated by spaces."),
    )
    # Reminders. The re-examination step of a plan sends this SMS on its day; the seasonal
    # reminder goes once a year, on the first run in one of its months, to the clients whose
    # assessment named this finding. Both texts are generic ("夏季将至，请注意防晒"): an SMS never
    # names a finding (the clean() below refuses a text that does).
    reexam_sms = models.ForeignKey(
        "messaging.SmsTemplate",
        verbose_name=_("SMS on the re-examination day"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reminder_months = models.CharField(
        _("seasonal reminder months"),
        max_length=40,
        blank=True,
        validators=[validate_months],
        help_text=_("Months of the seasonal reminder, such as 4 5 (April and May)."),
    )
    reminder_sms = models.ForeignKey(
        "messaging.SmsTemplate",
        verbose_name=_("seasonal reminder SMS"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def months(self) -> set[int]:
        return months_of(self.reminder_months)

    def clean(self):
        super().clean()
        for field in ("reexam_sms", "reminder_sms"):
            template = getattr(self, field)
            if template is not None and self.name and self.name in template.body:
                raise ValidationError(
                    {field: _("An SMS never names a finding: choose a generic text.")}
                )


class ResultDefinition(models.Model):
    """What one exam item yields."""

    class Kind(models.TextChoices):
        NUMBER = "number", _("Number with a reference range")
        CHOICE = "choice", _("One of fixed answers")
        TEXT = "text", _("Text")
        FILE = "file", _("Report file (image or PDF)")

    exam = models.OneToOneField(
        "zhongdu.PriceItem",
        verbose_name=_("examination"),
        on_delete=models.CASCADE,
        related_name="result_definition",
        limit_choices_to={"category": "exam"},
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    decimals = models.PositiveSmallIntegerField(_("decimal places"), default=1)
    # A choice's answers, in order: [{"value": "阴性", "flag": "normal"}, {"value": "阳性",
    # "flag": "abnormal"}] (flag one of Flag's values).
    choices = models.JSONField(_("answers"), default=list, blank=True)
    # What an abnormal or critical value of this item points to (the team report's prevalence,
    # the assessment's templates).
    finding = models.ForeignKey(
        Finding,
        verbose_name=_("finding when out of range"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="definitions",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("result definition")
        verbose_name_plural = _("result definitions")
        ordering = ["exam__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["number", "choice", "text", "file"]),
                name="resultdefinition_kind_valid",
            ),
        ]

    def __str__(self):
        return str(self.exam)


class ReferenceRange(models.Model):
    """A number's range for a sex (blank: either) and an age band (years, both ends included;
    no upper end: any age above). Below `low` or above `high` is abnormal; at or beyond a
    critical limit is critical. The most specific range that fits the person is used
    (exams.flags)."""

    class Sex(models.TextChoices):
        ANY = "", _("Either sex")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")

    definition = models.ForeignKey(
        ResultDefinition,
        verbose_name=_("result definition"),
        on_delete=models.CASCADE,
        related_name="ranges",
    )
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    age_from = models.PositiveSmallIntegerField(_("from age"), default=0)
    age_to = models.PositiveSmallIntegerField(_("to age"), null=True, blank=True)
    low = models.DecimalField(
        _("lower limit"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    high = models.DecimalField(
        _("upper limit"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    critical_low = models.DecimalField(
        _("critical below"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    critical_high = models.DecimalField(
        _("critical above"), max_digits=12, decimal_places=4, null=True, blank=True
    )

    class Meta:
        verbose_name = _("reference range")
        verbose_name_plural = _("reference ranges")
        ordering = ["definition", "sex", "age_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sex__in=["", "female", "male"]), name="referencerange_sex_valid"
            ),
            models.CheckConstraint(
                condition=Q(age_to__isnull=True) | Q(age_to__gte=models.F("age_from")),
                name="referencerange_ages_ordered",
            ),
            models.CheckConstraint(
                condition=Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lte=models.F("high")),
                name="referencerange_limits_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.definition} {self.sex or '*'} {self.age_from}-{self.age_to or ''}"


class ExamResult(models.Model):
    """The value in force of one examination of an order."""

    class Source(models.TextChoices):
        ENTERED = "entered", _("Entered")
        IMPORTED = "imported", _("Imported from the laboratory")

    item = models.OneToOneField(
        "guide.ExamOrderItem",
        verbose_name=_("examination"),
        on_delete=models.CASCADE,
        related_name="result",
    )
    order = models.ForeignKey(
        "guide.ExamOrder",
        verbose_name=_("exam order"),
        on_delete=models.CASCADE,
        related_name="results",
    )
    value_number = models.DecimalField(
        _("value"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    # A choice's answer, or the text.
    value_text = models.CharField(_("answer"), max_length=500, blank=True)
    # An attached report file: its private store name, the name it was uploaded under, its type.
    file = models.CharField(_("file"), max_length=100, blank=True)
    file_label = models.CharField(_("file name"), max_length=120, blank=True)
    file_type = models.CharField(_("file type"), max_length=60, blank=True)
    flag = models.CharField(_("flag"), max_length=10, choices=Flag.choices, blank=True)
    # The rule the flag was read from, written out when the value was recorded (the range can
    # change later; the result keeps what it was judged by).
    rule = models.CharField(_("rule"), max_length=160, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.ENTERED
    )
    revision = models.PositiveIntegerField(_("revision"), default=1)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("exam result")
        verbose_name_plural = _("exam results")
        ordering = ["item_id"]
        indexes = [
            # The team report and the figures: flagged results of released orders.
            models.Index(fields=["order", "flag"], name="examresult_order_flag_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(flag__in=FLAG_VALUES), name="examresult_flag_valid"),
        ]

    def __str__(self):
        return f"{self.item} #{self.revision}"


class ExamResultRevision(AppendOnlyModel):
    """Every value ever recorded for an examination (the first entry, each correction)."""

    immutable_message = _("A result's history is not changed.")

    result = models.ForeignKey(
        ExamResult,
        verbose_name=_("exam result"),
        on_delete=models.CASCADE,
        related_name="revisions",
    )
    revision = models.PositiveIntegerField(_("revision"))
    value_number = models.DecimalField(
        _("value"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    value_text = models.CharField(_("answer"), max_length=500, blank=True)
    file = models.CharField(_("file"), max_length=100, blank=True)
    file_label = models.CharField(_("file name"), max_length=120, blank=True)
    flag = models.CharField(_("flag"), max_length=10, choices=Flag.choices, blank=True)
    rule = models.CharField(_("rule"), max_length=160, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=ExamResult.Source.choices)
    # Why a released value was corrected (required then).
    reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    after_release = models.BooleanField(_("corrected after release"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("result history entry")
        verbose_name_plural = _("result history")
        ordering = ["result", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["result", "revision"], name="examresultrevision_unique"
            ),
        ]

    def __str__(self):
        return f"{self.result_id} #{self.revision}"


class ResultRelease(models.Model):
    """A clinician's release of an order's results: from then on the client managers may
    explain them, the report may be printed and abnormal values are followed."""

    order = models.OneToOneField(
        "guide.ExamOrder",
        verbose_name=_("exam order"),
        on_delete=models.CASCADE,
        related_name="release",
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released at"), default=timezone.now)

    class Meta:
        verbose_name = _("release of results")
        verbose_name_plural = _("releases of results")
        ordering = ["-released_at"]
        indexes = [models.Index(fields=["released_at"], name="resultrelease_at_idx")]

    def __str__(self):
        return f"{self.order} {self.released_at:%Y-%m-%d %H:%M}"
