"""Taking the PBX's CTI events (docs/cti.md): each one checked (signature, freshness, once only),
recorded, and applied to its call."""

import datetime
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Complaint
from consult.models import Enquiry
from consult.selectors import callers_by_phone
from consult.services import callback_for_caller, callbacks_caller_got_through
from zhongdu import audit, phones, private_files
from zhongdu.controlchars import has_control_characters
from zhongdu.converters import row_id
from zhongdu.selectors import cache_call
from zhongdu.workcalendar import WorkCalendar

from .models import Agent, Call, CallQueue, CtiEvent, Recording, RecordingPolicy
from .outbound import call_receipt, dial  # noqa: F401  (calling out lives in voice.outbound)
from .selectors import agent_cache_key, recordings_past_shortest_period, retention_for
from .surveys import keypad_survey_for_call
from .transcription import transcript_of

logger = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="
# An event older or newer than this is refused (a replay of a captured body, a PBX clock adrift).
FRESHNESS = datetime.timedelta(minutes=5)
TYPES = ("ringing", "answered", "transferred", "ended", "recording_ready", "voicemail")
# The fields each type must carry (beyond id, type, timestamp and call_id).
REQUIRED = {
    "ringing": ("caller",),
    "answered": ("extension",),
    "transferred": ("to_extension",),
    "ended": (),
    "recording_ready": ("url",),
    "voicemail": ("url",),
}
MAX_ID = 64


class Refused(Exception):
    """An event the product does not take: `reason` is what the PBX is told, `status` the HTTP
    status (403: not signed, stale or replayed; 400: signed, but not an event)."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def signature(body: bytes, secret: str) -> str:
    """The X-CTI-Signature header's value for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def cti_event_take(body: bytes, signed: str, *, now=None, secret=None) -> CtiEvent:
    """Check one posted event and apply it to its call; Refused if it is not taken. `secret`:
    the one it is signed with, CTI_WEBHOOK_SECRET unless given (the demo's own morning)."""
    secret = secret or settings.CTI_WEBHOOK_SECRET
    expected = signature(body, secret).encode() if secret else b""
    # Bytes: compare_digest refuses str with characters beyond ASCII, which a header can hold.
    if not secret or not signed or not hmac.compare_digest(expected, signed.encode("utf-8")):
        raise Refused("signature", 403)
    event = _parse(body)
    now = now or timezone.now()
    if abs(now - event["timestamp"]) > FRESHNESS:
        raise Refused("stale", 403)
    try:
        with transaction.atomic():
            call, _created = Call.objects.get_or_create(external_id=event["call_id"])
            call = Call.objects.select_for_update().get(pk=call.pk)
            taken = CtiEvent.objects.create(
                event_id=event["id"],
                kind=event["type"],
                call=call,
                occurred_at=event["timestamp"],
                received_at=now,
                payload=event["raw"],
            )
            _APPLY[event["type"]](call, event)
            call.save()
            _follow_up(call, event["type"])
    except IntegrityError:
        if CtiEvent.objects.filter(event_id=event["id"]).exists():
            raise Refused("replayed", 403) from None
        raise
    return taken


