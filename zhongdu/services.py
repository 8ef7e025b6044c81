import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from . import audit, auditseal
from .models import AuditSeal, Heartbeat, HospitalProfile, Notification
from .models.profile import PROFILE_FIELDS
from .selectors import badge_cache_key, cache_call

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
    notification = Notification.objects.create(recipient=user, text=str(text)[:300], url=url[:200])
    _forget_badge(user.pk)
    return notification


def notifications_mark_read(*, user, pk: int | None = None) -> int:
    """Mark one of the user's notifications read (or all of them, with no `pk`); a conditional
    UPDATE, so reading twice changes nothing. Returns how many were marked."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        rows = rows.filter(pk=pk)
    marked = rows.update(read_at=timezone.now())
    _forget_badge(user.pk)
    return marked


def _forget_badge(user_id) -> None:
    """Forget the user's kept unread count (selectors.notifications_unread_count) now, for this
    transaction's own pages, and again when it commits, for everyone else's (a page that counted
    in between kept the count from before the change)."""
    key = badge_cache_key(user_id)
    cache_call(cache.delete, key)
    transaction.on_commit(lambda: cache_call(cache.delete, key))


def notify_role(*, role: str, text: str, url: str = "") -> int:
    """Tell every active member of a role (the VIP managers of tonight's lapses, the managers of
    a new monthly pack). Returns how many were told."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, groups__name=role).distinct()
    return sum(notify(user, text, url) is not None for user in users)


# --- The audit seal -------------------------------------------------------------------------

# The advisory lock sealers take turns on (a fixed 64-bit number: "zhongdu audit seal").
AUDIT_SEAL_LOCK = int.from_bytes(
    hashlib.blake2b(b"zhongdu-audit-seal", digest_size=8).digest(), "big", signed=True
)


def audit_seal() -> AuditSeal | None:
    """Seal the next block of the audit trail: the rows after the last block, in id order, up to
    AUDIT_SEAL_BATCH_SIZE, stopping at the first row younger than AUDIT_SEAL_LAG_SECONDS (why:
    zhongdu/auditseal.py). Returns the block, or None when there was nothing old enough to seal
    or another sealer is at work.

    Writers never wait for it: it reads committed rows and takes no lock on them. Sealers take
    turns on a transaction-scoped advisory lock on Postgres (a second one gives up at once, as
    the first is sealing the same rows); the unique previous digest and first id refuse a second
    block for the same rows anywhere else (SQLite has one writer at a time anyway)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.AUDIT_SEAL_LAG_SECONDS)
    seal_key_id, key = auditseal.sealing_key()
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [AUDIT_SEAL_LOCK])
                    if not cursor.fetchone()[0]:
                        return None
            last = AuditSeal.objects.order_by("-first_audit_id").first()
            rows = auditseal.sealable_rows()
            if last is not None:
                rows = rows.filter(id__gt=last.last_audit_id)
            ids, macs = [], []
            for row in rows[: settings.AUDIT_SEAL_BATCH_SIZE]:
                if row[1] >= cutoff:  # occurred_at: too fresh; this row and all after it wait
                    break
                ids.append(row[0])
                macs.append(auditseal.row_mac(key, row))
            if not ids:
                return None
            block = AuditSeal(
                first_audit_id=ids[0],
                last_audit_id=ids[-1],
                row_count=len(ids),
                previous_digest=last.digest if last is not None else "",
                key_id=seal_key_id,
                sealed_at=now,
                row_macs=auditseal.pack_row_macs(ids, macs),
            )
            block.digest = auditseal.block_digest(
                key,
                key_id=block.key_id,
                previous_digest=block.previous_digest,
                first_audit_id=block.first_audit_id,
                last_audit_id=block.last_audit_id,
                row_count=block.row_count,
                sealed_at=block.sealed_at,
                macs=macs,
            )
            block.save()
            return block
    except IntegrityError:
        # Another sealer wrote the block for these rows first (the unique previous digest or
        # first id refused this one): nothing lost, the next run starts after its block.
        if AuditSeal.objects.filter(first_audit_id__gte=ids[0]).exists():
            return None
        raise


def audit_seal_pending(*, max_blocks: int = 50) -> list[AuditSeal]:
    """Seal what is old enough, a block (one transaction) at a time, at most `max_blocks`
    (the beat job's time limit; the next run goes on). Safe to re-run: it starts after the last
    block."""
    blocks = []
    while len(blocks) < max_blocks and (block := audit_seal()) is not None:
        blocks.append(block)
    return blocks


def hospital_profile_add(*, by, note: str = "", **fields) -> HospitalProfile:
    """A new version of the hospital's profile (the old ones stay): the fields not given keep
    the values in force."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    # The version in force, or (none yet) the values the first one would take: the first
    # version added is version 1, not the defaults' row and then this one.
    current = HospitalProfile.objects.order_by("-pk").first()
    if current is None:
        base = HospitalProfile.first_values()
    else:
        base = {name: getattr(current, name) for name in PROFILE_FIELDS}
    values = {name: base[name] for name in PROFILE_FIELDS} | fields
    with transaction.atomic():
        profile = HospitalProfile.objects.create(created_by=by, note=note[:200], **values)
        audit.record(audit.Action.CREATE, actor=by, obj=profile)
    return profile
