"""Time the team report of an enterprise's exam round at scale.

    python manage.py bench_team_report --employees 5000 [--requests 100]

Tops the database up to enough clients (demo.clients), then builds, once, a benchmark enterprise
of N employees (bulk inserts): most agreed to be counted for their employer, and two exam rounds
(last year's and this year's) in which nearly every employee has an exam order of four
examinations with its results (some abnormal, a few critical, pointing to four findings),
released. Then sends signed-in requests as a VIP manager through the whole stack (demo.bench):
the home page (the baseline), the enterprise's page, and the team report of this year's round
(compared with last year's). Prints median and p95, the database's share, queries per request,
each row's ratio to the baseline measured in the same run, and the machine's load average.
The issue's target: the team report under 500 ms p95 at 5,000 employees on Postgres, with a
fixed number of queries. Refuses to run with DJANGO_DEBUG=false unless given --force.
"""

import datetime
import os
import random
from decimal import Decimal
from time import perf_counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from clientmgmt import consent
from clientmgmt.models import Client, ClientConsent, ConsentEvent
from demo import bench
from exams.models import ExamResult, ExamRound, Finding, ResultDefinition, ResultRelease
from guide.models import ExamOrder, ExamOrderItem
from vip.models import Enterprise, EnterpriseMember
from zhongdu import roles
from zhongdu.models import PriceItem

ENTERPRISE = "基准测试企业（团体体检）"
CONSENTING = 0.85  # share of employees who agreed to be counted
EXAMINED = 0.92  # share examined in each round
# (code, examination, finding code, finding, share abnormal, share critical)
EXAMS = (
    ("BENCH-T1", "真菌镜检", "bench-fungal", "真菌感染", 0.08, 0.0),
    ("BENCH-T2", "痤疮评估", "bench-acne", "痤疮", 0.15, 0.0),
    ("BENCH-T3", "皮肤镜检查", "bench-lesion", "色素性皮损待观察", 0.04, 0.005),
    ("BENCH-T4", "白细胞计数", "bench-wbc", "白细胞异常", 0.03, 0.002),
)


def _definitions():
    definitions = []
    for code, name, finding_code, finding_name, _abnormal, _critical in EXAMS:
        finding, _created = Finding.objects.get_or_create(
            code=finding_code, defaults={"name": finding_name}
        )
        item, _created = PriceItem.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": PriceItem.Category.EXAM,
                "price": Decimal("50.00"),
                "effective_date": datetime.date(2026, 1, 1),
            },
        )
        definition, _created = ResultDefinition.objects.get_or_create(
            exam=item,
            defaults={"kind": ResultDefinition.Kind.CHOICE, "finding": finding},
        )
        definitions.append(definition)
    return definitions


def _round_orders(exam_round, members, definitions, *, clinician, rng) -> int:
    """Bulk-create the round's orders, items, results and releases (none if already there)."""
    start = timezone.make_aware(datetime.datetime.combine(exam_round.starts_on, datetime.time(8)))
    span_days = (exam_round.ends_on - exam_round.starts_on).days + 1
    examined = [client_id for client_id in members if rng.random() < EXAMINED]
    orders = ExamOrder.objects.bulk_create(
        [
            ExamOrder(
                client_id=client_id,
                status=ExamOrder.Status.COMPLETED,
                ordered_at=start
                + datetime.timedelta(days=rng.randrange(span_days), minutes=rng.randrange(600)),
                completed_at=start + datetime.timedelta(days=span_days),
            )
            for client_id in examined
        ],
        batch_size=2000,
    )
    items = ExamOrderItem.objects.bulk_create(
        [
            ExamOrderItem(order=order, price_item_id=definition.exam_id, done_at=order.ordered_at)
            for order in orders
            for definition in definitions
        ],
        batch_size=5000,
    )
    results = []
    for item, (_code, _name, _f, _fn, abnormal, critical) in zip(
        items, EXAMS * len(orders), strict=True
    ):
        draw = rng.random()
        flag = "critical" if draw < critical else "abnormal" if draw < abnormal else "normal"
        results.append(
            ExamResult(
                item=item,
                order_id=item.order_id,
                value_text="阳性" if flag != "normal" else "阴性",
                flag=flag,
                rule="阴性 normal, 阳性 abnormal",
                recorded_by=clinician,
                recorded_at=item.done_at,
            )
        )
    ExamResult.objects.bulk_create(results, batch_size=5000)
    ResultRelease.objects.bulk_create(
        [
            ResultRelease(
                order=order,
                released_by=clinician,
                released_at=order.ordered_at + datetime.timedelta(days=2),
            )
            for order in orders
        ],
        batch_size=5000,
    )
    return len(orders)


