"""VIP's demo data (seed_demo): the policy with the seed's open thresholds ([X]) filled in, two
enterprise accounts with their employees, a few VIPs of every kind with their escorts, a
candidate waiting for approval and a nomination waiting for a second person.

Everything is made through the real services: the spend is charges on past visits at the front
desk (so each VIP's cost page has lines, months and discounts), the nightly qualification lists
the candidates, a VIP manager approves them, escorts are named on the VIP pages' service.
Idempotent: nothing is made when the first demo enterprise exists.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from clientmgmt.models import Client
from consult import services as consult
from consult.models import Booking
from guide import selectors as guide_selectors
from guide import services as guide_services
from guide.models import Visit, VisitEvent
from vip import services
from vip.models import Enterprise, VipCandidate, VipEvent, VipPolicy, VipStanding
from zhongdu import roles
from zhongdu.models import ClinicSession, Department, PriceItem

# The seed's 认定标准 with its [X] filled the way a private dermatology hospital might: personal
# VIP from ¥50,000 a year (gold ¥100,000, platinum ¥300,000); an enterprise with an agreement
# and ¥200,000 a year, and 100 employees or ¥50 million revenue.
POLICY = {
    "personal_annual_spend": Decimal("50000"),
    "gold_spend": Decimal("100000"),
    "platinum_spend": Decimal("300000"),
    "enterprise_annual_spend": Decimal("200000"),
    "enterprise_min_employees": 100,
    "enterprise_min_revenue": Decimal("50000000"),
    "auto_grant": False,
    "grace_days": 90,
    "vip_share_percent": 10,
    "followup_interval_days": 30,
}
POLICY_NOTE = (
    "按《医疗VIP客户管理制度》认定标准填写：个人年消费5万元，"
    "企业年消费20万元且员工100人或年营业额5000万元"
)

# Past visits of each demo client: (days ago, [(price-list code, quantity, discount %)]).
PLATINUM = [
    (320, [("SS005", 20, 0)]),
    (200, [("TX002", 40, 5)]),
    (60, [("TC008", 30, 0)]),
]
GOLD = [(280, [("TX005", 30, 0)]), (120, [("SS003", 10, 0)]), (30, [("TX002", 12, 10)])]
STANDARD = [(240, [("TX002", 15, 0)]), (90, [("ZL012", 20, 0), ("TC004", 5, 8)])]
CANDIDATE = [(150, [("SS006", 20, 0)])]
EMPLOYEE = [(100, [("SS003", 10, 0)]), (20, [("TX006", 7, 0)])]
SMALL = [(45, [("JC001", 2, 0), ("ZL006", 5, 0)])]

ENTERPRISES = [
    {
        "name": "中原重工集团有限公司",
        "agreement_number": "ZD-QY-2026-001",
        "terms": "员工凭工牌就诊享受VIP服务；年度体检团体价；专人对接预约。",
        "employee_count": 1200,
        "annual_revenue": Decimal("860000000"),
        "contact_name": "王建国",
        "contact_phone": "+8613903710001",
    },
    {
        "name": "郑东新区科创产业园有限公司",
        "agreement_number": "ZD-QY-2026-002",
        "terms": "员工及家属就诊九五折；每季度一次健康讲座。",
        "employee_count": 60,
        "annual_revenue": Decimal("80000000"),
        "contact_name": "李敏",
        "contact_phone": "+8613903710002",
    },
]
NOMINATION_REASON = "省书画家协会副主席，在本院长期治疗白癜风十余年，多次介绍亲友来院就诊。"


def seed_vips(*, by) -> dict:
    """`by`: the VIP manager who approves the candidates (and nominates one client)."""
    if Enterprise.objects.filter(name=ENTERPRISES[0]["name"]).exists():
        return {"vips": 0, "enterprises": 0, "candidates": 0}
    today = timezone.localdate()
    people = _free_clients(13)
    if len(people) < 13 or not PriceItem.objects.filter(code="TX002").exists():
        return {"vips": 0, "enterprises": 0, "candidates": 0}
    desk = guide_selectors.escorts().filter(groups__name=roles.FRONT_DESK).first() or by
    services.policy_add(by=by, note=POLICY_NOTE, **POLICY)
    platinum, gold, standard, candidate, nominee = people[:5]
    for person, plan in ((platinum, PLATINUM), (gold, GOLD), (standard, STANDARD)):
        _spend(person, plan, by=desk, today=today)
    _spend(candidate, CANDIDATE, by=desk, today=today)
    firms = [
        services.enterprise_create(
            data={
                **fields,
                "agreement_start": today - datetime.timedelta(days=200),
                "agreement_end": today + datetime.timedelta(days=165),
            },
            by=by,
        )
        for fields in ENTERPRISES
    ]
    for person in people[5:10]:
        services.enterprise_add_member(enterprise=firms[0], client=person, by=by)
        _spend(person, EMPLOYEE, by=desk, today=today)
    for person in people[10:13]:
        services.enterprise_add_member(enterprise=firms[1], client=person, by=by)
        _spend(person, SMALL, by=desk, today=today)
    # The nightly job lists the candidates (the policy wants approval); the VIP manager approves
    # all but one, which waits.
    services.qualification_run(today=today)
    for listed in VipCandidate.objects.filter(status=VipCandidate.Status.PENDING).exclude(
        client=candidate
    ):
        services.candidate_decide(candidate=listed, by=by, approve=True, reason="符合认定标准")
    services.nominate(client=nominee, by=by, reason=NOMINATION_REASON)
    for person, escort in ((platinum, desk), (gold, by), (people[5], desk)):
        standing = VipStanding.objects.filter(client=person).first()
        if standing is not None:
            services.escort_assign(standing=standing, escort=escort, by=by)
    _book_today([platinum, gold], by=desk)
    return {
        "vips": VipStanding.objects.filter(status=VipStanding.Status.ACTIVE).count(),
        "enterprises": len(firms),
        "candidates": VipCandidate.objects.filter(status=VipCandidate.Status.PENDING).count(),
    }


def _book_today(people, *, by) -> None:
    """The escorted VIPs are expected today (the front desk's board shows them with their
    escort and the priority mark), booked as VIPs into today's first sessions with a place."""
    sessions = ClinicSession.objects.filter(
        date=timezone.localdate(), status=ClinicSession.Status.SCHEDULED
    ).order_by("start_time", "pk")
    for person, session in zip(people, sessions, strict=False):
        if not VipStanding.objects.filter(client=person, status=VipStanding.Status.ACTIVE).exists():
            continue
        person.refresh_from_db()
        try:
            consult.booking_create(
                client=person, session=session, kind=Booking.Kind.EXPERT, by=by, vip=True
            )
        except ValidationError:  # the session is full (SessionFull is one): no VIP today
            continue


