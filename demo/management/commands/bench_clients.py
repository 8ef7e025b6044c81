"""Time client search and the client page through the whole Django stack at N clients.

    python manage.py bench_clients --clients 1000000 [--requests 200]

Seeds the clients that are missing (demo.clients.seed_clients), refreshes the planner's
statistics on Postgres, then sends signed-in requests in process (django.test.Client, DEBUG off):
a trivial page as the baseline and each search and the client page, interleaved, each with a
query value taken at random from a real row, and the floor (demo/floor: the same last-4 searches
through Django's own middleware only, as plain rows). Prints median and p95 latency, the median
time spent waiting for the database, queries per request and each row's ratio to the baseline
and to the floor. Timings are for reading, not asserting: they depend on the machine.
"""

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from demo import bench
from zhongdu import roles

BENCH_USERNAME = "bench_frontdesk"


class Command(BaseCommand):
    help = (
        "Seed or reuse a database of N clients and time client search and the client page"
        " against a trivial signed-in page (median, p95, queries per request)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000, metavar="N")
        parser.add_argument("--requests", type=int, default=200, help="timed requests per row")
        parser.add_argument("--seed", type=int, default=None, help="pick the same rows again")
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
        wanted = requests + bench.WARM_UP
        scenarios, last4 = bench.client_scenarios(bench.sample_clients(rng, wanted), rng, wanted)
        results = bench.run(
            scenarios,
            bench.bench_user(BENCH_USERNAME, roles.FRONT_DESK),
            floor=bench.floor_urls(last4),
        )
        self.stdout.write(
            f"\n{count:,} clients on {connection.vendor}; {requests} signed-in requests per row,"
            f" interleaved, after {bench.WARM_UP} warm-up requests; DEBUG off.\n"
        )
        self.stdout.write(bench.table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)
