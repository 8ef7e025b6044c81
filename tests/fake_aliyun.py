"""A fake of Alibaba Cloud SMS's SendSms API (dysmsapi 2017-05-25), served over real HTTP on
localhost, and what it shares with the fake of the voice API (tests/fake_aliyun_vms.py).

The aliyun backend is tested with the real SDK (alibabacloud-dysmsapi20170525) pointed at this
server (settings ALIYUN_SMS_API_BASE_URL = fake.url), so the SDK builds and signs the real
request and parses real answers. The chaos test and the benchmark run it the same way, in the
test process or as `scripts/fake_aliyun.py`, with a share of requests throttled, answered 500 or
not answered at all.

What it answers, like the real API (https://help.aliyun.com/document_detail/419273.html):

- POST / with the action in `x-acs-action: SendSms` and the parameters in the query string,
  signed with ACS3-HMAC-SHA256 in the Authorization header (checked here against the spec,
  independently of the SDK's own code): 404 InvalidAccessKeyId.NotFound for a key it does not
  know, 400 SignatureDoesNotMatch for a wrong secret or an altered request, 400 Missing* for a
  required parameter left out.
- The SMS checks come back as HTTP 200 with a Code other than "OK", as the real API does:
  isv.MOBILE_NUMBER_ILLEGAL (not a mainland mobile), isv.SMS_SIGNATURE_ILLEGAL (a signature
  not in `sign_names`, when given), isv.SMS_TEMPLATE_ILLEGAL (a template code not in
  `templates`, when given), isv.TEMPLATE_MISSING_PARAMETERS (a parameter the template names
  left out), isv.INVALID_JSON_PARAM (TemplateParam not a JSON object of text values).
- Accepted: 200 {"Code": "OK", "Message": "OK", "BizId": "...", "RequestId": "..."}.
- Chaos, one roll per request: `throttle` share → 200 isv.BUSINESS_LIMIT_CONTROL, not sent;
  `fail_500` share → 500 InternalError, and the provider may or may not have taken the message
  first (`accept_on_500`); `timeout` share → the message is accepted, then the answer is held
  for `hang_seconds`, longer than the client waits.
- GET /_fake/requests: the record below as JSON, for a chaos run whose fake is another process.

`requests` records every SendSms call with its outcome. `counts_by_out_id()` counts the OutIds
(the outbox row ids) of the ones the provider would have sent (ACCEPTED): one counted twice is a
message that reached the patient twice. `report()` and `reply()` build the pushes the provider
would send to the application (messaging.webhooks) for a recorded message or a patient's reply.

Shared by both Alibaba Cloud fakes (the account, its gateway and its chaos are the same):
`acs3_refusal` (the signature check), `AliyunFake` (the access key, the chaos shares, the record)
and `AliyunHandler` (one POST / from the signature check to the answer; a fake's handler says
which actions it serves, which parameters they require and what the API refuses).
"""

import hashlib
import hmac
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

from tests.fake_server import FakeServer

ACCESS_KEY_ID = "LTAI5tFakeAccessKeyId01"
ACCESS_KEY_SECRET = "fake-access-key-secret-0123456789"

# Outcomes after which the provider would (or, for a 500, might) deliver the message.
ACCEPTED = frozenset({"OK", "500-accepted", "timeout-accepted"})

SIGNATURE_ALGORITHM = "ACS3-HMAC-SHA256"
AUTHORIZATION = re.compile(
    r"ACS3-HMAC-SHA256 Credential=(?P<key>[^,]*),SignedHeaders=(?P<headers>[^,]*),"
    r"Signature=(?P<signature>[0-9a-f]*)"
)
# A mainland mobile, with any of the prefixes the API accepts.
MAINLAND_MOBILE = re.compile(r"(?:\+86|0086|86)?(?P<national>1[3-9]\d{9})")
CHINA = timedelta(hours=8)


def acs3_refusal(request, path, query, body, *, access_key_id, access_key_secret):
    """(status, code, message) of the gateway's refusal of a request's signature, or None.

    ACS3-HMAC-SHA256 as documented (the V3 request signature), checked here independently of
    the SDK's own code: a canonical request of the method, path, sorted encoded query, the
    signed headers and the payload's hash, signed with the secret. `request` is the handler
    (its command and headers), `query` the parameters as one value per name."""
    match = AUTHORIZATION.fullmatch(request.headers.get("Authorization", ""))
    if not match:
        return 400, "IncompleteSignature", "The request signature does not conform."
    if match["key"] != access_key_id:
        return 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
    payload = hashlib.sha256(body).hexdigest()
    if request.headers.get("x-acs-content-sha256", "") != payload:
        return 400, "SignatureDoesNotMatch", "The payload hash does not match."
    signed = match["headers"].split(";")
    if "host" not in signed or "x-acs-date" not in signed:
        return 400, "IncompleteSignature", "Host and x-acs-date must be signed."
    canonical_query = "&".join(f"{_encode(name)}={_encode(query[name])}" for name in sorted(query))
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in request.headers.get_all(name, [])))}\n"
        for name in signed
    )
    canonical = "\n".join(
        [request.command, path, canonical_query, canonical_headers, match["headers"], payload]
    )
    to_sign = f"{SIGNATURE_ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    expected = hmac.new(access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        return 400, "SignatureDoesNotMatch", "Specified signature is not matched."
    return None


