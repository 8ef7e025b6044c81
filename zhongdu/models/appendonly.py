"""The one append-only base: history rows (the audit trail, every status change, every call
attempt, every policy version) are written once and never changed or deleted.

A model that inherits AppendOnlyModel refuses `save()` of a row that exists and `delete()`, and
its default manager refuses bulk `update()` and `delete()`. It is abstract and adds no column,
so a model that takes it up keeps its table. What still works, on purpose:

- `create()` and `bulk_create()`: history is written, in batches where it comes in batches;
- a parent row's deletion cascading to its history (where the owner may be deleted at all):
  Django's collector deletes and nulls through the plain base manager, not through these methods;
- `Model._base_manager`, the plain manager Django itself uses for relations: the one door for
  the system's own re-pointing of rows (a client merge moves the merged record's history to the
  survivor; its undo moves it back), never for changing what a row says.

On Postgres the audit trail also has a trigger refusing UPDATE and DELETE (zhongdu/migrations),
and in production the application's database role may only insert into and read it
(zhongdu/dbroles.py).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Immutable(ValidationError):
    """An attempt to change or delete a history row: a programming error, never a user's."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise Immutable(self.model.immutable_message)

    def delete(self):
        raise Immutable(self.model.immutable_message)


class AppendOnlyModel(models.Model):
    """A row written once, never changed or deleted (history screens and audits read it)."""

    Immutable = Immutable
    # What the refusal says; a model may say it in its own words.
    immutable_message = _("History cannot be changed.")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise Immutable(self.immutable_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable(self.immutable_message)
