"""Run the fake Twilio Messages API (tests/fake_twilio.py) in the foreground.

    python scripts/fake_twilio.py --port 8765 --fail-500 0.05 --fail-429 0.05 --timeout 0.02

Point the app at it with SMS_BACKEND=twilio, TWILIO_API_BASE_URL=http://127.0.0.1:8765 and the
account SID / auth token printed at start. GET /_fake/requests returns what it received and the
accepted count per status-callback URL; Ctrl-C or SIGTERM stops it and prints a summary.
"""

import argparse
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

# The fake lives with the tests; this script is run by path, so put the repo root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fail-500", type=float, default=0.0, help="share answered 500")
    parser.add_argument("--fail-429", type=float, default=0.0, help="share answered 429")
    parser.add_argument("--timeout", type=float, default=0.0, help="share accepted, not answered")
    parser.add_argument("--delay-ms", type=int, default=0, help="latency added to every request")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--accept-on-500", type=float, default=0.5, help="share of 500s sent")
    parser.add_argument("--hang-seconds", type=float, default=15.0, help="a timeout's hold")
    parser.add_argument("--unsubscribed", action="append", default=[], help="an opted-out number")
    parser.add_argument("--account-sid", default=ACCOUNT_SID)
    parser.add_argument("--auth-token", default=AUTH_TOKEN)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()

    fake = FakeTwilio(
        args.port,
        args.fail_500,
        args.fail_429,
        args.timeout,
        args.delay_ms,
        args.seed,
        host=args.host,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        unsubscribed=args.unsubscribed,
        accept_on_500=args.accept_on_500,
        hang_seconds=args.hang_seconds,
        verbose=args.verbose,
    ).start()
    print(f"TWILIO_API_BASE_URL={fake.url}", flush=True)
    print(f"TWILIO_ACCOUNT_SID={fake.account_sid} TWILIO_AUTH_TOKEN={fake.auth_token}", flush=True)

    # SIGTERM (from a chaos script) ends like Ctrl-C, so the summary is printed either way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        requests = fake.requests
        duplicates = sum(1 for n in fake.counts_by_callback().values() if n > 1)
        outcomes = Counter(r["outcome"] for r in requests)
        print(f"{len(requests)} requests: {dict(outcomes)}; callbacks accepted twice: {duplicates}")


if __name__ == "__main__":
    main()
