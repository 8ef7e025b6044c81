"""The hospital's reference data, edited by administrators in the admin: departments with their
floors, experts, weekly clinic templates and the dated sessions they generate, the price list,
the channels through which people hear of the hospital, and knowledge articles."""

import re

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Administrators type specialties one per line, or separated by Chinese or Western commas.
_SPECIALTY_SEPARATORS = re.compile(r"[\n,，、;；]+")


def _split_specialties(text: str) -> list[str]:
    return [part.strip() for part in _SPECIALTY_SEPARATORS.split(text) if part.strip()]


class Department(models.Model):
    name = models.CharField(_("name"), max_length=50)
    floor = models.CharField(_("floor"), max_length=20, help_text=_("For example 3F or B1."))
    phone_extension = models.CharField(_("phone extension"), max_length=20, blank=True)
    specialties = models.TextField(
        _("specialties"), blank=True, help_text=_("Conditions and treatments, one per line.")
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="department_name_unique"),
        ]

    def __str__(self):
        return self.name

    @property
    def specialty_list(self) -> list[str]:
        return _split_specialties(self.specialties)


class Expert(models.Model):
    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(
        _("title"), max_length=50, blank=True, help_text=_("For example 主任医师.")
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), related_name="experts"
    )
    specialties = models.TextField(_("specialties"), blank=True)
    bio = models.TextField(_("short bio"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} {self.title}".strip()

    @property
    def specialty_list(self) -> list[str]:
        return _split_specialties(self.specialties)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SessionTemplate(models.Model):
    """A weekly clinic: this expert sits in this department every <weekday> from start to end.
    `generate_sessions` turns templates into dated ClinicSessions for the coming weeks."""

    expert = models.ForeignKey(
        Expert, verbose_name=_("expert"), on_delete=models.CASCADE, related_name="templates"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="session_templates",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("weekly clinic")
        verbose_name_plural = _("weekly clinics")
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="sessiontemplate_end_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="sessiontemplate_weekday"),
        ]

    def __str__(self):
        return (
            f"{self.expert} · {self.department} · {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        )


class ClinicSession(models.Model):
    """One dated clinic with a capacity. Bookings (consult) count against `booked`; the check
    constraint makes overbooking impossible at the database level."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    template = models.ForeignKey(
        SessionTemplate,
        verbose_name=_("weekly clinic"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
    )
    expert = models.ForeignKey(
        Expert, verbose_name=_("expert"), on_delete=models.PROTECT, related_name="sessions"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="sessions"
    )
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("clinic session")
        verbose_name_plural = _("clinic sessions")
        ordering = ["date", "start_time"]
        indexes = [
            # "When does this expert sit this week?" (knowledge desk, booking screen).
            models.Index(fields=["expert", "date"], name="session_expert_date_idx"),
            # Today's and this week's sessions per department.
            models.Index(fields=["date", "department"], name="session_date_dept_idx"),
        ]
        constraints = [
            # Generating sessions from a template is idempotent: one session per template a day.
            models.UniqueConstraint(
                fields=["template", "date"], name="session_template_date_unique"
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="session_not_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="session_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "cancelled"]), name="session_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.start_time:%H:%M} {self.expert} ({self.department})"

    @property
    def remaining(self):
        if self.status == self.Status.CANCELLED:
            return 0
        return max(self.capacity - self.booked, 0)


class PriceItem(models.Model):
    class Category(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        EXAM = "exam", _("Examination")
        TREATMENT = "treatment", _("Treatment")
        SURGERY = "surgery", _("Surgery")
        SPECIAL_CARE = "special_care", _("Special care")
        PACKAGE = "package", _("Package")

    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prices",
    )
    price = models.DecimalField(_("price (yuan)"), max_digits=10, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)
    effective_date = models.DateField(_("effective date"))

    class Meta:
        verbose_name = _("price item")
        verbose_name_plural = _("price list")
        ordering = ["category", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="priceitem_code_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="priceitem_price_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "registration",
                        "exam",
                        "treatment",
                        "surgery",
                        "special_care",
                        "package",
                    ]
                ),
                name="priceitem_category_valid",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Channel(models.Model):
    """How a person heard of the hospital; recorded once and followed through every step."""

    class Kind(models.TextChoices):
        NEWSPAPER = "newspaper", _("Newspaper")
        TV = "tv", _("TV")
        RADIO = "radio", _("Radio")
        WEB = "web", _("Web")
        COMMUNITY = "community", _("Community event")
        REFERRAL = "referral", _("Referral")
        WALK_IN = "walk_in", _("Walk-in")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="channel_name_unique"),
        ]

    def __str__(self):
        return self.name


class KnowledgeArticle(models.Model):
    """Short answers staff give on the phone (seed: 咨询服务 / 查询服务)."""

    class Topic(models.TextChoices):
        POLICY = "policy", _("Hospital policy")
        INSURANCE = "insurance", _("Insurance")
        REGISTRATION = "registration", _("Registration rules")
        EQUIPMENT = "equipment", _("Equipment")
        BRANCH = "branch", _("Branches")
        FAQ = "faq", _("Common questions")

    title = models.CharField(pgettext_lazy("article", "title"), max_length=100)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    body = models.TextField(_("text"))
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_("Words callers use, separated by spaces."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["topic", "title"]

    def __str__(self):
        return self.title
