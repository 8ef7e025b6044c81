"""The fake Alibaba Cloud SMS API itself: what the backend's tests, the chaos test and the
benchmark rely on (its signature check, its chaos shares, its record, run as a process)."""

import hashlib
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import exceptions
from alibabacloud_tea_openapi import models as openapi_models
from darabonba.runtime import RuntimeOptions

from tests.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun

ROOT = Path(__file__).resolve().parent.parent


def sdk_send(fake, out_id="1", secret=ACCESS_KEY_SECRET, timeout_ms=5000):
    host = fake.url.removeprefix("http://")
    config = openapi_models.Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=secret,
        endpoint=host,
        protocol="http",
        read_timeout=timeout_ms,
    )
    request = models.SendSmsRequest(
        phone_numbers="13812345678",
        sign_name="中都皮肤病医院",
        template_code="SMS_1",
        template_param='{"name": "张伟"}',
        out_id=out_id,
    )
    return Client(config).send_sms_with_options(request, RuntimeOptions())


def test_the_chaos_shares_are_kept_and_a_seed_repeats_them():
    def rolls(seed):
        fake = FakeAliyun(fail_500=0.1, throttle=0.2, timeout=0.05, seed=seed)
        return [fake._roll() for _ in range(10_000)]

    counts = Counter(rolls(7))
    assert counts["500"] == pytest.approx(1000, rel=0.15)
    assert counts["throttle"] == pytest.approx(2000, rel=0.15)
    assert counts["timeout"] == pytest.approx(500, rel=0.15)
    assert rolls(7) == rolls(7)


def test_shares_above_one_are_refused():
    with pytest.raises(ValueError):
        FakeAliyun(fail_500=0.6, throttle=0.6)


def test_a_request_signed_by_the_sdk_is_taken_and_recorded():
    with FakeAliyun() as fake:
        answer = sdk_send(fake, out_id="42").body
    assert (answer.code, answer.message) == ("OK", "OK")
    (entry,) = fake.requests
    assert entry["biz_id"] == answer.biz_id and entry["out_id"] == "42"
    assert entry["params"] == {"name": "张伟"}


def test_a_request_signed_with_another_secret_is_refused():
    with FakeAliyun() as fake, pytest.raises(exceptions.ClientException) as caught:
        sdk_send(fake, secret="someone-elses")
    assert (caught.value.status_code, caught.value.code) == (400, "SignatureDoesNotMatch")
    assert fake.counts_by_out_id() == {}


def test_an_unsigned_or_altered_request_is_refused():
    with FakeAliyun() as fake:
        unsigned = requests.post(
            f"{fake.url}/?PhoneNumbers=13812345678", headers={"x-acs-action": "SendSms"}, timeout=5
        )
        forged = requests.post(
            f"{fake.url}/?PhoneNumbers=13812345678",
            headers={
                "x-acs-action": "SendSms",
                "x-acs-date": "2026-12-07T10:00:00Z",
                "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
                "Authorization": f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},"
                "SignedHeaders=host;x-acs-date,Signature=" + "0" * 64,
            },
            timeout=5,
        )
    assert (unsigned.status_code, unsigned.json()["Code"]) == (400, "IncompleteSignature")
    assert (forged.status_code, forged.json()["Code"]) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize(("accept_on_500", "outcome"), [(1, "500-accepted"), (0, "500-rejected")])
def test_a_500_counts_as_accepted_only_when_the_fake_decided_it_was_sent(accept_on_500, outcome):
    fake = FakeAliyun(fail_500=1.0, accept_on_500=accept_on_500)
    with fake, pytest.raises(exceptions.ServerException):
        sdk_send(fake)
    assert fake.requests[0]["outcome"] == outcome
    assert fake.counts_by_out_id() == ({"1": 1} if accept_on_500 else {})


def test_the_same_out_id_accepted_twice_shows_as_a_duplicate():
    with FakeAliyun() as fake:
        sdk_send(fake, out_id="9")
        sdk_send(fake, out_id="9")
    assert fake.counts_by_out_id() == {"9": 2}


def test_stopping_does_not_wait_for_a_held_answer():
    fake = FakeAliyun(timeout=1.0, hang_seconds=60).start()
    with pytest.raises(Exception):  # noqa: B017 - the SDK wraps the read timeout
        sdk_send(fake, timeout_ms=200)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 5


def test_the_script_runs_the_fake_as_a_process_and_serves_its_record():
    process = subprocess.Popen(
        [sys.executable, "scripts/fake_aliyun.py", "--port", "0", "--seed", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().removeprefix("ALIYUN_SMS_API_BASE_URL=")
        keys = process.stdout.readline()
        assert ACCESS_KEY_ID in keys and ACCESS_KEY_SECRET in keys
        record = requests.get(f"{url}/_fake/requests", timeout=5).json()
        assert record == {"requests": [], "counts_by_out_id": {}}
    finally:
        process.terminate()
        summary, _ = process.communicate(timeout=10)
    assert "0 requests" in summary
