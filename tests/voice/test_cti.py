"""The CTI events webhook (docs/cti.md): signed with HMAC-SHA256, fresh, each id once; every
call becomes a record with its outcome, agent and client, on the client's timeline."""

import datetime
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests.clientmgmt.factories import ClientFactory
from voice.models import Agent, Call, CallQueue, CtiEvent
from voice.services import signature
from zhongdu import roles

pytestmark = pytest.mark.django_db

URL = reverse("voice:cti_events")
SECRET = "cti-test-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CTI_WEBHOOK_SECRET = SECRET


def _event(kind, call_id="c-1", *, at=None, **fields):
    at = at or timezone.now()
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "timestamp": at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).isoformat(),
        "call_id": call_id,
        **fields,
    }


def _post(client, event, *, secret=SECRET, header=None, body=None):
    body = body if body is not None else json.dumps(event, ensure_ascii=False).encode()
    headers = {}
    if header is not None:
        headers["X-CTI-Signature"] = header
    elif secret:
        headers["X-CTI-Signature"] = signature(body, secret)
    return client.post(URL, body, content_type="application/json", headers=headers)


def _ringing(call_id="c-1", caller="13812345678", *, at=None, **fields):
    values = {
        "direction": "inbound",
        "caller": caller,
        "called": "4001234567",
        "queue": "hotline",
        "ivr_path": "1",
        "recording_notice": True,
    }
    return _event("ringing", call_id, at=at, **(values | fields))


@pytest.fixture
def agent(role_user):
    return Agent.objects.create(user=role_user(roles.CONSULTANT), extension="8001")


# --- Refused --------------------------------------------------------------------------------


def test_an_unsigned_or_forged_event_is_refused(client):
    event = _ringing()
    assert _post(client, event, secret=None).status_code == 403
    forged = _post(client, event, secret="not-the-secret")
    assert forged.status_code == 403 and forged.json() == {"error": "signature"}
    assert _post(client, event, header="sha256=" + "0" * 64).status_code == 403
    assert _post(client, event, header="sha256=签名").status_code == 403
    assert not Call.objects.exists() and not CtiEvent.objects.exists()


def test_without_a_secret_configured_everything_is_refused(client, settings):
    settings.CTI_WEBHOOK_SECRET = ""
    assert _post(client, _ringing(), secret="").status_code == 403


def test_a_body_changed_after_signing_is_refused(client):
    event = _ringing()
    body = json.dumps(event).encode()
    header = signature(body, SECRET)
    changed = body.replace(b"13812345678", b"13900000000")
    assert _post(client, event, header=header, body=changed).status_code == 403


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_stale_or_future_event_is_refused(client, minutes):
    event = _ringing(at=timezone.now() + datetime.timedelta(minutes=minutes))
    response = _post(client, event)
    assert response.status_code == 403 and response.json() == {"error": "stale"}
    assert not Call.objects.exists()


def test_an_event_is_taken_once(client):
    event = _ringing()
    assert _post(client, event).status_code == 200
    replay = _post(client, event)
    assert replay.status_code == 403 and replay.json() == {"error": "replayed"}
    assert CtiEvent.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"id": "x", "type": "rang", "timestamp": "2026-12-07T09:00:00+08:00"}).encode(),
    ],
)
def test_a_signed_body_that_is_no_event_is_a_400(client, body):
    response = _post(client, None, body=body)
    assert response.status_code == 400 and "error" in response.json()


def test_a_missing_field_a_naive_time_or_a_control_character_is_a_400(client):
    no_caller = _ringing()
    del no_caller["caller"]
    assert _post(client, no_caller).status_code == 400
    naive = _ringing()
    naive["timestamp"] = "2026-12-07T09:00:00"
    assert _post(client, naive).status_code == 400
    assert _post(client, _ringing(caller="138\x0012345678")).status_code == 400
    assert _post(client, _ringing(ivr_path={"\x00": 1})).status_code == 400
    assert not Call.objects.exists()


def test_only_posts_are_taken(client):
    assert client.get(URL).status_code == 405


# --- Calls ----------------------------------------------------------------------------------


