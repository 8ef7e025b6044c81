"""Recordings and voicemail: fetched by a job only from the PBX's address (CTI_RECORDING_BASE_URL),
audio only, up to CTI_RECORDING_MAX_BYTES, and kept encrypted among the private files; anything
else refused and logged, an unreachable PBX tried again, then given up."""

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from tests.fake_pbx import FakePbx
from voice import services
from voice.models import Call, Recording
from zhongdu import crypto, private_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def pbx(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    with FakePbx(seed=3, huge_mb=2) as fake:
        settings.CTI_RECORDING_BASE_URL = f"{fake.url}/recordings/"
        yield fake


def _recording(url, kind=Recording.Kind.RECORDING):
    call = Call.objects.create(external_id=f"c-{Recording.objects.count()}")
    return Recording.objects.create(call=call, kind=kind, source_url=url)


def test_a_recording_is_fetched_and_kept_encrypted(pbx, settings):
    recording = services.recording_fetch(_recording(pbx.recording_url("c-1")))
    assert recording.status == Recording.Status.KEPT and recording.content_type == "audio/wav"
    assert recording.size == len(pbx.wav) and recording.attempts == 1
    stored = settings.PRIVATE_FILES_ROOT / recording.file
    assert stored.exists() and pbx.wav not in stored.read_bytes()  # encrypted at rest
    assert private_files.read(recording.file) == pbx.wav
    assert recording.file.startswith("recordings/") and "c-1" not in recording.file
    # A second run of the job changes nothing (a redelivered task).
    again = services.recording_fetch(recording)
    assert again.attempts == 1 and pbx.fetches.count("/recordings/c-1.wav") == 1


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.2:{port}/recordings/x.wav",  # another host
        "http://127.0.0.1:1/recordings/x.wav",  # another port
        "https://127.0.0.1:{port}/recordings/x.wav",  # another scheme
        "http://127.0.0.1:{port}/elsewhere/x.wav",  # outside the base's path
        "http://127.0.0.1:{port}/recordings/../admin/x.wav",
        "http://user:pass@127.0.0.1:{port}/recordings/x.wav",
        "file:///etc/passwd",
    ],
)
def test_an_address_off_the_pbx_is_refused_and_logged(pbx, address, caplog):
    port = pbx.url.rsplit(":", 1)[1]
    recording = services.recording_fetch(_recording(address.format(port=port)))
    assert (recording.status, recording.problem) == (Recording.Status.REFUSED, "address")
    assert pbx.fetches == [] and "refused (address)" in caplog.text


def test_without_a_base_address_nothing_is_fetched(pbx, settings):
    settings.CTI_RECORDING_BASE_URL = ""
    recording = services.recording_fetch(_recording(pbx.recording_url("c-1")))
    assert recording.status == Recording.Status.REFUSED and pbx.fetches == []


def test_what_is_not_audio_is_refused(pbx):
    page = services.recording_fetch(_recording(f"{pbx.url}/recordings/not-audio.wav"))
    text = services.recording_fetch(_recording(f"{pbx.url}/recordings/notes.txt"))
    for recording in (page, text):
        assert (recording.status, recording.problem) == (Recording.Status.REFUSED, "not audio")
        assert recording.file == ""


@pytest.mark.parametrize("name", ["huge", "huge-chunked"])
def test_a_recording_larger_than_the_cap_is_refused(pbx, settings, name):
    settings.CTI_RECORDING_MAX_BYTES = 1024 * 1024
    recording = services.recording_fetch(_recording(f"{pbx.url}/recordings/{name}.wav"))
    assert (recording.status, recording.problem) == (Recording.Status.REFUSED, "too large")
    assert not (settings.PRIVATE_FILES_ROOT / "recordings").exists()


def test_an_unreachable_pbx_is_tried_again_then_given_up(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path
    settings.CTI_RECORDING_BASE_URL = "http://127.0.0.1:1/recordings/"
    recording = _recording("http://127.0.0.1:1/recordings/x.wav")
    with pytest.raises(services.FetchFailed):
        services.recording_fetch(recording)
    recording.refresh_from_db()
    assert (recording.status, recording.attempts) == (Recording.Status.PENDING, 1)
    services.recording_give_up(recording)
    recording.refresh_from_db()
    assert (recording.status, recording.problem) == (Recording.Status.FAILED, "unreachable")


def test_the_events_queue_the_fetch_once_per_address(pbx, settings, client):
    import json
    import uuid

    from django.utils import timezone

    settings.CTI_WEBHOOK_SECRET = pbx.secret
    url = pbx.recording_url("c-9")
    for kind, fields in [
        ("ringing", {"caller": "13812345678"}),
        ("recording_ready", {"url": url}),
        ("recording_ready", {"url": url}),  # the PBX said it twice
        ("voicemail", {"url": pbx.recording_url("vm-9")}),
    ]:
        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "type": kind,
                "timestamp": timezone.now().isoformat(),
                "call_id": "c-9",
                **fields,
            }
        ).encode()
        with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
            response = client.post(
                "/voice/cti/events/",
                body,
                content_type="application/json",
                headers={"X-CTI-Signature": services.signature(body, pbx.secret)},
            )
        assert response.status_code == 200
    kinds = sorted(Recording.objects.values_list("kind", flat=True))
    assert kinds == ["recording", "voicemail"]


def test_the_job_keeps_what_the_event_announced(pbx, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call = Call.objects.create(external_id="c-5")
    with django_capture_on_commit_callbacks(execute=True):
        services._fetch_later(call, Recording.Kind.VOICEMAIL, pbx.recording_url("vm-5"))
    recording = Recording.objects.get()
    assert recording.status == Recording.Status.KEPT
    assert private_files.read(recording.file) == pbx.wav


def test_private_files_follow_the_key_rotation(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path
    name = private_files.save("recordings", b"RIFF audio")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    crypto._fernet.cache_clear()
    try:
        assert private_files.read(name) == b"RIFF audio"  # the old key still reads it
        private_files.rotate(name)
        settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key retired
        crypto._fernet.cache_clear()
        assert private_files.read(name) == b"RIFF audio"
    finally:
        crypto._fernet.cache_clear()
    with pytest.raises(ValueError):
        private_files.save("../escape", b"x")
    with pytest.raises(ValueError):
        private_files.read("../../etc/passwd")
