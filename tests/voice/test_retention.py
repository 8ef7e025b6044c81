"""Recordings are kept for the period an administrator sets per category (routine calls,
complaint calls, VIP calls; the longest that applies wins) and held while a complaint of the
call or its client is open; then the nightly sweep deletes the audio and keeps the row."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from config.schedules import DEFAULT_SCHEDULES
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import handler_user, make_complaint, move, walk_to
from tests.conftest import ROLE_USERNAMES
from voice import services, tasks
from voice.models import Call, Recording, RecordingPolicy
from zhongdu import private_files, roles

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"


def kept(days_ago, *, client=None, complaint=None, transcript="") -> Recording:
    """A recording fetched and kept `days_ago` days ago."""
    call = Call.objects.create(
        external_id=f"c-{Call.objects.count()}", client=client, complaint=complaint
    )
    return Recording.objects.create(
        call=call,
        kind=Recording.Kind.RECORDING,
        source_url=f"http://pbx/recordings/{call.external_id}.wav",
        status=Recording.Status.KEPT,
        file=private_files.save("recordings", b"RIFF audio"),
        size=10,
        content_type="audio/wav",
        fetched_at=NOW - datetime.timedelta(days=days_ago),
        transcript=transcript,
    )


def purge() -> int:
    return services.recordings_purge_expired(now=NOW)


def expired(recording) -> bool:
    recording.refresh_from_db()
    return recording.status == Recording.Status.EXPIRED


def vip_client():
    person = ClientFactory()
    Client.objects.filter(pk=person.pk).update(is_vip=True)
    person.refresh_from_db()
    return person


def test_the_policy_starts_with_its_defaults():
    policy = RecordingPolicy.current()
    assert (policy.routine_days, policy.complaint_days, policy.vip_days) == (180, 1095, 365)


def test_a_routine_recording_past_its_period_loses_its_audio_and_keeps_its_row(settings):
    old, young = kept(181, transcript="您好，我想预约"), kept(179)
    path = settings.PRIVATE_FILES_ROOT / old.file
    assert purge() == 1
    assert expired(old) and not expired(young)
    assert not path.exists() and (settings.PRIVATE_FILES_ROOT / young.file).exists()
    assert (old.file, old.transcript, old.expired_at) == ("", "", NOW)
    assert Recording.objects.count() == 2
    # Run again (a redelivered task, the next night): nothing more to do.
    assert purge() == 0


def test_the_periods_are_the_administrators(settings):
    policy = RecordingPolicy.current()
    policy.routine_days = 30
    policy.save()
    recording = kept(31)
    assert purge() == 1 and expired(recording)


def test_a_complaint_call_is_kept_for_the_complaints_period():
    handler = handler_user()
    person = ClientFactory()
    complaint = walk_to(make_complaint(client=person), "closed", by=handler)
    of_the_call = kept(400, client=person, complaint=complaint)
    of_the_client = kept(400, client=person)  # another call of a client who complained
    very_old = kept(1100, client=person)
    assert purge() == 1
    assert not expired(of_the_call) and not expired(of_the_client) and expired(very_old)


def test_a_vips_call_is_kept_for_the_vip_period_and_the_longest_period_wins():
    vip = vip_client()
    young, old = kept(300, client=vip), kept(400, client=vip)
    complained = vip_client()
    walk_to(make_complaint(client=complained), "closed", by=handler_user())
    both = kept(400, client=complained)
    assert purge() == 1
    assert expired(old) and not expired(young) and not expired(both)


def test_an_open_complaint_holds_the_calls_and_the_clients_recordings():
    handler = handler_user()
    person = ClientFactory()
    complaint = make_complaint(client=person)  # received: open
    of_the_call = kept(2000, complaint=complaint)  # its caller unknown
    of_the_client = kept(2000, client=person)
    assert purge() == 0
    assert not expired(of_the_call) and not expired(of_the_client)
    complaint = walk_to(complaint, "resolved", by=handler)  # resolved is not closed: still held
    assert purge() == 0
    move(complaint, "closed", by=handler)
    assert purge() == 2


def test_an_expired_recording_can_no_longer_be_played(client_for):
    recording = kept(181)
    consultant = client_for(roles.CONSULTANT)
    grant = services.recording_listen(recording=recording, reason="复核", by=_consultant())
    purge()
    audio = reverse("voice:recording_audio", args=[recording.pk])
    assert consultant.get(audio, {"grant": grant}).status_code == 404
    page = consultant.get(recording.call.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "Deleted at the end of its retention period" in html
    assert 'data-testid="listen-form"' not in html
    refused = consultant.post(
        reverse("voice:recording_listen", args=[recording.pk]),
        {"reason": "再听一次"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 409 and "cannot be played" in refused.content.decode()


def _consultant():
    return get_user_model().objects.get(username=ROLE_USERNAMES[roles.CONSULTANT])


def test_the_sweep_is_a_nightly_job():
    assert ("voice.recordings_purge_expired", "voice.tasks.recordings_purge_expired", 86400) in (
        DEFAULT_SCHEDULES
    )
    recording = kept(200)
    assert tasks.recordings_purge_expired.apply().get() == 1 and expired(recording)


def test_the_administrator_edits_the_periods_in_the_admin(admin_client):
    RecordingPolicy.current()
    listing = admin_client.get(reverse("admin:voice_recordingpolicy_changelist"))
    assert listing.status_code == 200
    url = reverse("admin:voice_recordingpolicy_change", args=[1])
    assert admin_client.get(url).status_code == 200
    saved = admin_client.post(url, {"routine_days": 90, "complaint_days": 730, "vip_days": 365})
    assert saved.status_code == 302
    assert RecordingPolicy.current().routine_days == 90
    refused = admin_client.post(url, {"routine_days": 0, "complaint_days": 730, "vip_days": 365})
    assert refused.status_code == 200 and RecordingPolicy.current().routine_days == 90
    assert admin_client.get(reverse("admin:voice_recordingpolicy_add")).status_code == 403
