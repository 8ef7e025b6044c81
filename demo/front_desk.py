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

from django.contrib.auth import get_user_model
from django.utils import timezone

from clientmgmt.models import Client
from consult import services as consult
from consult.models import Booking, Enquiry
from guide import services
from guide.models import DisplayScreen, ExamPackage, MembershipCard, TriageKeyword
from zhongdu import roles
from zhongdu.models import Channel, ClinicSession, Department, PriceItem

User = get_user_model()

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
    channels = list(Channel.objects.filter(active=True).order_by("pk"))
    consultant = User.objects.filter(groups__name=roles.CONSULTANT).order_by("pk").first() or by
    begun = [s for s in sessions if _starts(s) <= now]
    made = 0
    for n, client in enumerate(clients[:MORNING_BOOKINGS]):
        session = sessions[n % len(sessions)]
        # Two bookings in three (those who arrive among them) come from a call taken this
        # morning (the funnel's enquiries that led to a booking); the others were booked
        # without one (online, at the desk).
        enquiry = _morning_enquiry(client, channels, by=consultant, rng=rng) if n % 3 != 2 else None
        try:
            booking = consult.booking_create(
                client=client, session=session, kind=Booking.Kind.EXPERT, by=by, enquiry=enquiry
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


def _morning_enquiry(client, channels, *, by, rng):
    """A call from `client` this morning, naming the channel they heard of us through (their
    record's, or one of the hospital's when the record has none), which the consultant booked."""
    channel = client.source_channel or (rng.choice(channels) if channels else None)
    return consult.enquiry_create(
        by=by,
        client=client,
        outcome=Enquiry.Outcome.BOOKED,
        marketing_channel=channel,
        topic=rng.choice(["湿疹", "痤疮", "色斑", "脱发", "白癜风"]),
        duration_seconds=rng.randint(90, 420),
    )


def seed_enquiries(*, by, seed: int = 2027, count: int = 8) -> int:
    """This morning's calls that did not (yet) end in a booking: prospects asking about prices
    and doctors, by the channel they named. Nothing when today already has enquiries without a
    booking. Returns the number made."""
    today = timezone.localdate()
    if Enquiry.objects.filter(created_at__date=today, client__isnull=True).exists():
        return 0
    channels = list(Channel.objects.filter(active=True).order_by("pk"))
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    consultant = User.objects.filter(groups__name=roles.CONSULTANT).order_by("pk").first() or by
    for n in range(count):
        consult.enquiry_create(
            by=consultant,
            outcome=rng.choice([Enquiry.Outcome.INFORMATION, Enquiry.Outcome.NOT_INTERESTED]),
            prospect_name=rng.choice(["王女士", "李先生", "张女士", "刘先生"]),
            prospect_phone=f"+861390371{n:04d}",
            marketing_channel=rng.choice(channels) if channels and n % 4 else None,
            topic=rng.choice(["祛斑价格", "儿童湿疹", "激光脱毛", "体检套餐"]),
            duration_seconds=rng.randint(60, 300),
        )
    return count


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


DEMO_SCREEN_NAME = "候诊区大屏（演示）"


def seed_display_screen(*, by) -> DisplayScreen | None:
    """One waiting-room screen for the first department, kept across runs (its link too)."""
    screen = DisplayScreen.objects.filter(name=DEMO_SCREEN_NAME, revoked_at__isnull=True).first()
    department = Department.objects.filter(active=True).order_by("sort_order", "name").first()
    if screen is None and department is not None:
        screen = services.display_screen_create(name=DEMO_SCREEN_NAME, department=department, by=by)
    return screen


def seed_front_desk(*, by) -> dict:
    return {
        "keywords": seed_keywords(),
        "packages": seed_packages(),
        "bookings": seed_morning(by=by),
        "enquiries": seed_enquiries(by=by),
    }