def _parse(body: bytes) -> dict:
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused("not JSON", 400) from None
    if not isinstance(raw, dict):
        raise Refused("not an object", 400)
    if _holds_control_characters(raw):
        # Postgres cannot store NUL, and nobody's number or extension holds the others.
        raise Refused("control character", 400)
    event = {"raw": raw}
    for name in ("id", "call_id"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID:
            raise Refused(f"{name}: a string of 1 to {MAX_ID} characters", 400)
        event[name] = value.strip()
    if raw.get("type") not in TYPES:
        raise Refused(f"type: one of {', '.join(TYPES)}", 400)
    event["type"] = raw["type"]
    try:
        stamp = datetime.datetime.fromisoformat(str(raw.get("timestamp", "")))
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise Refused("timestamp: ISO 8601 with its offset", 400)
    event["timestamp"] = stamp
    for name in REQUIRED[event["type"]]:
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise Refused(f"{name}: required for {event['type']}", 400)
    return event


def _holds_control_characters(value) -> bool:
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, dict):
        return any(
            _holds_control_characters(k) or _holds_control_characters(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_holds_control_characters(item) for item in value)
    return False


def _text(event, name, length) -> str:
    value = event["raw"].get(name)
    return value.strip()[:length] if isinstance(value, str) else ""


def _seconds(event, name) -> int:
    value = event["raw"].get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return min(value, 24 * 3600)


def _number(raw: str) -> str:
    """E.164 where the PBX's number reads as one (as the client record keeps it), else its
    digits and plus sign as given."""
    try:
        return phones.normalise(raw)
    except ValidationError:
        return "".join(c for c in raw if c.isdigit() or c == "+")[:32]


def _fetch_later(call: Call, kind: str, url: str) -> None:
    """A recording to fetch, once per address, by a job once this event's transaction commits."""
    from .tasks import recording_fetch

    recording, created = Recording.objects.get_or_create(call=call, kind=kind, source_url=url)
    if created:
        recording_fetch.delay_on_commit(recording.pk)


def _ringing(call: Call, event) -> None:
    call.direction = (
        Call.Direction.OUTBOUND
        if event["raw"].get("direction") == "outbound"
        else Call.Direction.INBOUND
    )
    call.number = _number(_text(event, "caller", 64))
    call.called = _number(_text(event, "called", 64))
    call.queue_code = _text(event, "queue", 32)
    call.queue = CallQueue.objects.filter(code=call.queue_code).first() if call.queue_code else None
    call.ivr_path = _text(event, "ivr_path", 64)
    call.recording_notice = event["raw"].get("recording_notice") is True
    if call.ringing_at is None or event["timestamp"] < call.ringing_at:
        call.ringing_at = event["timestamp"]
    if call.client_id is None and call.number:
        # The caller's record when exactly one has the number; several: the consultant chooses.
        matches = callers_by_phone(call.number)
        if len(matches) == 1:
            call.client = matches[0]


def _answered(call: Call, event) -> None:
    call.extension = _text(event, "extension", 16)
    call.agent = Agent.objects.filter(extension=call.extension).first()
    call.answered_at = event["timestamp"]
    call.outcome = Call.Outcome.ANSWERED


def _transferred(call: Call, event) -> None:
    call.extension = _text(event, "to_extension", 16)
    call.agent = Agent.objects.filter(extension=call.extension).first()


def _ended(call: Call, event) -> None:
    call.ended_at = event["timestamp"]
    call.hold_seconds = _seconds(event, "hold_seconds")
    if call.answered_at is not None:
        call.outcome = Call.Outcome.ANSWERED
    elif call.voicemail_url:
        call.outcome = Call.Outcome.VOICEMAIL
    else:
        call.outcome = {
            "ivr": Call.Outcome.ABANDONED_IVR,
            "queue": Call.Outcome.ABANDONED_QUEUE,
        }.get(event["raw"].get("abandoned_in"), Call.Outcome.MISSED)


def _recording_ready(call: Call, event) -> None:
    call.recording_url = _text(event, "url", 500)
    _fetch_later(call, Recording.Kind.RECORDING, call.recording_url)


def _voicemail(call: Call, event) -> None:
    call.voicemail_url = _text(event, "url", 500)
    _fetch_later(call, Recording.Kind.VOICEMAIL, call.voicemail_url)
    call.voicemail_seconds = _seconds(event, "duration_seconds")
    if call.answered_at is None:
        call.outcome = Call.Outcome.VOICEMAIL


# --- What a call leaves to do: a callback, or none ---------------------------------------------

# The outcomes someone must call back: the caller wanted us and nobody spoke to them.
OWED = {
    Call.Outcome.ABANDONED_IVR,
    Call.Outcome.ABANDONED_QUEUE,
    Call.Outcome.MISSED,
    Call.Outcome.VOICEMAIL,
}


def _follow_up(call: Call, kind: str) -> None:
    """After an event applied to `call` (in its transaction): an answered caller owes nobody a
    callback any more; an ended call nobody answered (or a voicemail) makes its caller's
    callback task, one per caller; an ended call gives the enquiry recorded on it its
    duration."""
    inbound = call.direction == Call.Direction.INBOUND
    if kind == "answered" and inbound:
        callbacks_caller_got_through(phone=call.number, at=call.answered_at)
    if (
        inbound
        and call.callback_id is None
        and call.outcome in OWED
        and (call.ended_at is not None or call.outcome == Call.Outcome.VOICEMAIL)
    ):
        _callback(call)
    if kind == "ended" and call.enquiry_id is not None:
        _enquiry_duration(call)
    if kind == "ended" and inbound and call.outcome == Call.Outcome.ANSWERED:
        _keypad_survey(call)


def _keypad_survey(call: Call) -> None:
    """The keypad survey after an answered consultation call (voice.surveys). A template that
    cannot be written is logged: the call's own event is applied all the same."""
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves the call's event whole
            keypad_survey_for_call(call)
    except ValidationError:
        logger.warning("No keypad survey after call %s", call.pk, exc_info=True)


def _callback(call: Call) -> None:
    rang = call.ringing_at or call.ended_at or timezone.now()
    minutes = settings.CALLBACK_DEADLINE_MINUTES
    recall = callback_for_caller(
        phone=call.number,
        at=rang,
        due_at=WorkCalendar.load().add_working_hours(rang, minutes / 60),
        client=call.client,
        assign=lambda: _next_agent(call.queue_id),
    )
    if recall is not None:
        call.callback = recall
        call.save(update_fields=["callback"])


def _next_agent(queue_id):
    """Round-robin: of the agents available now (in the call's queue, when it has any), the one
    given a callback longest ago; None when nobody is available (the task waits in the list
    for whoever takes it)."""
    agents = Agent.objects.filter(presence=Agent.Presence.AVAILABLE, user__is_active=True)
    if queue_id is not None and agents.filter(queues=queue_id).exists():
        agents = agents.filter(queues=queue_id)
    # Two callbacks made at once go to two agents: the one locked by the other is skipped.
    agent = (
        agents.select_for_update(skip_locked=True, of=("self",))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
        .select_related("user")
        .first()
    )
    if agent is None:
        return None
    agent.last_assigned_at = timezone.now()
    agent.save(update_fields=["last_assigned_at"])
    return agent.user


def _enquiry_duration(call: Call) -> None:
    talk = call.talk_seconds
    if talk is not None:
        Enquiry.objects.filter(pk=call.enquiry_id).update(duration_seconds=talk)


def _call_for(call_reference) -> Call | None:
    pk = row_id(call_reference)
    if pk is None:
        return None
    return Call.objects.filter(pk=pk).select_related("agent").first()


def _may_link(call: Call, *, by, phone: str, client_id) -> bool:
    """Whether a record about this caller (`phone`, `client_id`), made by `by`, may be the call's:
    a call this user answered, or a call from this very caller (their record, or their number,
    for a call nobody answered: its callback task's). Never someone else's call."""
    if call.agent is not None and call.agent.user_id == by.pk:
        return True
    if client_id is not None and client_id == call.client_id:
        return True
    return call.outcome in OWED and bool(phone) and phone == call.number


def call_may_link(*, call_reference: str, by, phone: str = "", client_id=None) -> bool:
    """Asked by a page opened from a call (zhongdu.origins) before its form is drawn: whether
    what it records will be linked to the call (an enquiry then takes the call's duration)."""
    call = _call_for(call_reference)
    return call is not None and _may_link(call, by=by, phone=phone, client_id=client_id)


def call_made_into(*, call_reference: str, record, by) -> Call | None:
    """A record made on the page a call opened (zhongdu.origins): the call leads to it, when it
    may (_may_link), and only once (the call locked: two tabs link one record)."""
    client_id = getattr(record, "client_id", None)
    phone = getattr(record, "prospect_phone", "") or (
        record.client.phone if client_id is not None else ""
    )
    field = {Enquiry: "enquiry", Complaint: "complaint"}.get(type(record))
    call = _call_for(call_reference)
    if (
        field is None
        or call is None
        or not _may_link(call, by=by, phone=phone, client_id=client_id)
    ):
        return None
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if getattr(call, f"{field}_id") is not None:
            return call
        setattr(call, field, record)
        changed = [field]
        if call.client_id is None and client_id is not None:
            call.client_id = client_id
            changed.append("client")
        call.save(update_fields=changed)
        if field == "enquiry":
            _enquiry_duration(call)
    return call


_APPLY = {
    "ringing": _ringing,
    "answered": _answered,
    "transferred": _transferred,
    "ended": _ended,
    "recording_ready": _recording_ready,
    "voicemail": _voicemail,
}


def agent_set_presence(agent: Agent, presence: str) -> Agent:
    """Set the agent's presence (available, on a call, wrap-up, away); the same one again
    changes nothing (a double click)."""
    if presence not in Agent.Presence.values:
        raise ValidationError(_("Choose one of the offered states."), code="presence")
    if agent.presence != presence:
        agent.presence = presence
        agent.presence_since = timezone.now()
        agent.save(update_fields=["presence", "presence_since"])
    cache_call(cache.delete, agent_cache_key(agent.user_id))
    return agent


# --- Recordings ---------------------------------------------------------------------------

FETCH_TIMEOUT_SECONDS = 30
CHUNK = 64 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off the PBX: it is an error, not followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def recording_address_allowed(url: str) -> bool:
    """Whether `url` is on the PBX: scheme, host and port those of CTI_RECORDING_BASE_URL, and
    its path under the base's path. Nothing is fetched from anywhere else."""
    base = settings.CTI_RECORDING_BASE_URL
    if not base or not url:
        return False
    try:
        want, got = urllib.parse.urlsplit(base), urllib.parse.urlsplit(url)
        ports = (want.port, got.port)
    except ValueError:
        return False
    defaults = {"http": 80, "https": 443}
    if want.scheme not in defaults or got.scheme != want.scheme:
        return False
    if (got.hostname or "") != (want.hostname or "") or got.username or got.password:
        return False
    if (ports[1] or defaults[got.scheme]) != (ports[0] or defaults[want.scheme]):
        return False
    prefix = want.path if want.path.endswith("/") else want.path + "/"
    path = urllib.parse.unquote(got.path)
    return (got.path.startswith(prefix) or prefix == "/") and "/../" not in path + "/"


class FetchFailed(Exception):
    """The PBX did not answer with the recording this time: the job tries again later."""


def recording_fetch(recording: Recording) -> Recording:
    """Fetch a pending recording from the PBX and keep it encrypted; refuse (and log) one from
    another address, that is not audio or that is too large. FetchFailed when the PBX could
    not be reached or answered an error: the job tries again."""
    if recording.status != Recording.Status.PENDING:
        return recording
    recording.attempts += 1
    if not recording_address_allowed(recording.source_url):
        return _refuse(recording, "address")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(recording.source_url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            content_type = response.headers.get_content_type()
            if not content_type.startswith("audio/"):
                return _refuse(recording, "not audio")
            cap = settings.CTI_RECORDING_MAX_BYTES
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                return _refuse(recording, "too large")
            data = bytearray()
            while chunk := response.read(CHUNK):
                data += chunk
                if len(data) > cap:
                    return _refuse(recording, "too large")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        recording.save(update_fields=["attempts"])
        raise FetchFailed(str(exc)) from exc
    recording.file = private_files.save("recordings", bytes(data))
    recording.size = len(data)
    recording.content_type = content_type[:60]
    recording.status = Recording.Status.KEPT
    recording.problem = ""
    recording.fetched_at = timezone.now()
    if recording.kind == Recording.Kind.VOICEMAIL:
        recording.transcript = transcript_of(bytes(data), recording.content_type)
    recording.save()
    return recording


def recording_give_up(recording: Recording) -> None:
    """After the job's last try: the recording could not be fetched."""
    if recording.status == Recording.Status.PENDING:
        recording.status = Recording.Status.FAILED
        recording.problem = "unreachable"
        recording.save(update_fields=["status", "problem"])
        logger.warning("Recording %s could not be fetched from the PBX.", recording.pk)


def _refuse(recording: Recording, problem: str) -> Recording:
    recording.status = Recording.Status.REFUSED
    recording.problem = problem
    recording.save(update_fields=["status", "problem", "attempts"])
    # The address is the PBX's own (or what a forged-looking event claimed): logged, not shown.
    logger.warning("Recording %s refused (%s): %s", recording.pk, problem, recording.source_url)
    return recording


# --- Listening ----------------------------------------------------------------------------

# The player's address carries a grant signed for one user and one recording, good for this
# long: enough to play a call through, too short for a copied address to be worth keeping.
GRANT_SECONDS = 10 * 60
_GRANT_SALT = "voice.recording.audio"


def recording_listen(*, recording: Recording, reason: str, by, request=None) -> str:
    """Someone is about to listen to a kept recording: the reason goes to the audit trail, and
    the grant the player's address carries is returned. Each press of the button is one audited
    listen (a second tab or a double click makes two rows and two valid grants, nothing more)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("Say why you need to listen to this call."), code="reason")
    if recording.status != Recording.Status.KEPT:
        raise ValidationError(_("This recording is not kept, so it cannot be played."))
    audit.record(audit.Action.VIEW, actor=by, obj=recording, reason=reason, request=request)
    return signing.TimestampSigner(salt=_GRANT_SALT).sign(f"{by.pk}:{recording.pk}")


def recording_grant_valid(grant: str, *, user, recording: Recording) -> bool:
    """Whether `grant` was given to this user for this recording less than GRANT_SECONDS ago."""
    try:
        value = signing.TimestampSigner(salt=_GRANT_SALT).unsign(grant, max_age=GRANT_SECONDS)
    except signing.BadSignature:  # forged, altered or expired (SignatureExpired is one)
        return False
    return value == f"{user.pk}:{recording.pk}"


# --- Retention ----------------------------------------------------------------------------

# Recordings looked at per transaction by the nightly sweep: a run over a backlog is a series of
# short transactions, and a run stopped half-way is finished by the next.
PURGE_BATCH = 200


def recordings_purge_expired(*, now=None) -> int:
    """Delete the audio of the recordings past their retention period (RecordingPolicy, by the
    call's category), except while a complaint of the call or its client is open; each one's
    row stays, marked expired with the time. Safe to run again: it only looks at kept ones.
    Returns how many were deleted."""
    now = now or timezone.now()
    policy = RecordingPolicy.current()
    ids = recordings_past_shortest_period(policy, now)
    deleted = 0
    for start in range(0, len(ids), PURGE_BATCH):
        deleted += _purge_batch(ids[start : start + PURGE_BATCH], policy, now)
    if deleted:
        logger.info("Deleted %s recordings at the end of their retention period.", deleted)
    return deleted


@transaction.atomic
def _purge_batch(ids, policy: RecordingPolicy, now) -> int:
    # Locks the batch's rows: a listen that starts meanwhile finds the recording kept or
    # expired, never half-deleted.
    recordings = (
        Recording.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status=Recording.Status.KEPT)
        .select_related("call__client")
    )
    deleted = 0
    for recording in recordings:
        days, held = retention_for(recording.call, policy)
        if held or recording.fetched_at >= now - datetime.timedelta(days=days):
            continue
        # The file first: if the row's update failed after it, the next run finds the row kept
        # and deletes nothing more (a missing file is no error); never a row marked expired
        # with its audio still on disk.
        private_files.delete(recording.file)
        recording.status = Recording.Status.EXPIRED
        recording.expired_at = now
        recording.file = ""
        # The transcript is the recording's words: it goes with it.
        recording.transcript = ""
        recording.save(update_fields=["status", "expired_at", "file", "transcript"])
        deleted += 1
    return deleted
