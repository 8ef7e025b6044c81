from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat, Notification

T = TypeVar("T")


def create_once(model: type[T], key: str, create: Callable[[], T]) -> tuple[T, bool]:
    """(the record, whether this call wrote it) for a form's one-time key
    (zhongdu.forms.FormKeyField): the record that key wrote, else what `create()` writes, which
    must store `key` in the model's `request_key` (under a partial unique index). A double click
    or a resubmitted tab finds the first record; a submission racing it waits on the unique index
    and, refused (by that index or by any rule the first one's row now breaks), finds it too."""
    if not key:
        return create(), True
    rows = model._default_manager.filter(request_key=key)
    if (found := rows.first()) is not None:
        return found, False
    try:
        with transaction.atomic():
            return create(), True
    except (IntegrityError, ValidationError):
        if (found := rows.first()) is None:
            raise
        return found, False


@transaction.atomic
def heartbeat_touch(*, name: str) -> Heartbeat:
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(last_seen=now, beats=F("beats") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"last_seen": now, "beats": 1})
    return Heartbeat.objects.get(name=name)


# --- Notifications ------------------------------------------------------------------------


def notify(user, text: str, url: str = "") -> Notification | None:
    """Tell one member of staff something in the application (the badge in their user menu).
    Call it inside the transaction of the event it reports: a rolled-back event leaves none."""
    if user is None or not user.is_active:
        return None
    return Notification.objects.create(recipient=user, text=str(text)[:300], url=url[:200])


def notifications_mark_read(*, user, pk: int | None = None) -> int:
    """Mark one of the user's notifications read (or all of them, with no `pk`); a conditional
    UPDATE, so reading twice changes nothing. Returns how many were marked."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        rows = rows.filter(pk=pk)
    return rows.update(read_at=timezone.now())


def notify_role(*, role: str, text: str, url: str = "") -> int:
    """Tell every active member of a role (the VIP managers of tonight's lapses, the managers of
    a new monthly pack). Returns how many were told."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, groups__name=role).distinct()
    return sum(notify(user, text, url) is not None for user in users)
