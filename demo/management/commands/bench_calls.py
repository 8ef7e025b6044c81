"""Time the hotline: the CTI events webhook and the answering agent's pop, at N clients.

    python manage.py bench_calls --clients 1000000 [--requests 200]

Tops the clients up (as bench_clients does), then plays calls from real clients' numbers through
the whole Django stack in process (DEBUG off), each event signed and stamped as it is sent: the
ringing (which looks the caller up by number), the answer (by the bench agent's extension), the
end. Between the answer and the end the agent's screen asks for its pop twice: once while the
call is new to it (the pop rendered) and once with the version it shows (nothing new, 204).
Interleaved with the floor and a signed-in page as the other benchmarks. Prints median and p95
latency, database time, queries per request and the ratios, then how soon the pop shows after an
answer at worst: the poll's interval plus its p95. Targets: the webhook's p95 under 50 ms at
1,000,000 clients; the pop within two seconds of the answer.
"""

import json
import random
import statistics
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from demo import bench
from voice import selectors as voice
from voice.models import Agent, CallQueue
from voice.services import signature
from zhongdu import live, roles

BENCH_USERNAME = "bench_agent"
BENCH_EXTENSION = "9901"
SECRET = "bench-calls-secret"  # noqa: S105 (the benchmark signs its own events with it)


class Command(BaseCommand):
    help = "Time the CTI events webhook and the agent's pop at N clients (median, p95, queries)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000, metavar="N")
        parser.add_argument("--requests", type=int, default=200, help="calls timed")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--force", action="store_true", help="run even when DJANGO_DEBUG is false"
        )

    def handle(self, *args, clients, requests, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to add benchmark clients with DJANGO_DEBUG=false;"
                " pass --force if this database is yours to fill."
            )
        if requests < 1:
            raise CommandError("--requests must be at least 1.")
        count = bench.top_up_clients(clients, stdout=self.stdout)
        rng = random.Random(seed)  # noqa: S311 (picks test rows, not secrets)
        n = requests + bench.WARM_UP
        rows = [row for row in bench.sample_clients(rng, n) if row.phone]
        if not rows:
            raise CommandError("No client with a phone number to call from.")
        callers = [rng.choice(rows).phone for _ in range(n)]
        user = bench.bench_user(BENCH_USERNAME, roles.CONSULTANT)
        agent, _created = Agent.objects.update_or_create(
            user=user, defaults={"extension": BENCH_EXTENSION}
        )
        CallQueue.objects.get_or_create(
            code="bench", defaults={"name": "基准测试", "active": False}
        )
        run_id = uuid.uuid4().hex[:8]
        webhook, pop = reverse("voice:cti_events"), reverse("voice:pop")

        def event(kind, i, **fields):
            def made():
                body = json.dumps(
                    {
                        "id": str(uuid.uuid4()),
                        "type": kind,
                        "timestamp": timezone.now().isoformat(),
                        "call_id": f"bench-{run_id}-{i}",
                        **fields,
                    }
                ).encode()
                return bench.Post(webhook, body, {"X-CTI-Signature": signature(body, SECRET)})

            return made

        def poll(shown):
            def made():
                since = voice.pop_version(agent) if shown else "new"
                return f"{pop}?{live.SINCE}={since}"

            return made

        scenarios = [
            (bench.BASELINE, [reverse("home")] * n),
            (
                "webhook: ringing",
                [
                    event("ringing", i, direction="inbound", caller=callers[i], queue="bench")
                    for i in range(n)
                ],
            ),
            (
                "webhook: answered",
                [event("answered", i, extension=BENCH_EXTENSION) for i in range(n)],
            ),
            ("pop: the call answered", [poll(shown=False) for _ in range(n)]),
            ("pop: nothing new", [poll(shown=True) for _ in range(n)]),
            ("webhook: ended", [event("ended", i, hold_seconds=0) for i in range(n)]),
        ]
        with override_settings(CTI_WEBHOOK_SECRET=SECRET):
            results = bench.run(
                scenarios,
                user,
                floor=bench.floor_urls(bench.floor_values(n)),
                answers={"pop: nothing new": {204}},
            )
        self.stdout.write(
            f"\n{count:,} clients on {connection.vendor}; {requests} calls, each event signed"
            f" and sent through the whole stack, interleaved, after {bench.WARM_UP} warm-up"
            " calls; DEBUG off.\n"
        )
        self.stdout.write(bench.table(results))
        pops = [sample.ms for sample in results["pop: the call answered"]]
        worst = voice.POP_SECONDS + bench.p95(pops) / 1000
        webhook_p95 = max(
            bench.p95([sample.ms for sample in results[label]])
            for label in results
            if label.startswith("webhook:")
        )
        self.stdout.write(
            f"webhook p95 {webhook_p95:.1f} ms (target under 50 ms); the pop shows at worst"
            f" {worst:.2f} s after the answer (the screen asks every {voice.POP_SECONDS} s;"
            f" target within 2 s); median pop {statistics.median(pops):.1f} ms.\n"
        )
        if figures := bench.database_figures():
            self.stdout.write(figures)
