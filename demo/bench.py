"""What the benchmark commands share (bench_clients, bench_board): signed-in requests sent
through the whole Django stack in process (django.test.Client, DEBUG off), interleaved per row,
with the time spent waiting for the database and the queries of each request, and the table
they print. Timings are for reading, not asserting: they depend on the machine."""

import math
import statistics
from time import perf_counter
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import connection, reset_queries
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext, override_settings

from zhongdu import roles

WARM_UP = 5  # requests per row before timing starts: compiled templates, warm caches
BASELINE = "home page (baseline)"


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


def run(scenarios, user, *, htmx=frozenset()) -> dict[str, list[Sample]]:
    """scenarios: [(label, [url, ...])], every list as long; the first WARM_UP of each are not
    timed. Rows are interleaved, so a slow moment of the machine touches them all alike. Rows
    named in `htmx` are sent as htmx requests (the fragment a page refreshes itself with)."""
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
        for i in range(len(scenarios[0][1])):
            for label, urls in scenarios:
                reset_queries()  # the log keeps 9,000 queries; each count starts empty
                timer.seconds = 0.0
                with CaptureQueriesContext(connection) as queries:
                    started = perf_counter()
                    headers = {"HX-Request": "true"} if label in htmx else {}
                    response = browser.get(urls[i], secure=True, headers=headers)
                    elapsed = perf_counter() - started
                if response.status_code != 200:
                    raise CommandError(f"{label}: {urls[i]} answered {response.status_code}.")
                if i >= WARM_UP:
                    results[label].append(
                        Sample(elapsed * 1000, timer.seconds * 1000, len(queries))
                    )
    return results


def p95(values):
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank


def table(results):
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
            f"{label:<26}{median:>10.1f}{p95(times):>10.1f}{db_median:>14.1f}{queries:>9}"
            f"{median / baseline:>11.1f}x"
        )
    return "\n".join(lines) + "\n"


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
