"""A scripted PBX for the health hotline (issue 18): it posts signed CTI events to the product's
webhook and serves the recordings they point at, over real HTTP on localhost.

It speaks the protocol of docs/cti.md and nothing else: it never imports the product's code, so
the product's webhook (POST /voice/cti/events/) is tested, demonstrated and benchmarked against
what a PBX would send. Tests use it in the test process; `scripts/fake_pbx.py` runs it as a
process and can play a day of calls into a running product.

The events (docs/cti.md, "The event"):

- `event(type, call_id, **fields)` builds one: a uuid4 `id`, the `timestamp` now in Beijing time
  (ISO 8601 with its +08:00 offset) unless given, and the fields of its type. Fields given as
  None are left out, so an optional field can be passed through unset.
- `body(event)` is the exact bytes posted; `sign(body)` the `X-CTI-Signature` header's value,
  `sha256=<hex HMAC-SHA256 of the body, key the shared secret>`.
- `post(url, event)` signs and posts one event with urllib and returns (status, JSON answer),
  4xx and 5xx included; it follows no redirect (a 3xx comes back as its status). `tamper=True`
  sends a body other than the one signed; `unsigned=True` leaves the header out; `post_body()`
  posts raw bytes (a body that is not JSON, say).
- The scenarios (`answered_call`, `transferred`, `abandoned_in_ivr`, `abandoned_in_queue`,
  `missed`, `voicemail`) return the events of one call, in order, with increasing timestamps a
  realistic few seconds or minutes apart. Without `start`, a call is laid out so that its last
  event is now: every event is then in the past and, for calls shorter than five minutes (all
  the defaults are), within the product's freshness window, so a test can post them at once.
- `plan_day()` lays out a day of calls (the hotline's mix and busy hours) and `play()` posts a
  plan in order, with each event stamped at posting time (see `play`).

The recordings it serves (GET, under `url`, the CTI_RECORDING_BASE_URL to give the product):

- /recordings/<name>.wav for a name this fake handed out (`recording_url(name)`, which the
  scenarios call): a valid WAV made here with the `wave` module, `tone_seconds` of a 440 Hz tone,
  8 kHz mono 16-bit, Content-Type audio/wav. Any other name: 404 (with `any_name=True`, any name
  of letters, digits, "-", "_" and "." is served, for a fake running apart from the events'
  sender).
- /recordings/<name>.txt: 200 text/plain, and /recordings/not-audio.wav: 200 text/html (a login
  page where the audio should be) — for "refused: not audio".
- /recordings/huge.wav: a WAV of `huge_mb` MB (default 5) with its Content-Length, streamed;
  /recordings/huge-chunked.wav: the same without a Content-Length, to the connection's close —
  for the size cap. /recordings/slow.wav: the answer held `hang_seconds` first, for a timeout.

`fetches` records every GET path, so a test can see that the product fetched a recording.
"""

import hashlib
import hmac
import io
import json
import math
import random
import re
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
import wave
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from tests.fake_server import FakeServer

SECRET = "fake-cti-webhook-secret-0123456789"
HOTLINE = "4001234567"
EVENT_TYPES = ("ringing", "answered", "transferred", "ended", "recording_ready", "voicemail")
# Asia/Shanghai: UTC+8 all year (no daylight saving since 1991), so a fixed offset is exact and
# needs no tz database.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
FRESHNESS = timedelta(minutes=5)  # docs/cti.md: the product refuses a timestamp further off

SAMPLE_RATE = 8000
TONE_HZ = 440
RECORDING_NAME = re.compile(r"/recordings/(?P<name>[A-Za-z0-9._-]+)\.(?P<ext>wav|txt)")
CHUNK = 64 * 1024