def test_an_answered_call_is_a_record_with_its_agent_client_and_times(client, agent):
    person = ClientFactory(name="李娜", phone="+8613812345678")
    hotline = CallQueue.objects.create(code="hotline", name="健康专线")
    start = timezone.now() - datetime.timedelta(minutes=4)
    for event in [
        _ringing(at=start),
        _event("answered", at=start + datetime.timedelta(seconds=12), extension="8001"),
        _event("ended", at=start + datetime.timedelta(seconds=192), hold_seconds=20),
        _event("recording_ready", url="http://pbx.local:8080/recordings/c-1.wav"),
    ]:
        assert _post(client, event).status_code == 200
    call = Call.objects.get(external_id="c-1")
    assert (call.client, call.agent, call.queue) == (person, agent, hotline)
    assert call.outcome == Call.Outcome.ANSWERED
    assert (call.ring_seconds, call.talk_seconds, call.hold_seconds) == (12, 160, 20)
    assert call.number == "+8613812345678" and call.number_masked == "138****5678"
    assert call.called.endswith("4001234567") and call.ivr_path == "1"
    assert call.recording_notice is True
    assert call.recording_url == "http://pbx.local:8080/recordings/c-1.wav"
    assert call.events.count() == 4


@pytest.mark.parametrize(
    ("ended", "outcome"),
    [
        ({"abandoned_in": "ivr"}, Call.Outcome.ABANDONED_IVR),
        ({"abandoned_in": "queue"}, Call.Outcome.ABANDONED_QUEUE),
        ({}, Call.Outcome.MISSED),
    ],
)
def test_a_call_nobody_answered_ends_as_the_pbx_says(client, ended, outcome):
    assert _post(client, _ringing()).status_code == 200
    assert _post(client, _event("ended", **ended)).status_code == 200
    assert Call.objects.get().outcome == outcome


def test_a_voicemail_ends_the_call_as_voicemail_in_either_order(client):
    url = "http://pbx.local:8080/recordings/vm-1.wav"
    _post(client, _ringing("c-1"))
    _post(client, _event("ended", "c-1"))
    _post(client, _event("voicemail", "c-1", url=url, duration_seconds=31))
    _post(client, _ringing("c-2"))
    _post(client, _event("voicemail", "c-2", url=url))
    _post(client, _event("ended", "c-2", abandoned_in="queue"))
    calls = Call.objects.order_by("external_id")
    assert [c.outcome for c in calls] == [Call.Outcome.VOICEMAIL] * 2
    assert calls[0].voicemail_seconds == 31


def test_events_out_of_order_make_the_same_call(client, agent):
    start = timezone.now() - datetime.timedelta(minutes=2)
    _post(client, _event("answered", at=start + datetime.timedelta(seconds=5), extension="8001"))
    _post(client, _ringing(at=start))
    call = Call.objects.get()
    assert call.agent == agent and call.outcome == Call.Outcome.ANSWERED
    assert call.ringing_at == start and call.ring_seconds == 5


def test_a_transfer_gives_the_call_to_the_other_agent(client, agent, role_user):
    other = Agent.objects.create(user=role_user(roles.CLIENT_MANAGER), extension="8002")
    _post(client, _ringing())
    _post(client, _event("answered", extension="8001"))
    _post(client, _event("transferred", from_extension="8001", to_extension="8002"))
    call = Call.objects.get()
    assert call.agent == other and call.extension == "8002"


def test_a_number_several_records_share_is_left_for_the_consultant_to_choose(client):
    ClientFactory(name="王芳", phone="+8613900001111")
    ClientFactory(name="王芳芳", phone="+8613900001111")
    _post(client, _ringing(caller="139 0000 1111"))
    call = Call.objects.get()
    assert call.client is None and call.number == "+8613900001111"


def test_an_unknown_queue_or_extension_keeps_what_the_pbx_said(client):
    _post(client, _ringing(queue="night-line"))
    _post(client, _event("answered", extension="9999"))
    call = Call.objects.get()
    assert (call.queue, call.queue_code) == (None, "night-line")
    assert (call.agent, call.extension) == (None, "9999")


def test_a_landline_or_odd_number_is_kept_as_digits(client):
    _post(client, _ringing(caller="0371-6666 8888"))
    _post(client, _ringing("c-2", caller="anonymous"))
    numbers = dict(Call.objects.values_list("external_id", "number"))
    assert numbers == {"c-1": "+8637166668888", "c-2": ""}


# --- Where staff see calls ------------------------------------------------------------------


