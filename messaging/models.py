"""The SMS outbox: one row per message, written in the transaction of the business event that
causes it, and moved through its states only by messaging.services.outbox_set_status."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientmgmt.models import Client
from zhongdu import sms
from zhongdu.models import AppendOnlyModel, VersionedPolicy


class Purpose(models.TextChoices):
    BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
    BOOKING_REMINDER = "booking_reminder", _("Booking reminder")
    GREETING = "greeting", _("Greeting after a visit")
    FOLLOWUP_REMINDER = "followup_reminder", _("Follow-up reminder")
    HEALTH_TIP = "health_tip", _("Health tip")
    EVENT_INVITATION = "event_invitation", _("Event invitation")
    SURVEY = "survey", _("Satisfaction survey")
    SIGN_IN_CODE = "sign_in_code", _("Sign-in code")
    OTHER = "other", _("Other")


class Kind(models.TextChoices):
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")
    # A one-time code the person asked for (the domestic provider's 验证码 type): sent at once,
    # whatever the quiet hours, caps or opt-outs, and its text is never shown to staff.
    VERIFICATION = "code", _("Verification code")


class Channel(models.TextChoices):
    """How a message reaches the person: a text, or a call that reads it out (语音通知: the
    domestic voice service, zhongdu.vms). Voice is for service notices only: the provider's
    rules refuse promotion, medical and beauty promotion by name."""

    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")


# Placeholders a template may use; the sender fills them. Kept in one place so that a template
# naming anything else is refused when it is saved.
PLACEHOLDERS = {
    "name": _("client's name"),
    "hospital": _("hospital name"),
    "date": _("date"),
    "time": _("time"),
    "department": _("department"),
    "floor": _("floor"),
    "expert": _("expert"),
    "phone": _("hospital phone"),
    "link": _("link"),
    "text": _("free text"),
    "code": _("one-time code"),
    "minutes": _("minutes it is valid"),
    # From the hospital's profile (zhongdu.models.HospitalProfile.placeholder_values).
    "hotline": _("hospital hotline"),
    "address": _("hospital address"),
    "opening_hours": _("opening hours"),
    "website": _("website"),
    "signature": _("SMS signature"),
}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
# The bracketed signature a mainland SMS opens with: {signature} (the profile's registered one,
# 【中都皮肤病医院】) or written out, 【{hospital}】. The domestic provider adds it itself.
SIGNATURE_PREFIX = re.compile(r"^\s*(\{signature\}|【[^】]*】)")


def template_placeholders(body: str) -> set[str]:
    return set(PLACEHOLDER.findall(body))


def sms_segments(body: str) -> tuple[int, int]:
    """(characters, segments): 160/153 per segment in GSM-7, 70/67 as soon as one character
    (any Chinese one) needs UCS-2."""
    length = len(body)
    if all(ord(ch) < 128 for ch in body):
        return length, 1 if length <= 160 else -(-length // 153)
    return length, 1 if length <= 70 else -(-length // 67)


class Approval(models.TextChoices):
    """Where a template stands with the domestic provider (approved in its console)."""

    NOT_SUBMITTED = "not_submitted", _("Not submitted")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


def voice_marketing_refused():
    return _(
        "Voice calls are for service notices only: the voice provider refuses promotion "
        "(medical and beauty promotion by name)."
    )


class SmsTemplate(models.Model):
    code = models.SlugField(_("code"), max_length=50)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    # A voice template is Mandarin text read out by the voice provider's TTS template
    # (provider_code: TTS_123456), with the same placeholders and approval state as an SMS one.
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders in braces: {name}, {date}, {time}, {department}, {expert} …"),
    )
    active = models.BooleanField(_("active"), default=True)
    # The domestic provider sends only templates approved in its console: the code it gave the
    # template there, and where its approval stands (entered by an administrator).
    provider_code = models.CharField(
        _("provider template code"),
        max_length=40,
        blank=True,
        help_text=_(
            "The code the domestic provider gave this template: SMS_123456789 for an SMS, "
            "TTS_123456 for a voice template."
        ),
    )
    approval = models.CharField(
        _("provider approval"),
        max_length=15,
        choices=Approval.choices,
        default=Approval.NOT_SUBMITTED,
    )

    class Meta:
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["code", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "language"], name="smstemplate_code_lang_unique"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """What staff call the template: its purpose, with its language when that is not the
        hospital's own. The code is the senders' key, not a word for people."""
        name = str(self.get_purpose_display())
        if self.channel == Channel.VOICE:
            name = _("%(purpose)s (voice template)") % {"purpose": name}
        if self.language != settings.LANGUAGE_CODE:
            name = f"{name} ({self.get_language_display()})"
        return name

    @property
    def choice_label(self) -> str:
        """A picker's line: the name and the opening of the text (templates may share a
        purpose), without the signature and the placeholders."""
        text = PLACEHOLDER.sub("", SIGNATURE_PREFIX.sub("", self.body)).strip()
        return f"{self.display_name}: {Truncator(text).chars(24)}"

    def clean(self):
        if self.channel == Channel.VOICE and self.kind == Kind.MARKETING:
            raise ValidationError({"kind": voice_marketing_refused()})
        unknown = template_placeholders(self.body) - set(PLACEHOLDERS)
        if unknown:
            raise ValidationError(
                {
                    "body": _("Unknown placeholder: %(names)s. Allowed: %(allowed)s.")
                    % {
                        "names": ", ".join(f"{{{name}}}" for name in sorted(unknown)),
                        "allowed": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                    }
                }
            )

    def render(self, values: dict) -> str:
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), self.body)

    def parameters(self, values: dict) -> dict:
        """The template's parameter values as the domestic provider takes them: one per
        placeholder of the text after the signature (the provider adds the registered
        signature itself), as text."""
        names = dict.fromkeys(PLACEHOLDER.findall(SIGNATURE_PREFIX.sub("", self.body)))
        return {name: str(values.get(name, "")) for name in names}

    @property
    def approved(self) -> bool:
        """Approved in the domestic provider's console, with the code it gave."""
        return self.approval == Approval.APPROVED and bool(self.provider_code)

    def holes(self, values: dict) -> list[str]:
        """The placeholders of the text that these values leave empty, in order of appearance:
        a message with a hole is held, never sent (messaging.services.outbox_enqueue)."""
        names = dict.fromkeys(PLACEHOLDER.findall(self.body))
        return [name for name in names if values.get(name) in (None, "")]


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("sms status", "Pending")
        CLAIMED = "claimed", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", pgettext_lazy("sms status", "Failed")
        UNKNOWN = "unknown", _("Unknown: check the provider")
        SUPPRESSED = "suppressed", _("Suppressed")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to = models.CharField(_("number"), max_length=20)
    body = models.TextField(_("text"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    template = models.ForeignKey(
        SmsTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The template's parameter values (the placeholders of its text), and the provider's code
    # of the template: the domestic provider is sent the code and these; Twilio the text.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    provider_template = models.CharField(_("provider template code"), max_length=40, blank=True)
    # Which provider the message goes through (messaging.rules.route_for, at enqueue); empty
    # when no route serves the number (the message is held).
    route = models.CharField(_("route"), max_length=10, blank=True)
    campaign = models.ForeignKey(
        "Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    # Past this time the message is useless (a reminder for an appointment that has begun).
    expires_at = models.DateTimeField(_("useless after"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=30, blank=True)
    error_text = models.CharField(_("error"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A voice message's call, from its receipt (provider_id is the call id): the keys the
    # listener pressed, in order, and how long they listened.
    keys = models.CharField(_("keys pressed"), max_length=20, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk time (seconds)"), default=0)
    idempotency_key = models.CharField(max_length=120)
    # The status-callback address carries this token: the provider's reports find their message
    # by it even when the provider id was never learnt (a timeout on create).
    callback_token = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        indexes = [
            # The sweeper: pending messages that are due.
            models.Index(
                fields=["send_after"],
                condition=Q(status="pending"),
                name="outbox_pending_due_idx",
            ),
            # The sweeper: claims left behind by a worker that died.
            models.Index(
                fields=["claimed_at"], condition=Q(status="claimed"), name="outbox_claimed_idx"
            ),
            # The staff list, newest first, filtered by status.
            models.Index(fields=["status", "-id"], name="outbox_status_idx"),
            # A client's messages on their timeline; the daily marketing cap.
            models.Index(fields=["client", "-created_at"], name="outbox_client_idx"),
            # Figures per day.
            models.Index(fields=["created_at"], name="outbox_created_idx"),
            # Status callbacks that carry the provider's id.
            models.Index(fields=["provider_id"], name="outbox_provider_id_idx"),
            # The voice caps: one number's calls (services._voice_cap_until). Partial: SMS is
            # most of the table and never asks.
            models.Index(
                fields=["to", "claimed_at"],
                condition=Q(channel="voice"),
                name="outbox_voice_to_idx",
            ),
        ]
        constraints = [
            # "Send the reminder for booking 42" happens once, however often it is asked for.
            models.UniqueConstraint(fields=["idempotency_key"], name="outbox_idempotency_unique"),
            models.UniqueConstraint(fields=["callback_token"], name="outbox_callback_unique"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "claimed",
                        "sent",
                        "delivered",
                        "failed",
                        "unknown",
                        "suppressed",
                        "cancelled",
                    ]
                ),
                name="outbox_status_valid",
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="outbox_kind_valid"),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "voice"]), name="outbox_channel_valid"
            ),
            # Voice is for service notices only.
            models.CheckConstraint(
                condition=~Q(channel="voice", kind="marketing"), name="outbox_voice_service_only"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.purpose} {self.status}"

    def get_absolute_url(self):
        return reverse("messaging:message_detail", args=[self.pk])

    @property
    def error_explanation(self) -> str:
        """The error said for staff; the code and the provider's text are for support. A rule
        that held or suppressed the message says itself (messaging.rules)."""
        from .rules import BLOCK_REASONS, PLACEHOLDER_EMPTY, VOICE_REASONS

        if self.error_code == PLACEHOLDER_EMPTY:
            return self.error_text  # names the placeholders
        if self.channel == Channel.VOICE and self.error_code in VOICE_REASONS:
            return str(VOICE_REASONS[self.error_code])
        if self.error_code in BLOCK_REASONS:
            return str(BLOCK_REASONS[self.error_code])
        return sms.error_explanation(self.error_code) if self.error_code else ""

    @property
    def route_label(self) -> str:
        """The provider the message goes through, said for staff."""
        from .rules import ROUTE_LABELS

        if self.channel == Channel.VOICE:
            return str(ROUTE_LABELS["voice"])
        return str(ROUTE_LABELS.get(self.route, self.route))

    @property
    def held(self) -> bool:
        """Held as it was written (a placeholder without a value, a route's rule): staff may
        check it again once the cause is fixed (services.outbox_release)."""
        from .rules import HELD

        return self.status == self.Status.SUPPRESSED and self.error_code in HELD

    @property
    def status_callback_url(self):
        path = reverse("messaging:twilio_status", args=[self.callback_token])
        return f"{settings.PUBLIC_BASE_URL}{path}"


class OutboxEvent(AppendOnlyModel):
    """Append-only history of every status change of a message."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=12, choices=OutboxMessage.Status.choices)
    to_status = models.CharField(max_length=12, choices=OutboxMessage.Status.choices)
    detail = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("SMS status change")
        verbose_name_plural = _("SMS status changes")
        indexes = [models.Index(fields=["message", "at"], name="outboxevent_message_idx")]

    def __str__(self):
        return f"{self.message_id}: {self.from_status} -> {self.to_status}"


class PhoneOptOut(models.Model):
    """A number that asked for no more SMS (STOP / 退订 / TD, or the provider's 21610)."""

    phone = models.CharField(max_length=20)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=30)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")
        constraints = [models.UniqueConstraint(fields=["phone"], name="optout_phone_unique")]

    def __str__(self):
        return self.phone


class InboundMessage(models.Model):
    """An SMS a client sent us; kept once per provider id (webhooks may be delivered twice)."""

    provider_id = models.CharField(max_length=64)
    from_number = models.CharField(max_length=20)
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("SMS received")
        verbose_name_plural = _("SMS received")
        constraints = [
            models.UniqueConstraint(fields=["provider_id"], name="inbound_provider_id_unique")
        ]

    def __str__(self):
        return self.provider_id


class Campaign(models.Model):
    """A marketing or service SMS to a segment of clients, built in the background."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        BUILDING = "building", _("Creating messages")
        SCHEDULED = "scheduled", pgettext_lazy("campaign", "Scheduled")

    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(SmsTemplate, verbose_name=_("template"), on_delete=models.PROTECT)
    segment = models.JSONField(_("segment"), default=dict)
    send_at = models.DateTimeField(_("send at"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    total = models.PositiveIntegerField(default=0)
    built = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The campaign form's one-time key (zhongdu.forms.FormKeyField): a double click on "confirm"
    # makes one campaign, so nobody receives its message twice.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            # One campaign per campaign form.
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="campaign_request_key_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("messaging:campaign_detail", args=[self.pk])


class SmsRoutePolicy(VersionedPolicy):
    """Whether mainland numbers may go through a foreign provider (Twilio): a cross-border
    transfer of personal information under PIPL, off unless an administrator enables it with
    its legal basis. Versioned: one can tell which basis was in force when."""

    immutable_message = _("A route policy version cannot be changed; add a new version.")

    mainland_via_twilio = models.BooleanField(
        _("send mainland numbers through Twilio"),
        default=False,
        help_text=_(
            "A cross-border transfer of personal information: only with a legal basis "
            "(e.g. separate consent and a filed standard contract)."
        ),
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)

    class Meta:
        verbose_name = _("SMS route policy version")
        verbose_name_plural = _("SMS route policy versions")
        ordering = ["-pk"]

    def __str__(self):
        return str(_("Version %(number)s") % {"number": self.pk or "—"})

    def clean(self):
        if self.mainland_via_twilio and not self.legal_basis.strip():
            raise ValidationError(
                {"legal_basis": _("Enabling the cross-border route needs its legal basis.")}
            )

    @classmethod
    def first_values(cls) -> dict:
        return {"note": str(_("Default: no cross-border route"))}
