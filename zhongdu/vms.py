"""Voice gateway: the one place that talks to a voice provider (CONVENTIONS item 10), as
zhongdu/sms.py is for SMS.

Three kinds of call, all through the domestic voice service (Alibaba Cloud's 语音服务, official SDK
alibabacloud-dyvmsapi20170525), so that mainland numbers and what is said to them stay in the
country:

- `click_to_dial`: a two-legged call (ClickToDial, 语音双呼): the provider rings the agent's own
  line first, then the client, and joins them; both see the hospital's number
  (settings.ALIYUN_VOICE_SHOW_NUMBER), neither the other's. With `record`, the call is recorded
  and the recording notice is played to both legs before they are joined.
- `ivr_call`: a keypad call (IvrCall) from an approved TTS template: the listener presses keys
  (a reminder's 1/2/9, a survey's score); the keys come back in the call's receipt.
- `tts_call`: a notification read out (SingleCallByTts) from an approved TTS template.

Every function returns `CallStarted` (the provider's call id) when the provider took the call,
and raises zhongdu.sms's error classes otherwise, with the same meaning: `PermanentError` (never
placed, and never will be), `TransientError` (never placed: try later), `UnknownOutcomeError` (it
may have been placed: never call again blindly). How the call went (answered, busy, no answer,
powered off, the keys pressed) comes later in the provider's receipt (voice.webhooks).

`settings.VOICE_BACKEND` picks the backend: "console" (development: printed, not called),
"memory" (tests that do not exercise the provider: recorded in `placed`), "aliyun". The SDK 5.x
has no typed ClickToDial method; it goes through the SDK's generic `call_api`, which signs and
sends it exactly as the typed methods do.

Settings read by the Alibaba Cloud backend: ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET (the
SMS account's), ALIYUN_VOICE_SHOW_NUMBER; optional ALIYUN_VMS_API_BASE_URL (tests and benchmarks:
tests/fake_aliyun_vms.py) and ALIYUN_TIMEOUT_SECONDS.
"""

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field

from alibabacloud_dyvmsapi20170525 import models as vms_models
from alibabacloud_dyvmsapi20170525.client import Client as VmsClient
from alibabacloud_tea_openapi import exceptions as aliyun_exceptions
from alibabacloud_tea_openapi import utils_models as open_api_util_models
from alibabacloud_tea_openapi.utils import Utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from Tea.exceptions import TeaException

from zhongdu import phones
from zhongdu.sms import (
    ALIYUN_ACCOUNT,
    ALIYUN_FAULT,
    ALIYUN_TIMEOUT,  # noqa: F401 (the voice route's default wait, as SMS's)
    PermanentError,
    SmsError,
    TransientError,
    UnknownOutcomeError,
    aliyun_connection,
)
from zhongdu.sms import AliyunBackend as SmsAliyunBackend

logger = logging.getLogger(__name__)

VMS_ENDPOINT = "dyvmsapi.aliyuncs.com"
VMS_VERSION = "2017-05-25"

CLICK_TO_DIAL = "ClickToDial"
IVR_CALL = "IvrCall"
TTS_CALL = "SingleCallByTts"

# The provider's flow control (a number called too often, the account's concurrency):
# nothing was placed, try again a little later.
VMS_THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User"}
VMS_LIMIT_RETRY_AFTER = 60

__all__ = [
    "CallStarted",
    "PermanentError",
    "TransientError",
    "UnknownOutcomeError",
    "click_to_dial",
    "ivr_call",
    "serves",
    "tts_call",
]


@dataclass(frozen=True)
class CallStarted:
    call_id: str


@dataclass(frozen=True)
class PlacedCall:
    """A call the memory backend "placed" (tests read `placed`)."""

    action: str
    to: str
    reference: str
    agent: str = ""
    template_code: str = ""
    params: dict = field(default_factory=dict)
    menu_keys: dict = field(default_factory=dict)
    record: bool = False
    call_id: str = ""


# Every call the memory backend placed, oldest first; tests read it and call clear().
placed: list[PlacedCall] = []


def clear() -> None:
    placed.clear()


def backend_name() -> str:
    return getattr(settings, "VOICE_BACKEND", "console") or "console"


def serves(number: str) -> bool:
    """Does the configured voice route call this number? The domestic provider calls mainland
    numbers only; the local backends (console, memory) stand in for it, on the same terms. Any
    other number is dialled by hand (the staff pages offer it after a reason)."""
    return phones.classify(number).mainland


def show_number() -> str:
    return getattr(settings, "ALIYUN_VOICE_SHOW_NUMBER", "") or ""


