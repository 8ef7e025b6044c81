"""A fake of Alibaba Cloud's voice API (dyvmsapi 2017-05-25: ClickToDial, IvrCall,
SingleCallByTts), served over real HTTP on localhost.

The voice gateway (zhongdu/vms.py, VOICE_BACKEND=aliyun) is tested with the real SDK
(alibabacloud-dyvmsapi20170525) pointed at this server (settings ALIYUN_VMS_API_BASE_URL =
fake.url), so the SDK builds and signs the real request and parses real answers; benchmarks and
development run it as `scripts/fake_aliyun_vms.py`. The gateway, the signature check, the chaos
and the record are the SMS fake's (tests/fake_aliyun.py: AliyunFake, AliyunHandler,
acs3_refusal); this module says what the voice API serves and refuses.

What it answers, like the real API (help.aliyun.com, 语音服务 API 参考 and 错误码):

- POST / with the action in `x-acs-action` and the parameters in the query string (as the SDK
  sends this RPC API: IvrCall's MenuKeyMap flattened as MenuKeyMap.N.Key / MenuKeyMap.N.Code),
  signed with ACS3-HMAC-SHA256: 404 InvalidAccessKeyId.NotFound for a key it does not know,
  400 SignatureDoesNotMatch for a wrong secret or an altered request, 400 Missing<Name> for a
  required parameter left out (ClickToDial: CallerShowNumber, CallerNumber, CalledShowNumber,
  CalledNumber; IvrCall: CalledShowNumber, CalledNumber, StartCode; SingleCallByTts:
  CalledShowNumber, CalledNumber, TtsCode).
- The call checks come back as HTTP 200 with a Code other than "OK", as the real API does:
  isv.MOBILE_NUMBER_ILLEGAL (CalledNumber, or ClickToDial's CallerNumber, not a mainland number
  as national digits: a mobile 1[3-9] and 9 digits, or a landline 0 and its area code; the
  message repeats the number, so the gateway's masking of it is tested),
  isv.DISPLAY_NUMBER_ILLEGAL (号显不合法: a show number not in `show_numbers`, when given),
  isv.TTS_TEMPLATE_ILLEGAL (StartCode, TtsCode or a MenuKeyMap.N.Code not in `templates`, when
  given, else not of the TTS_<digits> shape), isv.TEMPLATE_MISSING_PARAMETERS (a parameter the
  template names left out), isv.INVALID_PARAMETERS (TTS parameters not a JSON object of text
  values, a menu key other than 0-9, * or #, PlayTimes outside 1-3).
- Accepted: 200 {"Code": "OK", "Message": "OK", "CallId": "<digits>^<digits>", "RequestId"}.
- Chaos, one roll per request, as the SMS fake's: `throttle` share → 200
  isv.BUSINESS_LIMIT_CONTROL, nothing placed; `fail_500` share → 500 InternalError, the call
  placed or not (`accept_on_500`); `timeout` share → the call is placed, then the answer is held
  for `hang_seconds`, longer than the client waits.
- GET /_fake/requests: the record below as JSON, for a fake run as another process.

`requests` records every request with its outcome: action, caller (ClickToDial's agent number),
called, caller_show_number, called_show_number, template_code, params (the TTS parameters,
read), menu_keys ({key: template played after it}), play_times, record (ClickToDial's
RecordFlag), notice_legs (the legs that heard the recording notice before they were joined:
both, when recorded), out_id, call_id, outcome. `counts_by_out_id()` counts the OutIds of the
calls the provider placed (or may have): one counted twice is a number called twice for one
message. `receipt()` builds the provider's push (VoiceReport) for a recorded call.
"""

import json
import random
import re
from datetime import UTC, datetime, timedelta

from tests.fake_aliyun import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    CHINA,
    AliyunFake,
    AliyunHandler,
)

__all__ = ["ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SHOW_NUMBER", "FakeAliyunVms"]

CLICK_TO_DIAL = "ClickToDial"
IVR_CALL = "IvrCall"
TTS_CALL = "SingleCallByTts"

