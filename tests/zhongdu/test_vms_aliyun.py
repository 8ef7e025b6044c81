"""The voice gateway (zhongdu/vms.py). Its Alibaba Cloud backend is tested against the provider
faked only at HTTP (tests/fake_aliyun_vms.py), so the real SDK (alibabacloud-dyvmsapi20170525)
builds and signs each request (ClickToDial through the SDK's generic call_api, IvrCall and
SingleCallByTts through its typed methods) and raises its real exceptions, and what we test is
what reaches the provider and our reading of its answers. Then the console and memory
backends, which stand in for it."""

import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.fake_aliyun_vms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SHOW_NUMBER, FakeAliyunVms
from zhongdu import vms

AGENT = "+8613812345678"
CLIENT = "+8613912345678"
LANDLINE = "+8637166661234"
ILLEGAL = "+8612345678901"  # a mainland number the provider refuses: no such prefix
HONG_KONG = "+85291234567"
TEMPLATE = "TTS_287040017"
PARAMS = {"name": "张伟", "date": "12月8日", "time": "09:30"}
MENU = {"1": "TTS_287040018", "2": "TTS_287040019", "9": "TTS_287040020"}
TIMEOUT = 0.3


@pytest.fixture
def aliyun_settings(settings):
    settings.VOICE_BACKEND = "aliyun"
    settings.ALIYUN_ACCESS_KEY_ID = ACCESS_KEY_ID
    settings.ALIYUN_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
    settings.ALIYUN_VOICE_SHOW_NUMBER = SHOW_NUMBER
    settings.ALIYUN_VMS_API_BASE_URL = ""
    settings.ALIYUN_TIMEOUT_SECONDS = None
    return settings


@pytest.fixture
def fake(aliyun_settings):
    """The fake API with the hospital's show number and its approved templates, answering every
    request normally until a test sets a share of failures on it (read per request). A held
    answer is held a little longer than the TIMEOUT the timeout tests give the client."""
    templates = {TEMPLATE: ["name", "date", "time"], **{code: [] for code in MENU.values()}}
    with FakeAliyunVms(
        show_numbers={SHOW_NUMBER}, templates=templates, hang_seconds=TIMEOUT + 0.5
    ) as server:
        aliyun_settings.ALIYUN_VMS_API_BASE_URL = server.url
        yield server


def dial(agent=AGENT, client=CLIENT, reference="31", record=True):
    return vms.click_to_dial(
        agent_number=agent, client_number=client, reference=reference, record=record
    )


def ivr(to=CLIENT, template_code=TEMPLATE, params=None, menu_keys=None, reference="32"):
    return vms.ivr_call(
        to=to,
        template_code=template_code,
        params=PARAMS if params is None else params,
        menu_keys=MENU if menu_keys is None else menu_keys,
        reference=reference,
    )


def tts(to=CLIENT, template_code=TEMPLATE, params=None, reference="33"):
    return vms.tts_call(
        to=to,
        template_code=template_code,
        params=PARAMS if params is None else params,
        reference=reference,
    )


# Each action with the number it calls (for ClickToDial, the client's; `dial` rings the agent
# first) and its reference.
ACTIONS = {
    "ClickToDial": (lambda **kw: dial(client=kw.pop("to", CLIENT), **kw), "31"),
    "IvrCall": (ivr, "32"),
    "SingleCallByTts": (tts, "33"),
}
each_action = pytest.mark.parametrize("action", list(ACTIONS))


def call(action, **kwargs):
    return ACTIONS[action][0](**kwargs)


# -- what reaches the provider -----------------------------------------------------------------


def test_a_click_to_dial_rings_the_agent_then_the_client_under_the_hospitals_number(fake):
    result = dial()

    (request,) = fake.requests
    assert result == vms.CallStarted(call_id=request["call_id"])
    assert request["action"] == "ClickToDial"
    # The national digits, as the API takes them: the agent's leg is the first (the caller).
    assert (request["caller"], request["called"]) == ("13812345678", "13912345678")
    assert request["caller_show_number"] == request["called_show_number"] == SHOW_NUMBER
    assert request["record"] is True
    assert request["notice_legs"] == ["caller", "called"]
    assert request["out_id"] == "31"
    assert fake.counts_by_out_id() == {"31": 1}


