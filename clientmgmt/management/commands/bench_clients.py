"""Time client search and the client page through the whole Django stack at N clients.

    python manage.py bench_clients --clients 1000000 [--requests 200]

Seeds the clients that are missing (clientmgmt.demo.seed_clients), refreshes the planner's
statistics on Postgres, then sends signed-in requests in process (django.test.Client, DEBUG off):
a trivial page as the baseline and each search and the client page, interleaved, each with a
query value taken at random from a real row. Prints median and p95 latency, the median time spent
waiting for the database, queries per request and each row's ratio to the baseline. Timings are
for reading, not asserting: they depend on the machine.
"""

import math
import random
import statistics
from time import perf_counter
from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.db.models import Max, Min
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from pypinyin import Style, lazy_pinyin

from clientmgmt.demo import seed_clients
from clientmgmt.models import Client
from zhongdu import crypto, roles
from zhongdu.masking import national_digits

BENCH_USERNAME = "bench_frontdesk"
WARM_UP = 5  # requests per row before timing starts: compiled templates, warm caches
BASELINE = "home page (baseline)"


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
        scenarios = _scenarios(_sample_rows(rng, requests + WARM_UP), rng, requests + WARM_UP)
        results = self._run(scenarios, _bench_user())
        self.stdout.write(
            f"\n{count:,} clients on {connection.vendor}; {requests} signed-in requests per row,"
            f" interleaved, after {WARM_UP} warm-up requests; DEBUG off.\n"
        )
        self.stdout.write(_table(results))

    def _run(self, scenarios, user):
        results = {label: [] for label, _urls in scenarios}
        timer = _DatabaseTimer()
        # The test client says it is "testserver"; DEBUG off as in production.
        with (
            override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]),
            connection.execute_wrapper(timer),
        ):
            browser = Browser()
            browser.force_login(user)
            for i in range(len(scenarios[0][1])):
                for label, urls in scenarios:
                    reset_queries()  # the log keeps 9,000 queries; each count starts empty
                    timer.seconds = 0.0
                    with CaptureQueriesContext(connection) as queries:
                        started = perf_counter()
                        response = browser.get(urls[i], secure=True)
                        elapsed = perf_counter() - started
                    if response.status_code != 200:
                        raise CommandError(f"{label}: {urls[i]} answered {response.status_code}.")
                    if i >= WARM_UP:
                        results[label].append(
                            Sample(elapsed * 1000, timer.seconds * 1000, len(queries))
                        )
        return results


class Sample(NamedTuple):
    ms: float
    db_ms: float  # time spent waiting for the database, within ms
    queries: int


class _DatabaseTimer:
    """An execute wrapper adding up the time queries take, to tell the database's share of a
    request from Python's (views, templates)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += perf_counter() - started


def _bench_user():
    """A front-desk user that nobody can sign in as (no usable password)."""
    roles.sync_group_permissions()
    user, _created = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME, defaults={"first_name": "基准测试"}
    )
    user.set_unusable_password()
    user.is_active = True
    user.save()
    user.groups.set([Group.objects.get(name=roles.FRONT_DESK)])
    return user


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
        (BASELINE, [reverse("home")] * n),
        ("search: full phone", [q(national_digits(row.phone)) for row in pick(with_phone)]),
        ("search: last 4 digits", [q(row.phone_last4) for row in pick(with_phone)]),
        ("search: Chinese name", [q(row.name) for row in pick(rows)]),
        ("search: pinyin initials", [q(_initials(row.name)) for row in pick(rows)]),
    ]
    if with_id:
        ids = [crypto.decrypt(row.id_number_encrypted) for row in pick(with_id)]
        scenarios.append(("search: ID number", [q(number) for number in ids]))
    scenarios.append(("client page", [row.get_absolute_url() for row in pick(rows)]))
    return scenarios


def _p95(values):
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank


def _table(results):
    baseline = statistics.median(sample.ms for sample in results[BASELINE])
    lines = [
        f"{'page':<26}{'median ms':>10}{'p95 ms':>10}{'db median ms':>14}{'queries':>9}"
        f"{'x baseline':>12}"
    ]
    for label, samples in results.items():
        times = [sample.ms for sample in samples]
        counts = sorted({sample.queries for sample in samples})
        queries = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        median = statistics.median(times)
        db_median = statistics.median(sample.db_ms for sample in samples)
        lines.append(
            f"{label:<26}{median:>10.1f}{_p95(times):>10.1f}{db_median:>14.1f}{queries:>9}"
            f"{median / baseline:>11.1f}x"
        )
    return "\n".join(lines) + "\n"
