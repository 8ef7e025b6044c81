"""The fake Alibaba Cloud voice API itself (tests/fake_aliyun_vms.py), driven by the real SDK
(alibabacloud-dyvmsapi20170525) with no gateway of ours in between: what the gateway's tests
rely on (its signature check, its refusals, its chaos shares, its record, its receipts, run as a
process)."""

import contextlib
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from alibabacloud_dyvmsapi20170525 import models
from alibabacloud_dyvmsapi20170525.client import Client
from alibabacloud_tea_openapi import exceptions, utils_models
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.utils import Utils
from darabonba.runtime import RuntimeOptions

from tests.fake_aliyun import FakeAliyun
from tests.fake_aliyun_vms import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    CLICK_TO_DIAL_OUTCOMES,
    SHOW_NUMBER,
    SINGLE_CALL_OUTCOMES,
    FakeAliyunVms,
)

ROOT = Path(__file__).resolve().parent.parent
AGENT, CLIENT = "13812345678", "13912345678"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def client(fake, key=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET, timeout_ms=5000):
    config = openapi_models.Config(
        access_key_id=key,
        access_key_secret=secret,
        endpoint=fake.url.removeprefix("http://"),
        protocol="http",
        read_timeout=timeout_ms,
    )
    return Client(config)


def tts_call(fake, called=CLIENT, code="TTS_1", params='{"name": "张伟"}', out_id="1", **kwargs):
    request = models.SingleCallByTtsRequest(
        called_number=called,
        called_show_number=SHOW_NUMBER,
        tts_code=code,
        tts_param=params,
        out_id=out_id,
    )
    return client(fake, **kwargs).single_call_by_tts_with_options(request, RuntimeOptions()).body


def ivr_call(fake, menu=(("1", "TTS_2"), ("2", "TTS_3")), play_times=2, out_id="2"):
    request = models.IvrCallRequest(
        called_number=CLIENT,
        called_show_number=SHOW_NUMBER,
        start_code="TTS_1",
        start_tts_params='{"name": "张伟"}',
        menu_key_map=[models.IvrCallRequestMenuKeyMap(key=k, code=c) for k, c in menu],
        play_times=play_times,
        out_id=out_id,
    )
    return client(fake).ivr_call_with_options(request, RuntimeOptions()).body