class AliyunFake(FakeServer):
    """An Alibaba Cloud RPC API on localhost: the access key it knows, its chaos shares and the
    record of what it was sent. A fake sets `name` and `handler` (an AliyunHandler)."""

    def __init__(
        self,
        port=0,
        fail_500=0.0,
        throttle=0.0,
        timeout=0.0,
        delay_ms=0,
        seed=None,
        *,
        host="127.0.0.1",
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        accept_on_500=0.5,
        hang_seconds=15.0,
        verbose=False,
    ):
        if fail_500 + throttle + timeout > 1:
            raise ValueError("fail_500 + throttle + timeout is a share of requests: at most 1")
        self.host, self.port = host, port
        self.fail_500, self.throttle, self.timeout = fail_500, throttle, timeout
        self.delay = delay_ms / 1000
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.accept_on_500 = accept_on_500
        # Default well past the clients' ALIYUN_TIMEOUT (10 s), so a "timeout" times them out.
        self.hang_seconds = hang_seconds
        self.verbose = verbose
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._requests = []
        self._stopping = threading.Event()
        self._server = self._thread = None

    # -- the record --------------------------------------------------------------------------

    @property
    def requests(self):
        """A copy of every request so far, oldest first (the handler's `_entry`)."""
        with self._lock:
            return list(self._requests)

    def counts_by_out_id(self):
        """OutId -> how many times it was accepted; > 1 is a duplicate send."""
        return Counter(r["out_id"] for r in self.requests if r["outcome"] in ACCEPTED)

    def clear(self):
        with self._lock:
            self._requests.clear()

    def _record(self, entry):
        with self._lock:
            self._requests.append(entry)

    def _random_below(self, share):
        with self._lock:  # random.Random is not safe to share between threads unguarded
            return self._random.random() < share

    def _roll(self):
        """The chaos this request gets: "throttle", "500", "timeout" or None."""
        with self._lock:
            value = self._random.random()
        for outcome, share in (("throttle", self.throttle), ("500", self.fail_500)):
            if value < share:
                return outcome
            value -= share
        return "timeout" if value < self.timeout else None


