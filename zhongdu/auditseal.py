"""The tamper-evident seal over the audit trail: how a row is serialised, how a block is
digested, and the check that recomputes the chain (`manage.py audit_verify`). Blocks are
written by zhongdu.services.audit_seal (beat: zhongdu.tasks.audit_seal).

A block covers every AuditEvent row from `first_audit_id` to `last_audit_id`. Each row's MAC is
HMAC-SHA256(key, "zhongdu-audit-row-v1" + its canonical serialisation); the block's digest is
HMAC-SHA256(key, header + the rows' MACs in id order), the header naming the previous block's
digest, so a row changed, removed or added inside sealed history, and a block changed or
removed, no longer verifies. The keys live in the environment (AUDIT_SEAL_KEYS), never in the
database: whoever can rewrite rows cannot rewrite the chain.

Why a lag (AUDIT_SEAL_LAG_SECONDS): ids come from a sequence when the row is inserted, but a row
is visible only when its transaction commits, so a row with a lower id can appear after a higher
one was sealed. The check cannot tell that row from one slipped in behind the application's back,
so it reports every row below the last sealed id that no block holds as inserted, and the sealer
makes that case impossible in practice instead: it seals rows in id order and stops at the first
row written less than the lag ago (rows behind it wait, whatever their time), so a row is only
sealed when everything allocated before it had the lag to commit. The lag must be longer than any
transaction that writes an audit row and then stays open: a web request (gunicorn kills it after
30 s), a task's batch transaction (90 s by default). A longer transaction would be reported as an
insertion: a false alarm, never a silent gap. SQLite has one writer at a time: no late commits.

What it does not prove: rows written after the last seal (the lag and the beat interval), and
the newest blocks removed together with their rows (keep the head `audit_verify` prints, e.g.
in the nightly check's log, and compare).
"""

import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction

from .models import AuditEvent, AuditSeal

VERSION = "zhongdu-audit-seal-v1"
# Every column of AuditEvent, in this order. A new column must be added here (and the version
# above changed); tests/zhongdu/test_audit_seal.py fails on a column missing from the list.
COLUMNS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changed_fields",
    "reason",
    "ip_address",
    "user_agent",
)
SHORT_MAC = 8  # bytes of each row's MAC kept in the block, to name a row that no longer matches
ROW_ENTRY = struct.Struct(f">q{SHORT_MAC}s")  # (audit id, short MAC): 16 bytes a row
CHUNK = 2000  # rows read at a time by the check (it streams; the table may hold millions)


# --- Keys -----------------------------------------------------------------------------------


def key_id(key: str) -> str:
    """A short public fingerprint of a key, stored on each block to say which key sealed it."""
    return hashlib.sha256(f"zhongdu-audit-seal-key:{key}".encode()).hexdigest()[:16]


def keys() -> dict[str, bytes]:
    """key id -> key, in AUDIT_SEAL_KEYS's order: the first seals, all of them verify."""
    return {key_id(key): key.encode() for key in settings.AUDIT_SEAL_KEYS}


def sealing_key() -> tuple[str, bytes]:
    if not settings.AUDIT_SEAL_KEYS:
        raise ValueError("AUDIT_SEAL_KEYS is empty: there is no key to seal the audit trail.")
    return next(iter(keys().items()))


# --- Serialisation --------------------------------------------------------------------------


def _timestamp(value: datetime) -> str:
    # UTC, always with microseconds: the same text whatever the connection's time zone.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_row(values: tuple) -> bytes:
    """One row (its COLUMNS, as `values_list(*COLUMNS)` reads them) as bytes that depend only on
    what it says: a JSON object with sorted keys (nested JSON too), no spaces, UTF-8, datetimes
    in UTC with microseconds, NULL as null."""
    row = dict(zip(COLUMNS, values, strict=True))
    row["occurred_at"] = _timestamp(row["occurred_at"])
    if row["ip_address"] is not None:
        row["ip_address"] = str(row["ip_address"])
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_mac(key: bytes, values: tuple) -> bytes:
    return hmac.digest(key, f"{VERSION}:row\n".encode() + canonical_row(values), "sha256")


def block_digest(
    key: bytes,
    *,
    key_id: str,
    previous_digest: str,
    first_audit_id: int,
    last_audit_id: int,
    row_count: int,
    sealed_at: datetime,
    macs: list[bytes],
) -> str:
    header = "\n".join(
        [
            f"{VERSION}:block",
            key_id,
            previous_digest,
            str(first_audit_id),
            str(last_audit_id),
            str(row_count),
            _timestamp(sealed_at),
            "",
        ]
    )
    digest = hmac.new(key, header.encode(), "sha256")
    for mac in macs:
        digest.update(mac)
    return digest.hexdigest()


def pack_row_macs(ids: list[int], macs: list[bytes]) -> bytes:
    return b"".join(ROW_ENTRY.pack(i, mac[:SHORT_MAC]) for i, mac in zip(ids, macs, strict=True))