def click_to_dial(fake, caller=AGENT, called=CLIENT, record="true", out_id="3"):
    """ClickToDial has no typed method in the SDK 5.x: its generic call_api, as zhongdu.vms."""
    query = {
        "CallerShowNumber": SHOW_NUMBER,
        "CallerNumber": caller,
        "CalledShowNumber": SHOW_NUMBER,
        "CalledNumber": called,
        "RecordFlag": record,
        "OutId": out_id,
    }
    params = utils_models.Params(
        action="ClickToDial",
        version="2017-05-25",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = utils_models.OpenApiRequest(query=Utils.query(query))
    return client(fake).call_api(params, request, RuntimeOptions())["body"]


def test_the_chaos_shares_are_kept_and_a_seed_repeats_them():
    def rolls(seed):
        fake = FakeAliyunVms(fail_500=0.1, throttle=0.2, timeout=0.05, seed=seed)
        return [fake._roll() for _ in range(10_000)]

    counts = Counter(rolls(3))
    assert counts["500"] == pytest.approx(1000, rel=0.15)
    assert counts["throttle"] == pytest.approx(2000, rel=0.15)
    assert counts["timeout"] == pytest.approx(500, rel=0.15)
    assert rolls(3) == rolls(3)
    assert rolls(3) != rolls(4)


def test_a_seeded_fake_answers_the_same_requests_the_same_way():
    def outcomes(seed):
        with FakeAliyunVms(throttle=0.3, fail_500=0.3, seed=seed) as fake:
            for n in range(12):
                with contextlib.suppress(exceptions.ServerException):  # the 500s
                    tts_call(fake, out_id=str(n))
            return [r["outcome"] for r in fake.requests]

    first = outcomes(5)
    assert first == outcomes(5)
    assert {"OK", "isv.BUSINESS_LIMIT_CONTROL"} <= set(first)


def test_shares_above_one_are_refused():
    with pytest.raises(ValueError):
        FakeAliyunVms(fail_500=0.6, timeout=0.6)


def test_a_tts_call_signed_by_the_sdk_is_placed_and_recorded():
    with FakeAliyunVms(show_numbers={SHOW_NUMBER}, templates={"TTS_1": ["name"]}) as fake:
        answer = tts_call(fake, out_id="42")
    assert (answer.code, answer.message) == ("OK", "OK")
    (entry,) = fake.requests
    assert entry["call_id"] == answer.call_id
    left, right = answer.call_id.split("^")
    assert left.isdigit() and right.isdigit()
    assert entry["action"] == "SingleCallByTts"
    assert (entry["called"], entry["called_show_number"]) == (CLIENT, SHOW_NUMBER)
    assert (entry["template_code"], entry["params"]) == ("TTS_1", {"name": "张伟"})
    assert (entry["out_id"], entry["outcome"]) == ("42", "OK")
    assert fake.counts_by_out_id() == {"42": 1}


def test_an_ivr_call_records_its_menu_keys_in_order():
    with FakeAliyunVms() as fake:
        assert ivr_call(fake, menu=[("2", "TTS_3"), ("1", "TTS_2"), ("#", "TTS_4")]).code == "OK"
    (entry,) = fake.requests
    assert entry["menu_keys"] == {"2": "TTS_3", "1": "TTS_2", "#": "TTS_4"}
    assert list(entry["menu_keys"]) == ["2", "1", "#"]
    assert (entry["action"], entry["template_code"]) == ("IvrCall", "TTS_1")
    assert (entry["params"], entry["play_times"]) == ({"name": "张伟"}, "2")


@pytest.mark.parametrize(("flag", "legs"), [("true", ["caller", "called"]), ("false", [])])
def test_a_click_to_dial_records_both_numbers_and_who_heard_the_recording_notice(flag, legs):
    with FakeAliyunVms(show_numbers={SHOW_NUMBER}) as fake:
        answer = click_to_dial(fake, record=flag)
    assert answer["Code"] == "OK"
    (entry,) = fake.requests
    assert (entry["caller"], entry["called"]) == (AGENT, CLIENT)
    assert entry["caller_show_number"] == entry["called_show_number"] == SHOW_NUMBER
    assert entry["record"] is (flag == "true")
    assert entry["notice_legs"] == legs
    assert entry["call_id"] == answer["CallId"]


def test_a_landline_is_a_mainland_number_too():
    with FakeAliyunVms() as fake:
        assert tts_call(fake, called="037166661234").code == "OK"
        assert click_to_dial(fake, caller="01088886666").get("Code") == "OK"


@pytest.mark.parametrize(
    "number", ["+8613912345678", "8613912345678", "12345678901", "85291234567"]
)
def test_a_number_other_than_mainland_national_digits_is_refused(number):
    with FakeAliyunVms() as fake:
        answer = tts_call(fake, called=number)
        agent = click_to_dial(fake, caller=number)
    assert answer.code == agent["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"
    assert number in answer.message  # the API repeats it: the gateway masks it
    assert fake.counts_by_out_id() == {}


def test_a_show_number_that_is_not_the_accounts_is_refused():
    with FakeAliyunVms(show_numbers={"057100001111"}) as fake:
        assert tts_call(fake).code == "isv.DISPLAY_NUMBER_ILLEGAL"
        assert click_to_dial(fake)["Code"] == "isv.DISPLAY_NUMBER_ILLEGAL"


@pytest.mark.parametrize(
    ("templates", "code", "params", "refusal"),
    [
        (None, "SMS_1", "{}", "isv.TTS_TEMPLATE_ILLEGAL"),
        ({"TTS_9": []}, "TTS_1", "{}", "isv.TTS_TEMPLATE_ILLEGAL"),
        (
            {"TTS_1": ["name", "date"]},
            "TTS_1",
            '{"name": "张伟"}',
            "isv.TEMPLATE_MISSING_PARAMETERS",
        ),
        (None, "TTS_1", '{"n": 1}', "isv.INVALID_PARAMETERS"),
        (None, "TTS_1", "not json", "isv.INVALID_PARAMETERS"),
    ],
)
def test_a_template_the_account_has_not_or_its_parameters_wrong_are_refused(
    templates, code, params, refusal
):
    with FakeAliyunVms(templates=templates) as fake:
        assert tts_call(fake, code=code, params=params).code == refusal
    assert fake.requests[0]["outcome"] == refusal


@pytest.mark.parametrize(
    ("menu", "play_times", "refusal"),
    [
        ([("1", "confirm")], 2, "isv.TTS_TEMPLATE_ILLEGAL"),  # a key plays a template back
        ([("10", "TTS_2")], 2, "isv.INVALID_PARAMETERS"),
        ([("1", "TTS_2")], 4, "isv.INVALID_PARAMETERS"),
    ],
)
def test_an_ivr_menu_or_play_count_the_api_does_not_take_is_refused(menu, play_times, refusal):
    with FakeAliyunVms() as fake:
        assert ivr_call(fake, menu=menu, play_times=play_times).code == refusal


def test_a_required_parameter_left_out_is_a_400():
    with FakeAliyunVms() as fake, pytest.raises(exceptions.ClientException) as caught:
        tts_call(fake, code=None)
    assert (caught.value.status_code, caught.value.code) == (400, "MissingTtsCode")
    assert fake.requests[0]["outcome"] == "MissingTtsCode"


@pytest.mark.parametrize(
    ("key", "secret", "status", "code"),
    [
        (ACCESS_KEY_ID, "someone-elses", 400, "SignatureDoesNotMatch"),
        ("LTAI5tSomeoneElse", ACCESS_KEY_SECRET, 404, "InvalidAccessKeyId.NotFound"),
    ],
)
def test_a_request_signed_with_another_key_or_secret_is_refused(key, secret, status, code):
    with FakeAliyunVms() as fake, pytest.raises(exceptions.ClientException) as caught:
        tts_call(fake, key=key, secret=secret)
    assert (caught.value.status_code, caught.value.code) == (status, code)
    assert fake.counts_by_out_id() == {}


def test_the_sms_fake_and_this_one_check_the_same_signature():
    """One check (tests/fake_aliyun.py acs3_refusal) serves both fakes: the SMS fake refuses a
    voice action, and this one an SMS action, only for the action, after the same signature."""
    with FakeAliyunVms() as fake:
        unsigned = requests.post(
            f"{fake.url}/?CalledNumber={CLIENT}",
            headers={"x-acs-action": "SingleCallByTts"},
            timeout=5,
        )
        sms = requests.post(f"{fake.url}/", headers={"x-acs-action": "SendSms"}, timeout=5)
    assert (unsigned.status_code, unsigned.json()["Code"]) == (400, "IncompleteSignature")
    assert unsigned.json()["HostId"] == "dyvmsapi.aliyuncs.com"
    assert (sms.status_code, sms.json()["Code"]) == (404, "InvalidAction.NotFound")
    with FakeAliyun() as sms_fake:
        voice = requests.post(f"{sms_fake.url}/", headers={"x-acs-action": "IvrCall"}, timeout=5)
    assert voice.status_code == 404


def test_throttling_places_nothing():
    with FakeAliyunVms(throttle=1.0) as fake:
        assert tts_call(fake).code == "isv.BUSINESS_LIMIT_CONTROL"
        assert click_to_dial(fake)["Code"] == "isv.BUSINESS_LIMIT_CONTROL"
    assert fake.counts_by_out_id() == {}


@pytest.mark.parametrize(("accept_on_500", "outcome"), [(1, "500-accepted"), (0, "500-rejected")])
def test_a_500_counts_as_placed_only_when_the_fake_decided_it_was(accept_on_500, outcome):
    fake = FakeAliyunVms(fail_500=1.0, accept_on_500=accept_on_500)
    with fake, pytest.raises(exceptions.ServerException) as caught:
        tts_call(fake)
    assert (caught.value.status_code, caught.value.code) == (500, "InternalError")
    assert fake.requests[0]["outcome"] == outcome
    assert fake.counts_by_out_id() == ({"1": 1} if accept_on_500 else {})


def test_the_same_out_id_placed_twice_shows_as_a_number_called_twice():
    with FakeAliyunVms() as fake:
        tts_call(fake, out_id="9")
        ivr_call(fake, out_id="9")
        tts_call(fake, out_id="10")
    assert fake.counts_by_out_id() == {"9": 2, "10": 1}
    fake.clear()
    assert fake.requests == [] and fake.counts_by_out_id() == {}


def test_stopping_does_not_wait_for_a_held_answer():
    fake = FakeAliyunVms(timeout=1.0, hang_seconds=60).start()
    with pytest.raises(Exception):  # noqa: B017 - the SDK wraps the read timeout
        tts_call(fake, timeout_ms=200)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 5
    assert fake.counts_by_out_id() == {"1": 1}


# -- the receipts (VoiceReport) ----------------------------------------------------------------


def placed(action, **kwargs):
    with FakeAliyunVms() as fake:
        {"tts": tts_call, "ivr": ivr_call, "dial": click_to_dial}[action](fake, **kwargs)
    return fake.requests[0]


RECEIPT_FIELDS = {
    "call_id",
    "out_id",
    "status_code",
    "start_time",
    "end_time",
    "duration",
    "dtmf",
    "caller",
    "callee",
    "originate_time",
    "ring_time",
    "b_start_time",
    "b_end_time",
    "b_duration",
    "hangup_direction",
    "status_msg",
    "voice_type",
    "toll_type",
}


def seconds_between(start, end):
    start, end = (datetime.strptime(t, TIME_FORMAT) for t in (start, end))  # noqa: DTZ007
    return int((end - start).total_seconds())


def test_an_answered_ivr_call_reports_the_keys_pressed():
    entry = placed("ivr")
    receipt = FakeAliyunVms.receipt(entry, keys="47", talk_seconds=25)
    assert set(receipt) >= RECEIPT_FIELDS
    assert (receipt["call_id"], receipt["out_id"]) == (entry["call_id"], "2")
    assert (receipt["status_code"], receipt["dtmf"]) == ("200000", "47")
    assert (receipt["caller"], receipt["callee"]) == (SHOW_NUMBER, CLIENT)
    assert receipt["duration"] == "25" and receipt["b_duration"] == 25
    assert seconds_between(receipt["start_time"], receipt["end_time"]) == 25
    # Beijing time, without a zone, a moment ago.
    beijing_now = (datetime.now(tz=UTC) + timedelta(hours=8)).replace(tzinfo=None)
    assert 0 <= seconds_between(receipt["end_time"], beijing_now.strftime(TIME_FORMAT)) < 120


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("busy", "200002"),
        ("no_answer", "200003"),
        ("invalid_number", "200004"),
        ("unreachable", "200005"),
        ("out_of_area", "200007"),
        ("powered_off", "200010"),
        ("suspended", "200011"),
    ],
)
def test_an_unanswered_call_reports_its_status_and_no_talk(outcome, code):
    receipt = FakeAliyunVms.receipt(placed("tts"), outcome=outcome, keys="1")
    assert receipt["status_code"] == code
    assert (receipt["start_time"], receipt["end_time"], receipt["duration"]) == ("", "", "0")
    assert (receipt["dtmf"], receipt["b_duration"]) == ("", 0)
    assert bool(receipt["ring_time"]) is (outcome == "no_answer")


