"""bench_portal signs real clients in to the portal through the whole stack (asking for a code,
the code read from the SMS the outbox's task sent, entering it, the home page) and prints the
table with p50, p95 and p99 and the target's verdicts."""

import io

import pytest
from django.core.management import call_command

from portal.models import PatientSession, SignInCode

pytestmark = pytest.mark.django_db


def test_bench_portal_signs_clients_in_and_times_it(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the benchmark is for development
    out = io.StringIO()
    call_command("bench_portal", clients=60, requests=3, seed=1, stdout=out)
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("page "))
    assert " ".join(lines[header].split()).endswith("p99 ms db p50 ms queries x baseline x floor")
    labels = [line[:26].strip() for line in lines[header + 1 : header + 7]]
    assert labels == [
        "floor (Django only)",
        "home page (baseline)",
        "portal: sign-in page",
        "portal: ask for a code",
        "portal: enter the code",
        "portal: home page",
    ]
    for label in ("ask for a code", "enter the code", "home page"):
        assert f"portal: {label} p95" in out.getvalue()
    assert "load average" in out.getvalue()
    # Every sign-in (warm-up ones too) was a different person whose code was sent and used.
    assert SignInCode.objects.filter(sent=True, used_at__isnull=False).count() == 8
    assert PatientSession.objects.values("client").distinct().count() == 8
