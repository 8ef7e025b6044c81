"""The SMS gateway. Twilio is faked only at HTTP, so the real SDK builds the request and raises its
real exceptions, and what we test is our reading of them.

Most Twilio tests talk real HTTP to tests/fake_twilio.py, which answers like Twilio's Messages API.
A few answers that server does not give (a proxy's error page, a dropped connection, a DNS failure,
Retry-After as a date) are registered with `responses` instead."""

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from zhongdu import sms

TO = "+8613812345678"
UNSUBSCRIBED = "+8613900001111"
FROM_NUMBER = "+15005550006"
MESSAGING_SERVICE_SID = "MG" + "0123456789abcdef" * 2
CALLBACK = "https://crm.example.cn/messaging/twilio/status/6f1c2a9e-0d4b-4f7e-9a51-3c8d2e7b4a10/"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture(autouse=True)
def _empty_memory_outbox():
    sms.clear()
    yield
    sms.clear()


@pytest.fixture
def twilio_settings(settings):
    """The twilio backend, sending from a number, at api.twilio.com with the default timeout."""
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = ""
    settings.TWILIO_TIMEOUT_SECONDS = None
    return settings


@pytest.fixture
def fake(twilio_settings):
    """The fake Twilio server, answering every request normally until a test sets a share of
    failures on it (the shares are read per request)."""
    with FakeTwilio(unsubscribed={UNSUBSCRIBED}, hang_seconds=5) as server:
        twilio_settings.TWILIO_API_BASE_URL = server.url
        yield server


@pytest.fixture
def twilio(twilio_settings):
    """Twilio's API answers only what a test registers with `responses`; a test that registers
    an answer the SDK never asks for fails."""
    with responses.RequestsMock() as api:
        yield api


def twilio_error(api, status, code, message, headers=None):
    """Twilio's error body for the Messages API, as it documents it."""
    api.post(
        MESSAGES_URL,
        status=status,
        headers=headers,
        json={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def name_not_resolved():
    reason = NameResolutionError("api.twilio.com", None, OSError("Name or service not known"))
    return requests.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason=reason))


def send(to=TO, status_callback=CALLBACK):
    return sms.send(
        to=to, body="您的预约已确认", reference="outbox-7", status_callback=status_callback
    )


# -- Twilio, through the real SDK, against the fake server -------------------------------------


def test_twilio_sends_the_message_with_its_status_callback_and_returns_the_sid(fake):
    result = send()

    (request,) = fake.requests
    assert result == sms.SendResult(provider_id=request["sid"], status="queued")
    assert request["sid"].startswith("SM")
    assert request["outcome"] == "created"
    assert (request["to"], request["from"], request["body"]) == (TO, FROM_NUMBER, "您的预约已确认")
    assert request["messaging_service_sid"] == ""
    assert request["status_callback"] == CALLBACK
    assert fake.counts_by_callback() == {CALLBACK: 1}


def test_a_messaging_service_is_the_sender_when_set_and_then_no_from_number_is_needed(
    fake, twilio_settings
):
    twilio_settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
    twilio_settings.TWILIO_FROM_NUMBER = ""

    result = send()

    (request,) = fake.requests
    assert request["messaging_service_sid"] == MESSAGING_SERVICE_SID
    assert request["from"] == ""  # Twilio picks the number from the service's pool
    assert result.status == "accepted"  # Twilio's first status for a messaging-service send


def test_a_number_twilio_finds_invalid_is_a_permanent_failure_with_the_number_masked(fake):
    bad = "+8612345678"  # E.164 in shape, so our own check lets it through; no such number

    with pytest.raises(sms.PermanentError) as caught:
        send(to=bad)

    assert caught.value.code == "21211"
    assert not caught.value.unsubscribed
    assert "123****5678" in caught.value.message
    assert bad not in str(caught.value)
    assert fake.counts_by_callback() == {}


def test_an_unsubscribed_recipient_is_a_permanent_failure_flagged_unsubscribed(fake):
    with pytest.raises(sms.PermanentError) as caught:
        send(to=UNSUBSCRIBED)

    assert isinstance(caught.value, sms.UnsubscribedError)
    assert caught.value.unsubscribed
    assert caught.value.code == "21610"


def test_too_many_requests_is_transient_and_says_when_to_retry(fake):
    fake.fail_429 = 1.0

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == "20429"
    assert caught.value.retry_after == 1
    assert fake.counts_by_callback() == {}


def test_a_server_error_is_an_unknown_outcome_because_twilio_may_have_queued_it(fake):
    fake.fail_500 = 1.0

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "20500"


def test_no_answer_within_the_timeout_is_an_unknown_outcome(fake, twilio_settings):
    twilio_settings.TWILIO_TIMEOUT_SECONDS = 0.5
    fake.timeout = 1.0  # the fake takes the message, then holds its answer for 5 s
    started = time.monotonic()

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "read-timeout"
    assert time.monotonic() - started < 3
    assert fake.counts_by_callback() == {CALLBACK: 1}  # and so, as far as we know, it went out