class AliyunHandler(BaseHTTPRequestHandler):
    """One POST / to an Alibaba Cloud RPC API, in the gateway's order: the action, the signature,
    the version, the required parameters, the chaos roll, the API's own checks, the answer.

    A fake's handler sets `actions` ({x-acs-action: the parameters it requires}), `host_id`,
    `id_field` / `id_key` (the id an accepted request gets: in the answer, in the record), and
    defines `_entry(action, query)` (the record of a request), `_refused(entry)` ((Code, Message)
    of the API's 200 refusal, or None) and `_new_id()`."""

    protocol_version = "HTTP/1.1"
    api_version = "2017-05-25"
    host_id = "aliyuncs.com"
    actions = {}
    id_field, id_key = "BizId", "biz_id"
    throttled = ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")

    @property
    def fake(self) -> AliyunFake:
        return self.server.fake

    def log_message(self, format, *args):
        if self.fake.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        if self.path == "/_fake/requests":
            counts = self.fake.counts_by_out_id()
            return self._json(200, {"requests": self.fake.requests, "counts_by_out_id": counts})
        self._error(404, "InvalidAction.NotFound", "Specified api is not found.")

    def do_POST(self):
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if fake.delay:
            time.sleep(fake.delay)
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        action = self.headers.get("x-acs-action", "")
        if url.path != "/" or action not in self.actions:
            return self._error(404, "InvalidAction.NotFound", "Specified api is not found.")
        entry = self._entry(action, query)
        problem = acs3_refusal(
            self,
            url.path,
            query,
            body,
            access_key_id=fake.access_key_id,
            access_key_secret=fake.access_key_secret,
        )
        if problem:
            self._record(entry, problem[1])
            return self._error(*problem)
        if self.headers.get("x-acs-version", "") != self.api_version:
            self._record(entry, "InvalidVersion")
            return self._error(400, "InvalidVersion", "Specified parameter Version is not valid.")
        for name in self.actions[action]:
            if not query.get(name):
                self._record(entry, f"Missing{name}")
                return self._error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        chaos = fake._roll()
        if chaos == "throttle":  # refused before the provider looks at the request
            self._record(entry, self.throttled[0])
            return self._answer(*self.throttled)
        if problem := self._refused(entry):
            self._record(entry, problem[0])
            return self._answer(*problem)
        entry[self.id_key] = self._new_id()
        if chaos == "500":
            accepted = fake._random_below(fake.accept_on_500)
            self._record(entry, "500-accepted" if accepted else "500-rejected")
            return self._error(
                500, "InternalError", "The request processing has failed due to some unknown error."
            )
        if chaos == "timeout":
            self._record(entry, "timeout-accepted")
            fake._stopping.wait(fake.hang_seconds)  # the client gives up meanwhile
        else:
            self._record(entry, "OK")
        self._json(
            200,
            {
                "Code": "OK",
                "Message": "OK",
                self.id_field: entry[self.id_key],
                "RequestId": _request_id(),
            },
        )

    def _entry(self, action, query):
        raise NotImplementedError

    def _refused(self, entry):
        raise NotImplementedError

    def _new_id(self):
        raise NotImplementedError

    # -- answers -----------------------------------------------------------------------------

    def _record(self, entry, outcome):
        # `outcome`: "OK", 500-accepted, 500-rejected, timeout-accepted, or the API's Code.
        entry["outcome"] = str(outcome)
        self.fake._record(entry)

    def _answer(self, code, message):
        """The API's answer to a request it refused: HTTP 200 with the Code."""
        self._json(200, {"Code": code, "Message": message, "RequestId": _request_id()})

    def _error(self, status, code, message):
        """The gateway's error body for a request it refused."""
        body = {
            "RequestId": _request_id(),
            "HostId": self.host_id,
            "Code": code,
            "Message": message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}",
        }
        self._json(status, body)

    def _json(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left, which is the point of a "timeout"


class FakeAliyun(AliyunFake):
    def __init__(self, *args, sign_names=None, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        # None: any signature / any template code of the SMS_<digits> shape is approved.
        # templates: {code: [parameter names]}.
        self.sign_names = set(sign_names) if sign_names is not None else None
        self.templates = dict(templates) if templates is not None else None

    # -- what the provider pushes back (messaging.webhooks.aliyun_report / aliyun_up) ----------

    @staticmethod
    def report(entry, *, success=True, err_code="DELIVERED", err_msg=None):
        """One element of the delivery-report push (SmsReport) for a recorded request."""
        now = datetime.now(tz=UTC) + CHINA  # the provider writes Beijing time, without a zone
        return {
            "phone_number": entry["phone"],
            "send_time": (now - timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S"),
            "report_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "success": success,
            "err_code": err_code,
            "err_msg": err_msg if err_msg is not None else ("用户接收成功" if success else "失败"),
            "sms_size": "1",
            "biz_id": entry["biz_id"],
            "out_id": entry["out_id"],
        }

    @staticmethod
    def reply(phone, content, *, sequence_id=None, sign_name="中都皮肤病医院"):
        """One element of the upstream push (SmsUp): a patient's reply from a national number."""
        now = datetime.now(tz=UTC) + CHINA
        return {
            "phone_number": phone,
            "send_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "content": content,
            "sign_name": sign_name,
            "dest_code": "1234",
            "sequence_id": sequence_id or random.randint(10**9, 10**10),
        }


class _Handler(AliyunHandler):
    server_version = "FakeAliyun/1.0"
    host_id = "dysmsapi.aliyuncs.com"
    actions = {"SendSms": ("PhoneNumbers", "SignName", "TemplateCode")}
    id_field, id_key = "BizId", "biz_id"

    def _entry(self, action, query):
        return {
            "phone": query.get("PhoneNumbers", ""),
            "sign_name": query.get("SignName", ""),
            "template_code": query.get("TemplateCode", ""),
            "template_param": query.get("TemplateParam", ""),
            "params": None,  # TemplateParam, read, when it is a JSON object
            "out_id": query.get("OutId", ""),
            "biz_id": None,
            "outcome": None,
        }

    def _new_id(self):
        return f"{random.randint(10**17, 10**18 - 1)}^0"

    def _refused(self, entry):
        """(Code, Message) of the API's 200 refusal of this message, or None if it takes it."""
        fake = self.fake
        number = MAINLAND_MOBILE.fullmatch(entry["phone"])
        if not number:
            return "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"
        entry["phone"] = number["national"]
        if fake.sign_names is not None and entry["sign_name"] not in fake.sign_names:
            return "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名"
        code = entry["template_code"]
        if fake.templates is not None and code not in fake.templates:
            return "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"
        if fake.templates is None and not re.fullmatch(r"SMS_\d+", code):
            return "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"
        try:
            params = json.loads(entry["template_param"] or "{}")
        except ValueError:
            return "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值"
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值"
        entry["params"] = params
        missing = [name for name in (fake.templates or {}).get(code, []) if name not in params]
        if missing:
            return "isv.TEMPLATE_MISSING_PARAMETERS", f"模板变量缺少对应参数值: {missing[0]}"
        return None


def _encode(value):
    return quote(str(value), safe="~")


def _request_id():
    return str(uuid.uuid4()).upper()


# The server the fake runs (tests/fake_server.py): its thread's name and its handler.
FakeAliyun.name = "fake-aliyun"
FakeAliyun.handler = _Handler
