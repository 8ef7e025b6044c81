"""The Alibaba Cloud SMS backend. The provider is faked only at HTTP (tests/fake_aliyun.py), so
the real SDK (alibabacloud-dysmsapi20170525) builds and signs the request and raises its real
exceptions, and what we test is our reading of them."""

import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from tests.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun
from zhongdu import sms

TO = "+8613812345678"
TEMPLATE = "SMS_154950909"
PARAMS = {"name": "张伟", "date": "12月8日", "time": "09:30"}
SIGN_NAME = "中都皮肤病医院"


@pytest.fixture
def aliyun_settings(settings):
    settings.ALIYUN_ACCESS_KEY_ID = ACCESS_KEY_ID
    settings.ALIYUN_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
    settings.ALIYUN_SMS_SIGN_NAME = SIGN_NAME
    settings.ALIYUN_SMS_API_BASE_URL = ""
    settings.ALIYUN_TIMEOUT_SECONDS = None
    return settings


@pytest.fixture
def fake(aliyun_settings):
    """The fake API, answering every request normally until a test sets a share of failures
    on it (the shares are read per request)."""
    templates = {TEMPLATE: ["name", "date", "time"]}
    with FakeAliyun(sign_names={SIGN_NAME}, templates=templates, hang_seconds=5) as server:
        aliyun_settings.ALIYUN_SMS_API_BASE_URL = server.url
        yield server


def send(to=TO, template_code=TEMPLATE, params=None, reference="7"):
    return sms.send(
        to=to,
        body="【中都皮肤病医院】张伟您好……",
        reference=reference,
        status_callback="https://crm.example.cn/unused/",
        template_code=template_code,
        params=PARAMS if params is None else params,
        route="aliyun",
    )


def test_an_accepted_message_returns_the_biz_id_and_reached_the_api_as_a_template(fake):
    result = send()

    (request,) = fake.requests
    assert result == sms.SendResult(provider_id=request["biz_id"], status="OK")
    assert request["phone"] == "13812345678"  # the national number, as the API takes it
    assert request["sign_name"] == SIGN_NAME
    assert request["template_code"] == TEMPLATE
    assert request["params"] == PARAMS
    assert request["out_id"] == "7"
    assert fake.counts_by_out_id() == {"7": 1}


def test_template_values_go_as_text_even_when_given_as_numbers(fake):
    send(params={"name": "张伟", "date": 8, "time": "09:30"})
    assert fake.requests[0]["params"]["date"] == "8"


def test_the_signature_is_the_hospital_profiles_without_brackets_when_not_set(
    fake, aliyun_settings, db
):
    from zhongdu.models import HospitalProfile

    aliyun_settings.ALIYUN_SMS_SIGN_NAME = ""
    HospitalProfile.objects.create(
        full_name="郑州中都皮肤病医院", sms_signature="【中都皮肤病医院】"
    )
    send()
    assert fake.requests[0]["outcome"] == "OK"
    assert fake.requests[0]["sign_name"] == SIGN_NAME


def test_throttling_is_transient_and_says_when_to_retry(fake):
    fake.throttle = 1.0

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    assert caught.value.retry_after == sms.ALIYUN_LIMIT_RETRY_AFTER
    assert len(fake.requests) == 1  # the SDK did not retry on its own
    assert fake.counts_by_out_id() == {}


def test_an_illegal_number_is_a_permanent_failure(fake):
    with pytest.raises(sms.PermanentError) as caught:
        send(to="+8612345678901")

    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert not caught.value.unsubscribed


@pytest.mark.parametrize(
    ("template_code", "params", "code"),
    [
        ("SMS_000000001", PARAMS, "isv.SMS_TEMPLATE_ILLEGAL"),
        (TEMPLATE, {"name": "张伟"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ],
)
def test_a_template_the_provider_refuses_is_a_permanent_failure(fake, template_code, params, code):
    with pytest.raises(sms.PermanentError) as caught:
        send(template_code=template_code, params=params)

    assert caught.value.code == code
    assert fake.counts_by_out_id() == {}


def test_an_unapproved_signature_is_a_permanent_failure(fake, aliyun_settings):
    aliyun_settings.ALIYUN_SMS_SIGN_NAME = "别的医院"

    with pytest.raises(sms.PermanentError) as caught:
        send()

    assert caught.value.code == "isv.SMS_SIGNATURE_ILLEGAL"


def test_no_template_is_refused_before_the_provider_is_called(fake):
    with pytest.raises(sms.PermanentError) as caught:
        send(template_code="")

    assert caught.value.code == "no-template"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("ALIYUN_ACCESS_KEY_ID", "LTAI5tSomeoneElse", "InvalidAccessKeyId.NotFound"),
        ("ALIYUN_ACCESS_KEY_SECRET", "not-the-secret", "SignatureDoesNotMatch"),
    ],
)
def test_bad_credentials_are_transient_so_queued_messages_go_once_they_are_fixed(
    fake, aliyun_settings, setting, value, code
):
    setattr(aliyun_settings, setting, value)

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == code
    assert fake.counts_by_out_id() == {}


