"""Time client search and the client page through the whole Django stack at N clients.

    python manage.py bench_clients --clients 1000000 [--requests 200]

Seeds the clients that are missing (demo.clients.seed_clients), refreshes the planner's
statistics on Postgres, then sends signed-in requests in process (django.test.Client, DEBUG off):
a trivial page as the baseline and each search and the client page, interleaved, each with a
query value taken at random from a real row. Prints median and p95 latency, the median time spent
waiting for the database, queries per request and each row's ratio to the baseline. Timings are
for reading, not asserting: they depend on the machine.
"""

import random
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Max, Min
from django.urls import reverse
from pypinyin import Style, lazy_pinyin

from clientmgmt.models import Client
from demo import bench
from demo.clients import seed_clients
from zhongdu import crypto, phones, roles

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
        count = Client.objects.count()
        if count < clients:
            self.stdout.write(f"{count:,} clients; generating {clients - count:,} more.")
            seed_clients(clients - count, stdout=self.stdout)
            count = clients
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        rng = random.Random(seed)  # noqa: S311 (picks test rows, not secrets)
        wanted = requests + bench.WARM_UP
        scenarios = _scenarios(_sample_rows(rng, wanted), rng, wanted)
        results = bench.run(scenarios, bench.bench_user(BENCH_USERNAME, roles.FRONT_DESK))
        self.stdout.write(
            f"\n{count:,} clients on {connection.vendor}; {requests} signed-in requests per row,"
            f" interleaved, after {bench.WARM_UP} warm-up requests; DEBUG off.\n"
        )
        self.stdout.write(bench.table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)


def _sample_rows(rng, wanted):
    """About 4 x wanted active clients at random, by id (no ORDER BY random() over the table)."""
    bounds = Client.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        raise CommandError("There are no clients to search for.")
    span = range(bounds["low"], bounds["high"] + 1)
    ids = rng.sample(span, min(len(span), 4 * wanted + 50))
    rows = []
    for i in range(0, len(ids), 500):
        rows += Client.objects.filter(pk__in=ids[i : i + 500], status=Client.Status.ACTIVE).only(
            "id", "name", "phone", "phone_last4", "id_number_encrypted"
        )
    if not rows:
        raise CommandError("No active client was found to search for.")
    return rows


def _initials(name):
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def _scenarios(rows, rng, n):
    """[(label, n URLs)]: each URL's value comes from a different row where there are enough."""

    def pick(candidates):
        candidates = candidates or rows
        return rng.sample(candidates, n) if len(candidates) >= n else rng.choices(candidates, k=n)

    search = reverse("clientmgmt:client_list")

    def q(value):
        return f"{search}?{urlencode({'q': value})}"

    with_phone = [row for row in rows if row.phone]
    with_id = [row for row in rows if row.id_number_encrypted]
    scenarios = [
        (bench.BASELINE, [reverse("home")] * n),
        ("search: full phone", [q(phones.national_digits(row.phone)) for row in pick(with_phone)]),
        ("search: last 4 digits", [q(row.phone_last4) for row in pick(with_phone)]),
        ("search: Chinese name", [q(row.name) for row in pick(rows)]),
        ("search: pinyin initials", [q(_initials(row.name)) for row in pick(rows)]),
    ]
    if with_id:
        ids = [crypto.decrypt(row.id_number_encrypted) for row in pick(with_id)]
        scenarios.append(("search: ID number", [q(number) for number in ids]))
    scenarios.append(("client page", [row.get_absolute_url() for row in pick(rows)]))
    return scenarios
