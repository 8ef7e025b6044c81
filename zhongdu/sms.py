"""SMS gateway: the one place that talks to an SMS provider (CONVENTIONS item 10).

Callers (the outbox, later) write and claim their row first, then call `send()`, and decide what
to do next from what happened:

- `SendResult`: the provider accepted the message; store `provider_id`.
- `PermanentError`: certainly not sent and never will be (bad number, recipient replied STOP).
  Mark the row failed; `unsubscribed` says whether to withdraw the client's SMS consent.
- `TransientError`: certainly not sent; safe to send again later, after `retry_after` seconds
  if the provider said so.
- `UnknownOutcomeError`: the request may have reached the provider, so the patient may already
  have the SMS. Never resend automatically: a person checks the provider's log first.

Any other exception is a bug; treat it like `UnknownOutcomeError`, since it cannot tell us
whether the message went out.

`settings.SMS_BACKEND` picks the backend: "console" (development), "memory" (tests), "twilio",
"aliyun" (Alibaba Cloud SMS, the domestic provider); settings.SMS_ROUTES picks one per destination
(`routes()`).

`status_callback` is the URL the provider should report this message's delivery status to. Give
each message its own (the outbox row's), so a report finds its row even before the provider's id
is stored, and so a test can tell from the URL alone whether one message reached the provider twice.

Settings read by the Twilio backend: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and the sender:
TWILIO_MESSAGING_SERVICE_SID when set (Twilio then picks the number from the service's pool), else
TWILIO_FROM_NUMBER. Optional: TWILIO_API_BASE_URL (tests and the chaos run point the SDK at
tests/fake_twilio.py with it; empty means https://api.twilio.com) and TWILIO_TIMEOUT_SECONDS.

Settings read by the Alibaba Cloud backend (`AliyunBackend`): ALIYUN_ACCESS_KEY_ID,
ALIYUN_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME (empty: the hospital profile's signature without
its brackets); optional ALIYUN_SMS_API_BASE_URL (tests/fake_aliyun.py) and ALIYUN_TIMEOUT_SECONDS.
Its delivery reports and replies come to messaging.webhooks.aliyun_report / aliyun_up.

Adding a provider
-----------------
A domestic provider (Alibaba Cloud SMS is `AliyunBackend`; Tencent Cloud SMS would be the next)
is one new class here with the same `send(*, to, body, reference, status_callback)`
method, registered in `BACKENDS` under the name `SMS_BACKEND` will use. Nothing outside this module
changes. The class's whole job is to map the provider's answers onto the four outcomes above:
return `SendResult` only when the provider accepted the message; `PermanentError` (or
`UnsubscribedError` for the provider's "recipient opted out" codes) when it certainly refused it;
`TransientError` when it certainly did not send (throttled, could not connect, bad credentials);
`UnknownOutcomeError` for everything else, above all timeouts and 5xx after the request went out.
Those providers take a registered signature and template code instead of free text, and deliver
status reports by a callback set per account rather than per message: the backend maps the body
onto a template and leaves `status_callback` unused, and the provider's report is matched on the
returned `provider_id`. Do not let the provider SDK retry on its own (the outbox decides).
"""

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urlsplit

import requests
from alibabacloud_dysmsapi20170525 import models as dysms_models
from alibabacloud_dysmsapi20170525.client import Client as DysmsClient
from alibabacloud_tea_openapi import exceptions as aliyun_exceptions
from alibabacloud_tea_openapi import models as aliyun_models
from darabonba.runtime import RuntimeOptions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from Tea.exceptions import TeaException
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from zhongdu import phones

logger = logging.getLogger(__name__)

# Seconds: long enough for Twilio on a slow day, short enough that a hung connection does not hold
# an outbox worker (and its claimed row) for minutes.
TWILIO_TIMEOUT = 10
# The same for Alibaba Cloud SMS (ALIYUN_TIMEOUT_SECONDS overrides it).
ALIYUN_TIMEOUT = 10
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    status: str  # the provider's own word for it, e.g. Twilio's "queued"


