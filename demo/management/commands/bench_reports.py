"""Time the managers' dashboard and the monthly satisfaction report at scale.

    python manage.py bench_reports --clients 1000000 --visits 2000000 --answers 1000000

Tops the database up (clients, visits with their charges, survey answers; COPY on Postgres),
keeps the rollups of the last 40 days and caches the closed months (as the beat jobs do, timed),
then sends signed-in requests as a manager through the whole stack (demo.bench): the
dashboard, the current month's report and last month's. Prints median and p95, the database's
share and queries per request. The issue's target: each under 250 ms p95 with a fixed query
count. Refuses to run with DJANGO_DEBUG=false unless given --force.
"""

from time import perf_counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from demo import bench
from demo.bulk_answers import seed_answers
from demo.bulk_visits import seed_visits
from demo.clients import seed_clients
from guide.models import Visit
from reports import rollups, satisfaction
from surveys.models import SurveyAnswer
from zhongdu import roles


class Command(BaseCommand):
    help = "Fill the database and time the dashboard and the monthly report (median, p95)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--visits", type=int, default=200_000)
        parser.add_argument("--answers", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=100)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, clients, visits, answers, requests, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to fill a database with DJANGO_DEBUG=false; --force.")
        if (have := Client.objects.count()) < clients:
            seed_clients(clients - have, stdout=self.stdout)
        if (have := Visit.objects.count()) < visits:
            seed_visits(visits - have, stdout=self.stdout)
        if (have := SurveyAnswer.objects.count()) < answers:
            seed_answers(answers - have, stdout=self.stdout)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        began = perf_counter()
        rows = rollups.refresh(days=40)
        rolled = perf_counter() - began
        today = timezone.localdate()
        last_month = satisfaction.previous_month(today)
        began = perf_counter()
        for month in (last_month, satisfaction.previous_month(last_month)):
            satisfaction.cache_month(month)
        cached = perf_counter() - began
        began = perf_counter()
        satisfaction.cache_month(today)
        current = perf_counter() - began
        for _n in range(10):  # the trend's older months, as the nightly job leaves them
            month = satisfaction.previous_month(month)
            if not satisfaction.MonthlyReport.objects.filter(month=month).exists():
                satisfaction.cache_month(month)
        user = bench.bench_user("bench_manager", roles.MANAGER)
        n = requests + bench.WARM_UP
        report = reverse("reports:satisfaction")
        scenarios = [
            (bench.BASELINE, [reverse("home")] * n),
            ("dashboard", [reverse("reports:dashboard")] * n),
            ("report: this month (kept)", [report] * n),
            ("report: last month (cached)", [f"{report}?month={last_month:%Y-%m}"] * n),
        ]
        results = bench.run(scenarios, user, floor=bench.floor_urls(bench.floor_values(n)))
        self.stdout.write(
            f"\n{Client.objects.count():,} clients, {Visit.objects.count():,} visits,"
            f" {SurveyAnswer.objects.count():,} survey answers on {connection.vendor}."
            f"\nrollups of 40 days: {rows:,} rows in {rolled:.1f} s;"
            f" two closed months cached in {cached:.1f} s; the current month recomputed (as"
            f" beat does every five minutes) in {current:.1f} s.\n"
            f"{requests} signed-in requests per row, interleaved, after {bench.WARM_UP}"
            " warm-up requests; DEBUG off.\n"
        )
        self.stdout.write(bench.table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)
