"""Property tests of the dashboard's figures (reports.figures): random months of enquiries,
bookings and their outcomes, arrivals, charges, return-visit calls, SMS and complaints.

For every month hypothesis makes up: each rate stays within 0-100 %, each funnel only narrows
(overall and per channel), each figure equals the total and the length of its drill-down list
and a count this file computes on its own from the rows it generated, and the daily rollups
summed over the month equal the live computation (and what the dashboard shows).

Each example runs in a transaction rolled back at its end, so examples never see each other's
rows. The records are made through the real services and then dated back, as the demo does.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult import services as consult
from consult.models import Booking, Enquiry, Recall
from followup.models import FollowUpCall
from guide import services as guide
from guide.models import Charge, Visit
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose
from reports import figures, rollups, selectors
from reports.figures import CHANNEL
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import make_complaint
from tests.consult.factories import make_enquiry
from tests.followup.factories import make_call
from tests.guide.factories import price, walk_in
from tests.zhongdu.factories import ChannelFactory, ClinicSessionFactory, ExpertFactory

pytestmark = pytest.mark.django_db

WINDOW = datetime.timedelta(days=figures.WINDOW_DAYS)
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A moment: (day offset from the month's first day, hour, minute); offsets outside the month
# check that the month leaves those records out.
MOMENT = st.tuples(st.integers(-3, 33), st.integers(0, 23), st.integers(0, 59))
CHANNEL_INDEX = st.sampled_from([None, 0, 1])
WORLD = st.fixed_dictionaries(
    {
        "clients": st.lists(CHANNEL_INDEX, min_size=1, max_size=4),
        # (client index, or -1 for a prospect), when, marketing channel
        "enquiries": st.lists(st.tuples(st.integers(-1, 3), MOMENT, CHANNEL_INDEX), max_size=7),
        # client, made at, enquiry it is made from (when it is that client's), appointment
        # day offset, outcome, visit type if it arrived, the visit's channel left out
        "bookings": st.lists(
            st.tuples(
                st.integers(0, 3),
                MOMENT,
                st.one_of(st.none(), st.integers(0, 6)),
                st.integers(-3, 33),
                st.sampled_from(["arrived", "no_show", "rebooked", "cancelled", "booked"]),
                st.sampled_from(["first", "return"]),
                st.booleans(),
            ),
            max_size=7,
        ),
        # client, day, visit type, the visit's channel left out
        "walk_ins": st.lists(
            st.tuples(
                st.integers(0, 3),
                st.integers(-3, 33),
                st.sampled_from(["first", "return", "exam"]),
                st.booleans(),
            ),
            max_size=3,
        ),
        # visit index, when, amount in yuan, voided
        "charges": st.lists(
            st.tuples(st.integers(0, 9), MOMENT, st.integers(1, 5000), st.booleans()),
            max_size=5,
        ),
        "calls": st.lists(
            st.tuples(
                st.integers(-3, 33), st.sampled_from(["open", "done", "unreachable", "cancelled"])
            ),
            max_size=4,
        ),
        "sms": st.lists(
            st.tuples(
                MOMENT,
                st.sampled_from(
                    ["pending", "sent", "delivered", "failed", "unknown", "suppressed"]
                ),
            ),
            max_size=4,
        ),
        "complaints": st.lists(MOMENT, max_size=2),
    }
)


def _month():
    """A closed month (two months back): nothing in it is "today"."""
    first = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


@dataclass
class Made:
    """What an example made, as plain values: the independent count reads these, not the
    database."""

    start: datetime.date
    end: datetime.date
    channels: list
    department: object = None
    clients: list = field(default_factory=list)  # (client id, channel id)
    enquiries: list = field(default_factory=list)  # (client id or None, at, channel id)
    bookings: list = field(default_factory=list)  # dicts
    visits: list = field(default_factory=list)  # (visit id, client id, day, type, channel id)
    charges: list = field(default_factory=list)  # (at, amount, voided, visit index)
    calls: list = field(default_factory=list)
    sms: list = field(default_factory=list)
    complaints: list = field(default_factory=list)

    def at(self, moment) -> datetime.datetime:
        offset, hour, minute = moment
        day = self.start + datetime.timedelta(days=offset)
        return datetime.datetime.combine(
            day, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone()
        )

    def day(self, offset) -> datetime.date:
        return self.start + datetime.timedelta(days=offset)

    def within(self, value) -> bool:
        if isinstance(value, datetime.datetime):
            value = timezone.localtime(value).date()
        return self.start <= value <= self.end

    def channel(self, index):
        return None if index is None else self.channels[index].pk


def _make(world) -> Made:
    start, end = _month()
    made = Made(start=start, end=end, channels=[ChannelFactory(name=f"渠道{n}") for n in (1, 2)])
    expert = ExpertFactory()
    made.department = expert.departments.first()
    item = price(amount="1.00")
    for index in world["clients"]:
        client = ClientFactory(source_channel=made.channels[index] if index is not None else None)
        made.clients.append((client, made.channel(index)))

    enquiry_rows = []
    for n, (who, moment, channel) in enumerate(world["enquiries"]):
        client = made.clients[who % len(made.clients)][0] if who >= 0 else None
        extra = {} if client else {"prospect_phone": f"+8613700{n:06d}"}
        enquiry = make_enquiry(
            client=client,
            marketing_channel=made.channels[channel] if channel is not None else None,
            **extra,
        )
        at = made.at(moment)
        Enquiry.objects.filter(pk=enquiry.pk).update(created_at=at)
        enquiry_rows.append(enquiry)
        made.enquiries.append((client.pk if client else None, at, made.channel(channel)))

    # Every booking is made first, its outcome set afterwards: a booking made after a no-show
    # would otherwise rebook it (consult.services._recalls_rebooked).
    future = timezone.localdate() + datetime.timedelta(days=3)
    for n, (who, moment, linked, appointment, outcome, visit_type, no_channel) in enumerate(
        world["bookings"]
    ):
        client, client_channel = made.clients[who % len(made.clients)]
        enquiry = None
        if linked is not None and linked < len(enquiry_rows):
            candidate = enquiry_rows[linked]
            enquiry = candidate if candidate.client_id == client.pk else None
        day = future if outcome == "booked" else made.day(appointment)
        session = ClinicSessionFactory(
            expert=expert, date=day, start_time=datetime.time(0, n), end_time=datetime.time(23, 59)
        )
        booking = consult.booking_create(
            client=client, session=session, kind=Booking.Kind.EXPERT, by=None, enquiry=enquiry
        )
        at = made.at(moment)
        Booking.objects.filter(pk=booking.pk).update(created_at=at)
        made.bookings.append(
            {
                "booking": booking,
                "client": client.pk,
                "channel": client_channel,
                "at": at,
                "enquiry": enquiry_rows.index(enquiry) if enquiry else None,
                "day": day,
                "outcome": outcome,
                "visit_type": visit_type,
                "no_channel": no_channel,
            }
        )
    for row in made.bookings:
        booking, outcome = row["booking"], row["outcome"]
        if outcome == "arrived":
            consult.booking_set_status(booking=booking, new_status=Booking.Status.ARRIVED, by=None)
            _visit(
                made,
                row["client"],
                row["channel"],
                row["day"],
                row["visit_type"],
                row["no_channel"],
                booking=booking,
            )
        elif outcome in ("no_show", "rebooked"):
            consult.booking_set_status(booking=booking, new_status=Booking.Status.NO_SHOW, by=None)
            Recall.objects.create(
                booking=booking,
                client_id=row["client"],
                status=Recall.Status.REBOOKED if outcome == "rebooked" else Recall.Status.OPEN,
                next_attempt_on=None if outcome == "rebooked" else row["day"],
            )
        elif outcome == "cancelled":
            consult.booking_set_status(
                booking=booking, new_status=Booking.Status.CANCELLED, by=None
            )

    for who, offset, visit_type, no_channel in world["walk_ins"]:
        client, client_channel = made.clients[who % len(made.clients)]
        _visit(made, client.pk, client_channel, made.day(offset), visit_type, no_channel)

    for which, moment, amount, voided in world["charges"]:
        if not made.visits:
            break
        visit_index = which % len(made.visits)
        visit = Visit.objects.get(pk=made.visits[visit_index][0])
        charge = guide.charge_add(visit=visit, price_item=item, amount=Decimal(amount), by=None)
        at = made.at(moment)
        Charge.objects.filter(pk=charge.pk).update(charged_at=at)
        if voided:
            guide.charge_void(charge=charge, reason="录错", by=None)
        made.charges.append((at, Decimal(amount), voided, visit_index))

    first_client = made.clients[0][0]
    for offset, status in world["calls"]:
        call = make_call(client=first_client, due_on=made.day(offset))
        FollowUpCall.objects.filter(pk=call.pk).update(planned_on=made.day(offset), status=status)
        made.calls.append((made.day(offset), status))

    for n, (moment, status) in enumerate(world["sms"]):
        message = messaging.outbox_enqueue(
            idempotency_key=f"rates-test-{n}",
            purpose=Purpose.GREETING,
            client=first_client,
            body="您好",
        )
        at = made.at(moment)
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=at, status=status)
        made.sms.append((at, status))

    for moment in world["complaints"]:
        complaint = make_complaint(client=first_client)
        at = made.at(moment)
        type(complaint).objects.filter(pk=complaint.pk).update(received_at=at)
        made.complaints.append(at)
    return made


def _visit(made, client_id, client_channel, day, visit_type, no_channel, booking=None):
    """A visit through the front desk's service, then dated back, linked to its booking and
    finished (one open visit per client)."""
    from clientmgmt.models import Client

    visit = walk_in(client=Client.objects.get(pk=client_id))
    channel = None if no_channel else client_channel
    Visit.objects.filter(pk=visit.pk).update(
        booking=booking,
        day=day,
        status=Visit.Status.DONE,
        department=made.department,
        visit_type=visit_type,
        channel_id=channel,
        arrived_at=datetime.datetime.combine(
            day, datetime.time(10), tzinfo=timezone.get_default_timezone()
        ),
    )
    made.visits.append((visit.pk, client_id, day, visit_type, channel))


# --- The independent count -----------------------------------------------------------------


def _expected(made: Made) -> dict:
    """{key: {channel id or 0: value}, ...} with "" for the whole, from what was made."""
    out = {}

    def add(key, channel, value=1):
        slot = out.setdefault(key, {"": 0})
        slot[""] += value
        if channel is not False:
            slot[channel or 0] = slot.get(channel or 0, 0) + value

    for key in [f.key for f in figures.FIGURES]:
        out[key] = {"": 0}

    for n, (client, at, channel) in enumerate(made.enquiries):
        if not made.within(at):
            continue
        add("enquiries", channel)
        booked = any(
            b["enquiry"] == n or (client == b["client"] and at <= b["at"] <= at + WINDOW)
            for b in made.bookings
        )
        if booked:
            add("enquiries_booked", channel)
    for b in made.bookings:
        if made.within(b["at"]):
            # Bookings by the client's channel, else their first enquiry's (as revenue).
            booking_channel = _client_channel(made, b["client"])
            add("bookings", booking_channel)
            if b["outcome"] == "arrived":
                add("bookings_arrived", booking_channel)
            enquired = any(
                client == b["client"] and b["at"] - WINDOW <= at <= b["at"]
                for client, at, _channel in made.enquiries
            )
            if b["enquiry"] is None and not enquired:
                add("bookings_direct", booking_channel)
        if made.within(b["day"]) and b["outcome"] != "cancelled":
            add("bookings_due", False)
            if b["outcome"] in ("no_show", "rebooked"):
                add("no_shows", False)
            if b["outcome"] == "rebooked":
                add("no_shows_rebooked", False)
    for _pk, _client, day, visit_type, channel in made.visits:
        if made.within(day):
            add("arrivals", channel)
            if visit_type == "first":
                add("first_visits", channel)
            if visit_type == "return":
                add("return_visits", channel)
    for at, amount, voided, visit_index in made.charges:
        if made.within(at) and not voided:
            _pk, client, _day, _type, visit_channel = made.visits[visit_index]
            add("revenue", visit_channel or _client_channel(made, client), amount)
    for day, status in made.calls:
        if made.within(day) and status != "cancelled":
            add("calls_due", False)
            if status == "done":
                add("calls_done", False)
    for at, status in made.sms:
        if made.within(at):
            if status in ("sent", "delivered"):
                add("sms_sent", False)
            if status == "delivered":
                add("sms_delivered", False)
            if status in ("failed", "unknown"):
                add("sms_failed", False)
    for at in made.complaints:
        if made.within(at):
            add("complaints", False)
    return out


def _client_channel(made, client_id):
    """The client's channel, else their first enquiry's (the attribution of bookings, and of
    revenue after the visit's channel)."""
    channel = {c.pk: ch for c, ch in made.clients}[client_id]
    if channel:
        return channel
    theirs = sorted((at, ch) for cl, at, ch in made.enquiries if cl == client_id and ch)
    return theirs[0][1] if theirs else None


# --- The properties ------------------------------------------------------------------------


def _in_one_example(world, check):
    with transaction.atomic():
        made = _make(world)
        check(made)
        transaction.set_rollback(True)


@SETTINGS
@given(world=WORLD)
def test_each_figure_is_its_drill_down_list_and_the_count_of_what_was_made(world):
    def check(made):
        expected = _expected(made)
        for figure in figures.FIGURES:
            value = figure.compute_period(made.start, made.end)
            records = selectors.figure_records(figure, made.start, made.end)
            assert records.total == value[("", 0)], figure.key
            if figure.sums:  # yuan, or the hotline's seconds
                assert sum(row["amount"] for row in records.rows) == records.total
            else:
                assert len(records.rows) == records.total, figure.key
            if figure.key in expected and figure.key != "recalls_reached":
                assert value[("", 0)] == expected[figure.key][""], figure.key
            if CHANNEL not in figure.dimensions:
                continue
            by_channel = {pk: v for (dim, pk), v in value.items() if dim == CHANNEL and v}
            assert sum(by_channel.values()) == value[("", 0)], figure.key
            wanted = {pk: v for pk, v in expected[figure.key].items() if pk != "" and v}
            assert by_channel == wanted, figure.key
            for pk, amount in by_channel.items():
                listed = selectors.figure_records(figure, made.start, made.end, channel=pk)
                assert listed.total == amount, (figure.key, pk)

    _in_one_example(world, check)


@SETTINGS
@given(world=WORLD)
def test_every_rate_stays_within_0_and_100_and_every_funnel_only_narrows(world):
    def check(made):
        values = {f.key: f.compute_period(made.start, made.end) for f in figures.FIGURES}
        for r in figures.RATES:
            numerator, denominator = values[r.numerator], values[r.denominator]
            for slot, part in numerator.items():
                assert part <= denominator.get(slot, 0), (r.key, slot)
            share = figures.rate(numerator[("", 0)], denominator[("", 0)])
            assert share is None or 0 <= share <= 100, r.key
        for wide, narrow in (
            ("enquiries", "enquiries_booked"),
            ("bookings", "bookings_arrived"),
            ("bookings", "bookings_direct"),
            ("bookings_due", "no_shows"),
            ("no_shows", "no_shows_rebooked"),
            ("arrivals", "first_visits"),
            ("sms_sent", "sms_delivered"),
            ("calls_due", "calls_done"),
        ):
            for slot, part in values[narrow].items():
                assert part <= values[wide].get(slot, 0), (wide, narrow, slot)
        data = selectors.dashboard(today=made.end)
        for row in data["rates"]:
            assert row["month"] is None or 0 <= row["month"] <= 100, row["key"]
        for row in data["channels"]:
            for key in ("booking_rate", "arrival_rate"):
                assert row[key] is None or 0 <= row[key] <= 100, (row["name"], key)
            assert row["enquiries_booked"] <= row["enquiries"]
            assert row["bookings_arrived"] <= row["bookings"]

    _in_one_example(world, check)


@settings(SETTINGS, max_examples=10)
@given(world=WORLD)
def test_the_daily_rollups_sum_to_the_live_computation(world):
    def check(made):
        days = {
            made.start + datetime.timedelta(days=n) for n in range((made.end - made.start).days + 1)
        }
        for day in sorted(days):
            rollups.refresh_day(day)
        summed = rollups.period_figures(made.start, made.end)
        data = selectors.dashboard(today=made.end)
        for figure in figures.FIGURES:
            live = {slot: v for slot, v in figure.compute_period(made.start, made.end).items() if v}
            kept = {slot: v for slot, v in summed.get(figure.key, {}).items() if v}
            assert kept == live, figure.key
            assert data["by_key"][figure.key].month == live.get(("", 0), 0), figure.key

    _in_one_example(world, check)


# --- Examples: the definitions on the page, the drill-down page, the shared rules -----------


def test_docs_figures_md_is_the_definitions_of_the_code():
    from pathlib import Path

    from django.conf import settings as django_settings

    written = (Path(django_settings.BASE_DIR) / "docs" / "figures.md").read_text("utf-8")
    assert written == figures.definitions_markdown()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_front_desks_daily_figures_define_a_figure_in_the_dashboards_words(language):
    from django.utils import translation

    from guide.exports import DEFINITIONS

    with translation.override(language):
        for key, text in DEFINITIONS.items():
            kind, _sep, name = key.rpartition(":")
            defined = (figures.RATES_BY_KEY if kind == "rate" else figures.BY_KEY)[name]
            assert str(text) == str(defined.definition), key


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_consultation_analysis_shows_the_dashboards_rates_with_their_definitions(
    language, manager_client
):
    from django.urls import reverse
    from django.utils import translation
    from django.utils.html import escape

    make_enquiry(client=ClientFactory())
    page = manager_client.get(reverse("consult:stats"), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    with translation.override(language):
        for key in ("enquiry_booking", "booking_arrival", "no_shows"):
            rate = figures.RATES_BY_KEY[key]
            assert f'title="{escape(str(rate.definition))}">{escape(str(rate.label))}<' in html


def test_a_booking_counts_for_the_channel_of_the_clients_first_enquiry_when_they_have_none():
    tv, web = ChannelFactory(name="TV"), ChannelFactory(name="Web")
    client = ClientFactory(source_channel=None)
    first = make_enquiry(client=client, marketing_channel=tv)
    later = make_enquiry(client=client, marketing_channel=web)
    Enquiry.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    session = ClinicSessionFactory(date=timezone.localdate() + datetime.timedelta(days=1))
    consult.booking_create(
        client=client, session=session, kind=Booking.Kind.EXPERT, by=None, enquiry=later
    )
    today = timezone.localdate()
    for key in ("bookings", "bookings_direct", "bookings_arrived"):
        value = figures.BY_KEY[key].compute(today)
        wanted = {"bookings": 1}.get(key, 0)
        assert value.get((CHANNEL, tv.pk), 0) == wanted, key
        assert value.get((CHANNEL, web.pk), 0) == 0, key
        assert value.get((CHANNEL, 0), 0) == 0, key


def _english(http, url, **params):
    return http.get(url, params, HTTP_ACCEPT_LANGUAGE="en")


def test_each_figure_and_rate_on_the_dashboard_carries_its_definition_and_its_list(
    manager_client,
):
    from django.urls import reverse
    from django.utils import translation

    make_enquiry(client=ClientFactory())
    page = _english(manager_client, reverse("reports:dashboard"))
    html = page.content.decode()
    with translation.override("en"):
        for figure in figures.FIGURES:
            assert f'title="{figure.definition}"'.replace("'", "&#x27;") in html, figure.key
            assert reverse("reports:figure_records", args=[figure.key]) in html
        for r in figures.RATES:
            assert f'title="{r.definition}"'.replace("'", "&#x27;") in html, r.key
    chinese = manager_client.get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "促成预约的咨询" in chinese.content.decode()
    rows = page.context["channels"]
    assert {"booking_rate", "arrival_rate", "revenue"} <= set(rows[0])


def test_the_drill_down_lists_the_records_the_figure_counts(manager_client):
    from django.urls import reverse

    tv = ChannelFactory(name="电视")
    person = ClientFactory()
    enquiry = make_enquiry(client=person, marketing_channel=tv)
    make_enquiry(client=ClientFactory(), marketing_channel=tv)  # no booking follows
    booking = consult.booking_create(
        client=person,
        session=ClinicSessionFactory(date=timezone.localdate() + datetime.timedelta(days=2)),
        kind=Booking.Kind.EXPERT,
        by=None,
        enquiry=enquiry,
    )
    today = timezone.localdate().isoformat()
    url = reverse("reports:figure_records", args=["enquiries_booked"])
    page = _english(manager_client, url, **{"from": today, "to": today, "channel": tv.pk})
    assert page.status_code == 200
    assert page.context["records"].total == 1 and len(page.context["records"].rows) == 1
    assert page.context["records"].rows[0]["pk"] == enquiry.pk
    bookings = _english(manager_client, reverse("reports:figure_records", args=["bookings"]))
    assert booking.get_absolute_url() in bookings.content.decode()
    assert person.name not in bookings.content.decode()  # no client details on the list


def test_a_bad_period_gets_a_message_and_an_unknown_figure_is_not_found(manager_client):
    from django.urls import reverse

    url = reverse("reports:figure_records", args=["enquiries"])
    for params in (
        {"from": "2026-13-01"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"channel": "abc"},
    ):
        page = manager_client.get(url, params, follow=True)
        assert page.status_code == 200, params
    # Control characters are refused at the edge, as everywhere.
    assert manager_client.get(url, {"from": "2026\x00-01-01"}).status_code == 400
    missing = manager_client.get(reverse("reports:figure_records", args=["nothing"]))
    assert missing.status_code == 404


@pytest.mark.parametrize("role", ["consultant", "front_desk", "client_manager", "vip_manager"])
def test_only_report_readers_open_the_drill_down(client_for, role):
    from django.urls import reverse

    url = reverse("reports:figure_records", args=["revenue"])
    assert client_for(role).get(url).status_code == 403


def test_revenue_goes_to_the_channel_of_the_clients_first_enquiry_when_nothing_else_names_one():
    radio = ChannelFactory(name="广播")
    person = ClientFactory()  # no channel of their own
    make_enquiry(client=person, marketing_channel=radio)
    visit = walk_in(client=person)
    assert visit.channel_id is None
    guide.charge_add(visit=visit, price_item=price(amount="300.00"), by=None)
    today = timezone.localdate()
    revenue = figures.BY_KEY["revenue"].compute(today)
    assert revenue[(CHANNEL, radio.pk)] == Decimal("300.00")
    assert (CHANNEL, 0) not in revenue


def test_the_consultation_analysis_and_the_dashboard_count_the_same_conversions():
    from consult import stats

    today = timezone.localdate()
    person, other = ClientFactory(), ClientFactory()
    make_enquiry(client=person)
    make_enquiry(client=person)
    make_enquiry(client=other)
    consult.booking_create(
        client=person,
        session=ClinicSessionFactory(date=today + datetime.timedelta(days=2)),
        kind=Booking.Kind.EXPERT,
        by=None,
    )
    month = today.replace(day=1)
    analysis = stats.consult_stats(period=stats.MONTH, today=today)
    total = analysis.tables[0].total
    dashboard = figures.BY_KEY["enquiries_booked"].compute_period(month, today)[("", 0)]
    assert total.converted == dashboard == 2
    assert total.enquiries == figures.BY_KEY["enquiries"].compute_period(month, today)[("", 0)]


def test_a_booking_left_open_in_a_cancelled_session_is_not_due_on_the_dashboard_or_at_the_desk():
    from guide.selectors import daily_figures
    from zhongdu.models import ClinicSession

    day = timezone.localdate() - datetime.timedelta(days=1)
    kept = consult.booking_create(
        client=ClientFactory(), session=ClinicSessionFactory(date=day), kind="expert", by=None
    )
    consult.booking_set_status(booking=kept, new_status=Booking.Status.NO_SHOW, by=None)
    stranded = consult.booking_create(
        client=ClientFactory(), session=ClinicSessionFactory(date=day), kind="expert", by=None
    )
    ClinicSession.objects.filter(pk=stranded.session_id).update(
        status=ClinicSession.Status.CANCELLED
    )
    due = figures.BY_KEY["bookings_due"].compute(day)[("", 0)]
    assert due == daily_figures(day).bookings == 1
    assert figures.BY_KEY["no_shows"].compute(day)[("", 0)] == 1


def test_the_drill_down_list_pages_by_a_hundred_and_keeps_its_period(manager_client):
    from django.urls import reverse

    for n in range(105):
        make_enquiry(prospect_phone=f"+861390371{n:04d}")
    today = timezone.localdate().isoformat()
    url = reverse("reports:figure_records", args=["enquiries"])
    first = _english(manager_client, url, **{"from": today, "to": today})
    assert first.context["records"].total == 105
    assert len(first.context["records"].rows) == 100
    body = first.content.decode()
    assert "Page 1 of 2" in body and f"from={today}" in body and "page=2" in body
    second = _english(manager_client, url, **{"from": today, "to": today, "page": "2"})
    assert second.context["records"].total == 105 and len(second.context["records"].rows) == 5
    shown = {row["pk"] for row in first.context["records"].rows}
    assert shown.isdisjoint(row["pk"] for row in second.context["records"].rows)
    # Whatever is typed as the page, a page is shown.
    for page in ("abc", "0", "999999999999999999999"):
        assert manager_client.get(url, {"page": page}).status_code == 200


def test_a_period_given_by_one_end_is_held_to_a_year_and_its_order(manager_client):
    from django.urls import reverse

    url = reverse("reports:figure_records", args=["enquiries"])
    today = timezone.localdate()
    for params, message in (
        ({"from": "1900-01-01"}, "Choose a period of at most a year."),
        ({"to": "2000-01-01"}, "The end of the period is before its start."),
    ):
        page = _english(manager_client, url, **params)
        assert page.status_code == 200
        assert message in page.content.decode(), params
        # The list falls back to the month to date.
        assert page.context["records"].start == today.replace(day=1)
        assert page.context["records"].end == today
