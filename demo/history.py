"""A year of history for the demo hospital (seed_demo): every page and report opens on data that
looks lived in, and whose figures agree with each other.

Day by day over the last `days` days (today is the front desk's morning, demo.front_desk):
enquiries by contact and marketing channel, about half of them booked (the booking points at its
enquiry; a prospect who books becomes a client with the enquiry's channel); bookings made at the
desk too; the bookings of past sessions arrived (a visit in the session's hours, with its
charges), no-shows (~10 %, each with its recall, a third rebooked) or cancelled; walk-ins;
return-visit calls after some visits, their answers and the survey page's answers; booking SMS;
complaints through their workflow (the last days' still open, one overdue); a campaign a month
(to those who agreed to marketing SMS); a care plan a week; an event a month. Visits carry the
client's source channel, so revenue per channel is the real channels'. Then (seed_reports) the
daily rollups of the seeded days, their months' reports and the closed months' packs.

Rows are written in bulk (demo.bulk: COPY on Postgres, bulk_create elsewhere); complaints, care
plans and events go through their services (deadlines, events, audit), then are dated back.
Deterministic: each day draws from its own random.Random seeded with the day (the same database
and days give the same history; a day seeded by a later run differs only where the earlier
run's bookings fill its sessions). Idempotent by day: every seeded day has an enquiry keyed
`demo-h:<day>:0`, and days that have it are left alone (a run on a later day adds only the days
since).
"""

import datetime
import random
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from clientmgmt import consent
from clientmgmt.models import Client
from clientmgmt.selectors import consent_annotations
from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintEvent
from consult.models import Booking, BookingEvent, Enquiry, Recall
from demo import bulk
from demo.clients import (
    PHONE_SPACE,
    ClientGenerator,
    _write_orm,
    _write_postgres,
    drop_taken_id_numbers,
    encrypt_id_numbers,
)
from events import services as events_services
from events.models import Event, EventAttendance, EventInvitation
from followup import services as followup_services
from followup.models import CarePlan, CarePlanTemplate, FollowUpCall
from guide.models import Charge, Visit
from messaging.models import Campaign, Kind, OutboxMessage, Purpose, SmsTemplate
from reports import packs, rollups, satisfaction
from surveys.models import (
    CALL_DIMENSIONS,
    Dimension,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyTemplate,
)
from zhongdu.directory.services import MAX_WEEKS, clinic_sessions_generate
from zhongdu.models import Channel, ClinicSession, Department, Expert, PriceItem

DAYS = 395  # thirteen months
VISIT_TYPES = ["return", "return", "return", "member"]
KEY = "demo-h"
SEED = 2026
# History clients take phone numbers below the demo clients' (demo.clients numbers those from
# the top of the space down) and above what a bulk run reaches: 10 a day, by the day's ordinal.
_PHONE_BASE = PHONE_SPACE - 1_000_000
NEW_PER_DAY = 10

# How people heard of the hospital (channel name in demo.directory, weight).
CHANNEL_WEIGHTS = {
    "网络/百度": 24,
    "微信公众号": 20,
    "老客户介绍": 18,
    "电视": 8,
    "路过/步行": 8,
    "社区义诊": 6,
    "报纸": 5,
    "广播": 4,
    "其他": 4,
}
CONTACT = [("phone", 45), ("wechat", 20), ("web_chat", 15), ("online_form", 10), ("in_person", 10)]
OUTCOMES = [
    ("booked", 40),
    ("information", 27),
    ("call_back", 16),
    ("not_interested", 10),
    ("referred", 7),
]
QUESTIONS = [
    "想咨询一下治疗费用和疗程。",
    "请问哪位专家看这个病比较好？",
    "医保能报销吗？",
    "周末有没有专家门诊？",
    "需要空腹吗？要带什么材料？",
    "治疗后会不会复发？",
]
COMPLAINTS = [
    ("waiting", "候诊时间太长，预约了还等了一个多小时。"),
    ("attitude", "挂号窗口工作人员态度冷淡，问了两遍都不耐烦。"),
    ("billing", "收费单上有一项检查没有做，却收了费。"),
    ("medical", "用药一周没有效果，医生没有讲清楚注意事项。"),
    ("environment", "候诊区太拥挤，座位不够。"),
    ("privacy", "在大厅里被大声叫出病情，感觉不被尊重。"),
]
RESULT = ("已核实情况，向客户说明并致歉。", "已与科室沟通改进流程，客户表示理解。")


