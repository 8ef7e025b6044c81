"""The SMS gateway. Twilio is faked only at HTTP (with `responses`), so the real SDK builds the
request and raises its real exceptions, and what we test is our reading of them."""

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.client import RemoteDisconnected
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from zhongdu import sms

TO = "+8613812345678"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
MESSAGE_SID = "SM" + "fedcba9876543210" * 2


@pytest.fixture(autouse=True)
def _empty_memory_outbox():
    sms.clear()
    yield
    sms.clear()


@pytest.fixture
def twilio(settings):
    """Twilio is the backend and its API answers only what a test registers; a test that
    registers an answer the SDK never asks for fails."""
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
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


def connection_refused():
    """What requests raises when nothing listens on the port: no byte of the POST was sent."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    return requests.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason=reason))


def name_not_resolved():
    reason = NameResolutionError("api.twilio.com", None, OSError("Name or service not known"))
    return requests.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason=reason))


def send():
    return sms.send(to=TO, body="您的预约已确认", reference="outbox-7")


def test_twilio_posts_the_message_to_the_accounts_messages_endpoint_and_returns_the_sid(twilio):
    twilio.post(MESSAGES_URL, status=201, json={"sid": MESSAGE_SID, "status": "queued"})

    result = send()

    assert result == sms.SendResult(provider_id=MESSAGE_SID, status="queued")
    (call,) = twilio.calls
    assert call.request.url == MESSAGES_URL
    assert parse_qs(call.request.body) == {
        "To": [TO],
        "From": [FROM_NUMBER],
        "Body": ["您的预约已确认"],
    }
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert call.request.headers["Authorization"] == f"Basic {credentials}"
    assert call.request.req_kwargs["timeout"] == sms.TWILIO_TIMEOUT


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21211, f"The 'To' number {TO} is not a valid phone number."),
        (21614, f"'To' number {TO} is not a valid mobile number"),
    ],
)
def test_a_number_twilio_rejects_is_a_permanent_failure_with_the_number_masked(
    twilio, code, message
):
    twilio_error(twilio, 400, code, message)

    with pytest.raises(sms.PermanentError) as caught:
        send()

    assert caught.value.code == str(code)
    assert not caught.value.unsubscribed
    assert "138****5678" in caught.value.message
    assert TO not in str(caught.value)


def test_an_unsubscribed_recipient_is_a_permanent_failure_flagged_unsubscribed(twilio):
    twilio_error(twilio, 400, 21610, "Attempt to send to unsubscribed recipient")

    with pytest.raises(sms.PermanentError) as caught:
        send()

    assert isinstance(caught.value, sms.UnsubscribedError)
    assert caught.value.unsubscribed
    assert caught.value.code == "21610"


def test_too_many_requests_is_transient_and_says_when_to_retry(twilio):
    twilio_error(twilio, 429, 20429, "Too Many Requests", headers={"Retry-After": "30"})

    with pytest.raises(sms.TransientError) as caught:
        send()

    assert caught.value.retry_after == 30
    assert caught.value.code == "20429"


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


def test_bad_credentials_are_transient_so_queued_messages_go_once_they_are_fixed(twilio):
    twilio_error(twilio, 401, 20003, "Authenticate")

    with pytest.raises(sms.TransientError):
        send()


@pytest.mark.parametrize("status", [500, 504])
def test_a_server_error_is_an_unknown_outcome_because_twilio_may_have_queued_it(twilio, status):
    twilio_error(twilio, status, 20500, "Internal Server Error")

    with pytest.raises(sms.UnknownOutcomeError):
        send()


@pytest.mark.parametrize("error", [connection_refused, name_not_resolved, requests.ConnectTimeout])
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


def test_a_read_timeout_is_an_unknown_outcome(twilio):
    twilio.post(MESSAGES_URL, body=requests.ReadTimeout("Read timed out. (read timeout=10)"))

    with pytest.raises(sms.UnknownOutcomeError) as caught:
        send()

    assert caught.value.code == "read-timeout"


def test_the_twilio_backend_refuses_to_start_without_credentials(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured):
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
    assert result.provider_id.startswith("console-")
    assert result.provider_id in out


def test_the_memory_backend_records_each_message_in_order(settings):
    settings.SMS_BACKEND = "memory"

    first = sms.send(to=TO, body="one", reference="r1")
    second = sms.send(to="+8613900001111", body="two")

    assert sms.outbox == [(TO, "one", "r1"), ("+8613900001111", "two", "")]
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
