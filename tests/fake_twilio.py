"""A fake of Twilio's Messages API, served over real HTTP on localhost.

The Twilio backend is tested with the real `twilio` SDK pointed at this server (settings
TWILIO_API_BASE_URL = fake.url), so the SDK builds the real request and parses real answers,
including Twilio's error bodies. The chaos test and the benchmark run it the same way, in the test
process or as `scripts/fake_twilio.py`, with a share of requests answered 500, 429 or not at all.

What it answers, like Twilio (https://www.twilio.com/docs/messaging/api/message-resource):

- POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic auth (AccountSid:AuthToken):
  201 with a Message resource ("queued"; "accepted" when sent through a messaging service);
  401 code 20003 for wrong credentials; 400 code 21211 for a `To` that is not a valid number,
  21610 for an unsubscribed recipient, 21602 / 21603 for a missing body / sender.
- Chaos, one roll per request: `fail_429` share → 429 code 20429 with Retry-After: 1, refused
  unread; `fail_500` share → 500 code 20500, and like real Twilio it may or may not have queued
  the message first (`accept_on_500`); `timeout` share → the message is accepted, then the answer
  is held for `hang_seconds`, longer than the client waits.
- GET /_fake/requests: the record below as JSON, for a chaos run whose fake is another process.

`requests` records every Messages POST with its outcome. `counts_by_callback()` counts the
StatusCallback URLs of the ones Twilio would have sent (ACCEPTED): a URL counted twice is a
message that reached the patient twice.
"""

import base64
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import phonenumbers

from tests.fake_server import FakeServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token"

# Outcomes after which Twilio would (or, for a 500, might) deliver the message.
ACCEPTED = frozenset({"created", "500-accepted", "timeout-accepted"})

MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")


