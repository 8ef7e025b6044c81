"""The hotline's records: queues, agents (an extension and a presence per member of staff who
answers), calls built from the PBX's CTI events, and each event taken (once)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu import phones
from zhongdu.models.appendonly import AppendOnlyModel
from zhongdu.models.policy import Policy


class CallQueue(models.Model):
    """A queue of the PBX (the hotline, the VIP line…): its code is what the PBX's events name."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("call queue")
        verbose_name_plural = _("call queues")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agent(models.Model):
    """A member of staff who answers calls: the PBX rings their extension."""

    class Presence(models.TextChoices):
        AVAILABLE = "available", _("Available")
        BUSY = "busy", _("On a call")
        WRAP_UP = "wrap_up", _("Wrap-up")
        AWAY = "away", _("Away")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="voice_agent",
    )
    extension = models.CharField(
        _("extension"),
        max_length=16,
        unique=True,
        help_text=_("The extension the PBX rings for this person, as its events name it."),
    )
    # The agent's own phone (a desk phone's direct line or a work mobile): a click-to-call rings
    # it first, then the client (voice.outbound). E.164, a mainland number (the domestic route).
    line = models.CharField(
        _("own phone line"),
        max_length=32,
        blank=True,
        help_text=_(
            "The number a click-to-call rings first (a direct line or a work mobile), e.g."
            " 037112345678 or 13812345678."
        ),
    )
    presence = models.CharField(
        _("presence"), max_length=10, choices=Presence.choices, default=Presence.AWAY
    )
    presence_since = models.DateTimeField(_("presence since"), default=timezone.now)
    # Callback tasks go round-robin to the available agents: the one assigned longest ago next.
    last_assigned_at = models.DateTimeField(_("last callback assigned"), null=True, blank=True)
    queues = models.ManyToManyField(
        CallQueue, verbose_name=_("queues"), blank=True, related_name="agents"
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["extension"]

    def __str__(self):
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} ({self.extension})"

    def clean(self):
        """The line as the domestic route dials it: E.164, mainland (zhongdu.vms.serves)."""
        from zhongdu import vms  # the gateway module loads the provider's SDK: only when asked

        super().clean()
        if self.line:
            line = phones.normalise(self.line)
            if not phones.is_e164(line) or not vms.serves(line):
                raise ValidationError(
                    {"line": _("Enter a mainland number: a direct line or a mobile.")}
                )
            self.line = line

    @property
    def line_masked(self) -> str:
        return phones.mask(self.line) if self.line else ""