def unpack_row_macs(data: bytes) -> list[tuple[int, bytes]]:
    return list(ROW_ENTRY.iter_unpack(bytes(data))) if len(data) % ROW_ENTRY.size == 0 else []


def sealable_rows():
    """The audit rows as the sealer and the check read them: COLUMNS, in id order."""
    return AuditEvent.objects.order_by("id").values_list(*COLUMNS)


# --- The check ------------------------------------------------------------------------------


@dataclass
class Verdict:
    blocks: int = 0
    rows: int = 0  # rows sealed and verified
    last_audit_id: int | None = None
    last_sealed_at: datetime | None = None
    unsealed: int = 0  # rows after the last block (not sealed yet)
    problem: str = ""  # empty when the chain holds
    block: AuditSeal | None = None  # where it broke
    row_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


class _Broken(Exception):
    def __init__(self, problem, block=None, row_id=None):
        super().__init__(problem)
        self.problem, self.block, self.row_id = problem, block, row_id


class _Rows:
    """The audit rows in id order, streamed, with one row of look-ahead."""

    def __init__(self):
        self._rows = sealable_rows().iterator(chunk_size=CHUNK)
        self.head = next(self._rows, None)

    def take(self):
        row, self.head = self.head, next(self._rows, None)
        return row


def verify() -> Verdict:
    """Recompute the chain and every sealed row's MAC. Streams both tables (a chunk at a time)
    and, on Postgres, reads them in one REPEATABLE READ snapshot, so a block sealed meanwhile is
    either wholly seen or not at all."""
    verdict = Verdict()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            _walk(verdict)
        except _Broken as broken:
            verdict.problem, verdict.block, verdict.row_id = (
                broken.problem,
                broken.block,
                broken.row_id,
            )
    return verdict


def _walk(verdict: Verdict) -> None:
    known = keys()
    rows = _Rows()
    previous = None
    for block in AuditSeal.objects.order_by("first_audit_id").iterator(chunk_size=20):
        _check_link(block, previous)
        # Rows between the previous block and this one: no block holds them.
        if rows.head is not None and rows.head[0] < block.first_audit_id:
            raise _Broken(
                f"row {rows.head[0]} is older than this block but in no block: it was inserted "
                "after the rows around it were sealed",
                block,
                rows.head[0],
            )
        if block.key_id not in known:
            raise _Broken(
                f"it was sealed with key {block.key_id}, which is not in AUDIT_SEAL_KEYS (list "
                "the old key after the current one to verify blocks it sealed)",
                block,
            )
        _check_block(block, known[block.key_id], rows)
        verdict.blocks += 1
        verdict.rows += block.row_count
        verdict.last_audit_id, verdict.last_sealed_at = block.last_audit_id, block.sealed_at
        previous = block
    while rows.take() is not None:
        verdict.unsealed += 1


def _check_link(block: AuditSeal, previous: AuditSeal | None) -> None:
    if previous is None:
        if block.previous_digest:
            raise _Broken("the first block names a previous block: blocks were removed", block)
        return
    if block.previous_digest != previous.digest:
        raise _Broken(
            f"it does not follow block {previous.pk} (its previous digest differs): a block was "
            "changed or removed",
            block,
        )
    if block.first_audit_id <= previous.last_audit_id:
        raise _Broken(f"its rows overlap block {previous.pk}'s", block)


def _check_block(block: AuditSeal, key: bytes, rows: _Rows) -> None:
    entries = unpack_row_macs(block.row_macs)
    if len(entries) != block.row_count:
        raise _Broken("its list of rows does not match its row count: the block was changed", block)
    macs = []
    for sealed_id, short in entries:
        row = rows.head
        if row is None or row[0] > sealed_id:
            raise _Broken(f"row {sealed_id} was sealed and is missing (deleted)", block, sealed_id)
        if row[0] < sealed_id:
            raise _Broken(
                f"row {row[0]} lies inside the block but was not sealed: it was inserted",
                block,
                row[0],
            )
        mac = row_mac(key, rows.take())
        if not hmac.compare_digest(mac[:SHORT_MAC], bytes(short)):
            raise _Broken(f"row {sealed_id} was changed after it was sealed", block, sealed_id)
        macs.append(mac)
    if rows.head is not None and rows.head[0] <= block.last_audit_id:
        raise _Broken(
            f"row {rows.head[0]} lies inside the block but was not sealed: it was inserted",
            block,
            rows.head[0],
        )
    expected = block_digest(
        key,
        key_id=block.key_id,
        previous_digest=block.previous_digest,
        first_audit_id=block.first_audit_id,
        last_audit_id=block.last_audit_id,
        row_count=block.row_count,
        sealed_at=block.sealed_at,
        macs=macs,
    )
    if not hmac.compare_digest(expected, block.digest):
        raise _Broken("its digest does not match its rows: the block was changed", block)