class SmsError(Exception):
    """`code` is short and stable enough to store on the outbox row ("21211", "http-503")."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PermanentError(SmsError):
    """Not sent, and sending the same message again will fail the same way."""

    unsubscribed = False


class UnsubscribedError(PermanentError):
    """The recipient replied STOP: the provider refuses every message to them until START."""

    unsubscribed = True


class TransientError(SmsError):
    """Not sent (the request never reached the provider, or it refused it unread): retry later."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None):
        super().__init__(code, message)
        self.retry_after = retry_after


class UnknownOutcomeError(SmsError):
    """The provider may have accepted the message; a blind retry could send it twice."""


# What an error stored on the outbox row means, said for staff (the SMS pages show this; the code
# and the provider's own text stay beside it, small, for support): Twilio's error codes that
# come up (https://www.twilio.com/docs/api/errors), this module's own codes for a connection that
# failed, and the delivery report's status when the report carries no code.
ERROR_EXPLANATIONS = {
    "20003": _("The SMS account's credentials were refused: an administrator checks them."),
    "20429": _("The SMS provider asked us to slow down: the message is sent a little later."),
    "21211": _("The number is not a valid phone number."),
    "21408": _("The SMS account may not send to this country or region."),
    "21610": _(
        "The client unsubscribed (replied TD or STOP): nothing more is sent to this number."
    ),
    "21611": _("Too many messages are waiting at the provider: the message is sent later."),
    "21614": _("The number is not a mobile number."),
    "30003": _("The phone could not be reached (switched off or out of coverage)."),
    "30004": _("The number does not accept messages (blocked)."),
    "30005": _("The number does not exist or is no longer in use."),
    "30006": _("The number is a landline or cannot receive SMS."),
    "30007": _("The carrier filtered the message out (it may have looked like spam)."),
    "30008": _("The carrier could not deliver it and gave no reason."),
    "connect": _("The SMS provider could not be reached: the message is sent later."),
    "connection-lost": _(
        "The connection to the SMS provider broke off: the message may or may not have gone out."
    ),
    "read-timeout": _(
        "The SMS provider did not answer in time: the message may or may not have gone out."
    ),
    "http": _("The SMS provider could not be reached."),
    "undelivered": _("The carrier could not deliver it."),
    "failed": _("The SMS provider could not send it."),
    # Alibaba Cloud SMS: SendSms answers (https://help.aliyun.com/document_detail/101346.html)...
    "isv.BUSINESS_LIMIT_CONTROL": _(
        "The SMS provider's limit of messages to this number was reached: the message is sent "
        "later."
    ),
    "isv.DAY_LIMIT_CONTROL": _(
        "The SMS account's daily limit was reached: the message is sent later."
    ),
    "Throttling": _("The SMS provider asked us to slow down: the message is sent a little later."),
    "Throttling.User": _(
        "The SMS provider asked us to slow down: the message is sent a little later."
    ),
    "isv.MOBILE_NUMBER_ILLEGAL": _("The number is not a valid phone number."),
    "isv.MOBILE_COUNT_OVER_LIMIT": _("Too many numbers in one request to the SMS provider."),
    "isv.TEMPLATE_MISSING_PARAMETERS": _(
        "The template's values do not match the template approved with the SMS provider."
    ),
    "isv.INVALID_PARAMETERS": _("The SMS provider refused the request's values."),
    "isv.INVALID_JSON_PARAM": _("The SMS provider refused the request's values."),
    "isv.SMS_TEMPLATE_ILLEGAL": _(
        "The SMS provider does not know this template or has not approved it."
    ),
    "isv.SMS_SIGNATURE_ILLEGAL": _("The SMS provider has not approved the SMS signature."),
    "isv.BLACK_KEY_CONTROL_LIMIT": _("A value in the message contains a word the provider blocks."),
    "isv.PARAM_LENGTH_LIMIT": _("A value in the message is longer than the provider allows."),
    "isv.PARAM_NOT_SUPPORT_URL": _("The SMS provider takes no link as a template value."),
    "isv.DENY_IP_RANGE": _(
        "The SMS provider refuses requests from this server's address: an administrator "
        "checks the account's settings."
    ),
    "InvalidAccessKeyId.NotFound": _(
        "The SMS account's credentials were refused: an administrator checks them."
    ),
    "InvalidAccessKeyId.Inactive": _(
        "The SMS account's credentials were refused: an administrator checks them."
    ),
    "SignatureDoesNotMatch": _(
        "The SMS account's credentials were refused: an administrator checks them."
    ),
    "isv.OUT_OF_SERVICE": _(
        "The SMS account is suspended: messages are sent once an administrator restores it."
    ),
    "isv.AMOUNT_NOT_ENOUGH": _(
        "The SMS account's balance is too low: messages are sent once it is topped up."
    ),
    "isv.ACCOUNT_ABNORMAL": _(
        "The SMS account is suspended: messages are sent once an administrator restores it."
    ),
    "isp.SYSTEM_ERROR": _("The SMS provider had a fault."),
    "InternalError": _("The SMS provider had a fault."),
    # ... and its delivery reports' codes.
    "MOBILE_NOT_ON_SERVICE": _("The number is suspended or no longer in use."),
    "MOBILE_ACCOUNT_ABNORMAL": _("The recipient's phone account is suspended (e.g. unpaid)."),
    "MOBILE_IN_BLACK": _("The number does not accept messages (blocked)."),
    "MOBILE_TERMINAL_ERROR": _("The phone could not be reached (switched off or out of coverage)."),
    "USER_REJECT": _("The recipient refuses messages from this sender."),
    "INVALID_NUMBER": _("The number does not exist or is no longer in use."),
    "CONTENT_KEYWORD": _("The carrier filtered the message out (it may have looked like spam)."),
    "SP_UNKNOWN_ERROR": _("The carrier could not deliver it and gave no reason."),
    "UNDELIV": _("The carrier could not deliver it."),
}
# The outbox keeps 30 characters of a code; a longer one (isv.TEMPLATE_MISSING_PARAMETERS) is
# still explained.
_STORED_CODE_LENGTH = 30


