"""bench_http serves the product and the floor with real gunicorn processes on the test database
and drives every row with wrk: each row answers 200 (a redirect to sign in stops the command) and
the table gives each row's figures and its ratios to the floor."""

import io
import shutil

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="gunicorn cannot share the in-memory SQLite test database",
    ),
    pytest.mark.skipif(
        not shutil.which("wrk"), reason="wrk is not installed (apt-get install wrk)"
    ),
]


def test_bench_http_drives_the_product_and_the_floor_and_prints_the_ratios(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the benchmark is for development
    out = io.StringIO()
    call_command("bench_http", clients=30, seconds=1, connections=2, workers=1, seed=1, stdout=out)
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("page "))
    assert " ".join(lines[header].split()) == (
        "page req/s p50 ms p95 ms p99 ms x floor rps / floor"
    )
    rows = lines[header + 1 :]
    assert rows.pop().startswith("database ")  # size and buffer hit ratio (Postgres)
    assert [row[:26].strip() for row in rows] == [
        "floor (Django only)",
        "sign-in page (anonymous)",
        "home page (baseline)",
        "search: full phone",
        "search: last 4 digits",
        "search: Chinese name",
        "search: pinyin initials",
        "search: ID number",
        "client page",
    ]
    floor = rows[0].split()
    assert floor[-2:] == ["1.0x", "1.00"]
    for row in rows:
        rps = float(row[26:].split()[0])
        assert rps > 0
    assert "load average" in out.getvalue()
