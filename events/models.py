"""Events (健康讲座, 客户联谊): invitations by SMS with an RSVP, and attendance taken at the
door."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
    # The invitations are written in the background (events.tasks.event_invitations_send),
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
        return reverse("events:event_detail", args=[self.pk])

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
    event: events.services checks it under a lock on the event row (with the capacity), not with
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