def error_explanation(code: str) -> str:
    """What an outbox row's error code means, in the viewer's language ("" for no error)."""
    if not code:
        return ""
    if code in ERROR_EXPLANATIONS:
        return str(ERROR_EXPLANATIONS[code])
    if len(code) == _STORED_CODE_LENGTH:
        for full, explanation in ERROR_EXPLANATIONS.items():
            if full.startswith(code):
                return str(explanation)
    if code.startswith("http-5"):
        return str(_("The SMS provider had a fault."))
    if code in ("http-401", "http-403"):
        return str(ERROR_EXPLANATIONS["20003"])
    if code == "http-429":
        return str(ERROR_EXPLANATIONS["20429"])
    return str(_("The SMS provider reported an error."))


def send(
    *,
    to: str,
    body: str,
    reference: str = "",
    status_callback: str = "",
    template_code: str = "",
    params: dict | None = None,
    route: str = "",
) -> SendResult:
    """Send one SMS to an E.164 number. `reference` (e.g. the outbox row id) only goes to logs;
    `status_callback` is this message's own delivery-report URL (empty: none). `template_code`
    and `params` are the provider's template and its parameter values (a domestic provider sends
    those; Twilio and the console the rendered `body`). `route` names the backend
    (messaging.rules.route_for picks it by destination); empty means settings.SMS_BACKEND."""
    # Checked here, not only by Twilio, so development and tests see the same failure as production.
    if not phones.is_e164(to):
        raise PermanentError("invalid-number", f"{phones.mask(to) or 'empty'} is not E.164")
    name = route or settings.SMS_BACKEND
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"SMS backend {name!r}; expected one of {', '.join(BACKENDS)}."
        ) from None
    return _instance(backend).send(
        to=to,
        body=body,
        reference=reference,
        status_callback=status_callback,
        template_code=template_code,
        params=params or {},
    )


