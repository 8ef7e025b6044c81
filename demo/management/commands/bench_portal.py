"""Time the patient portal's sign-in and home page at N clients.

    python manage.py bench_portal --clients 1000000 [--requests 200]

Tops the database up to N clients (demo.clients, COPY on Postgres) and refreshes the planner's
statistics, then signs in, through the whole Django stack in process (django.test.Client, DEBUG
off), as real clients picked at random (a mobile that signs in one record), each from an address
of its own as people on their phones do: the sign-in page, asking for a code (POST /my/login/),
entering it (POST /my/login/code/) and the home page signed in (GET /my/). The code is read the
way a test reads it: the outbox's real send task is run for the message (untimed, it is the
worker's and the provider's part) with SMS_BACKEND=memory, and the code taken from the SMS; the
task itself is queued through kombu's in-memory transport (no Redis, nothing left queued).
Interleaved, request by request, with a staff member's home page (the baseline) and the floor
(demo/floor). Prints p50, p95 and p99, the median time spent waiting for the database, the
queries per request, each row's median's ratio to the baseline and the floor, and the load
average. The issue's target: p95 under 50 ms for sign-in and the home page at 1,000,000 clients.
Refuses to run with DJANGO_DEBUG=false unless given --force.
"""

import math
import os
import random
import re
import statistics
from functools import partial
from time import perf_counter

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.db.models import Count
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from clientmgmt.models import Client
from demo import bench
from messaging.models import OutboxMessage, Purpose
from messaging.services import outbox_send
from portal.models import PatientSession, SignInCode
from zhongdu import phones, roles, sms

BENCH_USERNAME = "bench_frontdesk"
SIGN_IN_PAGE = "portal: sign-in page"
ASK = "portal: ask for a code"
ENTER = "portal: enter the code"
HOME = "portal: home page"
TARGET_MS = 50


def percentile(values, share):
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]  # nearest rank


def table(results) -> str:
    """bench.table with p50, p95 and p99."""
    baseline = statistics.median(sample.ms for sample in results[bench.BASELINE])
    floor = statistics.median(sample.ms for sample in results[bench.FLOOR])
    lines = [
        f"{'page':<26}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'db p50 ms':>11}{'queries':>9}"
        f"{'x baseline':>12}{'x floor':>9}"
    ]
    for label, samples in results.items():
        times = [sample.ms for sample in samples]
        counts = sorted({sample.queries for sample in samples})
        queries = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        median = statistics.median(times)
        db_median = statistics.median(sample.db_ms for sample in samples)
        lines.append(
            f"{label:<26}{median:>8.1f}{percentile(times, 0.95):>8.1f}"
            f"{percentile(times, 0.99):>8.1f}{db_median:>11.1f}{queries:>9}"
            f"{median / baseline:>11.1f}x{median / floor:>8.1f}x"
        )
    return "\n".join(lines) + "\n"


def signing_in_clients(rng, wanted) -> list[Client]:
    """`wanted` active clients at random whose mobile signs in their record alone (a number on
    several records signs in nobody), none that asked for a code in the last hour."""
    rows = [
        row
        for row in bench.sample_clients(rng, wanted * 2)
        if row.phone and phones.classify(row.phone).mobile
    ]
    numbers = {row.phone for row in rows}
    shared = set(
        Client.objects.filter(phone__in=numbers)
        .values("phone")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("phone", flat=True)
    )
    asked = set(SignInCode.objects.filter(phone__in=numbers).values_list("phone", flat=True))
    rows = [row for row in rows if row.phone not in shared | asked]
    if len(rows) < wanted:
        raise CommandError(f"Only {len(rows)} clients to sign in as; {wanted} wanted.")
    return rng.sample(rows, wanted)


