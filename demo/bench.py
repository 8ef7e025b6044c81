"""What the benchmark commands share (bench_clients, bench_board, bench_reports, bench_http):
signed-in requests sent through the whole Django stack in process (django.test.Client, DEBUG
off), interleaved per row with the same requests on the floor (demo/floor: Django's own session
and authentication middleware, the same search, plain rows), with the time spent waiting for the
database and the queries of each request, and the table they print. Timings are for reading, not
asserting: they depend on the machine."""

import math
import statistics
from pathlib import Path
from time import perf_counter
from typing import NamedTuple
from urllib.parse import quote, urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import connection, reset_queries
from django.db.models import Max, Min
from django.test import Client as Browser
from django.test.client import ClientHandler
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from pypinyin import Style, lazy_pinyin

from clientmgmt.models import Client
from demo import floor as floor_app
from demo.clients import seed_clients
from zhongdu import crypto, phones, roles

WARM_UP = 5  # requests per row before timing starts: compiled templates, warm caches
BASELINE = "home page (baseline)"
FLOOR = "floor (Django only)"
FLOOR_PATH = "/"  # the floor's one page (demo/floor/urls.py), on the floor's own URLs


class Sample(NamedTuple):
    ms: float
    db_ms: float  # time spent waiting for the database, within ms
    queries: int


class DatabaseTimer:
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


def bench_user(username: str, role: str, first_name: str = "基准测试"):
    """A user of `role` that nobody can sign in as (no usable password)."""
    roles.sync_group_permissions()
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first_name}
    )
    user.set_unusable_password()
    user.is_active = True
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


def _verify_second_factor(browser, user) -> None:
    """A role that must sign in with two factors (a manager) is sent to the code step on every
    page: give the session what a sign-in with the bench user's authenticator app leaves (its
    device recorded as the one that verified the session), as the tests' role clients do."""
    if not roles.two_factor_required(user):
        return
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


class FloorHandler(ClientHandler):
    """The test client's handler with the floor's middleware and URLs (demo.floor), so that the
    floor's requests run in the same process as the product's, one after the other."""

    def load_middleware(self, is_async=False):
        with override_settings(MIDDLEWARE=floor_app.MIDDLEWARE):
            super().load_middleware(is_async)

    def get_response(self, request):
        request.urlconf = floor_app.ROOT_URLCONF  # resolved against the floor's URLs only
        return super().get_response(request)


def floor_urls(values) -> list[str]:
    """The floor's page for each search value (the same values as a search row's)."""
    return [f"{FLOOR_PATH}?{urlencode({'q': value})}" for value in values]


def floor_values(n) -> list[str]:
    """n last-4-digit values of real clients, for the floor of a benchmark that searches none."""
    values = list(
        Client.objects.exclude(phone_last4="").values_list("phone_last4", flat=True)[:500]
    ) or ["0000"]
    return [values[i % len(values)] for i in range(n)]


class Post(NamedTuple):
    """A request a benchmark posts (a webhook's event) rather than gets."""

    path: str
    body: bytes
    headers: dict


def run(scenarios, user, *, floor, htmx=frozenset(), answers=None) -> dict[str, list[Sample]]:
    """scenarios: [(label, [request, ...])], every list as long; the first WARM_UP of each are
    not timed. A request is a URL to get, a Post, or a function giving either when its turn
    comes (untimed: an event stamped when it is sent, a poll that names the version shown).
    `floor`: as many URLs on the floor (floor_urls), sent first in every round. Rows are
    interleaved, so a slow moment of the machine touches them all alike. Rows named in `htmx` are
    sent as htmx requests (the fragment a page refreshes itself with). Every answer must be 200,
    or what `answers` gives for the row ({label: {200, 204}})."""
    answers = answers or {}
    scenarios = [(FLOOR, floor), *scenarios]
    results = {label: [] for label, _urls in scenarios}
    timer = DatabaseTimer()
    # The test client says it is "testserver"; DEBUG off as in production.
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]),
        connection.execute_wrapper(timer),
    ):
        browser = Browser()
        browser.force_login(user)
        _verify_second_factor(browser, user)
        floor_browser = Browser()
        floor_browser.handler = FloorHandler()
        floor_browser.cookies = browser.cookies  # the same signed-in session
        for i in range(len(scenarios[0][1])):
            for label, urls in scenarios:
                item = urls[i]() if callable(urls[i]) else urls[i]
                headers = {"HX-Request": "true"} if label in htmx else {}
                sender = floor_browser if label == FLOOR else browser
                reset_queries()  # the log keeps 9,000 queries; each count starts empty
                timer.seconds = 0.0
                with CaptureQueriesContext(connection) as queries:
                    started = perf_counter()
                    if isinstance(item, Post):
                        response = sender.post(
                            item.path,
                            item.body,
                            content_type="application/json",
                            secure=True,
                            headers={**headers, **item.headers},
                        )
                    else:
                        response = sender.get(item, secure=True, headers=headers)
                    elapsed = perf_counter() - started
                if response.status_code not in answers.get(label, {200}):
                    where = item.path if isinstance(item, Post) else item
                    raise CommandError(f"{label}: {where} answered {response.status_code}.")
                if i >= WARM_UP:
                    results[label].append(
                        Sample(elapsed * 1000, timer.seconds * 1000, len(queries))
                    )
    return results