def routes() -> dict[str, str]:
    """Which backend serves mainland numbers ("cn") and all others ("other"): settings.SMS_ROUTES
    (from `SMS_ROUTES=cn=aliyun,other=twilio`). Without it, SMS_BACKEND serves both when it is
    a local one (console, memory); a provider serves only what it may: Twilio the numbers
    outside the mainland, the domestic provider the mainland ones."""
    configured = getattr(settings, "SMS_ROUTES", None)
    if configured:
        return dict(configured)
    backend = settings.SMS_BACKEND
    if backend in LOCAL_BACKENDS:
        return {"cn": backend, "other": backend}
    return {"cn": backend} if backend in DOMESTIC_BACKENDS else {"other": backend}


_instances = threading.local()


# The settings a backend is built from: a change (a test, a chaos run) builds a new one.
_BACKEND_SETTINGS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE_URL",
    "TWILIO_TIMEOUT_SECONDS",
    "ALIYUN_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_SECRET",
    "ALIYUN_SMS_SIGN_NAME",
    "ALIYUN_SMS_API_BASE_URL",
    "ALIYUN_TIMEOUT_SECONDS",
)


def _instance(backend):
    """One backend object per thread, backend and configuration: the Twilio client keeps its
    HTTP connection open between messages (a new TLS connection per SMS cost more than the SMS),
    and its recorded last response is never shared between two threads. Kept per backend, so
    that messages alternating between two routes do not rebuild the clients each time."""
    key = tuple(str(getattr(settings, name, "")) for name in _BACKEND_SETTINGS)
    cache = getattr(_instances, "cache", None)
    if cache is None:
        cache = _instances.cache = {}
    cached = cache.get(backend)
    if cached is None or cached[0] != key:
        cached = cache[backend] = (key, backend())
    return cached[1]


def _connection_error(exc: requests.RequestException) -> SmsError:
    """What a failed HTTP exchange (no answer to read) says about the message."""
    if isinstance(exc, requests.ConnectTimeout):
        # The TCP connection never opened, so no request bytes left this machine.
        return TransientError("connect-timeout", str(exc))
    if isinstance(exc, requests.ConnectionError):
        # requests uses this one class both for "could not connect" (refused, DNS) and for
        # "the connection dropped while we waited for the answer", which comes after the
        # provider has read our POST. Only the first is safe to retry.
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError):
            return TransientError("connect", str(cause.reason))
        return UnknownOutcomeError("connection-lost", str(exc))
    # Read timeouts and the rest: the POST was sent and no answer came back.
    code = "read-timeout" if isinstance(exc, requests.ReadTimeout) else "http"
    return UnknownOutcomeError(code, str(exc))


class ConsoleBackend:
    """Development: shows the message instead of sending it. The number is masked because a
    developer's terminal and log files are not where patients' phone numbers belong."""

    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str = "",
        status_callback: str = "",
        template_code: str = "",
        params: dict | None = None,
    ) -> SendResult:
        provider_id = f"console-{uuid.uuid4()}"
        # repr() keeps a multi-line body on one line.
        line = f"SMS to {phones.mask(to)} [{reference or '-'}] {provider_id}: {body!r}"
        if status_callback:
            line += f" (status to {status_callback})"
        print(line)  # printing is this backend's whole job
        logger.info("%s", line)
        return SendResult(provider_id=provider_id, status="sent")


class SentMessage(NamedTuple):
    to: str
    body: str
    reference: str
    status_callback: str = ""
    template_code: str = ""
    params: dict | None = None


# Every message the memory backend "sent", oldest first; tests read it and call clear().
outbox: list[SentMessage] = []


def clear() -> None:
    outbox.clear()


class MemoryBackend:
    """Tests: records the message and sends nothing."""

    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str = "",
        status_callback: str = "",
        template_code: str = "",
        params: dict | None = None,
    ) -> SendResult:
        outbox.append(SentMessage(to, body, reference, status_callback, template_code, params))
        return SendResult(provider_id=f"memory-{len(outbox)}", status="sent")