def click_to_dial(
    *, agent_number: str, client_number: str, reference: str, record: bool = True
) -> CallStarted:
    """Ring `agent_number` (the agent's own line), then `client_number`, under the hospital's
    number. `reference` (OutId) comes back in the receipt."""
    for number in (agent_number, client_number):
        _check(number)
    return _backend().click_to_dial(
        agent_number=agent_number, client_number=client_number, reference=reference, record=record
    )


def ivr_call(
    *,
    to: str,
    template_code: str,
    params: dict,
    menu_keys: dict[str, str],
    reference: str,
    play_times: int = 2,
) -> CallStarted:
    """A keypad call: the approved TTS template `template_code` with `params`, read up to
    `play_times` times; `menu_keys` maps each key the listener may press to the approved TTS
    template (or voice file ID) the provider plays back when it is pressed (MenuKeyMap.N.Code:
    the provider refuses anything else, a word such as "confirm" included). What a key means is
    the caller's to keep: the receipt carries the keys pressed."""
    _check(to)
    return _backend().ivr_call(
        to=to,
        template_code=template_code,
        params=params,
        menu_keys=menu_keys,
        reference=reference,
        play_times=play_times,
    )


def tts_call(*, to: str, template_code: str, params: dict, reference: str) -> CallStarted:
    """A notification read out from the approved TTS template `template_code`."""
    _check(to)
    return _backend().tts_call(
        to=to, template_code=template_code, params=params, reference=reference
    )


def _check(number: str) -> None:
    if not phones.is_e164(number):
        raise PermanentError("invalid-number", f"{phones.mask(number) or 'empty'} is not E.164")
    if not serves(number):
        raise PermanentError("no-route", "the domestic voice route calls mainland numbers only")


BACKENDS = {}
_instances = threading.local()
_BACKEND_SETTINGS = (
    "ALIYUN_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_SECRET",
    "ALIYUN_VOICE_SHOW_NUMBER",
    "ALIYUN_VMS_API_BASE_URL",
    "ALIYUN_TIMEOUT_SECONDS",
)


def _backend():
    name = backend_name()
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"VOICE_BACKEND {name!r}; expected one of {', '.join(BACKENDS)}."
        ) from None
    key = tuple(str(getattr(settings, setting, "")) for setting in _BACKEND_SETTINGS)
    cache = getattr(_instances, "cache", None)
    if cache is None:
        cache = _instances.cache = {}
    cached = cache.get(name)
    if cached is None or cached[0] != key:
        cached = cache[name] = (key, backend())
    return cached[1]


class ConsoleBackend:
    """Development: prints the call instead of placing it, with the numbers masked."""

    def _print(self, line: str) -> CallStarted:
        call_id = f"console-{uuid.uuid4()}"
        line = f"{line} [{call_id}]"
        print(line)  # printing is this backend's whole job
        logger.info("%s", line)
        return CallStarted(call_id=call_id)

    def click_to_dial(self, *, agent_number, client_number, reference, record):
        return self._print(
            f"CALL agent {phones.mask(agent_number)} then client {phones.mask(client_number)}"
            f" as {show_number() or '-'} [{reference}]{' recorded' if record else ''}"
        )

    def ivr_call(self, *, to, template_code, params, menu_keys, reference, play_times):
        keys = ", ".join(f"{key}={code}" for key, code in menu_keys.items())
        return self._print(
            f"IVR CALL to {phones.mask(to)} [{reference}] {template_code} {params!r} keys {keys}"
        )

    def tts_call(self, *, to, template_code, params, reference):
        return self._print(
            f"TTS CALL to {phones.mask(to)} [{reference}] {template_code} {params!r}"
        )


class MemoryBackend:
    """Tests: records the call and places nothing."""

    def _place(self, call: PlacedCall) -> CallStarted:
        call_id = f"memory-{len(placed) + 1}"
        placed.append(PlacedCall(**{**call.__dict__, "call_id": call_id}))
        return CallStarted(call_id=call_id)

    def click_to_dial(self, *, agent_number, client_number, reference, record):
        return self._place(
            PlacedCall(CLICK_TO_DIAL, client_number, reference, agent=agent_number, record=record)
        )

    def ivr_call(self, *, to, template_code, params, menu_keys, reference, play_times):
        return self._place(
            PlacedCall(
                IVR_CALL,
                to,
                reference,
                template_code=template_code,
                params=dict(params),
                menu_keys=dict(menu_keys),
            )
        )

    def tts_call(self, *, to, template_code, params, reference):
        return self._place(
            PlacedCall(TTS_CALL, to, reference, template_code=template_code, params=dict(params))
        )