def test_a_click_to_dial_not_recorded_plays_no_notice(fake):
    dial(record=False)
    (request,) = fake.requests
    assert (request["record"], request["notice_legs"]) == (False, [])


def test_a_keypad_call_reaches_the_api_with_its_template_parameters_and_menu(fake):
    result = ivr()

    (request,) = fake.requests
    assert result == vms.CallStarted(call_id=request["call_id"])
    assert request["action"] == "IvrCall"
    assert (request["called"], request["called_show_number"]) == ("13912345678", SHOW_NUMBER)
    assert (request["template_code"], request["params"]) == (TEMPLATE, PARAMS)
    assert request["menu_keys"] == MENU and list(request["menu_keys"]) == ["1", "2", "9"]
    assert request["play_times"] == "2"
    assert (request["out_id"], request["outcome"]) == ("32", "OK")


def test_a_notification_call_reaches_the_api_with_its_template_and_parameters(fake):
    result = tts(params={**PARAMS, "date": 8})  # values go as text, as the API takes them

    (request,) = fake.requests
    assert result == vms.CallStarted(call_id=request["call_id"])
    assert request["action"] == "SingleCallByTts"
    assert (request["called"], request["called_show_number"]) == ("13912345678", SHOW_NUMBER)
    assert (request["template_code"], request["params"]) == (TEMPLATE, {**PARAMS, "date": "8"})
    assert (request["out_id"], request["menu_keys"]) == ("33", {})


@each_action
def test_a_mainland_landline_is_called_with_its_area_code(fake, action):
    call(action, to=LANDLINE)
    assert fake.requests[0]["called"] == "037166661234"


def test_the_fake_checks_the_signature_over_the_parameters_the_sdk_sent(fake):
    """Text the query string must encode (space, &, =, +, %, Chinese) signs and checks alike."""
    tts(params={**PARAMS, "name": "张 伟&=+%"})
    assert fake.requests[0]["outcome"] == "OK"
    assert fake.requests[0]["params"]["name"] == "张 伟&=+%"


# -- the provider's refusals and failures ------------------------------------------------------


@each_action
def test_throttling_is_transient_and_says_when_to_retry(fake, action, settings):
    fake.throttle = 1.0
    settings.ALIYUN_LIMIT_RETRY_SECONDS = 60

    with pytest.raises(vms.TransientError) as caught:
        call(action)

    assert caught.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    assert caught.value.retry_after == 60  # the provider's per-number limit lifts after a minute
    assert len(fake.requests) == 1  # the SDK did not retry on its own
    assert fake.counts_by_out_id() == {}


@each_action
def test_a_server_error_is_an_unknown_outcome_because_the_call_may_have_been_placed(fake, action):
    fake.fail_500 = 1.0

    with pytest.raises(vms.UnknownOutcomeError) as caught:
        call(action)

    assert caught.value.code == "InternalError"
    assert len(fake.requests) == 1  # and no retry by the SDK


@each_action
def test_no_answer_within_the_timeout_is_an_unknown_outcome(fake, aliyun_settings, action):
    aliyun_settings.ALIYUN_TIMEOUT_SECONDS = TIMEOUT
    fake.timeout = 1.0  # the fake places the call, then holds its answer past TIMEOUT
    started = time.monotonic()

    with pytest.raises(vms.UnknownOutcomeError) as caught:
        call(action)

    assert caught.value.code == "read-timeout"
    assert time.monotonic() - started < fake.hang_seconds
    reference = ACTIONS[action][1]
    assert fake.counts_by_out_id() == {reference: 1}  # as far as we know, the phone rang


@each_action
@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("ALIYUN_ACCESS_KEY_ID", "LTAI5tSomeoneElse", "InvalidAccessKeyId.NotFound"),
        ("ALIYUN_ACCESS_KEY_SECRET", "not-the-secret", "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_key_is_transient_so_the_call_goes_once_it_is_fixed(
    fake, aliyun_settings, action, setting, value, code
):
    setattr(aliyun_settings, setting, value)

    with pytest.raises(vms.TransientError) as caught:
        call(action)

    assert caught.value.code == code
    assert fake.counts_by_out_id() == {}


