"""bench_calls plays signed calls through the webhook and polls the agent's pop: every event is
taken (a refusal stops the command), and the table and the pop's worst case are printed."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from voice.models import Call

pytestmark = pytest.mark.django_db


def test_bench_calls_times_the_webhook_and_the_pop(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the benchmark is for development
    out = io.StringIO()
    call_command("bench_calls", clients=30, requests=3, seed=1, stdout=out)
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("page "))
    assert " ".join(lines[header].split()).endswith("x baseline x floor")
    labels = [line[:26].strip() for line in lines[header + 1 : header + 8]]
    assert labels == [
        "floor (Django only)",
        "home page (baseline)",
        "webhook: ringing",
        "webhook: answered",
        "pop: the call answered",
        "pop: nothing new",
        "webhook: ended",
    ]
    assert "webhook p95" in out.getvalue() and "the pop shows at worst" in out.getvalue()
    if connection.vendor == "postgresql":
        assert "buffer hit ratio" in out.getvalue()
    # Every call played (warm-up ones too) was taken whole and ended answered by the bench agent.
    calls = Call.objects.filter(external_id__startswith="bench-")
    assert calls.count() == 8
    assert set(calls.values_list("outcome", flat=True)) == {Call.Outcome.ANSWERED}
    assert set(calls.values_list("agent__extension", flat=True)) == {"9901"}