def test_a_listener_who_hung_up_early_is_200001():
    receipt = FakeAliyunVms.receipt(placed("tts"), outcome="hung_up", talk_seconds=4)
    assert (receipt["status_code"], receipt["duration"], receipt["hangup_direction"]) == (
        "200001",
        "4",
        "用户",
    )


def test_an_answered_click_to_dial_is_200100_with_the_talk_on_the_b_leg():
    entry = placed("dial")
    receipt = FakeAliyunVms.receipt(entry, talk_seconds=90)
    assert set(receipt) >= RECEIPT_FIELDS
    assert receipt["status_code"] == "200100"
    assert (receipt["caller"], receipt["callee"]) == (AGENT, CLIENT)
    assert receipt["b_duration"] == 90
    assert seconds_between(receipt["b_start_time"], receipt["b_end_time"]) == 90
    # The agent's leg began first and lasted longer: the notice and the client's ringing.
    assert int(receipt["duration"]) > 90
    assert receipt["start_time"] < receipt["b_start_time"] and receipt["dtmf"] == ""


@pytest.mark.parametrize(
    ("outcome", "code", "agent_answered"),
    [
        ("agent_no_answer", "200003", False),
        ("no_answer", "200003", False),
        ("agent_busy", "200002", False),
        ("invalid_number", "200004", False),
        ("out_of_area", "200007", False),
        ("unreachable", "200005", True),
        ("powered_off", "200010", True),
        ("suspended", "200011", True),
        ("client_busy", "200112", True),
        ("client_no_answer", "200113", True),
        ("client_unreachable", "200111", True),
        ("client_out_of_area", "200120", True),
        ("client_invalid_number", "200116", True),
    ],
)
def test_a_click_to_dial_that_did_not_join_says_which_leg_failed(outcome, code, agent_answered):
    receipt = FakeAliyunVms.receipt(placed("dial"), outcome=outcome)
    assert receipt["status_code"] == code
    assert bool(receipt["start_time"]) is agent_answered
    assert (receipt["b_start_time"], receipt["b_duration"]) == ("", 0)
    assert bool(receipt["b_ring_time"]) is (outcome == "client_no_answer")


