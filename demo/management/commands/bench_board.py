"""Time today's board at N bookings through the whole Django stack.

    python manage.py bench_board --bookings 500 [--requests 200]

Tops today up to N bookings on benchmark clinic sessions (made through the consultation desk's
booking service; a third checked in and triaged along the way, as at mid-morning) plus a tenth as
many walk-ins, then sends signed-in requests in process (demo.bench: django.test.Client, DEBUG
off): a trivial page as the baseline, the whole board, the htmx refresh of it, and a search by
the last four digits. Prints median and p95 latency, the database's share and queries per request.
The issue's target: the board with 500 bookings at p95 under 100 ms. Timings depend on the
machine: they are read here, never asserted in tests.
"""

import datetime
import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from consult import services as consult
from consult.models import Booking
from demo import bench
from demo.clients import seed_clients
from guide import services
from guide.models import Visit
from zhongdu import roles
from zhongdu.models import ClinicSession, Department, Expert

BENCH_USERNAME = "bench_frontdesk"
BENCH_DEPARTMENT = "基准测试科"
SESSION_CAPACITY = 100


class Command(BaseCommand):
    help = "Fill today with N bookings and time today's board (median, p95, queries)."

    def add_arguments(self, parser):
        parser.add_argument("--bookings", type=int, default=500, metavar="N")
        parser.add_argument("--requests", type=int, default=200, help="timed requests per row")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--force", action="store_true", help="run even when DJANGO_DEBUG is false"
        )

    def handle(self, *args, bookings, requests, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to add benchmark bookings with DJANGO_DEBUG=false;"
                " pass --force if this database is yours to fill."
            )
        if bookings < 1 or requests < 1:
            raise CommandError("--bookings and --requests must be at least 1.")
        rng = random.Random(seed)  # noqa: S311 (picks test rows, not secrets)
        user = bench.bench_user(BENCH_USERNAME, roles.FRONT_DESK)
        made = _fill_today(bookings, by=user, rng=rng, stdout=self.stdout)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        today = reverse("guide:today")
        last4 = list(
            Booking.objects.filter(session__date=timezone.localdate()).values_list(
                "client__phone_last4", flat=True
            )[:500]
        )
        n = requests + bench.WARM_UP
        scenarios = [
            (bench.BASELINE, [reverse("home")] * n),
            ("board: whole day", [today] * n),
            ("board: htmx refresh", [f"{today}?refresh=1"] * n),
            ("board: last 4 digits", [f"{today}?q={rng.choice(last4)}" for _ in range(n)]),
        ]
        results = bench.run(
            scenarios,
            user,
            floor=bench.floor_urls([rng.choice(last4) for _ in range(n)]),
            htmx={"board: htmx refresh"},
        )
        rows = Booking.objects.filter(session__date=timezone.localdate()).count()
        walk_ins = Visit.objects.filter(day=timezone.localdate(), booking__isnull=True).count()
        self.stdout.write(
            f"\n{rows:,} bookings and {walk_ins:,} walk-ins today on {connection.vendor}"
            f" ({made:,} added now); {requests} signed-in requests per row, interleaved, after"
            f" {bench.WARM_UP} warm-up requests; DEBUG off.\n"
        )
        self.stdout.write(bench.table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)


def _sessions(count):
    """`count` benchmark sessions today, all day long, each with its own expert."""
    department, _created = Department.objects.get_or_create(
        name=BENCH_DEPARTMENT, defaults={"floor": "9F", "active": False}
    )
    today = timezone.localdate()
    sessions = list(ClinicSession.objects.filter(department=department, date=today))
    while len(sessions) < count:
        expert = Expert.objects.create(name=f"基准医生{len(sessions) + 1}", active=False)
        expert.departments.add(department)
        sessions.append(
            ClinicSession.objects.create(
                expert=expert,
                department=department,
                date=today,
                start_time=datetime.time(8 + len(sessions) % 9, 0),
                end_time=datetime.time(23, 59),
                capacity=SESSION_CAPACITY,
            )
        )
    return sessions


def _fill_today(wanted, *, by, rng, stdout) -> int:
    today = timezone.localdate()
    have = Booking.objects.filter(session__date=today).count()
    missing = wanted - have
    if missing <= 0:
        return 0
    free = Client.objects.filter(status=Client.Status.ACTIVE).exclude(bookings__session__date=today)
    if free.count() < missing * 1.2:
        seed_clients(int(missing * 1.2) + 10, stdout=stdout)
    clients = list(free.order_by("?")[: int(missing * 1.1) + 1])
    sessions = _sessions(-(-wanted // (SESSION_CAPACITY * 9 // 10)))
    made = 0
    for n, client in enumerate(clients[:missing]):
        session = sessions[(have + n) % len(sessions)]
        try:
            booking = consult.booking_create(client=client, session=session, kind="expert", by=by)
        except consult.SessionFull:
            continue
        made += 1
        if rng.random() < 0.33:  # mid-morning: a third has arrived and most are triaged
            visit = services.visit_check_in(booking=booking, by=by)
            if rng.random() < 0.8:
                services.visit_triage(
                    visit=visit, department=session.department, expert=session.expert, by=by
                )
    for client in clients[missing : missing + wanted // 10]:
        try:
            services.visit_register_walk_in(client=client, by=by)
        except services.AlreadyHere:
            continue
    stdout.write(f"Added {made:,} bookings for today.")
    return made
