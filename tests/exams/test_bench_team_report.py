"""bench_team_report builds its enterprise once (bulk) and times the team report beside the
baseline, as a VIP manager; the report it times counts the employees who agreed."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from exams import teams
from exams.models import ExamRound


@pytest.mark.django_db
def test_bench_team_report_builds_its_enterprise_and_prints_its_table(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the benchmark is for development
    out = io.StringIO()
    call_command("bench_team_report", employees=40, requests=2, stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("page "))
    labels = ["floor (Django only)", "home page (baseline)", "enterprise page", "team report"]
    rows = lines[header + 1 : header + 1 + len(labels)]
    assert all(row.startswith(label) for row, label in zip(rows, labels, strict=True))
    assert "load average" in text and "team report p95" in text
    if connection.vendor == "postgresql":
        assert "buffer hit ratio" in text
    this_year = ExamRound.objects.get(name="今年团体体检")
    data = teams.report(this_year)
    assert data.previous.name == "去年团体体检"
    assert data.members == 40
    assert 0 < data.people.values[-1][-1] <= 40
    # A second run finds the enterprise made and adds nothing.
    again = io.StringIO()
    call_command("bench_team_report", employees=40, requests=1, stdout=again)
    assert "employees added" not in again.getvalue()
    assert teams.report(this_year).members == 40