# The hospital's number as the voice service shows it (a landline bought in its console).
SHOW_NUMBER = "037166668888"

# A mainland number as the API takes it: national digits, a mobile or a landline with its area
# code (no +86: the gateway sends phones.national_digits).
MAINLAND_NUMBER = re.compile(r"1[3-9]\d{9}|0[1-9]\d{8,10}")
TTS_TEMPLATE = re.compile(r"TTS_\d+")
MENU_KEY_ITEM = re.compile(r"MenuKeyMap\.(?P<n>\d+)\.(?P<field>Key|Code|TtsParams)")
MENU_KEYS = frozenset("0123456789*#")
# Where each action takes its TTS template and that template's parameters.
TEMPLATE_PARAMETERS = {IVR_CALL: ("StartCode", "StartTtsParams"), TTS_CALL: ("TtsCode", "TtsParam")}

# The call status codes of the receipt (呼叫状态码 / 运营商回执错误码) for each outcome a test
# asks for, with the provider's description. A single call (IvrCall, SingleCallByTts) has one
# leg. For a two-legged call (ClickToDial) busy, no answer, an invalid number and out of area
# (200002, 200003, 200004, 200007) are the first leg's, the agent's (the documentation: 双呼时指
# 主叫...); the 2001xx codes, and 200005 (被叫用户无法接通), 200010 and 200011, the client's.
SINGLE_CALL_OUTCOMES = {
    "answered": ("200000", "用户听完语音"),
    "hung_up": ("200001", "用户提前挂机未完整收听"),
    "busy": ("200002", "用户占线"),
    "no_answer": ("200003", "用户收到呼叫但未接听"),
    "invalid_number": ("200004", "用户号码不合法"),
    "unreachable": ("200005", "被叫用户无法接通"),
    "out_of_area": ("200007", "用户无法接通(不在服务区)"),
    "powered_off": ("200010", "关机"),
    "suspended": ("200011", "停机"),
}
CLICK_TO_DIAL_OUTCOMES = {
    **{name: value for name, value in SINGLE_CALL_OUTCOMES.items() if name != "hung_up"},
    "answered": ("200100", "呼叫结束"),
    "agent_busy": SINGLE_CALL_OUTCOMES["busy"],
    "agent_no_answer": SINGLE_CALL_OUTCOMES["no_answer"],
    "client_unreachable": ("200111", "被叫无法接通(拒绝)"),
    "client_busy": ("200112", "被叫占线"),
    "client_no_answer": ("200113", "被叫收到呼叫但未接听"),
    "client_invalid_number": ("200116", "被叫号码不合法"),
    "client_out_of_area": ("200120", "被叫无法接通(不在服务区)"),
}
# The outcomes in which the (first) phone rang: the others never reached a ringing phone.
RANG = frozenset({"answered", "hung_up", "no_answer", "agent_no_answer"})
# A two-legged call's outcomes on the agent's leg: the client was never rung.
AGENT_LEG = frozenset(
    {"busy", "no_answer", "invalid_number", "out_of_area", "agent_busy", "agent_no_answer"}
)