class AliyunBackend:
    """Alibaba Cloud's voice service (dyvmsapi) through its official SDK, one attempt per call:
    retrying is the caller's decision (the outbox's rules, an agent's second click)."""

    def __init__(self):
        config, self.runtime = aliyun_connection(
            what="voice",
            endpoint=VMS_ENDPOINT,
            base_url_setting="ALIYUN_VMS_API_BASE_URL",
            required=("ALIYUN_VOICE_SHOW_NUMBER",),
        )
        self.client = VmsClient(config)
        self.protocol = config.protocol.upper()
        self.show_number = settings.ALIYUN_VOICE_SHOW_NUMBER

    @staticmethod
    def _number(to: str) -> str:
        return phones.national_digits(to)

    def click_to_dial(self, *, agent_number, client_number, reference, record):
        query = {
            "CallerShowNumber": self.show_number,
            "CallerNumber": self._number(agent_number),
            "CalledShowNumber": self.show_number,
            "CalledNumber": self._number(client_number),
            "RecordFlag": "true" if record else "false",
            "OutId": reference,
        }
        params = open_api_util_models.Params(
            action=CLICK_TO_DIAL,
            version=VMS_VERSION,
            protocol=self.protocol,
            pathname="/",
            method="POST",
            auth_type="AK",
            style="RPC",
            req_body_type="formData",
            body_type="json",
        )
        request = open_api_util_models.OpenApiRequest(query=Utils.query(query))
        numbers = (agent_number, client_number)
        answer = self._call(lambda: self.client.call_api(params, request, self.runtime), numbers)
        body = (answer or {}).get("body") or {}
        return self._started(body.get("Code"), body.get("Message"), body.get("CallId"), numbers)

    def ivr_call(self, *, to, template_code, params, menu_keys, reference, play_times):
        request = vms_models.IvrCallRequest(
            called_number=self._number(to),
            called_show_number=self.show_number,
            start_code=template_code,
            start_tts_params=json.dumps(
                {name: str(value) for name, value in params.items()}, ensure_ascii=False
            ),
            menu_key_map=[
                vms_models.IvrCallRequestMenuKeyMap(key=key, code=code)
                for key, code in menu_keys.items()
            ],
            play_times=play_times,
            out_id=reference,
        )
        response = self._call(
            lambda: self.client.ivr_call_with_options(request, self.runtime), (to,)
        )
        answer = response.body
        return self._started(
            answer.code if answer else "",
            answer.message if answer else "",
            answer.call_id if answer else "",
            (to,),
        )

    def tts_call(self, *, to, template_code, params, reference):
        request = vms_models.SingleCallByTtsRequest(
            called_number=self._number(to),
            called_show_number=self.show_number,
            tts_code=template_code,
            tts_param=json.dumps(
                {name: str(value) for name, value in params.items()}, ensure_ascii=False
            ),
            out_id=reference,
        )
        response = self._call(
            lambda: self.client.single_call_by_tts_with_options(request, self.runtime), (to,)
        )
        answer = response.body
        return self._started(
            answer.code if answer else "",
            answer.message if answer else "",
            answer.call_id if answer else "",
            (to,),
        )

    def _call(self, request, numbers):
        try:
            return request()
        except aliyun_exceptions.AlibabaCloudException as exc:  # an HTTP error with its body
            raise _error(exc.code, exc.message, numbers, status=exc.status_code) from exc
        except TeaException as exc:  # no answer to read: what requests raised, as for SMS
            raise SmsAliyunBackend._no_answer(exc) from exc

    @staticmethod
    def _started(code, message, call_id, numbers) -> CallStarted:
        if code != "OK" or not call_id:
            # An "OK" without a CallId is no refusal: stored as "OK" it would read as success.
            code = code if code and code != "OK" else "no-call-id"
            raise _error(code, message or "", numbers)
        return CallStarted(call_id=str(call_id))


def _error(code: str, message: str, numbers, *, status: int | None = None) -> SmsError:
    """The provider's refusal as one of the four outcomes (as zhongdu.sms does for SMS)."""
    code = code or f"http-{status}"
    text = str(message or "")
    for number in numbers:
        for form in (number, phones.national_digits(number)):
            if form:
                text = text.replace(form, phones.mask(number))
    if code in VMS_THROTTLED or code.startswith("Throttling"):
        # The SMS account's setting: one provider, one flow control (a chaos run shortens it).
        wait = getattr(settings, "ALIYUN_LIMIT_RETRY_SECONDS", VMS_LIMIT_RETRY_AFTER)
        return TransientError(code, text, retry_after=wait)
    if code in ALIYUN_ACCOUNT or status in (401, 403):
        return TransientError(code, text)
    if code in ALIYUN_FAULT or (status or 0) >= 500:
        return UnknownOutcomeError(code, text)
    if code.startswith("isv.") or (status is not None and 400 <= status < 500):
        return PermanentError(code, text)
    return UnknownOutcomeError(code, text)


BACKENDS.update({"console": ConsoleBackend, "memory": MemoryBackend, "aliyun": AliyunBackend})