def build_enterprise(employees: int, *, rng, stdout) -> tuple[Enterprise, ExamRound]:
    """The benchmark enterprise with `employees` employees and its two rounds (made once)."""
    enterprise, _created = Enterprise.objects.get_or_create(
        name=ENTERPRISE,
        defaults={
            "employee_count": employees,
            "contact_name": "基准联系人",
            "contact_phone": "+8613900000000",
        },
    )
    today = timezone.localdate()
    rounds = [
        ExamRound.objects.get_or_create(
            enterprise=enterprise,
            name=name,
            defaults={
                "starts_on": today - datetime.timedelta(days=days),
                "ends_on": today - datetime.timedelta(days=days - 30),
                "advice": "建议全体员工注意防晒，定期复查。",
            },
        )[0]
        for name, days in (("去年团体体检", 400), ("今年团体体检", 45))
    ]
    have = EnterpriseMember.objects.filter(enterprise=enterprise).count()
    if have >= employees:
        return enterprise, rounds[-1]
    began = perf_counter()
    clinician = bench.bench_user("bench_clinician", roles.CLINICIAN)
    definitions = _definitions()
    taken = EnterpriseMember.objects.filter(enterprise=enterprise).values("client_id")
    new = list(
        Client.objects.filter(status=Client.Status.ACTIVE)
        .exclude(pk__in=taken)
        .order_by("pk")
        .values_list("pk", flat=True)[: employees - have]
    )
    if len(new) < employees - have:
        raise CommandError("Not enough active clients for the employees.")
    now = timezone.now()
    with transaction.atomic():
        EnterpriseMember.objects.bulk_create(
            [EnterpriseMember(enterprise=enterprise, client_id=pk) for pk in new],
            batch_size=5000,
        )
        agreed = set(
            ClientConsent.objects.filter(
                client_id__in=new, purpose=consent.EMPLOYER_AGGREGATE
            ).values_list("client_id", flat=True)
        )
        events = ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    client_id=pk,
                    purpose=consent.EMPLOYER_AGGREGATE,
                    granted=True,
                    at=now,
                    channel=consent.Channel.CLIENT_PAGE,
                    method=consent.Method.WRITTEN,
                )
                for pk in new
                if pk not in agreed and rng.random() < CONSENTING
            ],
            batch_size=5000,
        )
        ClientConsent.objects.bulk_create(
            [
                ClientConsent(client_id=e.client_id, purpose=e.purpose, granted=True, event=e)
                for e in events
            ],
            batch_size=5000,
        )
        orders = sum(
            _round_orders(exam_round, new, definitions, clinician=clinician, rng=rng)
            for exam_round in rounds
        )
    stdout.write(
        f"{len(new):,} employees added to {ENTERPRISE} ({len(events):,} agreed to be counted),"
        f" {orders:,} released exam orders in two rounds, in {perf_counter() - began:.1f} s.\n"
    )
    return enterprise, rounds[-1]


class Command(BaseCommand):
    help = "Build an enterprise of N employees with two exam rounds and time its team report."

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, default=5000)
        parser.add_argument("--requests", type=int, default=100)
        parser.add_argument("--seed", type=int, default=20)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, employees, requests, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to fill a database with DJANGO_DEBUG=false; --force.")
        if employees < 1 or requests < 1:
            raise CommandError("--employees and --requests must be at least 1.")
        rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
        # Some generated clients are archived or merged: a tenth more than the employees.
        bench.top_up_clients(employees * 11 // 10 + 20, stdout=self.stdout)
        enterprise, exam_round = build_enterprise(employees, rng=rng, stdout=self.stdout)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        user = bench.bench_user("bench_vip_manager", roles.VIP_MANAGER)
        n = requests + bench.WARM_UP
        report = f"{reverse('teams:report', args=[enterprise.pk])}?round={exam_round.pk}"
        scenarios = [
            (bench.BASELINE, [reverse("home")] * n),
            ("enterprise page", [enterprise.get_absolute_url()] * n),
            ("team report", [report] * n),
        ]
        results = bench.run(scenarios, user, floor=bench.floor_urls(bench.floor_values(n)))
        members = EnterpriseMember.objects.filter(enterprise=enterprise).count()
        orders = ExamResult.objects.filter(
            order__client__enterprise_memberships__enterprise=enterprise
        )
        load = os.getloadavg()
        self.stdout.write(
            f"\n{Client.objects.count():,} clients; {members:,} employees, {orders.count():,}"
            f" results in two rounds on {connection.vendor}.\n"
            f"{requests} signed-in requests per row, interleaved, after {bench.WARM_UP}"
            f" warm-up requests; DEBUG off; load average {load[0]:.2f} {load[1]:.2f}"
            f" {load[2]:.2f} ({os.cpu_count()} CPUs).\n"
        )
        self.stdout.write(bench.table(results))
        if figures := bench.database_figures():
            self.stdout.write(figures)
        p95 = bench.p95([sample.ms for sample in results["team report"]])
        verdict = "under" if p95 < 500 else "OVER"
        self.stdout.write(f"team report p95 {p95:.0f} ms: {verdict} the 500 ms target.\n")
