"""The fake hotline PBX itself (tests/fake_pbx.py, scripts/fake_pbx.py): what the voice app's
tests, the demo and the benchmark rely on — the recordings it serves, the signatures it makes,
the events of its scenarios as docs/cti.md describes them, and its posts — checked against a
tiny webhook started here, without the product's."""

# ruff: noqa: S310  (every URL opened here is one of this file's local servers)

import hashlib
import hmac
import io
import itertools
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import wave
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fake_pbx import BEIJING, EVENT_TYPES, SECRET, FakePbx

ROOT = Path(__file__).resolve().parent.parent
CALLER = "13812345678"

# docs/cti.md: the fields every event has, and the ones each type adds (required, optional).
COMMON = {"id", "type", "timestamp", "call_id"}
BY_TYPE = {
    "ringing": (
        {"direction", "caller", "called", "recording_notice"},
        {"queue", "ivr_path"},
    ),
    "answered": ({"extension"}, set()),
    "transferred": ({"from_extension", "to_extension"}, set()),
    "ended": (set(), {"hold_seconds", "abandoned_in"}),
    "recording_ready": ({"url"}, set()),
    "voicemail": ({"url"}, {"duration_seconds"}),
}


class Webhook:
    """A tiny stand-in for the product's webhook: it records each request's raw body and
    headers and answers as docs/cti.md says (403 signature, 400 not JSON, 200 ok), or with
    `answer` (status, headers) when set."""

    def __init__(self, secret=SECRET, answer=None):
        self.secret, self.answer = secret, answer
        self.received = []
        self.lock = threading.Lock()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with webhook.lock:
                    webhook.received.append((body, self.headers))  # any case
                status, headers, answer = webhook.respond(body, self.headers)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/voice/cti/events/"

    def respond(self, body, headers):
        if self.answer:
            status, extra = self.answer
            return status, extra, {"error": "scripted"}
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-CTI-Signature", "")):
            return 403, {}, {"error": "signature"}
        try:
            event = json.loads(body)
        except ValueError:
            return 400, {}, {"error": "not JSON"}
        if event.get("type") not in EVENT_TYPES:
            return 400, {}, {"error": "type"}
        stamp = datetime.fromisoformat(event["timestamp"])
        if abs(datetime.now(tz=BEIJING) - stamp) > timedelta(minutes=5):
            return 403, {}, {"error": "stale"}
        return 200, {}, {"ok": True}

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pbx():
    with FakePbx(seed=3, huge_mb=1) as fake:
        yield fake


