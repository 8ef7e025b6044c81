"""Time the nightly VIP qualification at scale.

    python manage.py bench_vip --clients 1000000 --charges 5000000 [--threshold 20000]

Tops the database up to N clients and about M charges (visits with 2.5 charges each, over the
last 13 months; COPY on Postgres), sets a policy version (auto grant, the given threshold), then
runs the qualification twice: the first run grants every VIP it finds, the second finds them all
still qualifying (renewals only where the date moves) and shows the job is idempotent. Prints
each run's time and counts. The issue's target: under a minute at 1,000,000 clients and
5,000,000 charges. Refuses to run with DJANGO_DEBUG=false unless given --force.
"""

from decimal import Decimal
from time import perf_counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from clientmgmt.models import Client
from demo.bulk_visits import seed_visits
from demo.clients import seed_clients
from guide.models import Charge
from vip import services
from vip.models import VipStanding


class Command(BaseCommand):
    help = "Fill the database to N clients and M charges and time the VIP qualification."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--charges", type=int, default=500_000)
        parser.add_argument("--threshold", type=Decimal, default=Decimal("20000"))
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, clients, charges, threshold, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to fill a database with DJANGO_DEBUG=false; --force.")
        have = Client.objects.count()
        if have < clients:
            seed_clients(clients - have, stdout=self.stdout)
        have_charges = Charge.objects.count()
        if have_charges < charges:
            visits = int((charges - have_charges) / 2.5) + 1
            self.stdout.write(f"{have_charges:,} charges; adding about {charges - have_charges:,}.")
            seed_visits(visits, stdout=self.stdout)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        services.policy_add(
            by=None,
            note="bench_vip",
            personal_annual_spend=threshold,
            gold_spend=max(threshold * 2, Decimal("100000")),
            platinum_spend=max(threshold * 6, Decimal("300000")),
            auto_grant=True,
        )
        total_clients, total_charges = Client.objects.count(), Charge.objects.count()
        self.stdout.write(
            f"\n{total_clients:,} clients, {total_charges:,} charges on {connection.vendor};"
            f" personal threshold ¥{threshold:,}.\n"
        )
        for label in ("first run", "second run (idempotent)"):
            began = perf_counter()
            counts = services.qualification_run()
            elapsed = perf_counter() - began
            self.stdout.write(f"{label:<26}{elapsed:>8.1f} s   {counts}\n")
        active = VipStanding.objects.filter(status=VipStanding.Status.ACTIVE).count()
        self.stdout.write(f"active VIPs: {active:,}\n")
