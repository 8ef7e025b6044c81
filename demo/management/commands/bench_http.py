"""Drive the product and the floor over HTTP: gunicorn for each, Debian's wrk as the load.

    python manage.py bench_http --clients 1000000 [--seconds 10] [--connections 8] [--workers 3]

Seeds the clients that are missing (as bench_clients does), collects the static files, starts
gunicorn twice on 127.0.0.1 with DEBUG off and this database and keys: the product
(config.wsgi) and the floor (demo/floor, DJANGO_SETTINGS_MODULE=config.settings_floor). Then, one
row at a time, wrk sends GET requests at `--connections` concurrent connections for `--seconds`
(after a warm-up of a quarter of that), cycling through URLs with values taken from real rows,
signed in as bench_frontdesk (the sign-in page anonymously). Prints requests per second,
p50/p95/p99 latency, and each row's ratio to the floor: p50 latency (x floor) and requests per
second (rps / floor). Timings are for reading, not asserting: they depend on the machine.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from http.client import HTTPConnection
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse

from demo import bench
from zhongdu import roles

BENCH_USERNAME = "bench_frontdesk"
LOGIN = "sign-in page (anonymous)"

# wrk's Lua: cycle through the row's paths; at the end print one parseable line.
SCRIPT = """\
local paths = {%(paths)s}
local i = 0
%(headers)s
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


class Figures(NamedTuple):
    rps: float
    p50: float  # ms
    p95: float
    p99: float


class Command(BaseCommand):
    help = (
        "Serve the product and the floor with gunicorn and drive each page with wrk: requests"
        " per second, p50/p95/p99, and each page's ratio to the floor."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000, metavar="N")
        parser.add_argument("--seconds", type=int, default=10, help="measured seconds per row")
        parser.add_argument("--connections", type=int, default=8)
        parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per server")
        parser.add_argument("--seed", type=int, default=None, help="pick the same rows again")
        parser.add_argument(
            "--force", action="store_true", help="run even when DJANGO_DEBUG is false"
        )

    def handle(self, *args, clients, seconds, connections, workers, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to add benchmark clients with DJANGO_DEBUG=false;"
                " pass --force if this database is yours to fill."
            )
        if seconds < 1 or connections < 1 or workers < 1:
            raise CommandError("--seconds, --connections and --workers must be at least 1.")
        wrk = shutil.which("wrk")
        if not wrk:
            raise CommandError("wrk is not installed: apt-get install wrk (make bench-http does).")
        database = bench.database_url()
        if database is None:
            raise CommandError("An in-memory database cannot be shared with gunicorn.")
        count = bench.top_up_clients(clients, stdout=self.stdout)
        rng = random.Random(seed)  # noqa: S311 (picks test rows, not secrets)
        paths = 200
        scenarios, last4 = bench.client_scenarios(bench.sample_clients(rng, paths), rng, paths)
        user = bench.bench_user(BENCH_USERNAME, roles.FRONT_DESK)
        browser = Browser()
        browser.force_login(user)
        session = browser.cookies[settings.SESSION_COOKIE_NAME].value
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        rows = [
            (bench.FLOOR, "floor", bench.floor_urls(last4), cookie),
            (LOGIN, "product", [reverse("login")], ""),
            *[(label, "product", urls, cookie) for label, urls in scenarios],
        ]
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="bench-http-") as scratch, ExitStack() as stack:
            env = _server_env(database, Path(scratch) / "static")
            self.stdout.write("Collecting static files for DEBUG off …")
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=settings.BASE_DIR,
                env=env,
                check=True,
            )
            ports = {}
            for name, settings_module in (
                ("product", "config.settings"),
                ("floor", "config.settings_floor"),
            ):
                ports[name] = _free_port()
                stack.enter_context(
                    _Gunicorn(
                        {**env, "DJANGO_SETTINGS_MODULE": settings_module},
                        ports[name],
                        workers,
                        Path(scratch) / f"{name}.log",
                    )
                )
            results = {}
            for label, server, urls, row_cookie in rows:
                _check(ports[server], urls[0], row_cookie, label)
                script = Path(scratch) / "row.lua"
                script.write_text(_script(urls, row_cookie))
                base = f"http://127.0.0.1:{ports[server]}"
                warm_up = max(1, seconds // 4)
                _wrk(wrk, script, base, connections, warm_up)
                results[label] = _wrk(wrk, script, base, connections, seconds)
        load = os.getloadavg()
        self.stdout.write(
            f"\n{count:,} clients on {connection.vendor}; gunicorn, {workers} sync workers per"
            f" server, DEBUG off; wrk, {connections} connections, {seconds} s per row after"
            f" {max(1, seconds // 4)} s of warm-up; {len(rows)} rows in"
            f" {time.monotonic() - began:.0f} s; load average {load[0]:.2f} {load[1]:.2f}"
            f" {load[2]:.2f}.\n"
        )
        self.stdout.write(table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)


def table(results: dict[str, Figures]) -> str:
    floor = results[bench.FLOOR]
    lines = [
        f"{'page':<26}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'x floor':>9}"
        f"{'rps / floor':>13}"
    ]
    for label, row in results.items():
        lines.append(
            f"{label:<26}{row.rps:>9.1f}{row.p50:>9.1f}{row.p95:>9.1f}{row.p99:>9.1f}"
            f"{row.p50 / floor.p50:>8.1f}x{row.rps / floor.rps:>13.2f}"
        )
    return "\n".join(lines) + "\n"


def _server_env(database: str, static_root: Path) -> dict:
    """Production settings on this database with this process's keys (the rows were encrypted
    and hashed with them), plain HTTP declared as coming through a TLS proxy."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "SEARCH_HASH_KEY": settings.SEARCH_HASH_KEY,
        "AUDIT_SEAL_KEYS": ",".join(settings.AUDIT_SEAL_KEYS),
        "DATABASE_URL": database,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_PROXY_COUNT": "1",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Gunicorn:
    def __init__(self, env, port, workers, log_path):
        self.env, self.port, self.workers, self.log_path = env, port, workers, log_path

    def __enter__(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(  # noqa: S603 (our own application, fixed arguments)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn stopped: {self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"gunicorn did not listen on port {self.port} within 60 s.")

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _headers(cookie: str) -> dict:
    headers = {"X-Forwarded-Proto": "https"}
    if cookie:
        headers["Cookie"] = cookie
    return headers


def _check(port, url, cookie, label):
    """Each row's first URL must answer 200 (a redirect to sign in would time the wrong page)."""
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", url, headers=_headers(cookie))
        status = conn.getresponse().status
    finally:
        conn.close()
    if status != 200:
        raise CommandError(f"{label}: {url} answered {status}.")


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _script(urls, cookie) -> str:
    headers = "\n".join(
        f"wrk.headers[{_lua(name)}] = {_lua(value)}" for name, value in _headers(cookie).items()
    )
    return SCRIPT % {"paths": ", ".join(_lua(url) for url in urls), "headers": headers}


def _wrk(wrk, script, base, connections, seconds) -> Figures:
    threads = min(2, connections)
    output = subprocess.run(  # noqa: S603 (wrk with fixed arguments)
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next((line for line in output.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise CommandError(f"wrk printed no result:\n{output}")
    requests, duration_us, p50, p95, p99, bad_status, socket_errors = map(int, line.split()[1:])
    if bad_status or socket_errors:
        raise CommandError(
            f"wrk: {bad_status} answers of 400 or more, {socket_errors} socket errors:\n{output}"
        )
    return Figures(requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000)