def get(url):
    """(status, Content-Type, body) of a GET, 4xx included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


def timestamps(events):
    return [datetime.fromisoformat(event["timestamp"]) for event in events]


# -- recordings ---------------------------------------------------------------------------------


def test_a_recording_it_handed_out_is_a_valid_wav_of_the_tone_it_made(pbx):
    status, content_type, body = get(pbx.recording_url("call-1"))
    assert (status, content_type) == (200, "audio/wav")
    with wave.open(io.BytesIO(body)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 8000)
        assert audio.getnframes() / audio.getframerate() == pytest.approx(1.0)
        assert max(audio.readframes(audio.getnframes())) > 0  # a tone, not silence
    assert pbx.fetches == ["/recordings/call-1.wav"]


def test_an_unknown_recording_is_404_and_text_is_not_audio(pbx):
    assert get(f"{pbx.url}/recordings/never-handed-out.wav")[0] == 404
    assert get(f"{pbx.url}/elsewhere")[0] == 404
    status, content_type, _ = get(f"{pbx.url}/recordings/call-1.txt")
    assert (status, content_type.split(";")[0]) == (200, "text/plain")
    status, content_type, _ = get(f"{pbx.url}/recordings/not-audio.wav")
    assert (status, content_type.split(";")[0]) == (200, "text/html")


def test_any_name_serves_every_well_formed_name():
    with FakePbx(any_name=True) as fake:
        assert get(f"{fake.url}/recordings/made-elsewhere.wav")[0] == 200


@pytest.mark.parametrize("name", ["huge", "huge-chunked"])
def test_the_huge_recording_is_bigger_than_its_cap_with_or_without_a_length(pbx, name):
    with urllib.request.urlopen(f"{pbx.url}/recordings/{name}.wav", timeout=5) as response:
        length = response.headers["Content-Length"]
        body = response.read()
    assert len(body) == 1024 * 1024
    assert length == (str(len(body)) if name == "huge" else None)
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"


def test_a_client_that_stops_reading_at_its_cap_does_not_break_the_fake(pbx):
    with urllib.request.urlopen(f"{pbx.url}/recordings/huge-chunked.wav", timeout=5) as response:
        response.read(64 * 1024)  # then hang up, as the product's size cap would
    assert get(pbx.recording_url("after"))[0] == 200


def test_the_slow_recording_holds_its_answer_and_stopping_does_not_wait_for_it():
    fake = FakePbx(hang_seconds=60).start()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(f"{fake.url}/recordings/slow.wav", timeout=0.2)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 5


# -- signatures and events ----------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_the_exact_body_with_the_secret(pbx):
    body = pbx.body(pbx.event("answered", "c-1", extension="8001"))
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(pbx.sign(body), expected)
    assert not hmac.compare_digest(pbx.sign(body, secret="another"), expected)
    assert not hmac.compare_digest(pbx.sign(body + b" "), expected)


def test_an_event_has_a_uuid_the_time_now_in_beijing_and_no_unset_fields(pbx):
    event = pbx.event("ringing", "c-1", caller=CALLER, queue=None)
    assert list(event) == ["id", "type", "timestamp", "call_id", "caller"]
    assert len(event["id"]) == 36 and event["id"] != pbx.event("ringing", "c-1")["id"]
    assert event["timestamp"].endswith("+08:00")
    stamp = datetime.fromisoformat(event["timestamp"])
    assert abs(datetime.now(tz=BEIJING) - stamp) < timedelta(seconds=5)
    given = pbx.event("ended", "c-1", timestamp="2026-12-07T09:15:02+08:00")
    assert given["timestamp"] == "2026-12-07T09:15:02+08:00"


SCENARIOS = {
    "answered_call": (
        lambda fake: fake.answered_call(CALLER, "8001", talk_seconds=120),
        ["ringing", "answered", "ended", "recording_ready"],
    ),
    "answered_call without recording": (
        lambda fake: fake.answered_call(CALLER, "8001", recording=False),
        ["ringing", "answered", "ended"],
    ),
    "transferred": (
        lambda fake: fake.transferred(CALLER, "8001", "8002"),
        ["ringing", "answered", "transferred", "ended", "recording_ready"],
    ),
    "abandoned_in_ivr": (lambda fake: fake.abandoned_in_ivr(CALLER), ["ringing", "ended"]),
    "abandoned_in_queue": (
        lambda fake: fake.abandoned_in_queue(CALLER, "hotline"),
        ["ringing", "ended"],
    ),
    "missed": (lambda fake: fake.missed(CALLER, "hotline"), ["ringing", "ended"]),
    "voicemail": (
        lambda fake: fake.voicemail(CALLER, "hotline"),
        ["ringing", "ended", "voicemail"],
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_scenario_is_one_call_with_the_documented_fields_in_time_order(pbx, scenario):
    build, types = SCENARIOS[scenario]
    events = build(pbx)
    assert [event["type"] for event in events] == types
    assert len({event["call_id"] for event in events}) == 1
    assert len({event["id"] for event in events}) == len(events)
    for event in events:
        required, optional = BY_TYPE[event["type"]]
        assert COMMON | required <= set(event) <= COMMON | required | optional, event
    stamps = timestamps(events)
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert all(stamp.utcoffset() == timedelta(hours=8) for stamp in stamps)
    # Laid out to end now, so a test can post them all at once and the product takes them.
    now = datetime.now(tz=BEIJING)
    assert now - timedelta(minutes=5) < stamps[0] and stamps[-1] <= now + timedelta(seconds=1)
    for event in events:
        if "url" in event:
            assert get(event["url"])[:2] == (200, "audio/wav")


def test_the_scenarios_say_how_each_call_ended(pbx):
    ringing, answered, ended, _ready = pbx.answered_call(CALLER, "8001", talk_seconds=120)
    assert ringing["caller"] == CALLER and ringing["called"] == pbx.hotline
    assert ringing["direction"] == "inbound" and ringing["recording_notice"] is True
    assert (ringing["queue"], ringing["ivr_path"]) == ("hotline", "1")
    assert answered["extension"] == "8001"
    talk = timestamps([ended])[0] - timestamps([answered])[0]
    assert talk == timedelta(seconds=120)
    assert "abandoned_in" not in ended
    assert pbx.abandoned_in_ivr(CALLER)[-1]["abandoned_in"] == "ivr"
    assert "queue" not in pbx.abandoned_in_ivr(CALLER)[0]
    assert pbx.abandoned_in_queue(CALLER, "hotline")[-1]["abandoned_in"] == "queue"
    assert "abandoned_in" not in pbx.missed(CALLER, "hotline")[-1]
    transfer = pbx.transferred(CALLER, "8001", "8002")[2]
    assert (transfer["from_extension"], transfer["to_extension"]) == ("8001", "8002")
    message = pbx.voicemail(CALLER, "hotline", duration=30)[-1]
    assert message["duration_seconds"] == 30 and "/recordings/vm-" in message["url"]


def test_a_scenario_can_start_at_a_given_time(pbx):
    start = datetime(2026, 12, 7, 9, 15, 2, tzinfo=BEIJING)
    events = pbx.missed(CALLER, "hotline", start=start, call_id="c-9")
    assert events[0]["timestamp"] == "2026-12-07T09:15:02+08:00"
    assert {event["call_id"] for event in events} == {"c-9"}


def test_a_day_has_the_hotline_mix_busy_hours_and_each_call_in_order():
    fake = FakePbx(seed=1)
    outcomes, events = fake.plan_day(300, ["8001", "8002", "8003"])
    assert outcomes.total() == 300
    assert outcomes["answered"] + outcomes["transferred"] == 240
    assert outcomes["abandoned_in_queue"] == 24
    assert outcomes["abandoned_in_ivr"] == outcomes["missed"] == outcomes["voicemail"] == 12
    assert timestamps(events) == sorted(timestamps(events))
    ringing = [event for event in events if event["type"] == "ringing"]
    assert len(ringing) == 300
    callers = [event["caller"] for event in ringing]
    assert all(len(c) == 11 and c[:2] in {"13", "15", "18", "19"} for c in callers)
    assert len(set(callers)) < 290  # some people call again
    hours = [datetime.fromisoformat(event["timestamp"]).hour for event in ringing]
    busy = sum(1 for hour in hours if hour in (9, 10, 14, 15))
    assert busy > 300 * 0.4  # four of the twelve opening hours take well over a third
    assert fake.plan_day(50, ["8001"])[0]["transferred"] == 0  # nobody to transfer to
    assert FakePbx(seed=1).plan_day(300)[0] == outcomes  # a seed repeats the day


# -- posting ------------------------------------------------------------------------------------


def test_post_sends_the_exact_signed_body_and_returns_the_answer(pbx):
    event = pbx.answered_call(CALLER, "8001")[0]
    with Webhook() as webhook:
        assert pbx.post(webhook.url, event) == (200, {"ok": True})
    ((body, headers),) = webhook.received
    assert body == pbx.body(event) and json.loads(body) == event
    assert headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-CTI-Signature"], expected)
    assert pbx.posted == [{"event": event, "status": 200, "answer": {"ok": True}}]


def test_a_tampered_unsigned_or_wrongly_signed_event_is_refused(pbx):
    event = pbx.event("answered", "c-1", extension="8001")
    with Webhook() as webhook:
        assert pbx.post(webhook.url, event, tamper=True) == (403, {"error": "signature"})
        assert pbx.post(webhook.url, event, unsigned=True) == (403, {"error": "signature"})
        assert pbx.post(webhook.url, event, secret="another") == (403, {"error": "signature"})
        assert pbx.post_body(webhook.url, b"not json", sign=True) == (400, {"error": "not JSON"})
    tampered, unsigned = webhook.received[0], webhook.received[1]
    assert json.loads(tampered[0]) == {**event, "tampered": True}
    assert "X-CTI-Signature" not in unsigned[1]


def test_post_follows_no_redirect_and_returns_a_5xx(pbx):
    event = pbx.event("answered", "c-1", extension="8001")
    with Webhook(answer=(302, {"Location": "/accounts/login/"})) as webhook:
        assert pbx.post(webhook.url, event)[0] == 302
        assert len(webhook.received) == 1
    with Webhook(answer=(503, {})) as webhook:
        assert pbx.post(webhook.url, event) == (503, {"error": "scripted"})


def test_play_stamps_each_event_when_it_is_posted(pbx):
    _outcomes, events = pbx.plan_day(10, ["8001", "8002"])
    with Webhook() as webhook:
        statuses = pbx.play(webhook.url, events)  # the plan's 8:00-20:00 would be stale
    assert statuses == {200: len(events)}
    sent = [json.loads(body) for body, _headers in webhook.received]
    assert [event["id"] for event in sent] == [event["id"] for event in events]


def test_play_paces_the_plan_at_the_speed_given(pbx):
    start = datetime.now(tz=BEIJING)
    events = pbx.missed(CALLER, "hotline", start=start)  # ringing, then ended 30-90 s later
    gap = (timestamps(events)[1] - timestamps(events)[0]).total_seconds()
    with Webhook() as webhook:
        began = time.monotonic()
        assert pbx.play(webhook.url, events, speed=gap / 0.3) == {200: 2}
        took = time.monotonic() - began
    assert 0.25 < took < 3


def run_script(*args, env=None):
    return subprocess.run(  # noqa: S603 (the project's script, fixed arguments)
        [sys.executable, "scripts/fake_pbx.py", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_the_script_plays_a_day_of_signed_events_and_prints_a_summary():
    with Webhook(secret="s3cret") as webhook:
        args = ["--play-day", "--target", webhook.url, "--secret", "s3cret"]
        run = run_script(*args, "--calls", "40", "--extensions", "8001,8002", "--seed", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    posted = len(webhook.received)
    assert posted > 80  # 40 calls of two to five events
    assert f"{posted} of {posted} events posted; answers: 200 x {posted}" in run.stdout
    assert "40 calls: answered " in run.stdout


def test_the_script_fails_when_an_event_is_refused():
    with Webhook(secret="the-products") as webhook:
        env = {"PATH": "", "CTI_WEBHOOK_SECRET": "another"}
        run = run_script("--play-day", "--target", webhook.url, "--calls", "3", env=env)
    assert run.returncode == 1
    assert "refused: 403 signature" in run.stdout


def test_the_script_serves_recordings_until_stopped():
    process = subprocess.Popen(
        [sys.executable, "scripts/fake_pbx.py", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().removeprefix("CTI_RECORDING_BASE_URL=")
        assert get(f"{url}/recordings/anything.wav")[:2] == (200, "audio/wav")
    finally:
        process.terminate()
        summary, _ = process.communicate(timeout=10)
    assert "1 recordings fetched" in summary