@each_action
def test_an_illegal_number_is_permanent_and_its_error_never_holds_the_number(fake, action):
    with pytest.raises(vms.PermanentError) as caught:
        call(action, to=ILLEGAL)

    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert fake.requests[0]["called"] == "12345678901"  # the provider had it, and said it back
    text = str(caught.value)
    assert "12345678901" not in text and "123****8901" in text
    assert fake.counts_by_out_id() == {}


def test_an_agent_number_the_provider_refuses_is_masked_too(fake):
    with pytest.raises(vms.PermanentError) as caught:
        dial(agent=ILLEGAL)

    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert "12345678901" not in str(caught.value)
    assert "13912345678" not in str(caught.value)


@each_action
def test_a_show_number_the_account_does_not_have_is_permanent(fake, aliyun_settings, action):
    aliyun_settings.ALIYUN_VOICE_SHOW_NUMBER = "057100001111"

    with pytest.raises(vms.PermanentError) as caught:
        call(action)

    assert caught.value.code == "isv.DISPLAY_NUMBER_ILLEGAL"


@pytest.mark.parametrize("place", [ivr, tts])
@pytest.mark.parametrize(
    ("template_code", "params", "code"),
    [
        ("TTS_000000001", PARAMS, "isv.TTS_TEMPLATE_ILLEGAL"),
        (TEMPLATE, {"name": "张伟"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ],
)
def test_a_template_the_provider_refuses_is_permanent(fake, place, template_code, params, code):
    with pytest.raises(vms.PermanentError) as caught:
        place(template_code=template_code, params=params)

    assert caught.value.code == code
    assert fake.counts_by_out_id() == {}


def test_a_menu_key_plays_an_approved_template_back_not_a_word(fake):
    """MenuKeyMap.N.Code is what the provider plays after the key (a TTS template or a voice
    file), not what the key means: a meaning there is refused like any unknown template."""
    with pytest.raises(vms.PermanentError) as caught:
        ivr(menu_keys={"1": "confirm", "2": "reschedule"})

    assert caught.value.code == "isv.TTS_TEMPLATE_ILLEGAL"


# -- refused before any request ----------------------------------------------------------------


@each_action
def test_a_number_outside_the_mainland_is_not_called_by_this_route(fake, action):
    with pytest.raises(vms.PermanentError) as caught:
        call(action, to=HONG_KONG)

    assert caught.value.code == "no-route"
    assert "91234567" not in str(caught.value)
    assert fake.requests == []


def test_an_agent_line_outside_the_mainland_is_not_called_either(fake):
    with pytest.raises(vms.PermanentError) as caught:
        dial(agent=HONG_KONG)

    assert caught.value.code == "no-route"
    assert fake.requests == []


@each_action
def test_a_number_that_is_not_e164_is_refused_masked(fake, action):
    with pytest.raises(vms.PermanentError) as caught:
        call(action, to="13912345678")

    assert caught.value.code == "invalid-number"
    assert "13912345678" not in str(caught.value) and "139****5678" in str(caught.value)
    assert fake.requests == []


def test_serves_mainland_numbers_only():
    assert vms.serves(CLIENT) and vms.serves(LANDLINE)
    assert not vms.serves(HONG_KONG) and not vms.serves("+14155550100")


def test_nothing_listening_is_transient_because_nothing_was_placed(aliyun_settings):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    aliyun_settings.ALIYUN_VMS_API_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(vms.TransientError) as caught:
        tts()

    assert caught.value.code == "connect"


# -- the backend's configuration and its reading of answers the fake does not give ------------


def test_the_sdk_waits_aliyun_timeout_seconds_unless_a_setting_says_otherwise(aliyun_settings):
    assert vms.AliyunBackend().runtime.read_timeout == vms.ALIYUN_TIMEOUT * 1000
    aliyun_settings.ALIYUN_TIMEOUT_SECONDS = 2.5
    backend = vms.AliyunBackend()
    assert (backend.runtime.read_timeout, backend.runtime.connect_timeout) == (2500, 2500)
    assert backend.runtime.autoretry is False


def test_without_a_base_url_the_sdk_calls_the_real_endpoint_over_https(aliyun_settings):
    backend = vms.AliyunBackend()
    assert (backend.client._endpoint, backend.client._protocol) == (vms.VMS_ENDPOINT, "https")
    assert backend.protocol == "HTTPS"


@pytest.mark.parametrize(
    "missing", ["ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_VOICE_SHOW_NUMBER"]
)
def test_the_aliyun_backend_refuses_to_start_without_its_settings(aliyun_settings, missing):
    setattr(aliyun_settings, missing, "")
    with pytest.raises(ImproperlyConfigured, match=missing):
        vms.AliyunBackend()


def test_the_backend_is_built_again_when_its_settings_change(fake, aliyun_settings):
    first = vms._backend()
    assert vms._backend() is first
    aliyun_settings.ALIYUN_VOICE_SHOW_NUMBER = "057100001111"
    assert vms._backend() is not first
    assert vms._backend().show_number == "057100001111"


def test_an_unknown_backend_is_a_configuration_error(settings):
    settings.VOICE_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        tts()


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [
        ("isv.DAY_LIMIT_CONTROL", None, vms.TransientError),
        ("Throttling.User", 400, vms.TransientError),
        ("isv.AMOUNT_NOT_ENOUGH", None, vms.TransientError),
        ("isv.OUT_OF_SERVICE", None, vms.TransientError),
        ("Forbidden.RAM", 403, vms.TransientError),
        ("isv.INVALID_PARAMETERS", None, vms.PermanentError),
        ("isv.BLACK_KEY_CONTROL_LIMIT", None, vms.PermanentError),
        ("MissingCalledNumber", 400, vms.PermanentError),
        ("isp.SYSTEM_ERROR", None, vms.UnknownOutcomeError),
        ("", 502, vms.UnknownOutcomeError),
        ("Unexpected", None, vms.UnknownOutcomeError),
    ],
)
def test_answers_the_fake_does_not_give_map_onto_the_outcomes(code, status, outcome):
    error = vms._error(code, "", (CLIENT,), status=status)
    assert type(error) is outcome
    assert error.code == (code or f"http-{status}")


def test_an_ok_without_a_call_id_is_an_unknown_outcome_named_so():
    with pytest.raises(vms.UnknownOutcomeError) as caught:
        vms.AliyunBackend._started("OK", "OK", "", (CLIENT,))
    assert caught.value.code == "no-call-id"


# -- the backends that stand in for the provider -----------------------------------------------


def test_the_memory_backend_records_each_call_and_places_nothing(settings):
    settings.VOICE_BACKEND = "memory"
    vms.clear()

    dialled = dial(record=False)
    keyed = ivr()
    read = tts()

    assert [call.call_id for call in vms.placed] == [
        dialled.call_id,
        keyed.call_id,
        read.call_id,
    ]
    first, second, third = vms.placed
    assert (first.action, first.agent, first.to, first.record) == (
        "ClickToDial",
        AGENT,
        CLIENT,
        False,
    )
    assert (second.action, second.template_code, second.params, second.menu_keys) == (
        "IvrCall",
        TEMPLATE,
        PARAMS,
        MENU,
    )
    assert (third.action, third.to, third.reference) == ("SingleCallByTts", CLIENT, "33")
    vms.clear()
    assert vms.placed == []


def test_the_memory_backend_refuses_what_the_provider_would_not_route(settings):
    settings.VOICE_BACKEND = "memory"
    vms.clear()
    with pytest.raises(vms.PermanentError):
        tts(to=HONG_KONG)
    assert vms.placed == []


def test_the_console_backend_prints_masked_numbers_only(settings, capsys):
    settings.VOICE_BACKEND = "console"
    settings.ALIYUN_VOICE_SHOW_NUMBER = SHOW_NUMBER

    started = [dial(), ivr(), tts(to=LANDLINE)]

    out = capsys.readouterr().out
    assert all(result.call_id.startswith("console-") for result in started)
    for full in ("13812345678", "13912345678", "037166661234", "+86"):
        assert full not in out
    assert "agent 138****5678 then client 139****5678" in out
    assert "IVR CALL to 139****5678" in out and "TTS CALL to 037****1234" in out
    assert "recorded" in out and TEMPLATE in out
