"""The scripted PBX (tests/fake_pbx.py) against the running product: its signed events over real
HTTP become call records with the outcomes its scenarios play, and a replayed body is refused."""

import pytest
from django.db.models import Count

from tests.fake_pbx import FakePbx
from voice.models import Agent, Call, CallQueue, CtiEvent
from zhongdu import roles

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pbx(settings):
    with FakePbx(seed=7) as fake:
        settings.CTI_WEBHOOK_SECRET = fake.secret
        yield fake


@pytest.fixture
def webhook(live_server):
    return f"{live_server.url}/voice/cti/events/"


def test_each_scenario_ends_as_it_was_played(pbx, webhook, role_user):
    Agent.objects.create(user=role_user(roles.CONSULTANT), extension="8001")
    CallQueue.objects.create(code="hotline", name="健康专线")
    scenarios = {
        "answered": pbx.answered_call("13812345678", "8001", talk_seconds=60),
        "abandoned_ivr": pbx.abandoned_in_ivr("13812345679"),
        "abandoned_queue": pbx.abandoned_in_queue("13812345670"),
        "missed": pbx.missed("13812345671"),
        "voicemail": pbx.voicemail("13812345672"),
    }
    for events in scenarios.values():
        for event in events:
            assert pbx.post(webhook, event)[0] == 200
    outcomes = {call.number[-4:]: call.outcome for call in Call.objects.all()}
    assert outcomes == {
        "5678": "answered",
        "5679": "abandoned_ivr",
        "5670": "abandoned_queue",
        "5671": "missed",
        "5672": "voicemail",
    }
    answered = Call.objects.get(outcome="answered")
    assert answered.agent.extension == "8001" and answered.recording_url.startswith(pbx.url)
    assert answered.talk_seconds is not None and answered.queue.code == "hotline"


def test_a_replayed_or_tampered_event_is_refused_over_http(pbx, webhook):
    event = pbx.missed("13812345678")[0]
    assert pbx.post(webhook, event) == (200, {"ok": True})
    assert pbx.post(webhook, event) == (403, {"error": "replayed"})
    other = pbx.missed("13812345679")[0]
    assert pbx.post(webhook, other, tamper=True) == (403, {"error": "signature"})
    assert pbx.post(webhook, other, unsigned=True) == (403, {"error": "signature"})
    assert CtiEvent.objects.count() == 1


def test_a_day_of_calls_is_taken_whole(pbx, webhook):
    mix, events = pbx.plan_day(calls=40)
    answers = pbx.play(webhook, events)
    assert answers == {200: len(events)}
    assert Call.objects.count() == 40 == CtiEvent.objects.values("call").distinct().count()
    by_outcome = dict(Call.objects.values_list("outcome").annotate(n=Count("pk")))
    # The PBX's scenarios, as the product names their outcomes (a transferred call was answered).
    played = {
        "answered": mix["answered"] + mix["transferred"],
        "abandoned_queue": mix["abandoned_in_queue"],
        "abandoned_ivr": mix["abandoned_in_ivr"],
        "missed": mix["missed"],
        "voicemail": mix["voicemail"],
    }
    assert by_outcome == {outcome: n for outcome, n in played.items() if n}
