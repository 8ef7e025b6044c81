"""Run the fake hotline PBX (tests/fake_pbx.py): serve recordings, and play a day of calls.

    python scripts/fake_pbx.py --port 8767
    python scripts/fake_pbx.py --play-day --target http://127.0.0.1:8000/voice/cti/events/ \\
        --secret "$CTI_WEBHOOK_SECRET" --calls 300 --extensions 8001,8002,8003 --seed 1

Without --play-day it serves recordings in the foreground (any name: GET /recordings/<name>.wav)
until Ctrl-C or SIGTERM. Give the product CTI_RECORDING_BASE_URL=<the URL printed at start>.

With --play-day it posts a day of hotline calls, signed with --secret (or CTI_WEBHOOK_SECRET), to
--target: mainland mobile callers (some calling more than once), about 80 % answered (a few of
them transferred), 8 % abandoned in the queue, 4 % in the IVR, 4 % missed and 4 % voicemail,
busiest 9-11 and 14-16; each call's events in order, the calls' events interleaved as they would
happen. The recordings and voicemails they point at are served by this process; with
--keep-serving it goes on serving them after the day, for a product that fetches them later.

Timestamps: the product refuses an event whose timestamp is more than five minutes from its clock
(docs/cti.md), so every event is stamped with the time it is posted. The day's shape is kept in
the mix and the order of the events and, with --speed, in their pacing: --speed 60 plays each
hour of the day in a minute, --speed 1 in real time. Without --speed (the default) the events are
posted as fast as the product answers, one at a time.

It prints a summary (calls by outcome, events posted, answers by status) and exits 1 if any event
was answered with anything other than 200 (or not answered).
"""

import argparse
import os
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

# The fake lives with the tests; this script is run by path, so put the repo root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_pbx import FakePbx


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767, help="the recordings server's port")
    parser.add_argument("--play-day", action="store_true", help="post a day of calls to --target")
    parser.add_argument("--target", help="the product's webhook: .../voice/cti/events/")
    parser.add_argument("--secret", default=None, help="default: env CTI_WEBHOOK_SECRET")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--extensions", default="8001,8002,8003", help="comma-separated")
    parser.add_argument("--queue", default="hotline", help="the queue's code in the admin")
    parser.add_argument("--hotline", default="4001234567", help="the number called")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--speed", type=float, default=None, help="times real time; default: as fast as possible"
    )
    parser.add_argument("--keep-serving", action="store_true", help="serve on after the day")
    parser.add_argument("--huge-mb", type=float, default=5, help="the size of /recordings/huge.wav")
    parser.add_argument("--verbose", action="store_true", help="log every request and event")
    args = parser.parse_args(argv)

    # SIGTERM ends like Ctrl-C, so the summary is printed either way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not args.play_day:
        fake = FakePbx(
            args.port, args.seed, host=args.host, huge_mb=args.huge_mb, any_name=True
        ).start()
        print(f"CTI_RECORDING_BASE_URL={fake.url}", flush=True)
        return serve(fake)

    secret = args.secret if args.secret is not None else os.environ.get("CTI_WEBHOOK_SECRET")
    if not args.target or not secret:
        parser.error("--play-day needs --target and --secret (or CTI_WEBHOOK_SECRET)")
    if args.speed is not None and args.speed <= 0:
        parser.error("--speed is a factor of real time: above 0")
    extensions = [e.strip() for e in args.extensions.split(",") if e.strip()]
    if not extensions:
        parser.error("--extensions: at least one")
    fake = FakePbx(
        args.port,
        args.seed,
        host=args.host,
        secret=secret,
        hotline=args.hotline,
        huge_mb=args.huge_mb,
        verbose=args.verbose,
    ).start()
    print(f"CTI_RECORDING_BASE_URL={fake.url}", flush=True)
    outcomes, events = fake.plan_day(args.calls, extensions, queue=args.queue)
    refused = Counter()

    def on_answer(event, status, answer):
        if args.verbose:
            print(f"{event['type']} {event['call_id']}: {status} {answer}", flush=True)
        if status != 200:
            refused[(status, str((answer or {}).get("error", answer)))] += 1

    try:
        statuses = fake.play(args.target, events, speed=args.speed, on_answer=on_answer)
    except (KeyboardInterrupt, SystemExit):  # stopped mid-day: the summary of what was posted
        statuses = Counter(entry["status"] for entry in fake.posted)
    summary = ", ".join(f"{kind} {n}" for kind, n in outcomes.most_common())
    print(f"{args.calls} calls: {summary}")
    answers = ", ".join(f"{status} x {n}" for status, n in sorted(statuses.items(), key=str))
    print(f"{statuses.total()} of {len(events)} events posted; answers: {answers}")
    for (status, error), n in refused.most_common():
        print(f"refused: {status} {error} x {n}")
    failed = statuses.total() < len(events) or any(status != 200 for status in statuses)
    if args.keep_serving:
        serve(fake)
    else:
        fake.stop()
    return 1 if failed else 0


def serve(fake):
    """Serve recordings until Ctrl-C or SIGTERM, then print what was fetched."""
    try:
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fake.stop()
        print(f"{len(fake.fetches)} recordings fetched", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