def test_bad_credentials_are_transient_so_queued_messages_go_once_they_are_fixed(
    fake, twilio_settings
):
    twilio_settings.TWILIO_AUTH_TOKEN = "wrong-token"

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == "20003"
    assert fake.counts_by_callback() == {}


def test_nothing_listening_is_transient_because_nothing_was_sent(twilio_settings):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    twilio_settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == "connect"


def test_the_sdk_waits_twilio_timeout_seconds_unless_a_setting_says_otherwise(twilio_settings):
    assert sms.TwilioBackend().http_client.timeout == sms.TWILIO_TIMEOUT
    twilio_settings.TWILIO_TIMEOUT_SECONDS = 2.5
    assert sms.TwilioBackend().http_client.timeout == 2.5


# -- Twilio answers the fake server does not give, registered with `responses` ------------------


def test_any_other_4xx_is_a_permanent_failure_with_the_number_masked(twilio):
    twilio_error(twilio, 400, 21614, f"'To' number {TO} is not a valid mobile number")

    with pytest.raises(sms.PermanentError) as caught:
        send()

    assert caught.value.code == "21614"
    assert not caught.value.unsubscribed
    assert "138****5678" in caught.value.message
    assert TO not in str(caught.value)


def test_a_retry_after_given_as_a_date_becomes_seconds(twilio):
    later = format_datetime(datetime.now(tz=UTC) + timedelta(seconds=120), usegmt=True)
    twilio_error(twilio, 429, 20429, "Too Many Requests", headers={"Retry-After": later})

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert 100 <= caught.value.retry_after <= 120


def test_too_many_requests_without_retry_after_leaves_the_delay_to_the_caller(twilio):
    twilio_error(twilio, 429, 20429, "Too Many Requests")

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.retry_after is None


def test_service_unavailable_is_transient(twilio):
    twilio.post(MESSAGES_URL, status=503, body="Service Unavailable")

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.code == "http-503"


def test_a_proxy_error_page_is_an_unknown_outcome_named_by_its_http_status(twilio):
    twilio.post(MESSAGES_URL, status=504, body="<html>Gateway Timeout</html>")

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "http-504"


@pytest.mark.parametrize("error", [name_not_resolved, requests.ConnectTimeout])
def test_failing_to_reach_twilio_is_transient_because_nothing_was_sent(twilio, error):
    twilio.post(MESSAGES_URL, body=error())

    with pytest.raises(sms.TransientError):
        send()


def test_a_connection_dropped_after_the_request_went_out_is_an_unknown_outcome(twilio):
    # The same requests.ConnectionError class, but Twilio had already read the POST.
    dropped = ProtocolError("Connection aborted.", RemoteDisconnected("closed without response"))
    twilio.post(MESSAGES_URL, body=requests.ConnectionError(dropped))

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "connection-lost"


# -- configuration and the other backends --------------------------------------------------


def test_the_twilio_backend_refuses_to_start_without_credentials(twilio_settings):
    twilio_settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured, match="TWILIO_AUTH_TOKEN"):
        send()


def test_the_twilio_backend_refuses_to_start_without_a_sender(twilio_settings):
    twilio_settings.TWILIO_FROM_NUMBER = ""

    with pytest.raises(ImproperlyConfigured, match="TWILIO_MESSAGING_SERVICE_SID"):
        send()


def test_the_console_backend_prints_the_masked_number_and_the_body(settings, capsys):
    settings.SMS_BACKEND = "console"

    result = send()

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "138****5678" in out
    assert "13812345678" not in out
    assert "您的预约已确认" in out
    assert "outbox-7" in out
    assert CALLBACK in out
    assert result.provider_id.startswith("console-")
    assert result.provider_id in out


def test_the_memory_backend_records_each_message_in_order(settings):
    settings.SMS_BACKEND = "memory"

    first = sms.send(to=TO, body="one", reference="r1", status_callback=CALLBACK)
    second = sms.send(to="+8613900001111", body="two")

    assert sms.outbox == [
        (TO, "one", "r1", CALLBACK, "", {}),
        ("+8613900001111", "two", "", "", "", {}),
    ]
    assert sms.outbox[0].status_callback == CALLBACK
    assert (first.provider_id, second.provider_id) == ("memory-1", "memory-2")
    sms.clear()
    assert sms.outbox == []


def test_a_number_that_is_not_e164_is_refused_before_any_backend_sees_it(settings):
    settings.SMS_BACKEND = "memory"

    with pytest.raises(sms.PermanentError) as caught:
        sms.send(to="13812345678", body="hello")

    assert caught.value.code == "invalid-number"
    assert sms.outbox == []


def test_an_unknown_backend_name_is_a_configuration_error(settings):
    settings.SMS_BACKEND = "carrier-pigeon"

    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        send()
