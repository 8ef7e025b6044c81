"""bench_reports times the managers' pages as a manager, a role that must sign in with two
factors: its requests carry a session verified by the bench user's device, as a real sign-in
leaves, so every page answers 200 (a 302 to the code step stopped the command)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from zhongdu import roles


@pytest.mark.django_db
def test_bench_reports_signs_in_with_two_factors_and_prints_its_table(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the benchmark is for development
    assert roles.MANAGER in settings.TWO_FACTOR_REQUIRED_ROLES
    out = io.StringIO()
    call_command("bench_reports", clients=30, visits=30, answers=30, requests=2, stdout=out)
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("page "))
    rows = lines[header + 1 :]
    if connection.vendor == "postgresql":
        # Under the table: whether the data stays in memory.
        assert rows.pop().startswith("database ") and "buffer hit ratio" in out.getvalue()
    assert " ".join(lines[header].split()).endswith("x baseline x floor")
    expected = [
        "floor (Django only)",
        "home page (baseline)",
        "dashboard",
        "report: this month (kept)",
        "report: last month (cached)",
    ]
    assert len(rows) == len(expected)
    assert all(row.startswith(label) for row, label in zip(rows, expected, strict=True))
