"""The front desk's demo data (seed_demo): triage keywords, exam packages, and a morning under
way, so that `make run` opens on a board that looks like a real day.

Everything is made through the real services (bookings through the consultation desk's, visits,
cards and exam orders through the front desk's), so the demo has the events, categories and audit
rows the product would have. Idempotent: keywords and packages are created where missing, and the
morning only when today has no bookings yet (each `make run` of a new day fills that day).
"""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from clientmgmt.models import Client
from consult import services as consult
from consult.models import Booking
from guide import services
from guide.models import ExamPackage, MembershipCard, TriageKeyword
from zhongdu.models import ClinicSession, Department, PriceItem

# Words callers use, beyond each department's own specialties (which become keywords too).
EXTRA_KEYWORDS = [
    ("痒", "皮肤科"),
    ("瘙痒", "皮肤科"),
    ("红疹", "皮肤科"),
    ("青春痘", "皮肤科"),
    ("痘痘", "皮肤科"),
    ("脚气", "皮肤科"),
    ("过敏", "过敏反应科"),
    ("风团", "过敏反应科"),
    ("斑", "激光美容科"),
    ("祛斑", "激光美容科"),
    ("痘印", "激光美容科"),
    ("白斑", "白癜风诊疗中心"),
    ("牛皮癣", "银屑病诊疗中心"),
    ("掉头发", "毛发科"),
    ("脱发", "毛发科"),
    ("宝宝", "儿童皮肤科"),
    ("小孩", "儿童皮肤科"),
    ("体检", "体检中心"),
    ("健康证", "体检中心"),
    ("痣", "皮肤外科"),
    ("狐臭", "皮肤外科"),
]

PACKAGES = {
    "TC001": ["JC014", "JC015", "JC016", "JC017"],
    "TC002": ["JC014", "JC016", "JC002"],
    "TC003": ["JC001", "JC012", "JC007", "JC013"],
    "TC007": ["JC008", "JC009", "JC010"],
}

MORNING_BOOKINGS = 24


def seed_keywords() -> int:
    created = 0
    pairs = [
        (specialty, department)
        for department in Department.objects.filter(active=True)
        for specialty in department.specialty_list
    ]
    departments = {d.name: d for d in Department.objects.all()}
    pairs += [(word, departments[name]) for word, name in EXTRA_KEYWORDS if name in departments]
    for word, department in pairs:
        _keyword, made = TriageKeyword.objects.get_or_create(
            keyword=word[:30], department=department
        )
        created += made
    return created


def seed_packages() -> int:
    created = 0
    for code, items in PACKAGES.items():
        package_item = PriceItem.objects.filter(code=code).first()
        if package_item is None:
            continue
        package, made = ExamPackage.objects.get_or_create(price_item=package_item)
        if made:
            package.items.set(PriceItem.objects.filter(code__in=items))
            created += 1
    return created


def seed_morning(*, by, seed: int = 2026, now=None) -> int:
    """Today's bookings for some demo clients, a third of those whose session has begun by `now`
    arrived and moving through their visits, then (once the first session has begun) two
    walk-ins and an exam order, and a membership card. Nobody is in the clinic before their
    session: at 08:00 the afternoon's patients are still booked, and before the first session
    nobody has arrived. Nothing when today's bookings were made already (bookings a seeded
    history made on earlier days for today do not count). Returns the number of bookings made."""
    now = timezone.localtime(now)
    today = now.date()
    midnight = datetime.datetime.combine(today, datetime.time.min, tzinfo=now.tzinfo)
    if Booking.objects.filter(session__date=today, created_at__gte=midnight).exists():
        return 0
    sessions = list(
        ClinicSession.objects.filter(date=today, status=ClinicSession.Status.SCHEDULED)
        .select_related("department", "expert")
        .order_by("start_time")
    )
    clients = list(
        Client.objects.filter(status=Client.Status.ACTIVE, phone__gt="").order_by("pk")[
            : MORNING_BOOKINGS + 4
        ]
    )
    if not sessions or len(clients) < MORNING_BOOKINGS + 4:
        return 0
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    begun = [s for s in sessions if _starts(s) <= now]
    made = 0
    for n, client in enumerate(clients[:MORNING_BOOKINGS]):
        session = sessions[n % len(sessions)]
        try:
            booking = consult.booking_create(
                client=client, session=session, kind=Booking.Kind.EXPERT, by=by
            )
        except consult.SessionFull:
            continue
        made += 1
        if n % 3 == 0 and session in begun:
            _arrive(booking, by=by, rng=rng, now=now)
    if not begun:
        _demo_card_and_exam(clients[MORNING_BOOKINGS + 2 :], by=by, exam=False)
        return made
    for client in clients[MORNING_BOOKINGS : MORNING_BOOKINGS + 2]:
        visit = services.visit_register_walk_in(client=client, by=by)
        services.visit_triage(
            visit=visit,
            department=sessions[0].department,
            expert=sessions[0].expert,
            chief_complaint=rng.choice(["手臂红疹瘙痒", "脸上长痘", "头皮屑多"]),
            by=by,
        )
    _demo_card_and_exam(clients[MORNING_BOOKINGS + 2 :], by=by)
    return made


def _starts(session) -> datetime.datetime:
    return datetime.datetime.combine(
        session.date, session.start_time, tzinfo=timezone.get_default_timezone()
    )


def _arrive(booking, *, by, rng, now):
    """Check in, triage and move along: some waiting, some with the doctor, some done."""
    visit = services.visit_check_in(booking=booking, by=by)
    visit = services.visit_triage(
        visit=visit,
        department=booking.session.department,
        expert=booking.session.expert,
        chief_complaint=rng.choice(["复诊", "湿疹反复", "痤疮", "色斑咨询", "皮肤瘙痒"]),
        by=by,
    )
    # Half an hour's wait, as the morning goes: arrival earlier than now, and at most twenty
    # minutes before the session begins.
    arrived = max(
        now - datetime.timedelta(minutes=rng.randint(5, 45)),
        _starts(booking.session) - datetime.timedelta(minutes=20),
    )
    type(visit).objects.filter(pk=visit.pk).update(arrived_at=arrived)
    step = rng.random()
    if step > 0.4:
        visit = services.visit_set_status(visit=visit, new_status="with_doctor", by=by)
    if step > 0.7:
        services.visit_set_status(visit=visit, new_status="done", by=by)
        registration = PriceItem.objects.filter(code="GH003").first()
        if registration is not None:
            services.charge_add(visit=visit, price_item=registration, by=by)


def _demo_card_and_exam(clients, *, by, exam=True):
    if len(clients) < 2:
        return
    member, exam_client = clients[:2]
    if not MembershipCard.objects.filter(client=member).exists():
        number = f"ZD{member.pk:08d}"
        if not MembershipCard.objects.filter(number=number).exists():
            services.card_issue(
                client=member,
                number=number,
                level=MembershipCard.Level.SILVER,
                valid_from=timezone.localdate(),
                months=12,
                fee=Decimal("200.00"),
                by=by,
            )
    package = ExamPackage.objects.filter(price_item__code="TC003").first()
    if package is not None and exam:
        visit = services.visit_register_walk_in(client=exam_client, by=by)
        services.exam_order_create(client=exam_client, package=package, visit=visit, by=by)


def seed_front_desk(*, by) -> dict:
    return {
        "keywords": seed_keywords(),
        "packages": seed_packages(),
        "bookings": seed_morning(by=by),
    }
