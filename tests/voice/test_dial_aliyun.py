"""The call button through the real SDK against the local fake of Alibaba Cloud's voice API
(tests/fake_aliyun_vms.py): the agent's leg, then the client's, both hearing the recording
notice; the fake's own receipts pushed back to the receipt address fill in the outcome form or
count an attempt; the agent's leg not answered counts nothing."""

import json
import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from followup.models import FollowUpCall
from tests.clientmgmt.factories import ClientFactory
from tests.fake_aliyun_vms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SHOW_NUMBER, FakeAliyunVms
from tests.followup.factories import make_call
from tests.voice.test_dial import EN, PHONE, agent
from voice.models import Call
from zhongdu import roles

pytestmark = pytest.mark.django_db
SECRET = "dial-aliyun-receipt-secret-0123456789abcdef"


@pytest.fixture
def fake(settings):
    settings.VOICE_BACKEND = "aliyun"
    settings.ALIYUN_ACCESS_KEY_ID = ACCESS_KEY_ID
    settings.ALIYUN_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
    settings.ALIYUN_VOICE_SHOW_NUMBER = SHOW_NUMBER
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    settings.ALIYUN_TIMEOUT_SECONDS = 5
    with FakeAliyunVms(show_numbers={SHOW_NUMBER}) as server:
        settings.ALIYUN_VMS_API_BASE_URL = server.url
        yield server


def _placed(fake):
    user, http = agent(roles.CLIENT_MANAGER)
    task = make_call(client=ClientFactory(name="李娜", phone=PHONE), assigned_to=user)
    assert http.post(reverse("voice:dial"), {"worklist": "followup", "task": task.pk}).status_code
    (request,) = fake.requests
    return http, task, Call.objects.get(), request


def _push(element):
    answer = HttpClient().post(
        reverse("voice:aliyun_receipt", args=[SECRET]),
        data=json.dumps([element], ensure_ascii=False),
        content_type="application/json",
    )
    assert answer.status_code == 200


def test_the_provider_rings_the_agents_line_then_the_client_both_hearing_the_notice(fake):
    _http, _task, call, request = _placed(fake)
    assert request["action"] == "ClickToDial"
    assert (request["caller"], request["called"]) == ("13700000001", "13899990001")
    assert request["caller_show_number"] == request["called_show_number"] == SHOW_NUMBER
    assert request["record"] is True and request["notice_legs"] == ["caller", "called"]
    assert request["out_id"] == f"call:{call.pk}"
    assert call.provider_call_id == request["call_id"]
    assert fake.counts_by_out_id() == {f"call:{call.pk}": 1}


def test_the_fakes_answered_receipt_fills_in_the_outcome_form(fake):
    http, task, call, request = _placed(fake)
    _push(fake.receipt(request, outcome="answered", talk_seconds=125))
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.ANSWERED and call.talk_seconds == 125
    body = http.get(f"{task.get_absolute_url()}?call={call.pk}", **EN).content.decode()
    assert "answered, 2:05 talking" in body
    assert re.search(r'value="reached"[^>]*checked', body)


@pytest.mark.parametrize(
    ("outcome", "attempts", "recorded"),
    [
        ("client_busy", 1, Call.Outcome.BUSY),
        ("client_no_answer", 1, Call.Outcome.NO_ANSWER),
        ("client_unreachable", 1, Call.Outcome.UNREACHABLE),
        ("powered_off", 1, Call.Outcome.POWERED_OFF),
        ("agent_no_answer", 0, Call.Outcome.AGENT_UNANSWERED),
        ("agent_busy", 0, Call.Outcome.AGENT_UNANSWERED),
    ],
)
def test_the_fakes_unanswered_receipts_count_an_attempt_only_for_the_clients_leg(
    fake, outcome, attempts, recorded
):
    _http, task, call, request = _placed(fake)
    _push(fake.receipt(request, outcome=outcome))
    call.refresh_from_db()
    task.refresh_from_db()
    assert call.outcome == recorded
    assert task.attempts == attempts and task.status == FollowUpCall.Status.OPEN