def _pick(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _at(day, hour, minute=0):
    return datetime.datetime.combine(
        day, datetime.time(0), tzinfo=timezone.get_default_timezone()
    ) + datetime.timedelta(hours=hour, minutes=minute)


def _id(value):
    """A row's key: its id once written (rows point at rows not yet written as dicts)."""
    return value["id"] if isinstance(value, dict) else value


def _key(client) -> int:
    """A client of the pool: its id, or (not written yet) the dict's own identity."""
    return client["id"] or id(client)


def _resolve(rows):
    for row in rows:
        for name, value in row.items():
            if name.endswith("_id") and isinstance(value, dict):
                row[name] = value["id"]


def seeded_days() -> set[datetime.date]:
    keys = Enquiry.objects.filter(request_key__startswith=f"{KEY}:", request_key__endswith=":0")
    return {
        datetime.date.fromisoformat(key.split(":")[1])
        for key in keys.values_list("request_key", flat=True)
    }


def _ensure_sessions(first: datetime.date, today: datetime.date) -> None:
    """The past weekly clinics' dated sessions (the directory makes them from today on)."""
    start = first
    while start < today:
        weeks = min(MAX_WEEKS, -(-(today - start).days // 7))
        clinic_sessions_generate(start=start, weeks=weeks)
        start += datetime.timedelta(weeks=weeks)


class History:
    """The rows of the missing days, built in memory then written in dependency order."""

    def __init__(self, *, users, today, seed):
        self.users, self.today, self.seed = users, today, seed
        self.now = timezone.now()
        self.rows = defaultdict(list)  # model -> rows
        self.past_bookings = 0
        self.complaints = []  # (day, rng draw) made through the services afterwards
        self.channels = dict(Channel.objects.filter(active=True).values_list("name", "pk"))
        # The directory's channels (an event's own channel is for the people met there).
        self.channel_pairs = [
            (self.channels[name], weight)
            for name, weight in CHANNEL_WEIGHTS.items()
            if name in self.channels
        ] or [(pk, 1) for pk in self.channels.values()]
        # Ordered, as everything the draws pick from: the same history on every database.
        self.departments = list(Department.objects.filter(active=True).order_by("pk"))
        self.experts = defaultdict(list)
        experts = Expert.objects.filter(active=True).order_by("pk")
        for expert in experts.prefetch_related("departments"):
            for department in expert.departments.all():
                self.experts[department.pk].append(expert.pk)
        prices = list(PriceItem.objects.filter(active=True).order_by("pk"))
        self.registration = [p for p in prices if p.code in ("GH001", "GH002", "GH003")]
        self.items = defaultdict(list)
        for item in prices:
            if item.department_id and not item.code.startswith("GH") and item.price < 3000:
                self.items[item.department_id].append(item)
        self.templates = {
            t.purpose: t
            for t in SmsTemplate.objects.filter(active=True).order_by("-pk")
            if t.purpose in (Purpose.BOOKING_CONFIRMATION, Purpose.HEALTH_TIP)
        }
        self.survey = SurveyTemplate.objects.filter(is_default=True).first()

    # --- The people ---------------------------------------------------------------------------
    def load_pool(self, first: datetime.date) -> None:
        # Clients who know how they heard of the hospital: each figure by channel then counts
        # the same people (the enquiry's, the booking client's and the visit's channel agree).
        # Not the VIPs: their bookings are made as VIP bookings (held places, priority, their
        # escort) by demo.vips, which the bulk rows here do not model.
        rows = (
            Client.objects.filter(
                status=Client.Status.ACTIVE,
                phone__gt="",
                source_channel__isnull=False,
                is_vip=False,
            )
            .annotate(**consent_annotations())
            .values_list(
                "pk",
                "source_channel_id",
                "phone",
                "created_at",
                f"consent_{consent.SERVICE_SMS}",
                f"consent_{consent.MARKETING_SMS}",
            )
        )
        self.pool_later = sorted(
            (
                {
                    "id": pk,
                    "source_channel_id": channel,
                    "phone": phone,
                    "at": at,
                    "service_sms": service,
                    "marketing": marketing,
                }
                for pk, channel, phone, at, service, marketing in rows
            ),
            key=lambda c: (c["at"], c["id"]),  # the same order on every database
        )
        self.pool = []
        self.visited = set(Visit.objects.values_list("client_id", flat=True).distinct().order_by())
        self._admit(_at(first, 0))

    def _admit(self, until) -> None:
        """Clients registered by `until` join the pool of people who may call or come."""
        while self.pool_later and self.pool_later[0]["at"] < until:
            self.pool.append(self.pool_later.pop(0))

    def new_client(self, day, n, rng, channel_id, at) -> dict:
        row = self.generator.profile(_PHONE_BASE - day.toordinal() * NEW_PER_DAY - n)
        row.update(
            created_at=at,
            updated_at=at,
            last_visit_at=None,
            source_channel_id=channel_id,
            status="active",
        )
        # Someone who comes to the history's desk agrees or not on the day; nobody refuses SMS.
        row["consents"] = [{**given, "at": at} for given in row["consents"] if given["granted"]]
        marketing = any(g["purpose"] == consent.MARKETING_SMS for g in row["consents"])
        self.rows[Client].append(row)
        client = {
            "id": None,
            "row": row,
            "source_channel_id": channel_id,
            "phone": row["phone"],
            "service_sms": True,
            "marketing": marketing,
        }
        self.pool.append(client)
        return client

    # --- One day ------------------------------------------------------------------------------
    def day(self, day: datetime.date) -> None:
        rng = random.Random(f"{self.seed}:{day.isoformat()}")  # noqa: S311 (demo data)
        self.current, self.serial = day, 0
        self.generator = ClientGenerator(seed=f"{self.seed}:{day}", by_id=self.users["frontdesk"])
        self._admit(_at(day, 0))
        quiet = 0.5 if day.weekday() == 6 else 0.8 if day.weekday() == 5 else 1.0
        new = iter(range(NEW_PER_DAY))
        # Most visits are booked, most bookings come from enquiries: per day about 22
        # enquiries, 11 bookings (9 of them from an enquiry), 10 arrivals (a walk-in every other
        # day): enquiry → booking about 45 %, booking → arrival about 90 %.
        for i in range(max(1, round(rng.gauss(22, 5) * quiet))):
            self._enquiry(day, i, rng, new)
        for _n in range(max(0, round(rng.gauss(2, 1) * quiet))):
            client = rng.choice(self.pool)
            self._booking(client, None, _at(day, 9, rng.randrange(540)), rng)
        for _n in range(int(rng.random() < 0.45 * quiet)):
            self._walk_in(day, rng, new)
        # About one complaint in three days; the last three days' two each, so that the newest
        # are still at every step of their workflow.
        recent = day >= self.today - datetime.timedelta(days=3)
        for n in range(2 if recent else int(rng.random() < 0.35)):
            self.complaints.append((day, n, rng.random(), rng.randrange(10**6)))
        if day.day == 15:
            self._campaign(day, rng)

    def _serial(self, kind) -> str:
        """A key unique to what the day being seeded makes (its visits, calls and SMS may fall
        on later days, which another run seeds)."""
        self.serial += 1
        return f"{kind}:{self.current.isoformat()}:{self.serial}"

    def _enquiry(self, day, i, rng, new) -> None:
        at = _at(day, 8, rng.randrange(660))
        outcome = _pick(rng, OUTCOMES)
        department = rng.choice(self.departments)
        known = rng.random() < 0.5 and self.pool
        client = rng.choice(self.pool) if known else None
        channel = client["source_channel_id"] if client else None
        channel = channel or _pick(rng, self.channel_pairs)
        prospect = ("", "")
        if client is None:
            n = next(new, None)
            if outcome == "booked" and n is not None:
                client = self.new_client(day, n, rng, channel, at)
            else:
                if outcome == "booked":
                    outcome = "information"
                name = self.generator.name(rng.choice(["female", "male"]))
                prospect = (name, f"+86139{rng.randrange(10**8):08d}")
        call_back = day + datetime.timedelta(days=rng.randint(1, 3))
        open_call_back = outcome == "call_back" and call_back >= self.today
        enquiry = {
            "client_id": client,
            "prospect_name": prospect[0],
            "prospect_phone": prospect[1],
            "contact_channel": _pick(rng, CONTACT),
            "direction": "in",
            "marketing_channel_id": channel,
            "department_id": department.pk,
            "topic": rng.choice(department.specialty_list or [department.name])[:200],
            "question": rng.choice(QUESTIONS),
            "answer": "已详细解答，告知专家出诊时间和费用。",
            "outcome": outcome,
            "call_back_date": call_back if outcome == "call_back" else None,
            "duration_seconds": rng.randint(60, 900),
            "consultant_id": self.users["consultant"],
            "created_at": at,
            "handled": not open_call_back,
            "handled_at": None if open_call_back else at + datetime.timedelta(minutes=5),
            "handled_by_id": None if open_call_back else self.users["consultant"],
            "request_key": f"{KEY}:{day.isoformat()}:{i}",
        }
        self.rows[Enquiry].append(enquiry)
        if outcome == "booked":
            later = at + datetime.timedelta(minutes=3)
            if self._booking(client, enquiry, later, rng, department) is None:
                enquiry["outcome"] = "information"  # no place in the next fortnight

    def _booking(self, client, enquiry, at, rng, department=None, *, rebooking=False):
        session = self._session(client, at.date(), rng, department)
        if session is None:
            return None
        status = "booked"
        if session["date"] < self.today:
            # By cadence, not by chance, so that a few days have their no-show too: one booking
            # in ten not kept, one in twenty-five cancelled.
            self.past_bookings += 1
            status = (
                "no_show"
                if self.past_bookings % 10 == 1
                else "cancelled"
                if self.past_bookings % 25 == 12
                else "arrived"
            )
        if status != "cancelled":
            session["booked"] += 1
        booking = {
            "client_id": client,
            "session_id": session["id"],
            "kind": "expert",
            "status": status,
            "cancel_reason": "临时有事，改天再约" if status == "cancelled" else "",
            "enquiry_id": enquiry,
            "created_by_id": self.users["consultant"],
            "created_at": at,
            "updated_at": at,
        }
        self.rows[Booking].append(booking)
        self._booking_events(booking, session, at)
        if client["service_sms"]:
            self._sms(client, at, rng, self._serial("booking"))
        if status == "arrived":
            start = _at(session["date"], session["start"].hour, session["start"].minute)
            arrived = start + datetime.timedelta(minutes=rng.randint(-20, 60))
            self._visit(client, session["date"], arrived, rng, session=session, booking=booking)
        elif status == "no_show":
            self._recall(client, booking, session["date"], rng, rebooking)
        return booking

    def _session(self, client, day, rng, department):
        """A session in the next two weeks with a place, not already this client's."""
        for _try in range(6):
            date = day + datetime.timedelta(days=rng.choice([1, 1, 2, 2, 3, 4, 5, 7, 10, 14]))
            options = [
                s
                for s in self.sessions.get(date, ())
                if s["booked"] < s["capacity"] * 0.8
                and (_key(client), s["id"]) not in self.taken
                and (department is None or s["department"] == department.pk or _try > 2)
            ]
            if options:
                session = rng.choice(options)
                self.taken.add((_key(client), session["id"]))
                return session
        return None

    def _booking_events(self, booking, session, at):
        events = self.rows[BookingEvent]
        events.append({"booking_id": booking, "action": "created", "to_status": "booked", "at": at})
        if booking["status"] != "booked":
            when = _at(session["date"], 20) if booking["status"] == "no_show" else at
            if booking["status"] == "arrived":
                when = _at(session["date"], session["start"].hour, session["start"].minute)
            events.append(
                {
                    "booking_id": booking,
                    "action": "status",
                    "from_status": "booked",
                    "to_status": booking["status"],
                    "detail": booking["cancel_reason"],
                    "at": when,
                }
            )

    def _recall(self, client, booking, day, rng, rebooking):
        swept = _at(day, 21)
        recall = {
            "booking_id": booking,
            "client_id": client,
            "status": "open",
            "attempts": 0,
            "next_attempt_on": day + datetime.timedelta(days=1),
            "created_at": swept,
        }
        self.rows[Recall].append(recall)
        if day >= self.today - datetime.timedelta(days=2) or rebooking:
            recall["next_attempt_on"] = max(recall["next_attempt_on"], self.today)
            if rebooking and day < self.today - datetime.timedelta(days=2):
                recall.update(status="closed", attempts=3, next_attempt_on=None)
                recall["handled_at"] = swept + datetime.timedelta(days=3)
            return
        reached = _at(day + datetime.timedelta(days=1), 10, rng.randrange(300))
        r = rng.random()
        reason = rng.choice(["forgot", "forgot", "too_far", "price", "ill", "other"])
        if r < 0.35:
            recall.update(
                status="rebooked",
                attempts=1,
                reason=reason,
                reached_at=reached,
                handled_at=reached,
                handled_by_id=self.users["consultant"],
                next_attempt_on=None,
            )
            recall["rebooking_id"] = self._booking(client, None, reached, rng, rebooking=True)
        elif r < 0.45:
            recall.update(status="reached", attempts=1, reason=reason, reached_at=reached)
            recall["next_attempt_on"] = None
        else:
            recall.update(
                status="closed",
                attempts=3,
                handled_at=reached + datetime.timedelta(days=2),
                handled_by_id=self.users["consultant"],
                next_attempt_on=None,
                notes="三次未接通",
            )

    def _walk_in(self, day, rng, new):
        n = next(new, None)
        arrived = _at(day, 8, rng.randrange(510))
        if n is not None and rng.random() < 0.5:
            client = self.new_client(day, n, rng, _pick(rng, self.channel_pairs), arrived)
        else:
            client = rng.choice(self.pool)
        self._visit(client, day, arrived, rng)

    def _visit(self, client, day, arrived, rng, *, session=None, booking=None):
        if session is not None:
            department, expert = session["department"], session["expert"]
        else:
            department = rng.choice(self.departments).pk
            experts = self.experts.get(department)
            expert = rng.choice(experts) if experts else None
        left = rng.random() < 0.03
        seen = arrived + datetime.timedelta(minutes=rng.randint(10, 50))
        key = _key(client)
        # Drawn whatever it is used for, so that the day's later draws do not depend on who has
        # been here before (today's morning, an earlier run).
        kind = rng.choice(VISIT_TYPES)
        first = key not in self.visited
        self.visited.add(key)
        visit = {
            "client_id": client,
            "booking_id": booking,
            "day": day,
            "visit_type": "first" if first else kind,
            "status": "left" if left else "done",
            "department_id": department,
            "expert_id": expert,
            "session_id": session["id"] if session else None,
            "chief_complaint": "",
            "channel_id": client["source_channel_id"],
            "priority": False,
            "arrived_at": arrived,
            "triaged_at": arrived + datetime.timedelta(minutes=3),
            "seen_at": None if left else seen,
            "finished_at": seen + datetime.timedelta(minutes=rng.randint(10, 40)),
            "registered_by_id": self.users["frontdesk"],
            "updated_at": seen,
        }
        self.rows[Visit].append(visit)
        if left:
            return
        lines = [rng.choice(self.registration)] if self.registration else []
        items = self.items.get(department)
        if items:
            lines += rng.sample(items, min(len(items), rng.choice([0, 1, 1, 2, 3])))
        for k, item in enumerate(lines):
            quantity = 1 if rng.random() < 0.85 else rng.randint(2, 4)
            self.rows[Charge].append(
                {
                    "visit_id": visit,
                    "client_id": client,
                    "price_item_id": item.pk,
                    "quantity": quantity,
                    "unit_price": item.price,
                    "amount": (item.price * quantity).quantize(Decimal("0.01")),
                    "source": "desk",
                    "reference": None,
                    "charged_at": seen + datetime.timedelta(minutes=5 + k),
                    "created_by_id": self.users["frontdesk"],
                    "void_reason": "",
                }
            )
        r = rng.random()
        if r < 0.25:
            self._call(client, visit, day, rng)
        elif r < 0.6:
            self._invitation(client, visit, rng)

    def _invitation(self, client, visit, rng):
        """The survey's QR code on the visit slip; a good third answer it the next evening."""
        if self.survey is None:
            return
        at = visit["finished_at"]
        invitation = {
            "token": f"{rng.getrandbits(128):032x}",
            "template_id": self.survey.pk,
            "client_id": client,
            "visit_id": visit,
            "channel": "qr",
            "created_at": at,
            "expires_at": at + datetime.timedelta(days=14),
        }
        self.rows[SurveyInvitation].append(invitation)
        answered = _at(visit["day"] + datetime.timedelta(days=1), 20, rng.randrange(60))
        if rng.random() < 0.4 and answered < self.now:
            invitation["used_at"] = answered
            response = self._response(client, visit, "survey", answered, rng)
            response["invitation_id"] = invitation

    def _call(self, client, visit, day, rng):
        due = day + datetime.timedelta(days=3)
        call = {
            "client_id": client,
            "reason": "manual",
            "visit_id": visit,
            "source": f"{KEY}:{self._serial('call')}",
            "title": "就诊后回访",
            "script": "问候客户，询问就诊后的恢复情况和对服务的意见。",
            "due_on": due,
            "planned_on": due,
            "status": "open",
            "assigned_to_id": self.users["clientmgr"],
            "created_at": visit["finished_at"],
        }
        self.rows[FollowUpCall].append(call)
        if due >= self.today - datetime.timedelta(days=1) and rng.random() < 0.6:
            return  # still to make (yesterday's: overdue on the workbench)
        r = rng.random()
        closed = _at(due, 10, rng.randrange(420))
        if r < 0.1:
            call.update(status="unreachable", attempts=3, outcome="no_answer", closed_at=closed)
        else:
            call.update(
                status="done",
                attempts=1,
                outcome="reached",
                course=rng.choice(["on_track", "improving", "improving", "finished"]),
                rehab_guidance=True,
                closed_at=closed,
                closed_by_id=self.users["clientmgr"],
            )
            if rng.random() < 0.7:
                call["survey_response_id"] = self._response(client, visit, "call", closed, rng)

    def _response(self, client, visit, source, at, rng):
        base = rng.choice([5, 5, 5, 5, 4, 4, 4, 3, 2])
        scores = [max(1, min(5, base + rng.choice([-1, 0, 0, 0, 1]))) for _d in CALL_DIMENSIONS]
        recommend = max(0, min(10, base * 2 + rng.choice([-2, -1, 0, 0, 1])))
        response = {
            "template_id": self.survey.pk if self.survey and source == "survey" else None,
            "source": source,
            "client_id": client,
            "visit_id": visit,
            "department_id": visit["department_id"],
            "expert_id": visit["expert_id"],
            "recommend": recommend,
            "lowest_score": min(scores),
            "comment": "" if base > 3 else "等候时间有点长。",
            "needs_recovery": False,
            "submitted_at": at,
        }
        self.rows[SurveyResponse].append(response)
        answers = self.rows[SurveyAnswer]
        for dimension, score in zip(CALL_DIMENSIONS, scores, strict=True):
            answers.append({"response_id": response, "dimension": dimension, "score": score})
        answers.append(
            {"response_id": response, "dimension": Dimension.RECOMMEND, "score": recommend}
        )
        return response

    def _sms(self, client, at, rng, key, *, template=None, campaign=None):
        template = template or self.templates.get(Purpose.BOOKING_CONFIRMATION)
        r = rng.random()
        status = "delivered" if r < 0.93 else "sent" if r < 0.96 else "failed"
        self.rows[OutboxMessage].append(
            {
                "client_id": client,
                "to": client["phone"],
                "body": "【中都医院】您的预约已成功，请按时就诊。"
                if campaign is None
                else "【中都医院】冬季皮肤易干燥，浴后及时涂抹保湿霜。回复TD退订",
                "purpose": template.purpose if template else Purpose.BOOKING_CONFIRMATION,
                "kind": template.kind if template else Kind.SERVICE,
                "template_id": template.pk if template else None,
                "campaign_id": campaign,
                "send_after": at,
                "status": status,
                "attempts": 1,
                "error_code": "30003" if status == "failed" else "",
                "error_text": "Unreachable destination handset" if status == "failed" else "",
                "idempotency_key": f"{KEY}:sms:{key}",
                "callback_token": uuid.UUID(int=rng.getrandbits(128), version=4),
                "created_at": at,
                "queued_at": at,
                "claimed_at": at,
                "sent_at": None if status == "failed" else at + datetime.timedelta(seconds=2),
                "delivered_at": at + datetime.timedelta(seconds=9)
                if status == "delivered"
                else None,
                "updated_at": at,
            }
        )

    def _campaign(self, day, rng):
        template = self.templates.get(Purpose.HEALTH_TIP)
        # Marketing SMS only to those who agreed to them.
        consenting = [c for c in self.pool if c["marketing"]]
        if template is None or len(consenting) < 20:
            return
        at = _at(day, 10)
        audience = rng.sample(consenting, min(len(consenting), 60))
        campaign = {
            "name": f"{day:%Y年%m月}皮肤健康提示",
            "template_id": template.pk,
            "segment": {"categories": ["is_patient"]},
            "send_at": at,
            "status": "scheduled",
            "total": len(audience),
            "built": len(audience),
            "created_by_id": self.users["clientmgr"],
            "created_at": at - datetime.timedelta(days=1),
            "request_key": f"{KEY}:campaign:{day.isoformat()}",
        }
        self.rows[Campaign].append(campaign)
        for client in audience:
            key = self._serial("campaign")
            self._sms(client, at, rng, key, template=template, campaign=campaign)

    # --- Writing ------------------------------------------------------------------------------
    ORDER = [
        Enquiry,
        Booking,
        BookingEvent,
        Visit,
        Charge,
        Recall,
        SurveyInvitation,
        SurveyResponse,
        SurveyAnswer,
        FollowUpCall,
        Campaign,
        OutboxMessage,
    ]

    def write(self) -> dict:
        written = {}
        with transaction.atomic():
            clients = self.rows.pop(Client, [])
            if clients:
                encrypt_id_numbers(clients)
                drop_taken_id_numbers(clients)
                (_write_postgres if connection.vendor == "postgresql" else _write_orm)(
                    clients, True
                )
                for client in self.pool:
                    if client.get("row") is not None:
                        client["id"] = client["row"]["id"]
            written[Client] = len(clients)
            # Rebookings are made after the booking they follow: write bookings in order.
            for model in self.ORDER:
                rows = self.rows.get(model, [])
                _resolve(rows)
                bulk.insert(model, rows)
                written[model] = len(rows)
            for session in self.changed_sessions():
                ClinicSession.objects.filter(pk=session["id"]).update(
                    booked=F("booked") + session["booked"] - session["was"]
                )
            _last_visits()
        return written

    def changed_sessions(self):
        return [s for day in self.sessions.values() for s in day if s["booked"] != s["was"]]


def _last_visits() -> None:
    """Clients' last visit, as the front desk keeps it."""
    latest = (
        Visit.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(last=Max("arrived_at"))
        .values("last")
    )
    Client.objects.filter(pk__in=Visit.objects.values("client_id")).update(
        last_visit_at=Subquery(latest)
    )


def _load_sessions(history, first, today):
    history.sessions = defaultdict(list)
    rows = ClinicSession.objects.filter(
        date__gte=first, date__lte=today + datetime.timedelta(days=15), status="scheduled"
    ).values("id", "date", "start_time", "department_id", "expert_id", "capacity", "booked")
    # Not by id: the directory numbers new sessions in no particular order.
    for row in rows.order_by("date", "start_time", "department_id", "expert_id", "pk"):
        history.sessions[row["date"]].append(
            {
                "id": row["id"],
                "date": row["date"],
                "start": row["start_time"],
                "department": row["department_id"],
                "expert": row["expert_id"],
                "capacity": row["capacity"],
                "booked": row["booked"],
                "was": row["booked"],
            }
        )
    history.taken = set(
        Booking.objects.filter(session__date__gte=first, status="booked").values_list(
            "client_id", "session_id"
        )
    )


# --- Complaints: through their services, then dated back -----------------------------------
@transaction.atomic  # one commit: on SQLite each commit is a disk sync (~20 ms)
def _complaints(history, items, by) -> int:
    """The complaints drawn by the days, through complaint_create and the workflow's steps, then
    dated back to their day. Newest first: the newest is received and overdue to acknowledge,
    the next ones acknowledged, investigating and resolved; the older ones closed (the last
    fortnight's sometimes still resolved)."""
    visits = defaultdict(list)
    for visit in history.rows[Visit]:
        visits[visit["day"]].append(visit)
    made = 0
    ordered = sorted(items, key=lambda item: (item[0], item[1]), reverse=True)
    for index, (day, n, draw, pick) in enumerate(ordered):
        todays = visits.get(day) or history.rows[Visit]
        if not todays:
            continue
        steps = index if index < 4 else 3 if (history.today - day).days <= 14 and draw < 0.3 else 4
        category, words = COMPLAINTS[pick % len(COMPLAINTS)]
        _complaint(
            todays[pick % len(todays)],
            category=category,
            words=words,
            received=_at(day, 9, 30 + pick % 420),
            steps=steps,
            by=by,
            source=f"{KEY}:complaint:{day.isoformat()}:{n}",
        )
        made += 1
    return made


def _complaint(visit, *, category, words, received, steps, by, source):
    complaint = complaint_services.complaint_create(
        client=Client.objects.get(pk=visit["client_id"]),
        by=by,
        words=words,
        channel=Complaint.Channel.PHONE,
        category=category,
        severity=Complaint.Severity.NORMAL,
        department=Department.objects.get(pk=visit["department_id"]),
        source=source,
        received_at=received,
    )
    # The steps are taken now and dated back below: without their deadlines meanwhile, so that
    # no "missed" is recorded for a step that, on its own day, was in time.
    due = {"acknowledge_due_at": complaint.acknowledge_due_at}
    due["resolve_due_at"] = complaint.resolve_due_at
    Complaint.objects.filter(pk=complaint.pk).update(acknowledge_due_at=None, resolve_due_at=None)
    moments = [received + datetime.timedelta(hours=h) for h in (1, 3, 20, 26)]
    times = {}
    if steps >= 1:
        complaint_services.complaint_acknowledge(complaint=complaint, by=by)
        times["acknowledged_at"] = moments[0]
    if steps >= 2:
        complaint_services.complaint_investigate(complaint=complaint, by=by)
    if steps >= 3:
        complaint_services.complaint_resolve(
            complaint=complaint, by=by, findings=RESULT[0], action_taken=RESULT[1]
        )
        times["resolved_at"] = moments[2]
    if steps >= 4:
        complaint_services.complaint_close(
            complaint=complaint, by=by, client_accepted=True, client_called_at=timezone.now()
        )
        times.update(closed_at=moments[3], client_called_at=moments[3])
    Complaint.objects.filter(pk=complaint.pk).update(updated_at=received, **due, **times)
    # The events' times follow the steps (the history is append-only: the base manager).
    events = ComplaintEvent._base_manager.filter(complaint=complaint).order_by("pk")
    for event, at in zip(events, [received, received, *moments], strict=False):
        ComplaintEvent._base_manager.filter(pk=event.pk).update(at=at)
    return complaint


def seed_history(*, users, days: int = DAYS, seed: int = SEED, today=None) -> dict:
    """The history of the `days` days before today that are not there yet. `users`: usernames
    → User of the demo (frontdesk, consultant, clientmgr). Returns what was made."""
    today = today or timezone.localdate()
    first = today - datetime.timedelta(days=days)
    missing = sorted({first + datetime.timedelta(days=n) for n in range(days)} - seeded_days())
    if not missing:
        return {"days": 0, "missing": [], "touched": []}
    _ensure_sessions(missing[0], today)
    history = History(users={k: u.pk for k, u in users.items()}, today=today, seed=seed)
    if not history.departments or not history.channel_pairs:
        return {"days": 0, "missing": [], "touched": []}
    _load_sessions(history, missing[0], today)
    history.load_pool(missing[0])
    if not history.pool:
        return {"days": 0, "missing": [], "touched": []}
    history.days = missing
    for day in missing:
        history.day(day)
    written = history.write()
    complaints = _complaints(history, history.complaints, users["clientmgr"])
    plans = _care_plans(history, users["clientmgr"])
    events = _events(history, users["clientmgr"])
    # The days whose figures changed: those seeded, and the later ones their bookings, visits and
    # calls fell on (already seeded by an earlier, shorter run).
    touched = set(missing) | {v["day"] for v in history.rows[Visit]}
    touched |= {s["date"] for s in history.changed_sessions()}
    touched |= {c["planned_on"] for c in history.rows[FollowUpCall]}
    return {
        "days": len(missing),
        "missing": missing,
        "touched": sorted(day for day in touched if day < today),
        "clients": written[Client],
        "enquiries": written[Enquiry],
        "bookings": written[Booking],
        "visits": written[Visit],
        "charges": written[Charge],
        "complaints": complaints,
        "plans": plans,
        "events": events,
    }


# --- Events: a free clinic or a lecture a month, through the events' services ---------------
EVENTS = [
    (Event.Kind.FREE_CLINIC, "社区皮肤健康义诊", "金水区文化路社区服务中心"),
    (Event.Kind.LECTURE, "皮肤健康学校：四季护肤讲座", "本院三楼多功能厅"),
]


@transaction.atomic  # one commit, as above
def _events(history, by) -> int:
    """On the 20th of each seeded month (a Saturday's worth of people): the event, its
    invitations three weeks before, the replies, and the people who came ticked in at the door.
    Idempotent by title."""
    clients = [c for c in history.pool if c["id"]]
    made = 0
    for day in history.days:
        if day.day != 20 or len(clients) < 40:
            continue
        kind, name, place = EVENTS[day.month % 2]
        title = f"{name}（{day:%Y年%m月}）"
        if Event.objects.filter(title=title).exists():
            continue
        rng = random.Random(f"{history.seed}:event:{day}")  # noqa: S311 (demo data)
        event = events_services.event_create(
            by=by,
            title=title,
            kind=kind,
            starts_at=_at(day, 9),
            ends_at=_at(day, 12),
            place=place,
            capacity=40,
            description="专家现场答疑，免费皮肤检测。",
            segment={"categories": ["is_patient"]},
            vip_only=False,
        )
        invited_at = _at(day - datetime.timedelta(days=21), 10)
        guests = rng.sample(clients, 30)
        EventInvitation.objects.bulk_create(
            [
                EventInvitation(
                    event=event,
                    client_id=guest["id"],
                    sms_key=events_services.invitation_key(event.pk, guest["id"]),
                    created_at=invited_at,
                    rsvp=("yes" if n % 3 else "no") if n < 18 else "",
                    rsvp_at=invited_at + datetime.timedelta(days=2) if n < 18 else None,
                    rsvp_by=by if n < 18 else None,
                )
                for n, guest in enumerate(guests)
            ]
        )
        Event.objects.filter(pk=event.pk).update(
            invitations_started_at=invited_at, invitations_done_at=invited_at
        )
        came = Client.objects.filter(pk__in=[g["id"] for g in guests[1:18:3] + guests[2:18:3]])
        for client in came:
            events_services.event_attend(event=event, client=client, by=by)
        EventAttendance.objects.filter(event=event).update(at=_at(day, 9, 20))
        made += 1
    return made


# --- Care plans: through plan_create (its steps, calls and SMS), the past calls made ----------
@transaction.atomic  # one commit, as above
def _care_plans(history, by) -> int:
    """A care plan a week, for a visit to a department that has a plan template, counted from
    the visit; the timepoints before yesterday were called (reached), the later ones are on the
    workbench. Idempotent by the plan's one-time key."""
    templates = {
        t.department_id: t for t in CarePlanTemplate.objects.filter(department__isnull=False)
    }
    weekly = {}
    for visit in history.rows[Visit]:
        if visit["status"] == "done" and visit["department_id"] in templates:
            weekly.setdefault(visit["day"].isocalendar()[:2], visit)
    made = 0
    for visit in weekly.values():
        key = f"{KEY}:plan:{visit['day'].isoformat()}"
        if CarePlan.objects.filter(request_key=key).exists():
            continue
        plan = followup_services.plan_create(
            client=Client.objects.get(pk=visit["client_id"]),
            by=by,
            starts_on=visit["day"],
            template=templates[visit["department_id"]],
            visit=Visit.objects.get(pk=visit["id"]),
            request_key=key,
        )
        CarePlan.objects.filter(pk=plan.pk).update(created_at=visit["finished_at"])
        calls = FollowUpCall.objects.filter(plan=plan)
        calls.update(created_at=visit["finished_at"])
        done = calls.filter(due_on__lt=history.today - datetime.timedelta(days=1))
        for pk, due in done.values_list("pk", "due_on"):
            FollowUpCall.objects.filter(pk=pk).update(
                status="done",
                attempts=1,
                outcome="reached",
                course="improving",
                rehab_guidance=True,
                closed_at=_at(due, 10, pk % 420),
                closed_by=by,
            )
        if not calls.exclude(status="done").exists():
            CarePlan.objects.filter(pk=plan.pk).update(status=CarePlan.Status.COMPLETED)
        made += 1
    return made


@transaction.atomic  # one commit, as above
def seed_reports(*, days: list[datetime.date], today=None) -> dict:
    """The reports of the seeded days, as the beat jobs would have kept them: their daily
    rollups (and today's), each touched month's cache, and the packs of the closed months (made
    once; pack_generate leaves an existing one)."""
    today = today or timezone.localdate()
    rows = sum(rollups.refresh_day(day) for day in [*days, today])
    months = sorted({satisfaction.first_of(day) for day in days})
    packs_made = 0
    for month in months:
        satisfaction.cache_month(month)
        if month < satisfaction.first_of(today):
            packs_made += packs.pack_generate(month=month) is not None
    return {"rollups": rows, "months": len(months), "packs": packs_made}