def test_the_call_is_on_the_clients_timeline(client, agent, front_desk_client):
    person = ClientFactory(name="李娜", phone="+8613812345678")
    CallQueue.objects.create(code="hotline", name="健康专线")
    _post(client, _ringing())
    _post(client, _event("answered", extension="8001"))
    _post(client, _event("ended"))
    page = front_desk_client.get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    entries = [e for e in page.context["timeline"] if e.kind == "hotline"]
    assert len(entries) == 1
    assert entries[0].title == "Call (Inbound): Answered" and entries[0].detail == "健康专线"
    assert entries[0].actor == (agent.user.get_full_name() or agent.user.username)
    body = page.content.decode()
    assert "Call (Inbound): Answered" in body
    chinese = front_desk_client.get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "通话（来电）：已接听" in chinese.content.decode()
    # The health archive lists it under its own heading, and can show calls alone.
    archive_url = reverse("clientmgmt:health_archive", args=[person.pk])
    archive = front_desk_client.get(archive_url, {"timeline": "hotline"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [kind for kind, _label, _entries in archive.context["groups"]] == ["hotline"]
    assert "Hotline calls" in archive.content.decode()


def test_the_admin_shows_a_calls_number_masked_and_no_pbx_address(client, admin_client):
    _post(client, _ringing())
    _post(client, _event("recording_ready", url="http://pbx.local:8080/recordings/c-1.wav"))
    call = Call.objects.get()
    listing = admin_client.get(reverse("admin:voice_call_changelist")).content.decode()
    page = admin_client.get(reverse("admin:voice_call_change", args=[call.pk])).content.decode()
    for html in (listing, page):
        assert "138****5678" in html
        assert "13812345678" not in html and "pbx.local" not in html


def test_an_agent_is_set_up_in_the_admin(admin_client, role_user):
    user = role_user(roles.CONSULTANT)
    CallQueue.objects.create(code="hotline", name="健康专线")
    response = admin_client.post(
        reverse("admin:voice_agent_add"),
        {
            "user": user.pk,
            "extension": "8001",
            "presence": "away",
            "presence_since_0": "2026-12-07",
            "presence_since_1": "09:00:00",
            "queues": [CallQueue.objects.get().pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert get_user_model().objects.get(pk=user.pk).voice_agent.extension == "8001"


# --- Presence on the workbench --------------------------------------------------------------


def test_an_agent_sets_their_presence_on_the_workbench(client_for, agent):
    http = client_for(roles.CONSULTANT)
    home = http.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="hotline-presence"' in home and "extension 8001" in home
    assert 'value="away" class="btn btn-primary" aria-pressed="true"' in home
    response = http.post(reverse("voice:presence"), {"presence": "available", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    agent.refresh_from_db()
    assert agent.presence == Agent.Presence.AVAILABLE
    # The workbench shows it at once (the kept agent was forgotten), and a double click is one.
    home = http.get(reverse("home")).content.decode()
    assert 'value="available" class="btn btn-primary" aria-pressed="true"' in home
    since = agent.presence_since
    http.post(reverse("voice:presence"), {"presence": "available", "next": "/"})
    agent.refresh_from_db()
    assert agent.presence_since == since


def test_a_state_not_offered_is_refused_with_a_message(client_for, agent):
    http = client_for(roles.CONSULTANT)
    response = http.post(
        reverse("voice:presence"), {"presence": "asleep"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Choose one of the offered states." in response.content.decode()
    agent.refresh_from_db()
    assert agent.presence == Agent.Presence.AWAY


def test_a_user_who_answers_no_calls_has_no_panel_and_no_presence(front_desk_client):
    home = front_desk_client.get(reverse("home")).content.decode()
    assert 'data-testid="hotline-presence"' not in home
    assert (
        front_desk_client.post(reverse("voice:presence"), {"presence": "away"}).status_code == 404
    )
    assert front_desk_client.get(reverse("voice:presence")).status_code == 405


def test_the_workbench_costs_no_query_to_know_a_user_answers_no_calls(
    front_desk_client, django_assert_num_queries
):
    front_desk_client.get(reverse("home"))
    # The session, the user, their roles.
    with django_assert_num_queries(3):
        front_desk_client.get(reverse("home"))


def test_the_presence_goes_back_only_to_this_site(client_for, agent):
    http = client_for(roles.CONSULTANT)
    response = http.post(
        reverse("voice:presence"), {"presence": "busy", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


# --- The pop on the answering agent's screen ------------------------------------------------

POP = reverse("voice:pop")


def _poll(http, since=""):
    return http.get(POP, {"since": since}, HTTP_ACCEPT_LANGUAGE="en")


def test_the_answering_agent_and_no_one_else_gets_the_pop(client, client_for, agent, role_user):
    person = ClientFactory(name="李娜", phone="+8613812345678")
    other_user = role_user(roles.CLIENT_MANAGER)
    Agent.objects.create(user=other_user, extension="8002")
    mine, theirs = client_for(roles.CONSULTANT), client_for(roles.CLIENT_MANAGER)
    empty = _poll(mine)
    version = empty.content.decode().split('data-live-version="')[1].split('"')[0]
    assert version == "0" and 'data-testid="pop-caller"' not in empty.content.decode()
    assert _poll(mine, version).status_code == 204  # nothing new: an empty answer
    _post(client, _ringing())
    assert _poll(mine, version).status_code == 204  # ringing is not answered
    _post(client, _event("answered", extension="8001"))
    popped = _poll(mine, version)
    html = popped.content.decode()
    assert popped.status_code == 200 and "李娜" in html and "138****5678" in html
    call = Call.objects.get()
    # The call screen for the caller, remembering the call (what is recorded there links to it).
    assert f'href="{reverse("consult:call")}?client={person.pk}&amp;call={call.pk}"' in html
    assert "13812345678" not in html
    assert 'data-testid="pop-caller"' not in _poll(theirs).content.decode()
    # The call ends: the pop empties.
    now = html.split('data-live-version="')[1].split('"')[0]
    _post(client, _event("ended"))
    ended = _poll(mine, now)
    assert ended.status_code == 200 and 'data-testid="pop-caller"' not in ended.content.decode()


def test_an_unknown_callers_number_travels_as_a_token(client, client_for, agent):
    http = client_for(roles.CONSULTANT)
    _post(client, _ringing(caller="13900002222"))
    _post(client, _event("answered", extension="8001"))
    html = _poll(http).content.decode()
    assert "A caller we do not know yet" in html and "139****2222" in html
    link = html.split('data-testid="pop-open"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "t=" in link and "13900002222" not in link
    assert f"call={Call.objects.get().pk}" in link
    screen = http.get(link.replace("&amp;", "&"))
    assert screen.status_code == 200 and screen.context["phone"] == "+8613900002222"


def test_a_vip_the_agent_does_not_serve_shows_as_their_summary(client, client_for, agent):
    from tests.consult.factories import make_vip

    make_vip(
        ClientFactory(
            name="贵宾甲",
            phone="+8613812345678",
            date_of_birth=datetime.date(1980, 5, 6),
            notes="只与客户经理联系",
        )
    )
    http = client_for(roles.CONSULTANT)
    _post(client, _ringing())
    _post(client, _event("answered", extension="8001"))
    html = _poll(http).content.decode()
    assert "贵宾甲" in html and "VIP" in html and "138****5678" in html
    assert "1980" not in html and "只与客户经理联系" not in html


def test_a_poll_with_nothing_new_costs_one_query_beyond_the_sign_in(
    client_for, agent, django_assert_num_queries
):
    http = client_for(roles.CONSULTANT)
    _poll(http)
    # The session, the user, their roles (the two-factor rule), and the pop's version.
    with django_assert_num_queries(4):
        assert _poll(http, "0").status_code == 204


def test_the_pop_is_an_agents(front_desk_client):
    assert _poll(front_desk_client).status_code == 404


def test_the_pop_asks_on_every_page_of_an_agent_and_nowhere_else(client_for, agent):
    http = client_for(roles.CONSULTANT)
    for url in (reverse("clientmgmt:client_list"), reverse("consult:queue"), reverse("home")):
        html = http.get(url).content.decode()
        assert html.count('<div id="call-pop"') == 1 and f'hx-get="{POP}?since=' in html
    fragment = http.get(reverse("clientmgmt:client_list"), {"q": "zw"}, HTTP_HX_REQUEST="true")
    assert 'id="call-pop"' not in fragment.content.decode()  # a fragment keeps the page's


def test_a_user_who_answers_no_calls_gets_no_pop(front_desk_client):
    html = front_desk_client.get(reverse("clientmgmt:client_list")).content.decode()
    assert 'id="call-pop"' not in html


def test_the_pop_says_what_a_consultant_needs_on_the_phone(client, client_for, agent):
    from tests.complaints.factories import make_complaint
    from tests.consult.factories import make_booking, make_enquiry

    person = ClientFactory(name="李娜", phone="+8613812345678")
    booking = make_booking(client=person)
    make_enquiry(client=person, topic="湿疹复诊")
    make_complaint(client=person)
    http = client_for(roles.CONSULTANT)
    _post(client, _ringing())
    _post(client, _event("answered", extension="8001"))
    html = _poll(http).content.decode()
    assert 'data-testid="pop-context"' in html
    session = booking.session
    assert f"Next booking: {session.date:%Y-%m-%d} {session.start_time:%H:%M}" in html
    assert session.department.name in html and "湿疹复诊" in html
    assert "Open complaints: 1" in html and "Care plans: 0" in html
    assert "Last survey score: —" in html


def test_a_vip_the_agent_does_not_serve_pops_without_the_context(client, client_for, agent):
    from tests.consult.factories import make_booking, make_vip

    person = make_vip(ClientFactory(name="贵宾乙", phone="+8613812345678"))
    make_booking(client=person)
    http = client_for(roles.CONSULTANT)
    _post(client, _ringing())
    _post(client, _event("answered", extension="8001"))
    html = _poll(http).content.decode()
    assert "贵宾乙" in html and 'data-testid="pop-context"' not in html