class Call(models.Model):
    """One call of the hotline, built from its CTI events (whichever arrives first makes it)."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        ANSWERED = "answered", pgettext_lazy("call outcome", "Answered")
        ABANDONED_IVR = "abandoned_ivr", _("Abandoned in the menu")
        ABANDONED_QUEUE = "abandoned_queue", _("Abandoned in the queue")
        MISSED = "missed", _("Missed")
        VOICEMAIL = "voicemail", _("Voicemail")
        # A call placed from a worklist (voice.outbound), as the provider's receipt tells it.
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no_answer", _("No answer")
        POWERED_OFF = "powered_off", _("Phone switched off")
        UNREACHABLE = "unreachable", _("Unreachable")
        INVALID_NUMBER = "invalid_number", _("Number does not exist")
        AGENT_UNANSWERED = "agent_unanswered", _("Your phone did not answer")
        FAILED = "failed", _("Not placed")

    class Worklist(models.TextChoices):
        """What a call placed from a worklist was for (its `task_id` is that task's pk)."""

        FOLLOWUP = "followup", _("Return-visit call")
        RECALL = "recall", _("Recall or callback")
        BOOKING_REQUEST = "booking_request", _("Online booking request")
        CALL_BACK = "call_back", _("Promised call-back")
        COMPLAINT = "complaint", _("Complaint")
        CLIENT = "client", _("Client")
        RESULT_ALERT = "result_alert", _("Abnormal or critical exam result")

    # The PBX's id of an inbound call; for a call placed from a worklist, one of our own
    # ("out-<uuid>"), the provider's being in provider_call_id.
    external_id = models.CharField(_("PBX call id"), max_length=64, unique=True)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    # The other party's number in E.164 where it reads as one (as the client record keeps it),
    # else its digits as the PBX gave them; shown masked.
    number = models.CharField(_("number"), max_length=32, blank=True)
    called = models.CharField(_("number called"), max_length=32, blank=True)
    queue = models.ForeignKey(
        CallQueue,
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    queue_code = models.CharField(_("queue code"), max_length=32, blank=True)
    ivr_path = models.CharField(_("menu keys"), max_length=64, blank=True)
    recording_notice = models.BooleanField(_("recording notice played"), default=False)
    agent = models.ForeignKey(
        Agent,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    extension = models.CharField(_("extension"), max_length=16, blank=True)
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    ringing_at = models.DateTimeField(_("ringing"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    hold_seconds = models.PositiveIntegerField(_("hold (seconds)"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.IN_PROGRESS
    )
    # Where the PBX keeps the audio: fetched by the application, never shown to a browser.
    recording_url = models.CharField(_("recording address"), max_length=500, blank=True)
    voicemail_url = models.CharField(_("voicemail address"), max_length=500, blank=True)
    voicemail_seconds = models.PositiveIntegerField(_("voicemail (seconds)"), default=0)
    # What the call led to: the callback task it made (a voicemail, abandoned or missed call),
    # the enquiry recorded on it, the complaint made of it (its voicemail attached).
    callback = models.ForeignKey(
        "consult.Recall",
        verbose_name=_("callback task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    enquiry = models.ForeignKey(
        "consult.Enquiry",
        verbose_name=_("enquiry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    # A call placed from a worklist (voice.outbound): the list and the task's pk, the voice
    # service's call id, and why it was not placed or may not have been (the provider's code).
    worklist = models.CharField(_("worklist"), max_length=16, choices=Worklist.choices, blank=True)
    task_id = models.PositiveBigIntegerField(_("task"), null=True, blank=True)
    provider_call_id = models.CharField(_("voice service call id"), max_length=64, blank=True)
    problem = models.CharField(_("problem"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-id"]
        indexes = [
            # A task's calls (its page, and a second click finding the call just placed):
            # calls placed from a worklist only, newest first.
            models.Index(
                fields=["worklist", "task_id", "-created_at"],
                condition=~Q(worklist=""),
                name="voice_call_task_idx",
            ),
            # The client page's timeline and health archive: one client's calls, newest first.
            models.Index(fields=["client", "-ringing_at"], name="voice_call_client_idx"),
            # An agent's calls (the pop: the call they answered last).
            models.Index(fields=["agent", "-answered_at"], name="voice_call_agent_idx"),
            # The figures: calls by day and outcome.
            models.Index(fields=["ringing_at", "outcome"], name="voice_call_day_idx"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.number_masked}"

    def get_absolute_url(self):
        return reverse("voice:call_detail", args=[self.pk])

    @property
    def number_masked(self) -> str:
        return phones.mask(self.number) if self.number else ""

    @property
    def ring_seconds(self) -> int | None:
        """From the ring to the answer (or to the end of a call nobody answered)."""
        until = self.answered_at or self.ended_at
        if self.ringing_at is None or until is None:
            return None
        return max(0, int((until - self.ringing_at).total_seconds()))

    @property
    def talk_seconds(self) -> int | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0, int((self.ended_at - self.answered_at).total_seconds()) - self.hold_seconds)


class CtiEvent(AppendOnlyModel):
    """Each event the PBX posted and the product took: its id is taken once (a replay is
    refused), and the call's history is what these rows say."""

    immutable_message = _("A CTI event is a record of what the PBX said: it is never changed.")

    event_id = models.CharField(_("event id"), max_length=64, unique=True)
    kind = models.CharField(_("type"), max_length=20)
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="events"
    )
    occurred_at = models.DateTimeField(_("happened"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    payload = models.JSONField(_("event"), default=dict)

    class Meta:
        verbose_name = _("CTI event")
        verbose_name_plural = _("CTI events")
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.kind} {self.event_id}"


class VoiceReceipt(AppendOnlyModel):
    """Each call receipt the voice service pushed (voice.receipts): its call id is applied
    once, however often the provider pushes it."""

    immutable_message = _(
        "A call receipt is a record of what the provider said: it is never changed."
    )

    call_id = models.CharField(_("provider call id"), max_length=64, unique=True)
    out_id = models.CharField(_("reference"), max_length=64, blank=True)
    status_code = models.CharField(_("status code"), max_length=12)
    outcome = models.CharField(_("outcome"), max_length=20)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    payload = models.JSONField(_("receipt"), default=dict)

    class Meta:
        verbose_name = _("call receipt")
        verbose_name_plural = _("call receipts")
        indexes = [models.Index(fields=["out_id"], name="voicereceipt_out_id_idx")]

    def __str__(self):
        return f"{self.call_id} {self.status_code}"


class Recording(models.Model):
    """A call's recording or voicemail: fetched from the PBX by a job (only from
    CTI_RECORDING_BASE_URL, audio only, up to CTI_RECORDING_MAX_BYTES) and kept encrypted among
    the private files (zhongdu/private_files.py). The PBX's address never reaches a browser."""

    class Kind(models.TextChoices):
        RECORDING = "recording", _("Recording")
        VOICEMAIL = "voicemail", pgettext_lazy("a message left", "Voicemail")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be fetched")
        KEPT = "kept", _("Kept")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Could not be fetched")
        # Its period under the retention policy ran out: the audio is deleted, the row kept.
        EXPIRED = "expired", _("Deleted at the end of its retention period")

    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="recordings"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source_url = models.CharField(_("recording address"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # Why it was refused or not fetched, for the log and the administrator (a short code).
    problem = models.CharField(_("problem"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    file = models.CharField(_("private file"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    content_type = models.CharField(_("content type"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    # What the transcription engine heard (voice.transcription; the null engine hears nothing).
    transcript = models.TextField(_("transcript"), blank=True)
    expired_at = models.DateTimeField(_("deleted (retention)"), null=True, blank=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["-id"]
        indexes = [
            # The nightly retention sweep: the kept recordings, oldest fetched first.
            models.Index(
                fields=["fetched_at"],
                condition=Q(status="kept"),
                name="voice_recording_kept_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "kind", "source_url"], name="voice_recording_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "kept", "refused", "failed", "expired"]),
                name="voice_recording_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class RecordingPolicy(Policy):
    """How long recordings and voicemail are kept, by the call's category (the one row
    administrators edit in the admin). A call counts as a VIP's when its client is a VIP, as a
    complaint's when it led to a complaint or its client has made one; the longest period that
    applies wins, and nothing is deleted while a complaint of the call or its client is open."""

    routine_days = models.PositiveIntegerField(
        _("routine calls (days)"),
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_("Enquiries and every other call that is neither a complaint's nor a VIP's."),
    )
    complaint_days = models.PositiveIntegerField(
        _("complaint calls (days)"),
        default=1095,
        validators=[MinValueValidator(1)],
        help_text=_("Calls that led to a complaint, and every call of a client who complained."),
    )
    vip_days = models.PositiveIntegerField(
        _("VIP calls (days)"),
        default=365,
        validators=[MinValueValidator(1)],
        help_text=_("Calls of a VIP client."),
    )

    class Meta:
        verbose_name = _("recording retention")
        verbose_name_plural = _("recording retention")
        constraints = [
            models.CheckConstraint(
                condition=Q(routine_days__gte=1, complaint_days__gte=1, vip_days__gte=1),
                name="voice_recordingpolicy_days",
            ),
        ]

    def __str__(self):
        return str(_("Recording retention"))

    def days_for(self, *, vip: bool, complaint: bool) -> int:
        """The period of a call of this category: the longest that applies."""
        days = [self.routine_days]
        if vip:
            days.append(self.vip_days)
        if complaint:
            days.append(self.complaint_days)
        return max(days)
