"""Run the fake Alibaba Cloud voice API (tests/fake_aliyun_vms.py) in the foreground.

    python scripts/fake_aliyun_vms.py --port 8767 --fail-500 0.05 --throttle 0.05 --timeout 0.02

Point the app at it with VOICE_BACKEND=aliyun, ALIYUN_VMS_API_BASE_URL=http://127.0.0.1:8767,
ALIYUN_VOICE_SHOW_NUMBER and the access key printed at start. GET /_fake/requests returns what
it received and the accepted count per OutId; Ctrl-C or SIGTERM stops it and prints a summary.
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

from tests.fake_aliyun_vms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SHOW_NUMBER, FakeAliyunVms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--fail-500", type=float, default=0.0, help="share answered 500")
    parser.add_argument("--throttle", type=float, default=0.0, help="share throttled")
    parser.add_argument("--timeout", type=float, default=0.0, help="share placed, not answered")
    parser.add_argument("--delay-ms", type=int, default=0, help="latency added to every request")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--accept-on-500", type=float, default=0.5, help="share of 500s placed")
    parser.add_argument("--hang-seconds", type=float, default=15.0, help="a timeout's hold")
    parser.add_argument(
        "--show-number",
        action="append",
        default=None,
        help=f"a show number of the account (repeatable); default: any (the app's: {SHOW_NUMBER})",
    )
    parser.add_argument(
        "--templates",
        default=None,
        help='approved TTS templates as JSON, {"TTS_123": ["name", "date"]}; default: any TTS_<n>',
    )
    parser.add_argument("--access-key-id", default=ACCESS_KEY_ID)
    parser.add_argument("--access-key-secret", default=ACCESS_KEY_SECRET)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()

    # SIGTERM (from a script) ends like Ctrl-C, so the summary is printed either way; set
    # before the address is printed, which is when a script may already send it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fake = FakeAliyunVms(
        args.port,
        args.fail_500,
        args.throttle,
        args.timeout,
        args.delay_ms,
        args.seed,
        host=args.host,
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        show_numbers=args.show_number,
        templates=json.loads(args.templates) if args.templates else None,
        accept_on_500=args.accept_on_500,
        hang_seconds=args.hang_seconds,
        verbose=args.verbose,
    )
    try:
        fake.start()
        print(f"ALIYUN_VMS_API_BASE_URL={fake.url}", flush=True)
        print(
            f"ALIYUN_ACCESS_KEY_ID={fake.access_key_id} "
            f"ALIYUN_ACCESS_KEY_SECRET={fake.access_key_secret} "
            f"ALIYUN_VOICE_SHOW_NUMBER={(args.show_number or [SHOW_NUMBER])[0]}",
            flush=True,
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        requests = fake.requests
        twice = sum(1 for n in fake.counts_by_out_id().values() if n > 1)
        outcomes = Counter(r["outcome"] for r in requests)
        actions = Counter(r["action"] for r in requests)
        print(
            f"{len(requests)} requests: {dict(actions)} {dict(outcomes)}; "
            f"OutIds called twice: {twice}"
        )


if __name__ == "__main__":
    main()