def test_each_action_knows_only_its_own_outcomes():
    with pytest.raises(ValueError, match="client_busy"):
        FakeAliyunVms.receipt(placed("tts"), outcome="client_busy")
    with pytest.raises(ValueError, match="hung_up"):
        FakeAliyunVms.receipt(placed("dial"), outcome="hung_up")
    assert {"answered", "busy", "no_answer", "powered_off", "unreachable", "invalid_number"} <= (
        set(SINGLE_CALL_OUTCOMES) & set(CLICK_TO_DIAL_OUTCOMES)
    )


def test_the_script_runs_the_fake_as_a_process_and_serves_its_record():
    process = subprocess.Popen(
        [sys.executable, "scripts/fake_aliyun_vms.py", "--port", "0", "--seed", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().removeprefix("ALIYUN_VMS_API_BASE_URL=")
        keys = process.stdout.readline()
        assert ACCESS_KEY_ID in keys and ACCESS_KEY_SECRET in keys and SHOW_NUMBER in keys
        record = requests.get(f"{url}/_fake/requests", timeout=5).json()
        assert record == {"requests": [], "counts_by_out_id": {}}
    finally:
        process.terminate()
        summary, _ = process.communicate(timeout=10)
    assert "0 requests" in summary


@pytest.mark.parametrize(
    ("kind", "outcomes"),
    [
        ("tts", SINGLE_CALL_OUTCOMES),
        ("ivr", SINGLE_CALL_OUTCOMES),
        ("dial", CLICK_TO_DIAL_OUTCOMES),
    ],
)
def test_the_receipts_read_as_the_application_reads_them(kind, outcomes):
    """The fake's receipts go through the application's reader (voice.receipts.parse) with the
    OutId prefixes it gives its calls ("call:" a click-to-call, "msg:" an outbox message)."""
    from voice import receipts

    entry = placed(kind, out_id="call:7" if kind == "dial" else "msg:7")
    expected = {
        "answered": receipts.ANSWERED,
        "hung_up": receipts.ANSWERED,
        "busy": receipts.BUSY,
        "no_answer": receipts.NO_ANSWER,
        "invalid_number": receipts.INVALID_NUMBER,
        "unreachable": receipts.UNREACHABLE,
        "out_of_area": receipts.UNREACHABLE,
        "powered_off": receipts.POWERED_OFF,
        "suspended": receipts.UNREACHABLE,
    }
    if kind == "dial":
        expected |= dict.fromkeys(
            ["busy", "no_answer", "invalid_number", "out_of_area", "agent_busy", "agent_no_answer"],
            receipts.AGENT_UNANSWERED,
        ) | {
            "client_busy": receipts.BUSY,
            "client_no_answer": receipts.NO_ANSWER,
            "client_unreachable": receipts.UNREACHABLE,
            "client_out_of_area": receipts.UNREACHABLE,
            "client_invalid_number": receipts.INVALID_NUMBER,
        }
    for outcome in outcomes:
        read = receipts.parse(
            FakeAliyunVms.receipt(entry, outcome=outcome, keys="2", talk_seconds=41)
        )
        assert (outcome, read.outcome) == (outcome, expected[outcome])
        assert read.call_id == entry["call_id"]
        if read.outcome == receipts.ANSWERED:
            assert read.talk_seconds == 41 and read.answered_at and read.ended_at
            assert read.keys == ("2" if kind == "ivr" else "")
        else:
            assert (read.talk_seconds, read.keys, read.answered_at) == (0, "", None)
