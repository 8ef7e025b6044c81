"""Signing in to the portal: one-time codes, the attempts the limits count, the patient's
sessions, and the dependants (a child's record) staff authorised a person to see."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientmgmt.models import Client


class SignInCode(models.Model):
    """A one-time code asked for a number. Written for every request, whether or not the number
    is a client's (the page must not tell), and sent only when it is. The code itself is kept
    only as a keyed hash."""

    phone = models.CharField(_("mobile phone"), max_length=20)
    code_hash = models.CharField(max_length=64)
    # Whether an SMS went: the number belonged to a client when the code was asked for.
    sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Wrong codes entered against it; at PORTAL_CODE_ATTEMPTS it is dead.
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")
        indexes = [
            # The per-number limits: a number's codes in the last hour (services.code_request).
            models.Index(fields=["phone", "created_at"], name="portal_code_phone_idx"),
            # The nightly purge of old codes (tasks.portal_purge).
            models.Index(fields=["created_at"], name="portal_code_created_idx"),
        ]

    def __str__(self):
        return f"#{self.pk}"


class SignInAttempt(models.Model):
    """One request for a code or one code entered, right or wrong: what the per-number and
    per-address limits count. Kept a day (tasks.portal_purge)."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("Code asked for")
        VERIFY = "verify", _("Code entered")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    phone = models.CharField(max_length=20, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")
        indexes = [
            # The limits per number and per address over the last hour.
            models.Index(fields=["phone", "kind", "at"], name="portal_attempt_phone_idx"),
            models.Index(fields=["ip", "kind", "at"], name="portal_attempt_ip_idx"),
            models.Index(fields=["at"], name="portal_attempt_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["request", "verify"]), name="portal_attempt_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class PatientSession(models.Model):
    """A signed-in patient: the cookie holds a random token, this row its hash. Ends on sign-out,
    after PORTAL_IDLE_TIMEOUT_MINUTES without a page, or PORTAL_SESSION_LIFETIME_HOURS after it
    began. `subject` is whose record the pages show: the person, or a dependant they were
    authorised to see (PortalDependant)."""

    token_hash = models.CharField(max_length=64)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("patient session")
        verbose_name_plural = _("patient sessions")
        constraints = [
            # Every portal page looks its session up by the cookie's hash.
            models.UniqueConstraint(fields=["token_hash"], name="portal_session_token_unique"),
        ]
        indexes = [
            # A person's sessions (ended when a dependant's authorisation is withdrawn).
            models.Index(fields=["client", "ended_at"], name="portal_session_client_idx"),
            models.Index(fields=["last_seen_at"], name="portal_session_seen_idx"),
        ]

    def __str__(self):
        return f"#{self.pk}"


class PortalDependant(models.Model):
    """Staff recorded that `holder` may see `dependant`'s record on the portal (a parent and a
    child), with the evidence seen; withdrawn by setting `revoked_at`, never deleted."""

    holder = models.ForeignKey(
        Client, verbose_name=_("account holder"), on_delete=models.CASCADE, related_name="+"
    )
    dependant = models.ForeignKey(
        Client, verbose_name=_("dependant"), on_delete=models.CASCADE, related_name="+"
    )
    relation = models.CharField(_("relation"), max_length=30)
    evidence = models.CharField(_("evidence seen"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("portal dependant")
        verbose_name_plural = _("portal dependants")
        constraints = [
            # One authorisation in force per pair (a double click records one).
            models.UniqueConstraint(
                fields=["holder", "dependant"],
                condition=Q(revoked_at__isnull=True),
                name="portal_dependant_once",
            ),
            models.CheckConstraint(
                condition=~Q(holder=models.F("dependant")), name="portal_dependant_not_self"
            ),
        ]
        indexes = [
            # The holder's people (selectors.portal_people) and the dependant's holders.
            models.Index(fields=["holder", "revoked_at"], name="portal_dependant_holder_idx"),
            models.Index(fields=["dependant", "revoked_at"], name="portal_dependant_dep_idx"),
        ]

    def __str__(self):
        return f"{self.holder_id} → {self.dependant_id}"