# The shares of a day's calls by outcome (the brief's hotline mix); answered calls include the
# transferred ones (TRANSFER_SHARE of them, when there are two extensions to transfer between).
DAY_MIX = {
    "answered": 0.80,
    "abandoned_in_queue": 0.08,
    "abandoned_in_ivr": 0.04,
    "missed": 0.04,
    "voicemail": 0.04,
}
TRANSFER_SHARE = 0.05
# Calls per hour of the day, relative: the hotline is open 8:00-20:00 and busiest 9-11 and 14-16.
DAY_HOURS = {8: 4, 9: 10, 10: 10, 11: 5, 12: 3, 13: 4, 14: 9, 15: 9, 16: 5, 17: 4, 18: 2, 19: 1}
REPEAT_CALLER_SHARE = 0.2  # a fifth of the calls come from people who call more than once
# Mainland mobile prefixes (China Mobile, Unicom, Telecom) the callers' numbers start with.
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *(f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    *(f"18{d}" for d in range(10)),
    "191",
    "193",
    "195",
    "198",
    "199",
)


def now():
    """The current time in Beijing, to the second (the precision of the docs' example)."""
    return datetime.now(tz=BEIJING).replace(microsecond=0)


def iso(moment):
    """ISO 8601 with its offset, to the second: 2026-12-07T09:15:02+08:00."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)  # a naive time is taken as Beijing's
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def make_wav(seconds=1.0, frequency=TONE_HZ, rate=SAMPLE_RATE):
    """A WAV file's bytes: `seconds` of a sine tone, mono, 16-bit, at `rate` Hz."""
    frames = int(seconds * rate)
    samples = (
        int(0.5 * 32767 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


def wav_header(data_bytes, rate=SAMPLE_RATE):
    """The 44-byte header of a mono 16-bit PCM WAV whose data is `data_bytes` long."""
    return b"".join(
        [
            b"RIFF",
            struct.pack("<I", 36 + data_bytes),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16),
            b"data",
            struct.pack("<I", data_bytes),
        ]
    )


def mainland_mobile(rng):
    """A valid-looking mainland mobile number: 11 digits, 13x / 15x / 18x / 19x."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # urllib then raises the 3xx as an HTTPError, which post() answers with


_OPENER = urllib.request.build_opener(_NoRedirect)


class FakePbx(FakeServer):
    def __init__(
        self,
        port=0,
        seed=None,
        *,
        host="127.0.0.1",
        secret=SECRET,
        hotline=HOTLINE,
        tone_seconds=1.0,
        huge_mb=5,
        hang_seconds=15.0,
        any_name=False,
        timeout=10.0,
        verbose=False,
    ):
        self.host, self.port = host, port
        self.secret = secret
        self.hotline = hotline
        self.tone_seconds = tone_seconds
        self.huge_bytes = int(huge_mb * 1024 * 1024)
        self.hang_seconds = hang_seconds
        self.any_name = any_name
        self.timeout = timeout  # seconds post() waits for the product's answer
        self.verbose = verbose
        self._random = random.Random(seed)
        self._wav = None
        self._lock = threading.Lock()
        self._names = set()
        self._fetches = []
        self._posted = []
        self._stopping = threading.Event()
        self._server = self._thread = None

    # -- lifecycle ---------------------------------------------------------------------------

    # -- recordings --------------------------------------------------------------------------

    @property
    def wav(self):
        """The bytes every /recordings/<name>.wav serves (made once)."""
        if self._wav is None:
            self._wav = make_wav(self.tone_seconds)
        return self._wav

    def recording_url(self, name):
        """The URL of recording `name` on this fake, which from now on serves it. Start the
        fake first: before start() the port in the URL is not known yet (0)."""
        with self._lock:
            self._names.add(name)
        return f"{self.url}/recordings/{name}.wav"

    def has_recording(self, name):
        with self._lock:
            return self.any_name or name in self._names

    @property
    def fetches(self):
        """The path of every GET so far, oldest first."""
        with self._lock:
            return list(self._fetches)

    # -- events ------------------------------------------------------------------------------

    def event(self, type, call_id, *, timestamp=None, id=None, **fields):
        """One event: `id` (a uuid4 unless given), `type`, `timestamp` (now unless given; a
        datetime or a string used as is), `call_id`, then the fields not None, in that order.
        The type is not checked, so a test can build an event the product should refuse."""
        if timestamp is None:
            timestamp = now()
        if isinstance(timestamp, datetime):
            timestamp = iso(timestamp)
        event = {
            "id": id or str(uuid.uuid4()),
            "type": type,
            "timestamp": timestamp,
            "call_id": call_id,
        }
        event.update((name, value) for name, value in fields.items() if value is not None)
        return event

    @staticmethod
    def body(event):
        """The exact bytes posted for an event: compact JSON, UTF-8."""
        return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()

    def sign(self, body, secret=None):
        """The X-CTI-Signature header's value for these exact bytes: sha256=<hex>."""
        key = (self.secret if secret is None else secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def post(self, url, event, *, secret=None, tamper=False, unsigned=False):
        """Sign `event` (with `secret`, the fake's own by default) and post it to `url`.
        tamper: the body sent carries a field the signed one does not (a valid event, a wrong
        signature). unsigned: no X-CTI-Signature header. Returns (status, the answer's JSON, or
        None when it is not JSON); a network error raises (urllib.error.URLError, OSError)."""
        body = self.body(event)
        signature = None if unsigned else self.sign(body, secret)
        if tamper:
            body = self.body({**event, "tampered": True})
        status, answer = self.post_body(url, body, signature=signature)
        with self._lock:
            self._posted.append({"event": event, "status": status, "answer": answer})
        return status, answer

    def post_body(self, url, body, *, signature=None, secret=None, sign=False):
        """Post raw bytes as the PBX would: with `signature` as the header when given, or signed
        here when sign=True. Returns (status, JSON answer or None); follows no redirect."""
        headers = {"Content-Type": "application/json"}
        if sign:
            signature = self.sign(body, secret)
        if signature is not None:
            headers["X-CTI-Signature"] = signature
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url}")
        request = urllib.request.Request(  # noqa: S310 (http or https, checked above)
            url, data=body, headers=headers, method="POST"
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return response.status, _json_or_none(response.read())
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            with error:
                return error.code, _json_or_none(error.read())

    @property
    def posted(self):
        """Every event post() sent, oldest first: {"event", "status", "answer"}."""
        with self._lock:
            return list(self._posted)

    # -- one call ----------------------------------------------------------------------------

    def answered_call(
        self,
        caller,
        extension,
        queue="hotline",
        ivr_path="1",
        talk_seconds=None,
        recording=True,
        *,
        start=None,
        call_id=None,
        hold_seconds=None,
    ):
        """ringing, answered by `extension`, ended after `talk_seconds` (40-200 s at random
        unless given; hold_seconds on the ended event when given), and with `recording` a
        recording_ready a few seconds later. Without `start` the call ends now: with a
        talk_seconds of more than about four and a half minutes its first events would be
        older than the product's five minutes, so give `start` or post them one at a time."""
        call_id = call_id or self._call_id()
        steps = [
            (0, "ringing", self._ringing(caller, queue, ivr_path)),
            (self._between(4, 20), "answered", {"extension": extension}),
            (talk_seconds or self._between(40, 200), "ended", {"hold_seconds": hold_seconds}),
        ]
        if recording:
            url = self.recording_url(call_id)
            steps.append((self._between(2, 8), "recording_ready", {"url": url}))
        return self._call(call_id, start, steps)

    def transferred(
        self,
        caller,
        from_ext,
        to_ext,
        queue="hotline",
        ivr_path="1",
        talk_seconds=None,
        recording=True,
        *,
        start=None,
        call_id=None,
    ):
        """ringing, answered by `from_ext`, transferred to `to_ext`, ended, recording_ready."""
        call_id = call_id or self._call_id()
        steps = [
            (0, "ringing", self._ringing(caller, queue, ivr_path)),
            (self._between(4, 20), "answered", {"extension": from_ext}),
            (
                self._between(20, 60),
                "transferred",
                {"from_extension": from_ext, "to_extension": to_ext},
            ),
            (talk_seconds or self._between(30, 150), "ended", {}),
        ]
        if recording:
            url = self.recording_url(call_id)
            steps.append((self._between(2, 8), "recording_ready", {"url": url}))
        return self._call(call_id, start, steps)

    def abandoned_in_ivr(self, caller, ivr_path=None, *, start=None, call_id=None):
        """ringing (no queue reached), ended with abandoned_in "ivr" while in the menu."""
        steps = [
            (0, "ringing", self._ringing(caller, None, ivr_path)),
            (self._between(5, 30), "ended", {"abandoned_in": "ivr"}),
        ]
        return self._call(call_id or self._call_id(), start, steps)

    def abandoned_in_queue(
        self, caller, queue="hotline", ivr_path="1", *, start=None, call_id=None
    ):
        """ringing, ended with abandoned_in "queue" after waiting."""
        steps = [
            (0, "ringing", self._ringing(caller, queue, ivr_path)),
            (self._between(20, 150), "ended", {"abandoned_in": "queue"}),
        ]
        return self._call(call_id or self._call_id(), start, steps)

    def missed(self, caller, queue="hotline", ivr_path="1", *, start=None, call_id=None):
        """ringing, ended without an answer and without abandoned_in (it rang an agent)."""
        steps = [
            (0, "ringing", self._ringing(caller, queue, ivr_path)),
            (self._between(30, 90), "ended", {}),
        ]
        return self._call(call_id or self._call_id(), start, steps)

    def voicemail(
        self, caller, queue="hotline", ivr_path="1", *, start=None, call_id=None, duration=None
    ):
        """ringing, ended without an answer, then a voicemail with the message's URL."""
        call_id = call_id or self._call_id()
        duration = duration or self._between(8, 60)
        steps = [
            (0, "ringing", self._ringing(caller, queue, ivr_path)),
            (self._between(30, 90) + duration, "ended", {}),
            (
                self._between(2, 8),
                "voicemail",
                {"url": self.recording_url(f"vm-{call_id}"), "duration_seconds": duration},
            ),
        ]
        return self._call(call_id, start, steps)

    def _ringing(self, caller, queue, ivr_path):
        return {
            "direction": "inbound",
            "caller": caller,
            "called": self.hotline,
            "queue": queue,
            "ivr_path": ivr_path,
            "recording_notice": True,
        }

    def _call(self, call_id, start, steps):
        """The events of one call from (seconds after the previous step, type, fields). Without
        `start` the call ends now, so all its events are in the past."""
        span = sum(delay for delay, _type, _fields in steps)
        moment = start if start is not None else now() - timedelta(seconds=span)
        events = []
        for delay, type, fields in steps:
            moment += timedelta(seconds=delay)
            events.append(self.event(type, call_id, timestamp=moment, **fields))
        return events

    def _call_id(self):
        with self._lock:
            return f"pbx-{self._random.getrandbits(64):016x}"

    def _between(self, low, high):
        with self._lock:
            return self._random.randint(low, high)

    # -- a day of calls ----------------------------------------------------------------------

    def plan_day(
        self, calls=300, extensions=("8001", "8002", "8003"), *, day=None, queue="hotline"
    ):
        """A day of `calls` calls at the hotline: the outcomes in DAY_MIX's shares (rounded; the
        rest answered), at hours weighted by DAY_HOURS, from mainland mobiles of which some call
        again (REPEAT_CALLER_SHARE). Returns (outcomes, events): outcomes counts the calls by
        outcome ("transferred" apart from "answered"); events are every call's events merged by
        timestamp on `day` (a date; today in Beijing by default), each call's in order."""
        rng = self._random
        extensions = list(extensions)
        day = day or now().date()
        kinds = []
        for kind, share in DAY_MIX.items():
            if kind != "answered":
                kinds += [kind] * round(calls * share)
        kinds = kinds[:calls]
        kinds += ["answered"] * (calls - len(kinds))
        rng.shuffle(kinds)
        regulars = [mainland_mobile(rng) for _ in range(max(1, calls // 20))]
        hours, weights = zip(*DAY_HOURS.items(), strict=True)
        timeline, outcomes = [], Counter()
        for number, kind in enumerate(kinds):
            hour = rng.choices(hours, weights)[0]
            start = datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING) + timedelta(
                seconds=rng.randrange(3600)
            )
            if rng.random() < REPEAT_CALLER_SHARE:
                caller = rng.choice(regulars)
            else:
                caller = mainland_mobile(rng)
            ivr_path = rng.choice(("1", "1", "1", "2", "1-2"))
            if kind == "answered" and len(extensions) > 1 and rng.random() < TRANSFER_SHARE:
                kind = "transferred"
                from_ext, to_ext = rng.sample(extensions, 2)
                events = self.transferred(caller, from_ext, to_ext, queue, ivr_path, start=start)
            elif kind == "answered":
                extension = rng.choice(extensions)
                hold = rng.randint(10, 60) if rng.random() < 0.2 else None  # put on hold
                events = self.answered_call(
                    caller, extension, queue, ivr_path, start=start, hold_seconds=hold
                )
            elif kind == "abandoned_in_ivr":
                events = self.abandoned_in_ivr(caller, rng.choice((None, "2", "3")), start=start)
            else:
                events = getattr(self, kind)(caller, queue, ivr_path, start=start)
            outcomes[kind] += 1
            timeline += [(event["timestamp"], number, i, event) for i, event in enumerate(events)]
        timeline.sort(key=lambda entry: entry[:3])
        return outcomes, [entry[3] for entry in timeline]

    def play(self, url, events, *, speed=None, secret=None, on_answer=None):
        """Post `events` (a plan_day() plan, or any list) to `url` in order. Every event is
        stamped with the time it is posted (its `timestamp` replaced by now), as the product
        refuses a timestamp more than five minutes off: the plan's own timestamps only give the
        order and, with `speed`, the pacing — the gap between two events is the plan's gap
        divided by `speed` (speed=60 plays an hour in a minute). speed=None posts as fast as
        the product answers. on_answer(event, status, answer) is called after each post.
        Returns a Counter of the answers' statuses ("error" for a network error)."""
        statuses = Counter()
        started, first = time.monotonic(), None
        for event in events:
            planned = datetime.fromisoformat(event["timestamp"])
            first = first or planned
            if speed:
                due = started + (planned - first).total_seconds() / speed
                if (wait := due - time.monotonic()) > 0 and self._stopping.wait(wait):
                    break
            stamped = {**event, "timestamp": iso(now())}
            try:
                status, answer = self.post(url, stamped, secret=secret)
            except OSError as error:  # urllib.error.URLError is an OSError
                status, answer = "error", {"error": str(error)}
            statuses[status] += 1
            if on_answer:
                on_answer(stamped, status, answer)
        return statuses


def _json_or_none(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakePbx/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakePbx:
        return self.server.fake

    def log_message(self, format, *args):
        if self.fake.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        fake = self.fake
        path = unquote(urlsplit(self.path).path)
        with fake._lock:
            fake._fetches.append(path)
        match = RECORDING_NAME.fullmatch(path)
        if not match:
            return self._send(404, "text/plain", b"not found")
        name, ext = match["name"], match["ext"]
        if ext == "txt":
            return self._send(200, "text/plain; charset=utf-8", f"{name}: not audio\n".encode())
        if name == "not-audio":
            page = b"<!doctype html><title>Sign in</title><form>PBX sign-in</form>"
            return self._send(200, "text/html; charset=utf-8", page)
        if name in ("huge", "huge-chunked"):
            return self._huge(with_length=name == "huge")
        if name == "slow":
            if fake._stopping.wait(fake.hang_seconds):
                return None
            return self._send(200, "audio/wav", fake.wav)
        if not fake.has_recording(name):
            return self._send(404, "text/plain", b"no such recording")
        return self._send(200, "audio/wav", fake.wav)

    def _huge(self, with_length):
        """A WAV of fake.huge_bytes: its header, then silence, streamed in chunks."""
        fake = self.fake
        header = wav_header(fake.huge_bytes - 44)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            if with_length:
                self.send_header("Content-Length", str(fake.huge_bytes))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(header)
            left = fake.huge_bytes - len(header)
            zeros = bytes(CHUNK)
            while left > 0 and not fake._stopping.is_set():
                self.wfile.write(zeros[: min(CHUNK, left)])
                left -= CHUNK
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading at its cap: as it should

    def _send(self, status, content_type, data):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# The server the fake runs (tests/fake_server.py): its thread's name and its handler.
FakePbx.name = "fake-pbx"
FakePbx.handler = _Handler