class FakeAliyunVms(AliyunFake):
    def __init__(self, *args, show_numbers=None, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        # None: any show number is the account's; any template code of the TTS_<digits> shape
        # is approved. templates: {code: [parameter names]}, or just the codes.
        self.show_numbers = set(show_numbers) if show_numbers is not None else None
        if templates is not None and not isinstance(templates, dict):
            templates = {code: [] for code in templates}
        self.templates = dict(templates) if templates is not None else None

    # -- what the provider pushes back (the voice receipt, VoiceReport) -----------------------

    @staticmethod
    def receipt(entry, *, outcome="answered", keys="", talk_seconds=30):
        """One element of the call-record push (VoiceReport, a JSON array) for a recorded call.

        `outcome`: answered, hung_up (single calls), busy, no_answer, invalid_number,
        unreachable, out_of_area, powered_off, suspended; for ClickToDial also agent_busy,
        agent_no_answer (the agent's own leg, A, not answered, as busy and no_answer are there),
        client_busy, client_no_answer, client_unreachable, client_invalid_number,
        client_out_of_area (the client's leg, B, as unreachable, powered_off and suspended are).
        `keys`: the keys pressed in an IvrCall, in order ("1", "47"). `talk_seconds`: how long
        the listener stayed, or for ClickToDial how long agent and client talked. Times are
        Beijing time without a zone, as the provider writes them; a time that did not happen
        is empty and its duration 0 (b_duration is a number, the rest text, as documented)."""
        two_legged = entry["action"] == CLICK_TO_DIAL
        outcomes = CLICK_TO_DIAL_OUTCOMES if two_legged else SINGLE_CALL_OUTCOMES
        if outcome not in outcomes:
            raise ValueError(f"{entry['action']} has no outcome {outcome!r}: {', '.join(outcomes)}")
        status_code, status_msg = outcomes[outcome]
        answered = outcome in ("answered", "hung_up")
        # A two-legged call that failed on the client's leg: the agent answered.
        agent_answered = two_legged and outcome not in AGENT_LEG
        seconds = max(0, int(talk_seconds)) if answered else 0

        now = datetime.now(tz=UTC) + CHINA
        originate = now - timedelta(seconds=seconds + 40)
        ring = originate + timedelta(seconds=2)
        start = ring + timedelta(seconds=6)  # the (first) leg answered

        def at(moment):
            return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""

        record = {
            "call_id": entry["call_id"],
            "out_id": entry["out_id"],
            "status_code": status_code,
            "status_msg": status_msg,
            "originate_time": at(originate),
            "ring_time": at(ring if outcome in RANG or agent_answered else None),
            "dtmf": keys if entry["action"] == IVR_CALL and answered else "",
            # Who hung up: the listener who left early, or either party of a two-legged call;
            # else the platform (the message played out, or the attempt ended).
            "hangup_direction": (
                "用户" if outcome == "hung_up" or (answered and two_legged) else "机器"
            ),
            "voice_type": "voice",
            "toll_type": "UNKNOWN",
        }
        if two_legged:
            # The client is rung once the agent answered (and, recorded, heard the notice); the
            # call's own times are the agent's leg.
            b_originate = start + timedelta(seconds=5 if entry.get("record") else 1)
            client_rang = answered or outcome == "client_no_answer"
            b_start = b_originate + timedelta(seconds=6) if answered else None
            b_end = b_start + timedelta(seconds=seconds) if answered else None
            end = (b_end or b_originate + timedelta(seconds=20)) if agent_answered else None
            record |= {
                "caller": entry["caller"],
                "callee": entry["called"],
                "caller_show_num": entry["caller_show_number"],
                "callee_show_num": entry["called_show_number"],
                "start_time": at(start if agent_answered else None),
                "end_time": at(end),
                "duration": str(int((end - start).total_seconds()) if end else 0),
                "b_originate_time": at(b_originate if agent_answered else None),
                "b_ring_time": at(b_originate + timedelta(seconds=2) if client_rang else None),
                "b_start_time": at(b_start),
                "b_end_time": at(b_end),
                "b_duration": seconds,
            }
        else:
            end = start + timedelta(seconds=seconds) if answered else None
            record |= {
                "caller": entry["called_show_number"],
                "callee": entry["called"],
                "start_time": at(start if answered else None),
                "end_time": at(end),
                "duration": str(seconds),
                "b_start_time": at(start if answered else None),
                "b_end_time": at(end),
                "b_duration": seconds,
            }
        return record


class _Handler(AliyunHandler):
    server_version = "FakeAliyunVms/1.0"
    host_id = "dyvmsapi.aliyuncs.com"
    actions = {
        CLICK_TO_DIAL: ("CallerShowNumber", "CallerNumber", "CalledShowNumber", "CalledNumber"),
        IVR_CALL: ("CalledShowNumber", "CalledNumber", "StartCode"),
        TTS_CALL: ("CalledShowNumber", "CalledNumber", "TtsCode"),
    }
    id_field, id_key = "CallId", "call_id"
    throttled = ("isv.BUSINESS_LIMIT_CONTROL", "触发流控")

    @property
    def fake(self) -> FakeAliyunVms:
        return self.server.fake

    def _entry(self, action, query):
        record = action == CLICK_TO_DIAL and query.get("RecordFlag", "").lower() == "true"
        template, template_param = TEMPLATE_PARAMETERS.get(action, ("", ""))
        return {
            "action": action,
            "caller": query.get("CallerNumber", "") if action == CLICK_TO_DIAL else "",
            "called": query.get("CalledNumber", ""),
            "caller_show_number": query.get("CallerShowNumber", ""),
            "called_show_number": query.get("CalledShowNumber", ""),
            "template_code": query.get(template, ""),
            "template_param": query.get(template_param, ""),
            "params": None,  # the TTS parameters, read, when they are a JSON object
            "menu_keys": _menu_keys(query),
            "play_times": query.get("PlayTimes", ""),
            "record": record,
            # A recorded two-legged call plays its recording notice to both legs before it
            # joins them.
            "notice_legs": ["caller", "called"] if record else [],
            "out_id": query.get("OutId", ""),
            "call_id": None,
            "outcome": None,
        }

    def _new_id(self):
        return f"{random.randint(10**11, 10**12 - 1)}^{random.randint(10**10, 10**11 - 1)}"

    def _refused(self, entry):
        """(Code, Message) of the API's 200 refusal of this call, or None if it places it."""
        fake = self.fake
        numbers = [entry["caller"]] if entry["action"] == CLICK_TO_DIAL else []
        for number in [*numbers, entry["called"]]:
            if not MAINLAND_NUMBER.fullmatch(number):
                return "isv.MOBILE_NUMBER_ILLEGAL", f"号码格式非法:{number}"
        shows = [entry["called_show_number"]]
        if entry["action"] == CLICK_TO_DIAL:
            shows.insert(0, entry["caller_show_number"])
        if fake.show_numbers is not None and any(s not in fake.show_numbers for s in shows):
            return "isv.DISPLAY_NUMBER_ILLEGAL", "号显不合法"
        if entry["action"] == CLICK_TO_DIAL:
            return None
        codes = [entry["template_code"], *entry["menu_keys"].values()]
        if not all(self._approved(code) for code in codes):
            return "isv.TTS_TEMPLATE_ILLEGAL", "TTS模板不合法"
        try:
            params = json.loads(entry["template_param"] or "{}")
        except ValueError:
            return "isv.INVALID_PARAMETERS", "参数异常:TTS参数不是JSON"
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return "isv.INVALID_PARAMETERS", "参数异常:TTS参数只接受字符串值"
        entry["params"] = params
        template = (fake.templates or {}).get(entry["template_code"], [])
        if missing := [name for name in template if name not in params]:
            return "isv.TEMPLATE_MISSING_PARAMETERS", f"文本转语音模板参数缺失:{missing[0]}"
        if any(key not in MENU_KEYS for key in entry["menu_keys"]):
            return "isv.INVALID_PARAMETERS", "参数异常:MenuKeyMap.Key"
        if entry["play_times"] and entry["play_times"] not in ("1", "2", "3"):
            return "isv.INVALID_PARAMETERS", "参数异常:PlayTimes取值范围为1~3"
        return None

    def _approved(self, code):
        templates = self.fake.templates
        return code in templates if templates is not None else bool(TTS_TEMPLATE.fullmatch(code))


def _menu_keys(query):
    """IvrCall's MenuKeyMap as the SDK flattens it (MenuKeyMap.1.Key=1, MenuKeyMap.1.Code=TTS_2,
    ...) -> {key: code}, in the order of N."""
    items = {}
    for name, value in query.items():
        if match := MENU_KEY_ITEM.fullmatch(name):
            items.setdefault(int(match["n"]), {})[match["field"]] = value
    return {item.get("Key", ""): item.get("Code", "") for _, item in sorted(items.items())}


# The server the fake runs (tests/fake_server.py): its thread's name and its handler.
FakeAliyunVms.name = "fake-aliyun-vms"
FakeAliyunVms.handler = _Handler
