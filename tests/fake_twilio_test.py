"""The fake Twilio server itself: what the chaos test relies on when it counts duplicates."""

import time
from collections import Counter

import pytest
import requests

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

TO = "+8613812345678"


def post(fake, callback="https://crm.example.cn/s/1/", timeout=5):
    return requests.post(
        f"{fake.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": TO, "From": "+15005550006", "Body": "hi", "StatusCallback": callback},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=timeout,
    )


def test_the_chaos_shares_are_kept_and_a_seed_repeats_them():
    def rolls(seed):
        fake = FakeTwilio(fail_500=0.1, fail_429=0.2, timeout=0.05, seed=seed)
        return [fake._roll() for _ in range(10_000)]

    counts = Counter(rolls(7))
    assert counts["500"] == pytest.approx(1000, rel=0.15)
    assert counts["429"] == pytest.approx(2000, rel=0.15)
    assert counts["timeout"] == pytest.approx(500, rel=0.15)
    assert rolls(7) == rolls(7)


def test_shares_above_one_are_refused():
    with pytest.raises(ValueError):
        FakeTwilio(fail_500=0.6, fail_429=0.6)


@pytest.mark.parametrize(("accept_on_500", "outcome"), [(1, "500-accepted"), (0, "500-rejected")])
def test_a_500_counts_as_accepted_only_when_the_fake_decided_it_was_sent(accept_on_500, outcome):
    with FakeTwilio(fail_500=1, accept_on_500=accept_on_500) as fake:
        answer = post(fake)

    assert answer.status_code == 500
    assert answer.json()["code"] == 20500
    assert [r["outcome"] for r in fake.requests] == [outcome]
    assert sum(fake.counts_by_callback().values()) == accept_on_500


def test_the_same_callback_accepted_twice_shows_as_a_duplicate():
    with FakeTwilio() as fake:
        post(fake, "https://crm.example.cn/s/1/")
        post(fake, "https://crm.example.cn/s/1/")
        post(fake, "https://crm.example.cn/s/2/")

    assert fake.counts_by_callback() == {
        "https://crm.example.cn/s/1/": 2,
        "https://crm.example.cn/s/2/": 1,
    }


def test_the_record_is_served_as_json_for_a_fake_in_another_process():
    with FakeTwilio() as fake:
        post(fake)
        answer = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()

    assert [r["outcome"] for r in answer["requests"]] == ["created"]
    assert answer["counts_by_callback"] == {"https://crm.example.cn/s/1/": 1}


def test_an_unknown_path_is_twilios_404():
    with FakeTwilio() as fake:
        answer = requests.post(
            f"{fake.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json", timeout=5
        )

    assert answer.status_code == 404
    assert answer.json()["code"] == 20404


def test_stopping_does_not_wait_for_a_held_answer():
    fake = FakeTwilio(timeout=1, hang_seconds=60).start()
    with pytest.raises(requests.ReadTimeout):
        post(fake, timeout=0.2)
    started = time.monotonic()

    fake.stop()

    assert time.monotonic() - started < 2
    assert [r["outcome"] for r in fake.requests] == ["timeout-accepted"]