def _free_clients(n: int) -> list[Client]:
    """Demo clients who are not VIPs, are not here today and have no booking today (the front
    desk's demo morning takes the first ones; these come from the other end)."""
    chosen = []
    rows = Client.objects.filter(status=Client.Status.ACTIVE, is_vip=False, phone__gt="")
    for client in rows.order_by("-pk")[: n * 3]:
        if guide_selectors.open_visit_for(client) or guide_selectors.todays_booking_for(client):
            continue
        chosen.append(client)
        if len(chosen) == n:
            break
    return chosen


def _spend(client, plan, *, by, today) -> None:
    """Past visits at the desk with their charges (a discount where the plan says), moved back
    to their day."""
    tz = timezone.get_default_timezone()
    prices = {item.code: item for item in PriceItem.objects.filter(active=True)}
    fallback = Department.objects.filter(active=True).order_by("pk").first()
    for days_ago, lines in plan:
        day = today - datetime.timedelta(days=days_ago)
        at = datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=tz)
        visit = guide_services.visit_register_walk_in(client=client, by=by)
        department = None
        for code, quantity, discount in lines:
            item = prices[code]
            department = department or item.department
            listed = item.price * quantity
            guide_services.charge_add(
                visit=visit,
                price_item=item,
                quantity=quantity,
                amount=(listed * (100 - discount) / 100).quantize(Decimal("0.01")),
                charged_at=at + datetime.timedelta(minutes=40),
                by=by,
            )
        visit = guide_services.visit_triage(visit=visit, department=department or fallback, by=by)
        visit = guide_services.visit_set_status(visit=visit, new_status="with_doctor", by=by)
        guide_services.visit_set_status(visit=visit, new_status="done", by=by)
        Visit.objects.filter(pk=visit.pk).update(
            day=day,
            arrived_at=at,
            triaged_at=at + datetime.timedelta(minutes=10),
            seen_at=at + datetime.timedelta(minutes=25),
            finished_at=at + datetime.timedelta(minutes=60),
        )
        VisitEvent._base_manager.filter(visit=visit).update(at=at)  # append-only: backdated


# Qualified a year and a week ago on one course of treatment (¥63,000), nothing since: VIPs
# through their grace period, lapsed at the nightly run (the history's story of a lapse).
LAPSED = [(375, [("SS005", 14, 0)])]
LAPSED_QUALIFIED_DAYS_AGO = 370


def seed_lapsed_vips(*, by, today=None) -> int:
    """Two clients who qualified on their spend a year ago (granted by rule on that day, as the
    nightly run then did) and lapsed at the nightly run since. `by`: the front-desk user who
    charged them. Idempotent: nothing when a standing has lapsed already. Returns the lapsed."""
    today = today or timezone.localdate()
    policy = VipPolicy.current()
    if policy is None or VipStanding.objects.filter(status=VipStanding.Status.LAPSED).exists():
        return 0
    if not PriceItem.objects.filter(code="SS005").exists():
        return 0
    # Demo clients registered before they spent (the history's clients are younger).
    before = today - datetime.timedelta(days=400)
    people = [
        client
        for client in Client.objects.filter(
            status=Client.Status.ACTIVE, is_vip=False, phone__gt="", created_at__date__lt=before
        ).order_by("pk")[60:70]
        if not guide_selectors.open_visit_for(client)
        and not guide_selectors.todays_booking_for(client)
    ][:2]
    qualified = today - datetime.timedelta(days=LAPSED_QUALIFIED_DAYS_AGO)
    for person in people:
        _spend(person, LAPSED, by=by, today=today)
        spend = sum(charge.amount for charge in person.charges.all())
        services.grant(
            client_id=person.pk, kind="personal", policy=policy, spend=spend, today=qualified
        )
        at = datetime.datetime.combine(
            qualified, datetime.time(2, 0), tzinfo=timezone.get_default_timezone()
        )
        VipEvent._base_manager.filter(client=person).update(at=at)  # append-only: backdated
    return services.qualification_run(today=today)["lapsed"] if people else 0
