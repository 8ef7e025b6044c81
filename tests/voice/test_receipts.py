"""The voice service's receipt push (/voice/aliyun/receipt/<secret>/): read, each call id
applied once, handed to the handler of its reference's prefix."""

import datetime
import json

import pytest
from django.urls import reverse

from voice import receipts
from voice.models import VoiceReceipt

pytestmark = pytest.mark.django_db
SECRET = "vR4-receipt-secret-0123456789abcdefABCDEF"


@pytest.fixture
def seen(settings, monkeypatch):
    """A handler for "msg" references that notes what it was given."""
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    got = []
    monkeypatch.setitem(receipts._handlers, "msg", lambda receipt, pk: got.append((receipt, pk)))
    return got


def push(client, items, secret=SECRET):
    return client.post(
        reverse("voice:aliyun_receipt", args=[secret]),
        data=json.dumps(items, ensure_ascii=False),
        content_type="application/json",
    )


def element(**fields):
    return {
        "call_id": "122628733198^10942206001",
        "out_id": "msg:41",
        "status_code": "200000",
        "start_time": "2026-12-07 10:02:40",
        "end_time": "2026-12-07 10:03:10",
        "duration": "30",
        "dtmf": "1",
        "callee": "1391234****",
        **fields,
    }


def test_an_answered_keypad_call_reaches_its_handler_with_the_keys_and_times(client, seen):
    response = push(client, [element()])
    assert response.status_code == 200
    assert response.json() == {"code": 0, "msg": "接收成功"}
    ((receipt, pk),) = seen
    assert pk == 41
    assert receipt.outcome == receipts.ANSWERED
    assert receipt.keys == "1"
    assert receipt.talk_seconds == 30
    # Beijing time, stored as UTC.
    assert receipt.answered_at == datetime.datetime(2026, 12, 7, 2, 2, 40, tzinfo=datetime.UTC)


def test_a_receipt_pushed_again_is_applied_once(client, seen):
    push(client, [element()])
    push(client, [element(), element(call_id="2^2", status_code="200002", dtmf="")])
    assert [(r.call_id, r.outcome) for r, _ in seen] == [
        ("122628733198^10942206001", receipts.ANSWERED),
        ("2^2", receipts.BUSY),
    ]
    assert VoiceReceipt.objects.count() == 2


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("200002", receipts.BUSY),
        ("200003", receipts.NO_ANSWER),
        ("200010", receipts.POWERED_OFF),
        ("200005", receipts.UNREACHABLE),
        ("200004", receipts.INVALID_NUMBER),
        ("999999", receipts.FAILED),
    ],
)
def test_a_single_call_outcome_is_read_from_its_status_code(code, outcome):
    receipt = receipts.parse(element(status_code=code))
    assert receipt.outcome == outcome
    assert receipt.keys == ""  # keys count only on an answered call
    assert receipt.talk_seconds == 0


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        (
            {"status_code": "200100", "b_duration": "95", "b_start_time": "2026-12-07 10:00:00"},
            "answered",
        ),
        ({"status_code": "200100", "b_duration": "0"}, "no_answer"),
        ({"status_code": "200003"}, "agent_unanswered"),
        ({"status_code": "200002"}, "agent_unanswered"),
        ({"status_code": "200112"}, "busy"),
        ({"status_code": "200113"}, "no_answer"),
        ({"status_code": "200010"}, "powered_off"),
    ],
)
def test_a_two_legged_call_tells_the_agents_leg_from_the_clients(fields, outcome):
    receipt = receipts.parse(element(out_id="call:7", duration="0", **fields))
    assert receipt.outcome == outcome
    if outcome == "answered":
        assert receipt.talk_seconds == 95


def test_the_wrong_secret_is_an_unknown_address_and_a_bad_element_a_400(client, seen):
    assert push(client, [element()], secret="guess").status_code == 404
    assert push(client, [element(call_id="")]).status_code == 400
    assert push(client, [element(out_id="msg:\x00")]).status_code == 400
    assert push(client, {"call_id": "x"}).status_code == 400
    assert not seen
    assert not VoiceReceipt.objects.exists()


def test_a_receipt_naming_nothing_of_ours_is_kept_and_not_applied(client, seen):
    assert (
        push(client, [element(out_id="other:5"), element(call_id="9^9", out_id="")]).status_code
        == 200
    )
    assert not seen
    assert VoiceReceipt.objects.count() == 2


def test_no_secret_configured_refuses_every_push(client, seen, settings):
    settings.ALIYUN_VOICE_RECEIPT_SECRET = ""
    assert push(client, [element()], secret="anything").status_code == 404


def test_a_guessable_receipt_secret_is_reported_at_start(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.ALIYUN_VOICE_RECEIPT_SECRET = "short"
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="WARNING")
    assert "ALIYUN_VOICE_RECEIPT_SECRET" in str(raised.value)
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    call_command("check", fail_level="WARNING")


def test_the_numbers_a_receipt_names_are_kept_masked(client, seen):
    push(client, [element(callee="13912345678", caller="037166668888")])
    kept = VoiceReceipt.objects.get().payload
    assert kept["callee"] == "139****5678" and "13912345678" not in json.dumps(kept)
    assert kept["caller"] != "037166668888"


@pytest.mark.parametrize(
    "when", ["0001-01-01 00:00:00", "9999-12-31 23:59:59", "2026-13-45 99:00:00"]
)
def test_a_time_no_call_happened_at_is_no_time_and_the_batch_is_taken(client, seen, when):
    assert push(client, [element(start_time=when, end_time=when)]).status_code == 200
    ((receipt, _pk),) = seen
    assert receipt.answered_at is None and receipt.ended_at is None