class Command(BaseCommand):
    help = (
        "Seed or reuse a database of N clients and time the patient portal's sign-in (asking for"
        " a code, entering it) and home page against a staff member's home page (p50, p95, p99,"
        " queries per request)."
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
        n = requests + bench.WARM_UP
        people = signing_in_clients(rng, n)
        staff = bench.bench_user(BENCH_USERNAME, roles.FRONT_DESK)
        # The outbox task is queued as in production, on a broker inside this process.
        current_app.conf.broker_url = "memory://"
        current_app.conf.broker_transport_options = {}
        with override_settings(SMS_BACKEND="memory", SMS_ROUTES={}):
            results = self._run(people, staff, floor=bench.floor_urls(bench.floor_values(n)))
        load = os.getloadavg()
        self.stdout.write(
            f"\n{count:,} clients on {connection.vendor}; {SignInCode.objects.count():,} sign-in"
            f" codes, {PatientSession.objects.count():,} patient sessions. {requests} requests"
            f" per row, each as another client from another address, interleaved, after"
            f" {bench.WARM_UP} warm-up requests; DEBUG off; load average {load[0]:.2f}"
            f" {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs).\n"
        )
        self.stdout.write(table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)
        for label in (ASK, ENTER, HOME):
            p95 = percentile([sample.ms for sample in results[label]], 0.95)
            verdict = "under" if p95 < TARGET_MS else "OVER"
            self.stdout.write(f"{label} p95 {p95:.1f} ms: {verdict} the {TARGET_MS} ms target.\n")

    def _run(self, people, staff, *, floor) -> dict[str, list[bench.Sample]]:
        labels = [bench.FLOOR, bench.BASELINE, SIGN_IN_PAGE, ASK, ENTER, HOME]
        results = {label: [] for label in labels}
        timer = bench.DatabaseTimer()
        with (
            override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]),
            connection.execute_wrapper(timer),
        ):
            staff_browser = Browser()
            staff_browser.force_login(staff)
            bench._verify_second_factor(staff_browser, staff)  # as bench.run does
            floor_browser = Browser()
            floor_browser.handler = bench.FloorHandler()
            floor_browser.cookies = staff_browser.cookies

            def timed(i, label, send, expected):
                reset_queries()  # the log keeps 9,000 queries; each count starts empty
                timer.seconds = 0.0
                with CaptureQueriesContext(connection) as queries:
                    started = perf_counter()
                    response = send()
                    elapsed = perf_counter() - started
                if response.status_code != expected:
                    raise CommandError(f"{label}: answered {response.status_code}, not {expected}.")
                if i >= bench.WARM_UP:
                    results[label].append(
                        bench.Sample(elapsed * 1000, timer.seconds * 1000, len(queries))
                    )

            login, login_code, home = (
                reverse("portal:login"),
                reverse("portal:login_code"),
                reverse("portal:home"),
            )
            for i, person in enumerate(people):
                # Each person from an address of their own (the limits per address stay real).
                address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
                phone = Browser(REMOTE_ADDR=address, HTTP_USER_AGENT="bench_portal")
                timed(i, bench.FLOOR, partial(floor_browser.get, floor[i], secure=True), 200)
                timed(i, bench.BASELINE, partial(staff_browser.get, "/", secure=True), 200)
                timed(i, SIGN_IN_PAGE, partial(phone.get, login, secure=True), 200)
                number = {"phone": phones.national_digits(person.phone)}
                timed(i, ASK, partial(phone.post, login, number, secure=True), 302)
                code = {"code": self._code_sent(person.phone)}
                timed(i, ENTER, partial(phone.post, login_code, code, secure=True), 302)
                timed(i, HOME, partial(phone.get, home, secure=True), 200)
        return results

    @staticmethod
    def _code_sent(number: str) -> str:
        """The worker's part, untimed: send the person's code SMS (memory backend), read it."""
        sms.clear()
        pending = OutboxMessage.objects.filter(
            to=number, purpose=Purpose.SIGN_IN_CODE, status=OutboxMessage.Status.PENDING
        )
        for pk in pending.values_list("pk", flat=True):
            outbox_send(message_id=pk)
        found = [
            re.search(r"(?<!\d)\d{6}(?!\d)", sent.body) for sent in sms.outbox if sent.to == number
        ]
        if not found or found[-1] is None:
            raise CommandError(f"No sign-in code was sent to {phones.mask(number)}.")
        return found[-1].group()
