"""A call's page and its recordings played back (issue 18): a voicemail fetched from the PBX and
kept encrypted, played through the application after a reason that the audit trail keeps, with a
short-lived grant for one user and one recording; a VIP's only for those who serve them; no PBX
address in any page or header."""

import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import make_complaint
from tests.conftest import ROLE_USERNAMES
from tests.fake_pbx import FakePbx
from vip.models import VipStanding
from voice import services
from voice.models import Call, Recording
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

CALLER = "13812345678"
PLAYER = re.compile(r'<audio[^>]* src="([^"]+)"')


@pytest.fixture
def pbx(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with FakePbx(seed=7) as fake:
        settings.CTI_RECORDING_BASE_URL = f"{fake.url}/recordings/"
        settings.CTI_WEBHOOK_SECRET = fake.secret
        yield fake


def _voicemail(pbx, client, django_capture_on_commit_callbacks) -> Call:
    """A caller leaves a voicemail: the PBX's signed events posted to the webhook, the fetch
    job run once the events' transactions commit (as a worker would)."""
    for event in pbx.voicemail(CALLER):
        body = pbx.body(event)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("voice:cti_events"),
                body,
                content_type="application/json",
                headers={"X-CTI-Signature": pbx.sign(body)},
            )
        assert response.status_code == 200
    return Call.objects.get()


