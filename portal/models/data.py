"""My data (PIPL): a person's request, made on the portal, to correct or delete their personal
information. It is a staff task with a deadline in working days (DATA_REQUEST_WORKING_DAYS),
decided once (done, partly done, refused) with an answer the person reads on /my/data/; every
change is an append-only event."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientmgmt.models import Client
from zhongdu.models.appendonly import AppendOnlyModel


class DataRequest(models.Model):
    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correct my information")
        DELETION = "deletion", _("Delete my information")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("data request status", "Open")
        DONE = "done", pgettext_lazy("data request status", "Done")
        PARTLY = "partly", pgettext_lazy("data request status", "Partly done")
        REFUSED = "refused", pgettext_lazy("data request status", "Refused")

    # Unguessable: the staff page's address, and what the person's page names.
    token = models.UUIDField(default=uuid.uuid4, editable=False)
    # Whose information it is about (the portal's subject: the person or their dependant).
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    # Who asked (signed in): the same person, or the holder acting for a dependant.
    asked_by = models.ForeignKey(
        Client, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("request"), max_length=12, choices=Kind.choices)
    text = models.TextField(_("what the person asks"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    due_on = models.DateField(_("due by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the person is told (shown on their page).
    answer = models.TextField(_("answer to the person"), blank=True)
    # The form's one-time key (zhongdu.forms.FormKeyField): one request per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        constraints = [
            models.UniqueConstraint(fields=["token"], name="portal_datarequest_token_unique"),
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="portal_datarequest_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["correction", "deletion"]),
                name="portal_datarequest_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "done", "partly", "refused"]),
                name="portal_datarequest_status_valid",
            ),
        ]
        indexes = [
            # The staff worklist: open requests by deadline.
            models.Index(fields=["status", "due_on", "id"], name="portal_datarequest_due_idx"),
            # The person's own requests on /my/data/, newest first.
            models.Index(fields=["client", "created_at"], name="portal_datarequest_client_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("datarequests:request_detail", args=[self.token])


class DataRequestEvent(AppendOnlyModel):
    """The request's history, one row a change, in the change's transaction."""

    class Action(models.TextChoices):
        ASKED = "asked", pgettext_lazy("data request event", "Asked")
        DECIDED = "decided", pgettext_lazy("data request event", "Decided")
        TOLD = "told", pgettext_lazy("data request event", "Person told by SMS")

    request = models.ForeignKey(
        DataRequest, verbose_name=_("data request"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    status = models.CharField(_("status"), max_length=10, choices=DataRequest.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("data request event")
        verbose_name_plural = _("data request events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["request", "at"], name="portal_datarequestevent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["asked", "decided", "told"]),
                name="portal_datarequestevent_valid",
            ),
        ]

    def __str__(self):
        return f"{self.request_id} {self.action}"