def test_the_fake_checks_the_signature_over_the_parameters_the_sdk_sent(fake):
    """A request signed correctly is taken: the fake's own ACS3 check agrees with the SDK's."""
    send(params={"name": "张 伟&=+%", "date": "12月8日", "time": "09:30"})
    assert fake.requests[0]["outcome"] == "OK"
    assert fake.requests[0]["params"]["name"] == "张 伟&=+%"


def test_a_server_error_is_an_unknown_outcome_because_the_provider_may_have_taken_it(fake):
    fake.fail_500 = 1.0

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "InternalError"
    assert len(fake.requests) == 1  # and no retry by the SDK


def test_no_answer_within_the_timeout_is_an_unknown_outcome(fake, aliyun_settings):
    aliyun_settings.ALIYUN_TIMEOUT_SECONDS = 0.5
    fake.timeout = 1.0  # the fake takes the message, then holds its answer for 5 s
    started = time.monotonic()

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "read-timeout"
    assert time.monotonic() - started < 3
    assert fake.counts_by_out_id() == {"7": 1}  # and so, as far as we know, it went out


def test_nothing_listening_is_transient_because_nothing_was_sent(aliyun_settings):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    aliyun_settings.ALIYUN_SMS_API_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == "connect"


def test_the_sdk_waits_aliyun_timeout_seconds_unless_a_setting_says_otherwise(aliyun_settings):
    assert sms.AliyunBackend().runtime.read_timeout == sms.ALIYUN_TIMEOUT * 1000
    aliyun_settings.ALIYUN_TIMEOUT_SECONDS = 2.5
    backend = sms.AliyunBackend()
    assert (backend.runtime.read_timeout, backend.runtime.connect_timeout) == (2500, 2500)
    assert backend.runtime.autoretry is False


def test_without_a_base_url_the_sdk_calls_the_real_endpoint_over_https(aliyun_settings):
    client = sms.AliyunBackend().client
    assert (client._endpoint, client._protocol) == ("dysmsapi.aliyuncs.com", "https")


@pytest.mark.parametrize("missing", ["ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET"])
def test_the_aliyun_backend_refuses_to_start_without_its_access_key(aliyun_settings, missing):
    setattr(aliyun_settings, missing, "")
    with pytest.raises(ImproperlyConfigured, match=missing):
        sms.AliyunBackend()


def test_aliyun_is_a_domestic_backend():
    assert "aliyun" in sms.DOMESTIC_BACKENDS and sms.BACKENDS["aliyun"] is sms.AliyunBackend


@pytest.mark.parametrize(
    ("code", "chinese"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", "已达到短信服务商对该号码的发送频率上限：短信稍后发送。"),
        ("isv.MOBILE_NUMBER_ILLEGAL", "号码"),
        ("isv.AMOUNT_NOT_ENOUGH", "短信账户余额不足：充值后短信将继续发送。"),
        ("MOBILE_NOT_ON_SERVICE", "该号码已停机或已停用。"),
        # Stored in 30 characters, still explained.
        ("isv.TEMPLATE_MISSING_PARAMETERS"[:30], "模板变量与短信服务商审核通过的模板不一致"),
    ],
)
def test_the_providers_codes_are_explained_in_chinese(code, chinese):
    with translation.override("zh-hans"):
        assert chinese in sms.error_explanation(code)


def test_backends_of_two_routes_are_kept_side_by_side(fake, settings):
    settings.SMS_BACKEND = "memory"
    first = sms._instance(sms.AliyunBackend)
    sms.send(to=TO, body="hi", route="memory")
    assert sms._instance(sms.AliyunBackend) is first


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [
        ("Throttling.User", 400, sms.TransientError),
        ("Throttling", 503, sms.TransientError),
        ("isv.DAY_LIMIT_CONTROL", None, sms.TransientError),
        ("isv.OUT_OF_SERVICE", None, sms.TransientError),
        ("isv.AMOUNT_NOT_ENOUGH", None, sms.TransientError),
        ("isv.DENY_IP_RANGE", None, sms.TransientError),
        ("Forbidden.RAM", 403, sms.TransientError),
        ("isv.MOBILE_COUNT_OVER_LIMIT", None, sms.PermanentError),
        ("isv.INVALID_PARAMETERS", None, sms.PermanentError),
        ("isv.BLACK_KEY_CONTROL_LIMIT", None, sms.PermanentError),
        ("isv.SOMETHING_NEW", None, sms.PermanentError),
        ("MissingTemplateCode", 400, sms.PermanentError),
        ("isp.SYSTEM_ERROR", None, sms.UnknownOutcomeError),
        ("ServiceUnavailable", 503, sms.UnknownOutcomeError),
        ("", 502, sms.UnknownOutcomeError),
        ("Unexpected", None, sms.UnknownOutcomeError),
    ],
)
def test_answers_the_fake_does_not_give_map_onto_the_four_outcomes(code, status, outcome):
    error = sms.AliyunBackend._error(code, "", TO, status=status)
    assert type(error) is outcome
    assert error.code == (code or f"http-{status}")


def test_the_number_in_the_providers_text_is_masked():
    error = sms.AliyunBackend._error("isv.MOBILE_NUMBER_ILLEGAL", "号码13812345678非法", TO)
    assert error.message == "号码138****5678非法"
