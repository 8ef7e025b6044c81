"""Visits and charges in bulk, for the benchmarks of VIP qualification and the reports (millions
of rows through COPY on Postgres, bulk_create elsewhere). Every visit is over (done, or left
without being seen), so the one-open-visit rule is never touched; charges point at their visit
and its client. Days are spread over the last `months` months, working hours only."""

import datetime
import random
import sys
from decimal import Decimal
from time import perf_counter

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from clientmgmt.models import Client
from demo import bulk
from guide.models import Charge, Visit
from zhongdu.models import Channel, Department, Expert, PriceItem

BATCH = 50_000


def _catalogue():
    departments = list(Department.objects.values_list("pk", flat=True))
    experts = {
        d: list(Expert.objects.filter(departments=d).values_list("pk", flat=True))
        for d in departments
    }
    prices = list(PriceItem.objects.filter(active=True).values_list("pk", "price"))
    channels = list(Channel.objects.values_list("pk", flat=True))
    if not departments or not prices:
        from demo.directory import seed_directory

        seed_directory(weeks=1)
        return _catalogue()
    return departments, experts, prices, channels


def seed_visits(
    n_visits: int, charges_per_visit: float = 2.5, *, months: int = 13, seed=None, stdout=None
) -> tuple[int, int]:
    """Write n_visits visits and about charges_per_visit charges each. Returns (visits,
    charges) written."""
    out = stdout or sys.stdout
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    bounds = Client.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        raise ValueError("seed clients first")
    departments, experts, prices, channels = _catalogue()
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    span = months * 30
    began = perf_counter()
    visits_done = charges_done = 0
    while visits_done < n_visits:
        size = min(BATCH, n_visits - visits_done)
        visit_rows, charge_rows = [], []
        for _n in range(size):
            day = today - datetime.timedelta(days=rng.randrange(span))
            arrived = datetime.datetime.combine(
                day, datetime.time(8 + rng.randrange(9), rng.randrange(60)), tzinfo=tz
            )
            seen = arrived + datetime.timedelta(minutes=rng.randrange(5, 90))
            department = rng.choice(departments)
            expert = rng.choice(experts[department]) if experts[department] else None
            left = rng.random() < 0.03
            visit_rows.append(
                {
                    "client_id": rng.randint(bounds["low"], bounds["high"]),
                    "day": day,
                    "visit_type": rng.choice(["first", "return", "return", "exam", "member"]),
                    "status": "left" if left else "done",
                    "department_id": department,
                    "expert_id": expert,
                    "chief_complaint": "",
                    "channel_id": rng.choice(channels) if channels else None,
                    "priority": False,
                    "arrived_at": arrived,
                    "triaged_at": arrived + datetime.timedelta(minutes=2),
                    "seen_at": None if left else seen,
                    "finished_at": seen + datetime.timedelta(minutes=rng.randrange(5, 40)),
                    "updated_at": arrived,
                }
            )
        with transaction.atomic():
            bulk.insert(Visit, visit_rows)
            for row in visit_rows:
                if row["status"] == "left":
                    continue
                count = int(charges_per_visit) + (rng.random() < charges_per_visit % 1)
                for k in range(count):
                    item, unit = rng.choice(prices)
                    quantity = 1 if rng.random() < 0.8 else rng.randint(2, 5)
                    charge_rows.append(
                        {
                            "visit_id": row["id"],
                            "client_id": row["client_id"],
                            "price_item_id": item,
                            "quantity": quantity,
                            "unit_price": unit,
                            "amount": (Decimal(unit) * quantity).quantize(Decimal("0.01")),
                            "source": "import",
                            "reference": None,
                            "charged_at": row["seen_at"] + datetime.timedelta(minutes=k),
                            "void_reason": "",
                        }
                    )
            bulk.write(Charge, charge_rows)
        visits_done += size
        charges_done += len(charge_rows)
        elapsed = perf_counter() - began
        out.write(
            f"  {visits_done:,}/{n_visits:,} visits, {charges_done:,} charges,"
            f" {(visits_done + charges_done) / elapsed:,.0f} rows/s\n"
        )
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Visit._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {Charge._meta.db_table}")
    return visits_done, charges_done
