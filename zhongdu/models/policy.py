"""The one base of the rules administrators keep in the admin (booking rules, follow-up rules,
working hours, VIP rules): `current()` gives the rules in force, made from the field defaults
on first use, so a fresh database works without a set-up step.

Two kinds:

- a singleton (Policy): one row, pk 1, edited in place in the admin;
- a versioned policy (VersionedPolicy): every change is a new row, and rows are append-only;
  the newest row is in force and the older ones stay, so that a record can name the version
  that decided it.

Both are abstract. A singleton adds no column; every version says why it was made, by whom and
when (note, created_by, created_at). Their admin is zhongdu.admin.PolicyAdmin.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .appendonly import AppendOnlyModel

SINGLETON_PK = 1


class Policy(models.Model):
    """Rules in force: one row edited in place, or (VersionedPolicy) the newest of its versions."""

    versioned: ClassVar[bool] = False

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.versioned:
            self.pk = SINGLETON_PK  # a singleton: the admin always edits the same row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls):
        if cls.versioned:
            newest = cls.objects.order_by("-pk").first()
            return newest or cls.objects.create(**cls.first_values())
        policy, _created = cls.objects.get_or_create(pk=SINGLETON_PK, defaults=cls.first_values())
        return policy

    @classmethod
    def first_values(cls) -> dict:
        """What the row made on first use holds beside the field defaults."""
        return {}


class VersionedPolicy(AppendOnlyModel, Policy):
    """A policy whose every change is a new, unchangeable version; the newest is in force."""

    versioned: ClassVar[bool] = True

    note = models.CharField(_("what changed and why"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        abstract = True
