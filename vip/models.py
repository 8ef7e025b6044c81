"""Models of VIP (layer 3): the VIP policy in versions, enterprise accounts with their employees,
each client's VIP standing, candidates to approve, and the status history.

The seed (医疗VIP客户管理制度, 认定标准) leaves its thresholds open ("[X]万元"): administrators set
them in VipPolicy. Every change is a new version (rows are never edited), so each status can say
which version decided it. Spend is the sum of a client's charges (guide.Charge, voided lines left
out) in the evaluation window; an enterprise's is the sum of its employees'.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.models import AppendOnlyModel, VersionedPolicy


class VipPolicy(VersionedPolicy):
    """One version of the VIP rules. The newest version is in force; older ones stay, so that
    the screens can show which version decided each status."""

    immutable_message = _("A policy version cannot be changed; add a new version.")

    class Window(models.TextChoices):
        ROLLING = "rolling", _("The last 12 months")
        CALENDAR = "calendar", _("The calendar year")

    personal_annual_spend = models.DecimalField(
        _("personal VIP: annual spend from (yuan)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("50000.00"),
    )
    gold_spend = models.DecimalField(
        _("gold tier from (yuan)"), max_digits=12, decimal_places=2, default=Decimal("100000.00")
    )
    platinum_spend = models.DecimalField(
        _("platinum tier from (yuan)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("300000.00"),
    )
    enterprise_annual_spend = models.DecimalField(
        _("enterprise VIP: annual spend from (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("200000.00"),
    )
    enterprise_min_employees = models.PositiveIntegerField(
        _("enterprise VIP: employees from"), default=100
    )
    enterprise_min_revenue = models.DecimalField(
        _("enterprise VIP: annual revenue from (yuan)"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("50000000.00"),
        help_text=_("An enterprise qualifies by its employees or by its revenue (seed)."),
    )
    window = models.CharField(
        _("evaluation window"), max_length=10, choices=Window.choices, default=Window.ROLLING
    )
    auto_grant = models.BooleanField(
        _("grant VIP at once"),
        default=False,
        help_text=_(
            "Not ticked: crossing a threshold makes a candidate for a VIP manager to approve."
        ),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period before a VIP lapses (days)"), default=90
    )
    vip_share_percent = models.PositiveSmallIntegerField(
        _("places of each clinic session held for VIPs (%)"), default=10
    )
    followup_interval_days = models.PositiveSmallIntegerField(
        _("call each VIP at least every (days)"),
        default=30,
        help_text=_("VIPs get a return-visit call when they have had none for this long."),
    )

    class Meta:
        verbose_name = _("VIP policy version")
        verbose_name_plural = _("VIP policy versions")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vip_share_percent__lte=100), name="vippolicy_share_percent"
            ),
            models.CheckConstraint(
                condition=Q(window__in=["rolling", "calendar"]), name="vippolicy_window_valid"
            ),
            models.CheckConstraint(
                condition=Q(gold_spend__gte=F("personal_annual_spend"))
                & Q(platinum_spend__gte=F("gold_spend")),
                name="vippolicy_tiers_ordered",
            ),
        ]

    def __str__(self):
        return str(_("Version %(number)s") % {"number": self.pk or "—"})

    @classmethod
    def first_values(cls) -> dict:
        return {"note": str(_("Default rules"))}

    def window_start(self, today: datetime.date) -> datetime.datetime:
        """When the evaluation window opens, hospital time."""
        tz = timezone.get_default_timezone()
        if self.window == self.Window.CALENDAR:
            start = today.replace(month=1, day=1)
        else:
            try:
                start = today.replace(year=today.year - 1) + datetime.timedelta(days=1)
            except ValueError:  # 29 February
                start = today.replace(year=today.year - 1, day=28) + datetime.timedelta(days=1)
        return datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)

    def tier_for(self, spend: Decimal) -> str:
        if spend >= self.platinum_spend:
            return Tier.PLATINUM
        if spend >= self.gold_spend:
            return Tier.GOLD
        return Tier.STANDARD


class Tier(models.TextChoices):
    STANDARD = "standard", pgettext_lazy("VIP tier", "VIP")
    GOLD = "gold", _("Gold VIP")
    PLATINUM = "platinum", _("Platinum VIP")


class Enterprise(models.Model):
    """An enterprise account (企业VIP客户): the agreement and the employees who are clients."""

    name = models.CharField(_("name"), max_length=100)
    agreement_number = models.CharField(_("agreement number"), max_length=40, blank=True)
    agreement_start = models.DateField(_("agreement from"), null=True, blank=True)
    agreement_end = models.DateField(_("agreement until"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    employee_count = models.PositiveIntegerField(_("employees"), default=0)
    annual_revenue = models.DecimalField(
        _("annual revenue (yuan)"), max_digits=16, decimal_places=2, default=Decimal("0.00")
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False, editable=False)
    vip_until = models.DateField(_("VIP until"), null=True, blank=True, editable=False)
    policy = models.ForeignKey(
        VipPolicy,
        verbose_name=_("decided by policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="enterprise_name_unique"),
            models.CheckConstraint(
                condition=Q(agreement_end__isnull=True)
                | Q(agreement_start__isnull=True)
                | Q(agreement_end__gte=F("agreement_start")),
                name="enterprise_agreement_dates",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("vip:enterprise_detail", args=[self.pk])

    def agreement_active(self, today: datetime.date) -> bool:
        if not self.agreement_start:
            return False
        return self.agreement_start <= today and (
            self.agreement_end is None or today <= self.agreement_end
        )


class EnterpriseMember(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="members"
    )
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="enterprise_memberships",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["enterprise", "pk"]
        indexes = [
            # A client's enterprises (their VIP standing through an employer).
            models.Index(fields=["client"], name="member_client_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "client"], name="member_enterprise_client_unique"
            ),
        ]

    def __str__(self):
        return f"{self.enterprise} · {self.client_id}"


class EnterpriseImport(AppendOnlyModel):
    """A confirmed import of an enterprise's employees (vip.imports) and what it did. Written once,
    by the confirmation, under the confirm form's one-time key: the same confirmation posted again
    finds this row and its counts instead of applying the file a second time."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="imports"
    )
    file_name = models.CharField(_("file"), max_length=200)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    added = models.PositiveIntegerField(_("employees added"), default=0)
    created = models.PositiveIntegerField(_("registered as new clients"), default=0)
    skipped = models.PositiveIntegerField(_("rows left out"), default=0)
    # The confirm form's one-time key (zhongdu.forms.FormKeyField): one import per confirmation.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("employee import")
        verbose_name_plural = _("employee imports")
        ordering = ["-imported_at", "-pk"]
        constraints = [
            # One import per confirm form (a double click on "confirm" imports once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="enterpriseimport_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"{self.enterprise} · {self.file_name}"

    def get_absolute_url(self):
        # An import has no page of its own: its result is shown on the enterprise's page.
        return self.enterprise.get_absolute_url()

    @property
    def counts(self) -> dict:
        return {"added": self.added, "created": self.created, "skipped": self.skipped}


class VipStanding(models.Model):
    """A client's VIP standing: one row per client who is or was a VIP. `valid_until` moves on
    every night the client still qualifies; once it passes (the grace period) the standing
    lapses. Client.is_vip mirrors `status == active` for every list that shows the badge."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal VIP")
        ENTERPRISE = "enterprise", _("Enterprise VIP")
        NOMINATED = "nominated", _("Nominated VIP")

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("VIP status", "Active")
        LAPSED = "lapsed", pgettext_lazy("VIP status", "Lapsed")
        REVOKED = "revoked", pgettext_lazy("VIP status", "Revoked")

    client = models.OneToOneField(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="vip_standing",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.STANDARD)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("through enterprise"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    since = models.DateField(_("VIP since"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    spend = models.DecimalField(
        _("spend in the window (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    policy = models.ForeignKey(
        VipPolicy,
        verbose_name=_("decided by policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    escort = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("VIP escort"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vip_clients",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("VIP standing")
        verbose_name_plural = _("VIP standings")
        ordering = ["-since"]
        indexes = [
            # The roster: active VIPs by kind and tier; the lapse sweep: active by valid_until.
            models.Index(fields=["status", "kind", "tier"], name="standing_roster_idx"),
            models.Index(
                fields=["valid_until"], condition=Q(status="active"), name="standing_expiry_idx"
            ),
            models.Index(fields=["escort"], name="standing_escort_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["personal", "enterprise", "nominated"]),
                name="standing_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "lapsed", "revoked"]),
                name="standing_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(tier__in=["standard", "gold", "platinum"]), name="standing_tier_valid"
            ),
        ]

    def __str__(self):
        return f"{self.client_id} {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("vip:vip_detail", args=[self.client_id])


class VipCandidate(models.Model):
    """Someone to decide on: a client or an enterprise that crossed a threshold (where the policy
    wants approval), or a manual nomination (social standing, long loyalty: the seed's other
    criteria), which needs a reason and a second person's approval."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal spend")
        ENTERPRISE = "enterprise", _("Enterprise")
        NOMINATION = "nomination", _("Nomination")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("candidate status", "Waiting for a decision")
        APPROVED = "approved", pgettext_lazy("candidate status", "Approved")
        REJECTED = "rejected", pgettext_lazy("candidate status", "Rejected")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vip_candidacies",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="candidacies",
    )
    spend = models.DecimalField(
        _("spend in the window (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    policy = models.ForeignKey(
        VipPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("nominated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.CharField(_("reason for the decision"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("listed at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("VIP candidate")
        verbose_name_plural = _("VIP candidates")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="candidate_pending_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["personal", "enterprise", "nomination"]),
                name="candidate_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="candidate_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(client__isnull=False) ^ Q(enterprise__isnull=False),
                name="candidate_client_or_enterprise",
            ),
            # One open candidacy per client and per enterprise: the nightly job may run twice.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status="pending", client__isnull=False),
                name="candidate_one_pending_client",
            ),
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(status="pending", enterprise__isnull=False),
                name="candidate_one_pending_enterprise",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}"


class VipEvent(AppendOnlyModel):
    """Append-only status history of clients and enterprises: by rule or by person, and under
    which policy version."""

    class Action(models.TextChoices):
        CANDIDATE = "candidate", _("Listed as a candidate")
        NOMINATED = "nominated", _("Nominated")
        GRANTED = "granted", _("Granted")
        RENEWED = "renewed", _("Renewed")
        TIER = "tier", _("Tier changed")
        LAPSED = "lapsed", _("Lapsed")
        REVOKED = "revoked", _("Revoked")
        REJECTED = "rejected", _("Rejected")
        ESCORT = "escort", _("Escort assigned")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vip_events",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    by_rule = models.BooleanField(_("by rule"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    policy = models.ForeignKey(
        VipPolicy,
        verbose_name=_("policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    spend = models.DecimalField(
        _("spend (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("VIP event")
        verbose_name_plural = _("VIP events")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["client", "-at"], name="vipevent_client_idx"),
            models.Index(fields=["enterprise", "-at"], name="vipevent_enterprise_idx"),
        ]

    def __str__(self):
        return f"{self.action} {self.at:%Y-%m-%d}"
