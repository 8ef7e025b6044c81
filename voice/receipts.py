"""The voice service's call receipts (Alibaba Cloud's VoiceReport push): one element per call,
after it ended, read into a `Receipt` and applied once.

Every call we place carries an OutId naming what it is for: "call:<voice.Call pk>" (a
click-to-call from a worklist, voice.outbound) or "msg:<messaging.OutboxMessage pk>" (a voice
reminder or keypad survey from the outbox). `receipts_take` keeps each call id once (VoiceReceipt)
and hands the receipt, in the same transaction, to the handler registered for the prefix: a
receipt pushed again (the provider pushes until it is answered) changes nothing, and one whose
handler failed is applied when it comes again.

The outcome is read from the status code (the provider's 呼叫状态码 / 运营商回执错误码). For a
two-legged call (ClickToDial, the "call" prefix) the codes of the first leg (200002 busy, 200003 no
answer, 200004, 200007) are the agent's own line, not the client: `agent_unanswered`.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from zhongdu import phones

from .models import VoiceReceipt

logger = logging.getLogger(__name__)

ANSWERED = "answered"
BUSY = "busy"
NO_ANSWER = "no_answer"
POWERED_OFF = "powered_off"
UNREACHABLE = "unreachable"
INVALID_NUMBER = "invalid_number"
FAILED = "failed"
AGENT_UNANSWERED = "agent_unanswered"
OUTCOMES = (
    ANSWERED,
    BUSY,
    NO_ANSWER,
    POWERED_OFF,
    UNREACHABLE,
    INVALID_NUMBER,
    FAILED,
    AGENT_UNANSWERED,
)
# The client was not reached, for a reason that may pass (a later try may reach them).
NOT_REACHED = {BUSY, NO_ANSWER, POWERED_OFF, UNREACHABLE}

# A call to one number (IvrCall, SingleCallByTts), by status code.
SINGLE_CALL = {
    "200000": ANSWERED,  # listened to the end
    "200001": ANSWERED,  # hung up before the end
    "200008": ANSWERED,  # answered, no key pressed in time
    "200002": BUSY,
    "200003": NO_ANSWER,
    "200004": INVALID_NUMBER,
    "200005": UNREACHABLE,
    "200007": UNREACHABLE,
    "200010": POWERED_OFF,
    "200011": UNREACHABLE,  # suspended
}
# A two-legged call (ClickToDial): the first leg is the agent's, the second the client's.
DOUBLE_CALL = {
    "200002": AGENT_UNANSWERED,
    "200003": AGENT_UNANSWERED,
    "200004": AGENT_UNANSWERED,
    "200007": AGENT_UNANSWERED,
    "200104": AGENT_UNANSWERED,  # the agent's number restricted
    "200112": BUSY,
    "200113": NO_ANSWER,
    "200111": UNREACHABLE,
    "200120": UNREACHABLE,
    "200010": POWERED_OFF,
    "200011": UNREACHABLE,
    "200005": UNREACHABLE,  # the called user could not be reached
    "200116": INVALID_NUMBER,
    "200105": INVALID_NUMBER,  # the client's number restricted
}
DOUBLE_CALL_ENDED = "200100"

PREFIXES = ("call", "msg")
# The years a receipt's times may name: anything else is no time (a receipt is kept, never
# refused for it, so the provider does not push its batch for ever).
EARLIEST, LATEST = 2000, 2999


@dataclass(frozen=True)
class Receipt:
    call_id: str
    out_id: str
    status_code: str
    outcome: str
    answered_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    talk_seconds: int = 0
    keys: str = ""
    payload: dict = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        return self.outcome == ANSWERED


_handlers: dict[str, Callable] = {}


def register_receipt_handler(prefix: str, handler: Callable) -> None:
    """`handler(receipt, pk)` applies a receipt whose OutId is "<prefix>:<pk>" (inside the
    transaction that keeps the receipt)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown receipt prefix {prefix!r}")
    _handlers[prefix] = handler


class BadReceipt(ValueError):
    """An element that is not a receipt the provider sends."""


def parse(item: dict) -> Receipt:
    """One pushed element as a Receipt; BadReceipt when it is not one."""
    call_id = _text(item, "call_id", required=True)
    out_id = _text(item, "out_id")
    status = _text(item, "status_code", required=True)
    prefix = out_id.partition(":")[0]
    double = prefix == "call"
    if double:
        talk = _seconds(item.get("b_duration"))
        answered_at = _time(item.get("b_start_time"))
        if status == DOUBLE_CALL_ENDED:
            outcome = ANSWERED if (talk or answered_at) else NO_ANSWER
        else:
            outcome = DOUBLE_CALL.get(status, FAILED)
    else:
        talk = _seconds(item.get("duration"))
        answered_at = _time(item.get("start_time"))
        outcome = SINGLE_CALL.get(status, FAILED)
    keys = "".join(ch for ch in _text(item, "dtmf") if ch in "0123456789*#")
    return Receipt(
        call_id=call_id,
        out_id=out_id,
        status_code=status,
        outcome=outcome,
        answered_at=answered_at if outcome == ANSWERED else None,
        ended_at=_time(item.get("end_time")) or _time(item.get("b_end_time")),
        talk_seconds=talk if outcome == ANSWERED else 0,
        keys=keys if outcome == ANSWERED else "",
        payload=_masked(item),
    )


def receipts_take(items: list[dict]) -> int:
    """Apply each receipt once; returns how many were new. Elements that are not receipts, or
    name nothing of ours, are kept (once) and logged, never applied."""
    receipts = [parse(item) for item in items]  # all read before any is applied
    applied = 0
    for receipt in receipts:
        applied += _take(receipt)
    return applied


def _take(receipt: Receipt) -> int:
    prefix, _, pk = receipt.out_id.partition(":")
    handler = _handlers.get(prefix)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the duplicate must not spoil the rest
                VoiceReceipt.objects.create(
                    call_id=receipt.call_id[:64],
                    out_id=receipt.out_id[:64],
                    status_code=receipt.status_code[:12],
                    outcome=receipt.outcome,
                    payload=receipt.payload,
                )
        except IntegrityError:
            return 0  # pushed again: applied already
        if handler is not None and pk.isascii() and pk.isdigit() and len(pk) < 18:
            handler(receipt, int(pk))
        else:
            logger.warning("voice receipt %s names nothing of ours", receipt.call_id)
    return 1


def _text(item: dict, name: str, *, required=False) -> str:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise BadReceipt(f"{name} missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadReceipt(f"{name} is not text")
    value = str(value).strip()
    if len(value) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise BadReceipt(f"{name} holds control characters or is too long")
    return value


# The receipt's fields that hold a number (the client's, the agent's line, the shown one):
# kept masked, as every number outside the client record is (zhongdu.phones.mask).
NUMBER_FIELDS = ("caller", "callee", "caller_show_num", "callee_show_num", "phone_number")


def _masked(item: dict) -> dict:
    return {
        name: phones.mask(str(value)) if name in NUMBER_FIELDS and value else value
        for name, value in item.items()
    }


def _seconds(value) -> int:
    try:
        seconds = int(str(value or "0").strip())
    except ValueError:
        return 0
    return max(0, min(seconds, 24 * 3600))


def _time(value) -> datetime.datetime | None:
    """The provider's Beijing time ("2026-12-07 10:02:40", no zone), as an aware time."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        at = datetime.datetime.strptime(f"{value.strip()} +0800", "%Y-%m-%d %H:%M:%S %z")
        at = at.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        return None
    if not (EARLIEST <= at.year <= LATEST):
        return None  # not a time a call of ours happened at
    return at