def p95(values):
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank


def table(results):
    """Each row's median and p95, its median database time and queries, and its median's ratio
    to the baseline (the home page) and to the floor."""
    baseline = statistics.median(sample.ms for sample in results[BASELINE])
    floor = statistics.median(sample.ms for sample in results[FLOOR])
    lines = [
        f"{'page':<26}{'median ms':>10}{'p95 ms':>10}{'db median ms':>14}{'queries':>9}"
        f"{'x baseline':>12}{'x floor':>9}"
    ]
    for label, samples in results.items():
        times = [sample.ms for sample in samples]
        counts = sorted({sample.queries for sample in samples})
        queries = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        median = statistics.median(times)
        db_median = statistics.median(sample.db_ms for sample in samples)
        lines.append(
            f"{label:<26}{median:>10.1f}{p95(times):>10.1f}{db_median:>14.1f}{queries:>9}"
            f"{median / baseline:>11.1f}x{median / floor:>8.1f}x"
        )
    return "\n".join(lines) + "\n"


def database_url(settings_dict=None) -> str | None:
    """A DATABASE_URL for the database Django is connected to (in a test: the test database),
    for a server or worker started beside this process; None for an in-memory SQLite one."""
    settings_dict = settings_dict or connection.settings_dict
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"].endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            return None
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(settings_dict.get("USER") or "postgres", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{name}"


def database_figures() -> str:
    """The database's size and its buffer hit ratio since the statistics were reset (Postgres),
    for the line under a benchmark's table: whether the working set stays in memory."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database())),"
            " current_setting('shared_buffers'),"
            " blks_hit::float / NULLIF(blks_hit + blks_read, 0)"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
        size, buffers, ratio = cursor.fetchone()
    ratio_text = "n/a" if ratio is None else f"{ratio * 100:.2f} %"
    return f"database {size}, shared_buffers {buffers}, buffer hit ratio {ratio_text}\n"


def top_up_clients(clients: int, *, stdout) -> int:
    """Generate the clients missing up to `clients` (demo.clients.seed_clients), refresh the
    planner's statistics on Postgres; return how many clients there are."""
    count = Client.objects.count()
    if count < clients:
        stdout.write(f"{count:,} clients; generating {clients - count:,} more.")
        seed_clients(clients - count, stdout=stdout)
        count = clients
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return count


def sample_clients(rng, wanted):
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


def client_scenarios(rows, rng, n):
    """([(label, n URLs)], the n last-4 values searched): the client benchmark's rows, each URL's
    value from a different row where there are enough."""

    def pick(candidates):
        candidates = candidates or rows
        return rng.sample(candidates, n) if len(candidates) >= n else rng.choices(candidates, k=n)

    search = reverse("clientmgmt:client_list")

    def q(value):
        return f"{search}?{urlencode({'q': value})}"

    with_phone = [row for row in rows if row.phone]
    with_id = [row for row in rows if row.id_number_encrypted]
    last4 = [row.phone_last4 for row in pick(with_phone)]
    scenarios = [
        (BASELINE, [reverse("home")] * n),
        ("search: full phone", [q(phones.national_digits(row.phone)) for row in pick(with_phone)]),
        ("search: last 4 digits", [q(value) for value in last4]),
        ("search: Chinese name", [q(row.name) for row in pick(rows)]),
        ("search: pinyin initials", [q(_initials(row.name)) for row in pick(rows)]),
    ]
    if with_id:
        ids = [crypto.decrypt(row.id_number_encrypted) for row in pick(with_id)]
        scenarios.append(("search: ID number", [q(number) for number in ids]))
    scenarios.append(("client page", [row.get_absolute_url() for row in pick(rows)]))
    return scenarios, last4
