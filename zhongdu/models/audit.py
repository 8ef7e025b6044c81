from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .appendonly import AppendOnlyModel


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    REVEAL = "reveal", _("Revealed")
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login-failed", _("Sign-in failed")
    LOGOUT = "logout", _("Signed out")
    DENIED = "denied", _("Access denied")


class AuditEvent(AppendOnlyModel):
    """Who did what to which record, and when. Written through zhongdu.audit.record().

    Append-only: changes are refused by the model and, on Postgres, by a trigger."""

    Action = AuditAction

    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    # PROTECT: a user who left an audit trail is deactivated, never deleted (deleting would have
    # to rewrite these rows).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The name typed or held at the time: kept for failed sign-ins, which have no user.
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    # Why the user did it, where the action needs a reason (revealing a masked number).
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [
            # "Who looked at or changed this client?": the record's history, newest first.
            models.Index(
                fields=["object_type", "object_id", "-id"], name="audit_object_history_idx"
            ),
            # The audit page filtered by person (the username typed or held), newest first.
            models.Index(fields=["actor_username", "-id"], name="audit_username_idx"),
            # The audit page filtered by date range.
            models.Index(fields=["occurred_at"], name="audit_occurred_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values),
                name="audit_action_valid",
            ),
        ]

    def __str__(self):
        who = self.actor_username or "-"
        target = f"{self.object_type} {self.object_id}".strip()
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {who} {self.action} {target}"


class Heartbeat(models.Model):
    """The last time a periodic job ran: beat schedules zhongdu.tasks.heartbeat every minute, so
    an administrator can see at a glance that worker and beat are alive."""

    name = models.CharField(_("name"), max_length=50)
    last_seen = models.DateTimeField(_("last seen"))
    beats = models.PositiveBigIntegerField(_("beats"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        constraints = [
            # One row per job: the task updates it by name.
            models.UniqueConstraint(fields=["name"], name="heartbeat_name_unique"),
        ]

    def __str__(self):
        return self.name