class _RecordingHttpClient(TwilioHttpClient):
    """Keeps the last response: Twilio's exceptions carry no headers, and a 429's Retry-After is
    one. Each thread has its own client (`_instance`), so this is never shared between two
    sends at once."""

    last_response = None

    def request(self, *args, **kwargs):
        self.last_response = None
        self.last_response = super().request(*args, **kwargs)
        return self.last_response


class TwilioBackend:
    def __init__(self):
        names = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
        missing = [name for name in names if not getattr(settings, name, "")]
        # A messaging service picks the sender itself; without one we must name the number.
        self.messaging_service_sid = getattr(settings, "TWILIO_MESSAGING_SERVICE_SID", "")
        self.from_number = getattr(settings, "TWILIO_FROM_NUMBER", "")
        if not (self.messaging_service_sid or self.from_number):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        if missing:
            raise ImproperlyConfigured(f"The twilio SMS backend needs {', '.join(missing)}.")
        # No max_retries: the SDK must never resend a POST on its own; retrying is the outbox's
        # decision, made with the error classes below. TWILIO_TIMEOUT is read here, not at import,
        # so tests can lower it; TWILIO_TIMEOUT_SECONDS lets a chaos run do the same by setting.
        timeout = getattr(settings, "TWILIO_TIMEOUT_SECONDS", None) or TWILIO_TIMEOUT
        self.http_client = _RecordingHttpClient(timeout=timeout)
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=self.http_client
        )
        if base_url := getattr(settings, "TWILIO_API_BASE_URL", ""):
            # The SDK builds every Messages URL as api.base_url + "/2010-04-01/Accounts/{sid}/
            # Messages.json" (twilio/base/domain.py, Domain.absolute_url), so moving the `api`
            # domain moves the real SDK, unchanged, onto the fake server.
            self.client.api.base_url = base_url.rstrip("/")

    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str = "",
        status_callback: str = "",
        template_code: str = "",
        params: dict | None = None,
    ) -> SendResult:
        # One sender, and no empty StatusCallback: arguments we have no value for are left out.
        options = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = self.client.messages.create(to=to, body=body, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._http_error(exc, to) from exc
        except requests.RequestException as exc:
            raise _connection_error(exc) from exc
        masked = phones.mask(to)
        logger.info("SMS %s to %s accepted by Twilio as %s", reference, masked, message.sid)
        return SendResult(provider_id=message.sid, status=message.status or "")

    def _http_error(self, exc, to: str) -> SmsError:
        status = exc.status
        # Without a Twilio error code in the body (a proxy's HTML page), the SDK puts the HTTP
        # status in `code`; say so, rather than pass "503" off as a Twilio code.
        code = str(exc.code) if exc.code and exc.code != status else f"http-{status}"
        text = exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title
        # Twilio repeats the number in its error text ("The 'To' number +86... is not valid");
        # this message is stored and logged, so it gets the same masking as everything else.
        text = str(text).replace(to, phones.mask(to))
        if status == 429 or code == "21611":  # too many requests / too many queued for our number
            return TransientError(code, text, retry_after=self._retry_after())
        if status == 503:  # Twilio refused the request unread (overload, maintenance)
            return TransientError(code, text)
        if status == 401:
            # Our credentials, not this message: nothing was sent and it will go once they are
            # fixed; failing it permanently would silently drop every queued reminder.
            return TransientError(code, text)
        if code == "21610":
            return UnsubscribedError(code, text)
        if 400 <= status < 500:  # 21211 invalid number, 21614 not a mobile, 21408 region, ...
            return PermanentError(code, text)
        # 500, 502, 504...: the error may have happened after Twilio queued the message.
        return UnknownOutcomeError(code, text)

    def _retry_after(self) -> int | None:
        response = self.http_client.last_response
        value = (response.headers or {}).get("Retry-After") if response else None
        if not value:
            return None
        if value.strip().isdigit():
            return int(value)
        try:  # the other form the header may take: an HTTP date
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        return max(0, int((moment - datetime.now(tz=UTC)).total_seconds()))


# Alibaba Cloud SMS's codes, by what they say about the message. Throttled: nothing was sent, it
# may go a little later (like Twilio's 429).
ALIYUN_THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"}
# Our account, not this message: nothing was sent, and it goes once an administrator fixed the
# account (like Twilio's 401). Failing them for good would silently drop every queued reminder;
# an address allow-list that leaves this server out is such a setting too.
ALIYUN_ACCOUNT = {
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "Forbidden.RAM",
    "isp.RAM_PERMISSION_DENY",
    "isv.OUT_OF_SERVICE",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isv.PRODUCT_UN_SUBSCRIPT",
    "isv.PRODUCT_UNSUBSCRIBE",
    "isv.DENY_IP_RANGE",
}
# The provider's own faults: it may or may not have taken the message.
ALIYUN_FAULT = {"isp.SYSTEM_ERROR", "InternalError", "ServiceUnavailable"}
# A number's per-minute limit (isv.BUSINESS_LIMIT_CONTROL) lifts after a minute.
ALIYUN_LIMIT_RETRY_AFTER = 60


def aliyun_connection(*, what: str, endpoint: str, base_url_setting: str, required=()):
    """The SDK configuration and runtime options of an Alibaba Cloud API (SMS here, the voice
    service in zhongdu.vms), with the account's AccessKey: one attempt per request (no
    retry_options, autoretry off: retrying is the caller's decision, made with the error
    classes above) and ALIYUN_TIMEOUT_SECONDS. The setting `base_url_setting`, when set, moves
    the real SDK unchanged onto a local fake: the SDK calls {protocol}://{endpoint}/ (the
    endpoint may carry a port). ImproperlyConfigured names the settings missing."""
    names = ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", *required)
    missing = [name for name in names if not getattr(settings, name, "")]
    if missing:
        raise ImproperlyConfigured(f"The aliyun {what} backend needs {', '.join(missing)}.")
    timeout = getattr(settings, "ALIYUN_TIMEOUT_SECONDS", None) or ALIYUN_TIMEOUT
    milliseconds = max(1, int(timeout * 1000))
    protocol = "https"
    if base_url := getattr(settings, base_url_setting, ""):
        parts = urlsplit(base_url)
        endpoint, protocol = parts.netloc, parts.scheme or "http"
    config = aliyun_models.Config(
        access_key_id=settings.ALIYUN_ACCESS_KEY_ID,
        access_key_secret=settings.ALIYUN_ACCESS_KEY_SECRET,
        endpoint=endpoint,
        protocol=protocol,
        connect_timeout=milliseconds,
        read_timeout=milliseconds,
    )
    runtime = RuntimeOptions(
        autoretry=False,
        max_attempts=1,
        connect_timeout=milliseconds,
        read_timeout=milliseconds,
    )
    return config, runtime


class AliyunBackend:
    """Alibaba Cloud SMS (dysmsapi, SendSms) through its official SDK. It sends a template
    approved in the provider's console, by its code and parameter values, under the registered
    signature; `body` and `status_callback` are unused (delivery reports come to the one address
    set in the console, messaging.webhooks.aliyun_report, and find their row by `OutId`, the
    outbox row id given here as `reference`)."""

    def __init__(self):
        config, self.runtime = aliyun_connection(
            what="SMS", endpoint=ALIYUN_ENDPOINT, base_url_setting="ALIYUN_SMS_API_BASE_URL"
        )
        self.client = DysmsClient(config)
        self.sign_name = getattr(settings, "ALIYUN_SMS_SIGN_NAME", "")

    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str = "",
        status_callback: str = "",
        template_code: str = "",
        params: dict | None = None,
    ) -> SendResult:
        if not template_code:
            # messaging.rules holds free text for this route before it gets here.
            raise PermanentError("no-template", "Alibaba Cloud SMS sends only approved templates")
        request = dysms_models.SendSmsRequest(
            phone_numbers=self._number(to),
            sign_name=self._sign_name(),
            template_code=template_code,
            # Every value as text: the provider refuses numbers (isv.INVALID_JSON_PARAM).
            template_param=json.dumps(
                {name: str(value) for name, value in (params or {}).items()}, ensure_ascii=False
            ),
            out_id=reference or None,
        )
        try:
            response = self.client.send_sms_with_options(request, self.runtime)
        except aliyun_exceptions.AlibabaCloudException as exc:  # an HTTP error with its body
            raise self._error(exc.code, exc.message, to, status=exc.status_code) from exc
        except TeaException as exc:  # no answer to read (the SDK wraps what requests raised)
            raise self._no_answer(exc) from exc
        answer = response.body
        if answer is None or answer.code != "OK" or not answer.biz_id:
            code = (answer.code if answer else "") or f"http-{response.status_code}"
            raise self._error(code, (answer.message if answer else "") or "", to)
        logger.info(
            "SMS %s to %s accepted by Alibaba Cloud as %s",
            reference,
            phones.mask(to),
            answer.biz_id,
        )
        return SendResult(provider_id=answer.biz_id, status=answer.code)

    @staticmethod
    def _number(to: str) -> str:
        """A mainland number as its 11 digits; any other as country code and number, no +."""
        return phones.national_digits(to) if to.startswith("+86") else to.lstrip("+")

    def _sign_name(self) -> str:
        """The registered signature, without the brackets the provider adds itself."""
        if self.sign_name:
            return self.sign_name
        from zhongdu.models import HospitalProfile  # read per message: an administrator edits it

        return HospitalProfile.current().signature.strip().lstrip("【").rstrip("】")

    @staticmethod
    def _error(code: str, message: str, to: str, *, status: int | None = None) -> SmsError:
        code = code or f"http-{status}"
        # The provider may repeat the number in its text; stored and logged, it is masked.
        text = str(message or "")
        for form in (to, phones.national_digits(to)):
            if form:
                text = text.replace(form, phones.mask(to))
        if code in ALIYUN_THROTTLED or code.startswith("Throttling"):
            wait = (
                getattr(settings, "ALIYUN_LIMIT_RETRY_SECONDS", ALIYUN_LIMIT_RETRY_AFTER)
                if code == "isv.BUSINESS_LIMIT_CONTROL"
                else None
            )
            return TransientError(code, text, retry_after=wait)
        if code in ALIYUN_ACCOUNT or status in (401, 403):
            return TransientError(code, text)
        if code in ALIYUN_FAULT or (status or 0) >= 500:
            return UnknownOutcomeError(code, text)
        # A refusal we read, on an HTTP 4xx or in a 200's Code (isv.MOBILE_NUMBER_ILLEGAL,
        # isv.SMS_TEMPLATE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS ...): not sent, and the same
        # message would be refused again.
        if code.startswith("isv.") or (status is not None and 400 <= status < 500):
            return PermanentError(code, text)
        return UnknownOutcomeError(code, text)

    @staticmethod
    def _no_answer(exc: TeaException) -> SmsError:
        # The SDK turns what requests raised into RetryError(str(error)) inside the handler, so
        # the original is the inner exception's context.
        inner = getattr(exc, "inner_exception", None)
        cause = getattr(inner, "__context__", None)
        if isinstance(cause, requests.RequestException):
            return _connection_error(cause)
        return UnknownOutcomeError("http", str(inner or exc))


BACKENDS = {
    "console": ConsoleBackend,
    "memory": MemoryBackend,
    "twilio": TwilioBackend,
    "aliyun": AliyunBackend,
}
# Backends that send nothing out of this machine (development, tests): they may serve any number.
LOCAL_BACKENDS = {"console", "memory"}
# Providers that keep mainland numbers and messages in the country.
DOMESTIC_BACKENDS: set[str] = {"aliyun"}