def _listen(browser, recording, reason="核对客户留言内容"):
    return browser.post(
        reverse("voice:recording_listen", args=[recording.pk]),
        {"reason": reason},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _user(role):
    """The user of a role's signed-in test client (client_for)."""
    return get_user_model().objects.get(username=ROLE_USERNAMES[role])


def _player(response) -> str:
    match = PLAYER.search(response.content.decode())
    assert match, "no player on the page"
    return unescape(match[1])


def test_a_voicemail_is_fetched_encrypted_and_played_back_with_an_audit_row(
    pbx, settings, client, client_for, django_capture_on_commit_callbacks
):
    person = ClientFactory(name="王芳", phone=f"+86{CALLER}")
    call = _voicemail(pbx, client, django_capture_on_commit_callbacks)
    recording = call.recordings.get()
    assert (call.client, call.outcome) == (person, Call.Outcome.VOICEMAIL)
    assert (recording.kind, recording.status) == (Recording.Kind.VOICEMAIL, Recording.Status.KEPT)
    stored = (settings.PRIVATE_FILES_ROOT / recording.file).read_bytes()
    assert stored != pbx.wav and pbx.wav[44:200] not in stored  # encrypted at rest

    consultant = client_for(roles.CONSULTANT)
    page = consultant.get(call.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="listen-form"' in html and "<audio" not in html
    assert "王芳" in html and person.phone_masked in html and person.phone not in html
    assert reverse("clientmgmt:client_detail", args=[person.pk]) in html

    listened = _listen(consultant, recording)
    assert listened.status_code == 200
    event = AuditEvent.objects.get(object_type="voice.recording", object_id=str(recording.pk))
    assert (event.action, event.reason) == (AuditEvent.Action.VIEW, "核对客户留言内容")
    assert event.actor_username == ROLE_USERNAMES[roles.CONSULTANT]
    src = _player(listened)
    assert src.startswith(reverse("voice:recording_audio", args=[recording.pk]) + "?grant=")

    audio = consultant.get(src)
    assert audio.status_code == 200 and audio.content == pbx.wav
    assert audio["Content-Type"] == "audio/wav"
    assert "no-store" in audio["Cache-Control"]
    # Listening was audited once; fetching the audio is part of it.
    assert AuditEvent.objects.filter(object_type="voice.recording").count() == 1

    # The PBX's address reaches no page and no header.
    for response in (page, listened, audio):
        assert pbx.url not in response.content.decode(errors="replace")
        assert "127.0.0.1:" not in response.content.decode(errors="replace")
        assert not any(pbx.url in value for _name, value in response.items())


def test_listening_needs_a_reason(pbx, client, client_for, django_capture_on_commit_callbacks):
    ClientFactory(phone=f"+86{CALLER}")
    recording = _voicemail(pbx, client, django_capture_on_commit_callbacks).recordings.get()
    consultant = client_for(roles.CONSULTANT)
    for reason in ("", " ", "x", "听\t一下"):
        refused = _listen(consultant, recording, reason)
        assert refused.status_code == 422
        html = refused.content.decode()
        assert "<audio" not in html and 'data-testid="listen-form"' in html
    # A NUL is refused at the edge, before the view.
    assert _listen(consultant, recording, "听\x00一下").status_code == 400
    assert not AuditEvent.objects.filter(object_type="voice.recording").exists()
    assert consultant.get(reverse("voice:recording_audio", args=[recording.pk])).status_code == 403


def test_a_grant_is_one_users_for_one_recording_for_ten_minutes(
    pbx, client, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    ClientFactory(phone=f"+86{CALLER}")
    recording = _voicemail(pbx, client, django_capture_on_commit_callbacks).recordings.get()
    consultant = client_for(roles.CONSULTANT)
    src = _player(_listen(consultant, recording))
    grant = parse_qs(urlsplit(src).query)["grant"][0]
    audio_url = reverse("voice:recording_audio", args=[recording.pk])
    assert consultant.get(audio_url, {"grant": grant}).status_code == 200
    # Forged or altered.
    assert consultant.get(audio_url, {"grant": grant[:-2] + "xx"}).status_code == 403
    assert consultant.get(audio_url, {"grant": "1:1:abc"}).status_code == 403
    # Someone else's: a copied address plays nothing for another user.
    front_desk = client_for(roles.FRONT_DESK)
    assert front_desk.get(audio_url, {"grant": grant}).status_code == 403
    # For another recording.
    other = Recording.objects.create(
        call=recording.call, kind=Recording.Kind.RECORDING, source_url="x", status="kept"
    )
    other_url = reverse("voice:recording_audio", args=[other.pk])
    assert consultant.get(other_url, {"grant": grant}).status_code == 403
    # Expired: a grant given eleven minutes ago.
    user = _user(roles.CONSULTANT)
    eleven_minutes_ago = signing.b62_encode(int(time.time()) - 11 * 60)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: eleven_minutes_ago)
    old = services.recording_listen(recording=recording, reason="旧的授权", by=user)
    monkeypatch.undo()
    assert consultant.get(audio_url, {"grant": old}).status_code == 403


def test_a_second_tab_or_a_double_click_plays_in_both(
    pbx, client, client_for, django_capture_on_commit_callbacks
):
    ClientFactory(phone=f"+86{CALLER}")
    recording = _voicemail(pbx, client, django_capture_on_commit_callbacks).recordings.get()
    consultant = client_for(roles.CONSULTANT)
    first, second = _player(_listen(consultant, recording)), _player(_listen(consultant, recording))
    assert consultant.get(first).content == consultant.get(second).content == pbx.wav
    assert AuditEvent.objects.filter(object_type="voice.recording").count() == 2


def test_the_player_may_ask_for_a_range(
    pbx, client, client_for, django_capture_on_commit_callbacks
):
    ClientFactory(phone=f"+86{CALLER}")
    recording = _voicemail(pbx, client, django_capture_on_commit_callbacks).recordings.get()
    consultant = client_for(roles.CONSULTANT)
    src = _player(_listen(consultant, recording))
    size = len(pbx.wav)
    part = consultant.get(src, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part.content == pbx.wav[100:200]
    assert part["Content-Range"] == f"bytes 100-199/{size}"
    tail = consultant.get(src, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and tail.content == pbx.wav[-10:]
    beyond = consultant.get(src, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    # A number no recording has bytes for (thousands of digits) is no range: the whole audio.
    for huge in (f"bytes={'9' * 5000}-", f"bytes=-{'9' * 5000}"):
        whole = consultant.get(src, HTTP_RANGE=huge)
        assert whole.status_code == 200 and whole.content == pbx.wav


def _make_vip(person):
    Client.objects.filter(pk=person.pk).update(is_vip=True)
    VipStanding.objects.create(client=person, kind="personal", since="2026-01-01")


def test_a_vips_recordings_play_only_for_those_who_serve_them(
    pbx, client, client_for, django_capture_on_commit_callbacks
):
    person = ClientFactory(name="贵宾乙", phone=f"+86{CALLER}")
    _make_vip(person)
    call = _voicemail(pbx, client, django_capture_on_commit_callbacks)
    recording = call.recordings.get()
    consultant = client_for(roles.CONSULTANT)
    page = consultant.get(call.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="listen-withheld"' in html
    assert 'data-testid="listen-form"' not in html
    assert _listen(consultant, recording).status_code == 403
    grant = services.recording_listen(
        recording=recording, reason="绕过页面", by=_user(roles.CONSULTANT)
    )
    audio_url = reverse("voice:recording_audio", args=[recording.pk])
    assert consultant.get(audio_url, {"grant": grant}).status_code == 403

    vip_manager = client_for(roles.VIP_MANAGER)
    page = vip_manager.get(call.get_absolute_url())
    assert 'data-testid="listen-form"' in page.content.decode()
    src = _player(_listen(vip_manager, recording))
    assert vip_manager.get(src).content == pbx.wav
    # The VIP's escort is assigned to them: they may listen too.
    front_desk = client_for(roles.FRONT_DESK)
    VipStanding.objects.filter(client=person).update(escort=_user(roles.FRONT_DESK))
    assert front_desk.get(_player(_listen(front_desk, recording))).status_code == 200


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_the_call_page_is_for_those_who_take_calls_and_their_managers(client_for, role):
    call = Call.objects.create(external_id="c-1", number="+8613812345678")
    response = client_for(role).get(call.get_absolute_url())
    assert response.status_code == (200 if role in roles.HOTLINE_READERS else 403)


def test_the_call_page_asks_anonymous_visitors_to_sign_in(client):
    call = Call.objects.create(external_id="c-1")
    for url in (
        call.get_absolute_url(),
        reverse("voice:recording_audio", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_missing_call_or_recording_is_not_found(client_for):
    consultant = client_for(roles.CONSULTANT)
    assert consultant.get(reverse("voice:call_detail", args=[999])).status_code == 404
    assert consultant.post(reverse("voice:recording_listen", args=[999])).status_code == 404
    assert consultant.get(reverse("voice:recording_audio", args=[999])).status_code == 404


def test_the_call_page_shows_the_record_and_what_it_led_to(client_for):
    from consult.models import Recall

    person = ClientFactory(name="赵敏", phone="+8613900001111")
    complaint = make_complaint(client=person)
    callback = Recall.objects.create(
        kind=Recall.Kind.CALLBACK,
        client=person,
        phone=person.phone,
        next_attempt_on=timezone.localdate(),
    )
    call = Call.objects.create(
        external_id="c-9",
        number=person.phone,
        client=person,
        ivr_path="1-2",
        queue_code="hotline",
        hold_seconds=12,
        outcome=Call.Outcome.ANSWERED,
        complaint=complaint,
        callback=callback,
    )
    Recording.objects.create(call=call, kind=Recording.Kind.RECORDING, source_url="x")
    handler = client_for(roles.CLIENT_MANAGER)
    html = handler.get(call.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1-2" in html and "Answered" in html and "Waiting to be fetched" in html
    assert complaint.get_absolute_url() in html and callback.get_absolute_url() in html
    assert 'data-testid="listen-form"' not in html  # nothing kept yet
    # The front desk reads the call but does not handle complaints: the complaint unlinked.
    front_desk = client_for(roles.FRONT_DESK)
    html = front_desk.get(call.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"#{complaint.pk}" in html and complaint.get_absolute_url() not in html
    assert AuditEvent.objects.filter(object_type="voice.call", action="view").count() == 2


def test_the_clients_timeline_links_the_call_to_its_page(client_for):
    person = ClientFactory(phone="+8613812345678")
    call = Call.objects.create(external_id="c-1", number=person.phone, client=person)
    page = client_for(roles.CONSULTANT).get(person.get_absolute_url())
    entries = [entry for entry in page.context["timeline"] if entry.kind == "hotline"]
    assert [entry.url for entry in entries] == [call.get_absolute_url()]
    assert call.get_absolute_url() in page.content.decode()
    # A clinician reads the client but not the hotline's calls: the entry stays, unlinked.
    page = client_for(roles.CLINICIAN).get(person.get_absolute_url())
    entries = [entry for entry in page.context["timeline"] if entry.kind == "hotline"]
    assert [entry.url for entry in entries] == [""]


def test_the_call_page_speaks_chinese(client_for):
    call = Call.objects.create(external_id="c-1", number="+8613812345678")
    Recording.objects.create(
        call=call, kind=Recording.Kind.VOICEMAIL, source_url="x", status="kept", file="r/x"
    )
    page = client_for(roles.CONSULTANT).get(call.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    for words in ("通话", "录音与留言", "为什么需要收听这通电话？", "收听", "振铃时长（秒）"):
        assert words in html
    assert "voice.recording" not in html and "voice.call" not in html  # no model labels
    assert call.number_masked in html and "13812345678" not in html