class FakeTwilio(FakeServer):
    def __init__(
        self,
        port=0,
        fail_500=0.0,
        fail_429=0.0,
        timeout=0.0,
        delay_ms=0,
        seed=None,
        *,
        host="127.0.0.1",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        unsubscribed=(),
        accept_on_500=0.5,
        hang_seconds=15.0,
        verbose=False,
    ):
        if fail_500 + fail_429 + timeout > 1:
            raise ValueError("fail_500 + fail_429 + timeout is a share of requests: at most 1")
        self.host, self.port = host, port
        self.fail_500, self.fail_429, self.timeout = fail_500, fail_429, timeout
        self.delay = delay_ms / 1000
        self.account_sid, self.auth_token = account_sid, auth_token
        self.unsubscribed = set(unsubscribed)
        self.accept_on_500 = accept_on_500
        # Default well past sms.TWILIO_TIMEOUT (10 s), so a "timeout" times out the real client.
        self.hang_seconds = hang_seconds
        self.verbose = verbose
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._requests = []
        # Set by stop(): wakes the handlers that are holding back an answer.
        self._stopping = threading.Event()
        self._server = self._thread = None

    # -- lifecycle ---------------------------------------------------------------------------

    # -- the record --------------------------------------------------------------------------

    @property
    def requests(self):
        """A copy of every Messages POST so far, oldest first (see _Handler._record)."""
        with self._lock:
            return list(self._requests)

    def counts_by_callback(self):
        """StatusCallback URL -> how many times it was accepted; > 1 is a duplicate send."""
        return Counter(r["status_callback"] for r in self.requests if r["outcome"] in ACCEPTED)

    def clear(self):
        with self._lock:
            self._requests.clear()

    def _record(self, entry):
        with self._lock:
            self._requests.append(entry)

    def _random_below(self, share):
        with self._lock:  # random.Random is not safe to share between threads unguarded
            return self._random.random() < share

    def _roll(self):
        """The chaos this request gets: "429", "500", "timeout" or None, by the given shares."""
        with self._lock:
            value = self._random.random()
        for outcome, share in (("429", self.fail_429), ("500", self.fail_500)):
            if value < share:
                return outcome
            value -= share
        return "timeout" if value < self.timeout else None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeTwilio/1.0"
    # Keep-alive, as Twilio's API has: every answer carries a Content-Length.
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeTwilio:
        return self.server.fake

    def log_message(self, format, *args):
        if self.fake.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        if self.path == "/_fake/requests":
            counts = self.fake.counts_by_callback()
            return self._json(200, {"requests": self.fake.requests, "counts_by_callback": counts})
        self._error(404, 20404, f"The requested resource {self.path} was not found")

    def do_POST(self):
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if fake.delay:
            time.sleep(fake.delay)
        match = MESSAGES_PATH.fullmatch(self.path)
        if not match:
            return self._error(404, 20404, f"The requested resource {self.path} was not found")
        entry = {
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "messaging_service_sid": form.get("MessagingServiceSid", ""),
            "body": form.get("Body", ""),
            "status_callback": form.get("StatusCallback", ""),
            "sid": None,
            "outcome": None,
        }

        if not self._authorized(match["account"]):
            self._record(entry, "unauthorized")
            return self._error(
                401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        chaos = fake._roll()
        if chaos == "429":  # refused before Twilio looks at the message
            self._record(entry, "429")
            return self._error(429, 20429, "Too Many Requests", {"Retry-After": "1"})
        if problem := self._invalid(entry):
            self._record(entry, problem[0])
            return self._error(400, *problem)

        entry["sid"] = "SM" + uuid.uuid4().hex
        if chaos == "500":
            # Real Twilio may fail before or after queueing the message; the fake does both.
            accepted = fake._random_below(fake.accept_on_500)
            self._record(entry, "500-accepted" if accepted else "500-rejected")
            return self._error(500, 20500, "Internal Server Error")
        if chaos == "timeout":
            self._record(entry, "timeout-accepted")
            fake._stopping.wait(fake.hang_seconds)  # the client gives up meanwhile
        else:
            self._record(entry, "created")
        self._json(201, self._message(entry))

    def _authorized(self, account):
        fake = self.fake
        expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
        given = self.headers.get("Authorization", "")
        return account == fake.account_sid and given == f"Basic {expected}"

    def _invalid(self, entry):
        """(code, message) of Twilio's 400 for this request, or None if Twilio would take it."""
        if not (entry["from"] or entry["messaging_service_sid"]):
            return 21603, "A 'From' phone number is required."
        if not entry["body"]:
            return 21602, "Message body is required."
        if not _valid_number(entry["to"]):
            return 21211, f"The 'To' number {entry['to']} is not a valid phone number."
        if entry["to"] in self.fake.unsubscribed:
            return 21610, "Attempt to send to unsubscribed recipient"
        return None

    def _record(self, entry, outcome):
        # `outcome` is this fake's word: created, 500-accepted, 500-rejected, timeout-accepted,
        # 429, unauthorized, or the Twilio error code of a 400 (as a string, e.g. "21211").
        entry["outcome"] = str(outcome)
        self.fake._record(entry)

    def _message(self, entry):
        """Twilio's Message resource as `messages.create` returns it."""
        account = self.fake.account_sid
        now = format_datetime(datetime.now(tz=UTC))  # RFC 2822, as Twilio dates are
        uri = f"/2010-04-01/Accounts/{account}/Messages/{entry['sid']}"
        return {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": entry["body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # Through a messaging service Twilio picks the number later and says "accepted".
            "from": entry["from"] or None,
            "messaging_service_sid": entry["messaging_service_sid"] or None,
            "num_media": "0",
            "num_segments": str(_segments(entry["body"])),
            "price": None,
            "price_unit": "USD",
            "sid": entry["sid"],
            "status": "accepted" if entry["messaging_service_sid"] else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": entry["to"],
            "uri": f"{uri}.json",
        }

    def _error(self, status, code, message, headers=None):
        """Twilio's error body for the REST API."""
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        self._json(status, body, headers)

    def _json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left, which is the point of a "timeout"


def _valid_number(number):
    """Twilio checks the number against the numbering plan, not only E.164's shape."""
    if not re.fullmatch(r"\+[1-9]\d{1,14}", number):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


def _segments(body):
    # Near enough for a fake: GSM-7 when ASCII (160, 153 per part), else UCS-2 (70, 67).
    single, part = (160, 153) if body.isascii() else (70, 67)
    length = len(body.encode("utf-16-le")) // 2 if not body.isascii() else len(body)
    return 1 if length <= single else -(-length // part)


# The server the fake runs (tests/fake_server.py): its thread's name and its handler.
FakeTwilio.name = "fake-twilio"
FakeTwilio.handler = _Handler
