"""Run the fake Alibaba Cloud SMS API (tests/fake_aliyun.py) in the foreground.

    python scripts/fake_aliyun.py --port 8766 --fail-500 0.05 --throttle 0.05 --timeout 0.02

Point the app at it with SMS_ROUTES=cn=aliyun,..., ALIYUN_SMS_API_BASE_URL=http://127.0.0.1:8766
and the access key printed at start. GET /_fake/requests returns what it received and the
accepted count per OutId (the outbox row id); Ctrl-C or SIGTERM stops it and prints a summary.
"""

import argparse
import json
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

# The fake lives with the tests; this script is run by path, so put the repo root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--fail-500", type=float, default=0.0, help="share answered 500")
    parser.add_argument("--throttle", type=float, default=0.0, help="share throttled")
    parser.add_argument("--timeout", type=float, default=0.0, help="share accepted, not answered")
    parser.add_argument("--delay-ms", type=int, default=0, help="latency added to every request")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--accept-on-500", type=float, default=0.5, help="share of 500s sent")
    parser.add_argument("--hang-seconds", type=float, default=15.0, help="a timeout's hold")
    parser.add_argument("--sign-name", action="append", default=None, help="an approved signature")
    parser.add_argument(
        "--templates",
        default=None,
        help='approved templates as JSON, {"SMS_123": ["name", "date"]}; default: any SMS_<n>',
    )
    parser.add_argument("--access-key-id", default=ACCESS_KEY_ID)
    parser.add_argument("--access-key-secret", default=ACCESS_KEY_SECRET)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()

    # SIGTERM (from a script) ends like Ctrl-C, so the summary is printed either way; set
    # before the address is printed, which is when a script may already send it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fake = FakeAliyun(
        args.port,
        args.fail_500,
        args.throttle,
        args.timeout,
        args.delay_ms,
        args.seed,
        host=args.host,
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        sign_names=args.sign_name,
        templates=json.loads(args.templates) if args.templates else None,
        accept_on_500=args.accept_on_500,
        hang_seconds=args.hang_seconds,
        verbose=args.verbose,
    )
    try:
        fake.start()
        print(f"ALIYUN_SMS_API_BASE_URL={fake.url}", flush=True)
        print(
            f"ALIYUN_ACCESS_KEY_ID={fake.access_key_id} "
            f"ALIYUN_ACCESS_KEY_SECRET={fake.access_key_secret}",
            flush=True,
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        requests = fake.requests
        duplicates = sum(1 for n in fake.counts_by_out_id().values() if n > 1)
        outcomes = Counter(r["outcome"] for r in requests)
        print(f"{len(requests)} requests: {dict(outcomes)}; OutIds accepted twice: {duplicates}")


if __name__ == "__main__":
    main()
