"""The online consultation (网上咨询): a person's threads with the consultation desk, their
messages, the photos attached (kept encrypted in zhongdu.private_files) and each thread's
append-only history."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientmgmt.models import Client
from zhongdu.models.appendonly import AppendOnlyModel


def new_thread_token() -> str:
    return secrets.token_urlsafe(16)


class ConsultThread(models.Model):
    """One question and its conversation. The patient's pages name it by `token` (never its
    integer key); staff pages by its key."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("consultation", "Waiting for the desk")
        ANSWERED = "answered", pgettext_lazy("consultation", "Answered")
        CLOSED = "closed", pgettext_lazy("consultation", "Closed")

    token = models.CharField(max_length=32, default=new_thread_token, editable=False)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(pgettext_lazy("consultation", "question"), max_length=60)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    # The last message either side wrote (shown in the lists).
    last_message_at = models.DateTimeField(_("last message"), default=timezone.now)
    # ONLINE_CONSULT_ANSWER_HOURS working hours after it was asked (the working calendar).
    first_answer_due_at = models.DateTimeField(_("first answer due"))
    first_answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    # The desk's last answer, and when the person last opened the thread: an answer later than
    # their last look is unread (the home page's card).
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    patient_seen_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Staff turned it into a booking (the booking form was opened for the client).
    booking_started_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        verbose_name = _("online consultation")
        verbose_name_plural = _("online consultations")
        indexes = [
            # The person's threads, newest first, paged by key (threads_for_patient).
            models.Index(fields=["client", "-id"], name="consult_thread_client_idx"),
            # The staff inbox: a status's threads newest first, paged by key (inbox).
            models.Index(fields=["status", "-id"], name="consult_thread_inbox_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "answered", "closed"]),
                name="consult_thread_status_valid",
            ),
            models.UniqueConstraint(fields=["token"], name="consult_thread_token_unique"),
            # One thread per form key: a double click on "send" asks once (create_once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="consult_thread_key_unique",
            ),
        ]

    def __str__(self):
        return str(_("Online consultation %(pk)s")) % {"pk": self.pk}

    def is_late(self, now=None) -> bool:
        """Still waiting for its first answer past the deadline."""
        return (
            self.first_answered_at is None
            and self.status == self.Status.OPEN
            and self.first_answer_due_at <= (now or timezone.now())
        )

    @property
    def unread(self) -> bool:
        return self.answered_at is not None and (
            self.patient_seen_at is None or self.answered_at > self.patient_seen_at
        )


class ConsultMessage(models.Model):
    """One message: the person's (`author` empty) or a staff user's answer."""

    thread = models.ForeignKey(
        ConsultThread,
        verbose_name=_("online consultation"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    request_key = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        verbose_name = _("consultation message")
        verbose_name_plural = _("consultation messages")
        ordering = ["created_at", "pk"]
        indexes = [
            # A thread's messages in order (the thread pages).
            models.Index(fields=["thread", "created_at"], name="consult_message_thread_idx"),
        ]
        constraints = [
            # One message per form key: a double click posts once (create_once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="consult_message_key_unique",
            ),
        ]

    def __str__(self):
        return f"{self.thread_id}/{self.pk}"

    @property
    def from_patient(self) -> bool:
        return self.author_id is None


class ConsultPhoto(models.Model):
    """A photo the person attached: re-encoded without its metadata (location, camera) and kept
    encrypted (zhongdu.private_files); only views that check the reader hand it out."""

    message = models.ForeignKey(
        ConsultMessage,
        verbose_name=_("consultation message"),
        on_delete=models.CASCADE,
        related_name="photos",
    )
    file = models.CharField(max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("consultation photo")
        verbose_name_plural = _("consultation photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png"]),
                name="consult_photo_type_valid",
            ),
        ]

    def __str__(self):
        return f"{self.message_id}/{self.pk}"


class ConsultEvent(AppendOnlyModel):
    """The thread's history, one row a change, written in the change's transaction."""

    class Action(models.TextChoices):
        ASKED = "asked", pgettext_lazy("consultation event", "Asked")
        WROTE = "wrote", pgettext_lazy("consultation event", "The person wrote again")
        ASSIGNED = "assigned", pgettext_lazy("consultation event", "Assigned")
        ANSWERED = "answered", pgettext_lazy("consultation event", "Answered")
        CLOSED = "closed", pgettext_lazy("consultation event", "Closed")
        BOOKING = "booking", pgettext_lazy("consultation event", "Turned into a booking")

    thread = models.ForeignKey(
        ConsultThread,
        verbose_name=_("online consultation"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("online consultation event")
        verbose_name_plural = _("online consultation events")
        ordering = ["at", "pk"]
        # The thread's history on its staff page.
        indexes = [models.Index(fields=["thread", "at"], name="consult_event_thread_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=["asked", "wrote", "assigned", "answered", "closed", "booking"]
                ),
                name="consult_event_action_valid",
            ),
        ]

    def __str__(self):
        return f"{self.thread_id} {self.action}"
