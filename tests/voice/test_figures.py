"""The hotline's figures (voice.figures) on a crafted day: calls played as the PBX's signed events
(tests/fake_pbx.py) through the webhook's service, answered fast and slow, abandoned in the menu
and in the queue, missed, a voicemail, on two queues and two agents, and two callbacks, one
called back within its deadline and one after it. Every figure is checked overall and per
queue, agent and hour; the dashboard's rollups, drill-down lists and monthly report count the
same rows; the wallboard shows today's."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consult.models import Recall
from reports import figures as report_figures
from reports import rollups, selectors
from tests.factories import UserFactory
from tests.fake_pbx import BEIJING, FakePbx
from voice import figures
from voice.figures import AGENT, HOUR, QUEUE
from voice.models import Agent, Call, CallQueue
from voice.selectors import clock
from voice.services import agent_set_presence, cti_event_take
from zhongdu import roles

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 1)  # the day before is in another month


def at(hour, minute, second=0, day=DAY):
    return datetime.datetime.combine(day, datetime.time(hour, minute, second), tzinfo=BEIJING)


@pytest.fixture
def pbx(settings):
    fake = FakePbx(seed=18)
    settings.CTI_WEBHOOK_SECRET = fake.secret
    return fake


def play(pbx, call_id, start, steps, *, queue="hotline", direction="inbound"):
    """Post one call's events, each taken at its own moment: (seconds after the ring, type,
    fields); the ring first."""
    ringing = {
        "direction": direction,
        "caller": f"1381234{sum(map(ord, call_id)) % 10000:04d}",
        "called": pbx.hotline,
        "queue": queue,
        "ivr_path": "1",
    }
    events = [pbx.event("ringing", call_id, timestamp=start, **ringing)]
    for seconds, kind, fields in steps:
        moment = start + datetime.timedelta(seconds=seconds)
        events.append(pbx.event(kind, call_id, timestamp=moment, **fields))
    for event in events:
        body = FakePbx.body(event)
        moment = datetime.datetime.fromisoformat(event["timestamp"])
        cti_event_take(body, pbx.sign(body), now=moment)


@pytest.fixture
def day(pbx):
    """The crafted day: returns the two queues and the two agents."""
    hotline = CallQueue.objects.create(code="hotline", name="健康专线")
    vip = CallQueue.objects.create(code="vip", name="VIP专线")
    wang = Agent.objects.create(user=UserFactory(first_name="王芳"), extension="8001")
    li = Agent.objects.create(user=UserFactory(first_name="李娜"), extension="8002")
    # Answered in 10 s, talked 60 s.
    play(pbx, "c1", at(9, 0), [(10, "answered", {"extension": "8001"}), (70, "ended", {})])
    # Answered slowly (30 s) by the other agent, 120 s with 20 s on hold.
    play(
        pbx,
        "c2",
        at(9, 30),
        [(30, "answered", {"extension": "8002"}), (150, "ended", {"hold_seconds": 20})],
    )
    # Answered in exactly 20 s on the VIP line, talked 90 s.
    play(
        pbx,
        "c3",
        at(10, 0),
        [(20, "answered", {"extension": "8001"}), (110, "ended", {})],
        queue="vip",
    )
    play(pbx, "c4", at(10, 15), [(15, "ended", {"abandoned_in": "ivr"})], queue=None)
    play(pbx, "c5", at(10, 20), [(40, "ended", {"abandoned_in": "queue"})])
    play(pbx, "c6", at(11, 0), [(60, "ended", {})], queue="vip")
    play(
        pbx,
        "c7",
        at(11, 5),
        [
            (50, "ended", {}),
            (55, "voicemail", {"url": pbx.recording_url("vm"), "duration_seconds": 20}),
        ],
    )
    # Not counted: an outbound call, and a call of the day before.
    play(
        pbx,
        "out",
        at(11, 10),
        [(5, "answered", {"extension": "8002"}), (65, "ended", {})],
        direction="outbound",
    )
    play(
        pbx,
        "before",
        at(23, 50, day=DAY - datetime.timedelta(days=1)),
        [(5, "answered", {"extension": "8001"}), (65, "ended", {})],
    )
    # The callbacks of c6 (the VIP line) and c7 (the hotline): one called back in time.
    callback(
        at(11, 1), due=at(11, 31), first=at(11, 20), to=wang, phone="+8613800000000", call="c6"
    )
    callback(at(11, 6), due=at(11, 36), first=at(12, 0), to=li, phone="+8613800000001", call="c7")
    callback(
        at(16, 0, day=DAY - datetime.timedelta(days=1)),
        due=at(16, 30, day=DAY - datetime.timedelta(days=1)),
        first=None,
        to=wang,
        phone="+8613800000002",
    )
    return {"hotline": hotline, "vip": vip, "wang": wang, "li": li}


def callback(created, *, due, first, to, phone, call=None):
    recall = Recall.objects.create(
        kind=Recall.Kind.CALLBACK,
        phone=phone,
        due_at=due,
        first_attempt_at=first,
        assigned_to=to.user,
        next_attempt_on=created.date(),
    )
    Recall.objects.filter(pk=recall.pk).update(created_at=created)
    if call is not None:
        Call.objects.filter(external_id=call).update(callback=recall)
    return recall


# The day's figures overall, as the definitions say (voice/figures.py).
OVERALL = {
    "calls_offered": 7,
    "calls_answered": 3,
    "calls_answered_20s": 2,
    "calls_abandoned": 2,
    "calls_missed": 1,
    "calls_voicemail": 1,
    "calls_wait_seconds": 10 + 30 + 20,
    "calls_completed": 3,
    "calls_talk_seconds": 60 + 100 + 90,
    "callbacks": 2,
    "callbacks_in_time": 1,
}


def _slice(values, dimension):
    return {
        key: {pk: v for (dim, pk), v in by.items() if dim == dimension and v}
        for key, by in values.items()
    }


def test_the_calls_play_out_as_crafted(day):
    outcomes = dict(Call.objects.values_list("external_id", "outcome"))
    assert outcomes == {
        "c1": "answered",
        "c2": "answered",
        "c3": "answered",
        "c4": "abandoned_ivr",
        "c5": "abandoned_queue",
        "c6": "missed",
        "c7": "voicemail",
        "out": "answered",
        "before": "answered",
    }


def test_the_days_figures_are_exact_overall(day):
    values = figures.compute(DAY, DAY)
    assert {key: by[("", 0)] for key, by in values.items()} == OVERALL
    overall = {key: by[("", 0)] for key, by in values.items()}
    rates = {rate.key: figures.ratio(rate, overall) for rate in figures.RATES + figures.AVERAGES}
    assert rates == {
        "call_answer": 42.9,
        "call_service_level": 28.6,
        "call_abandon": 28.6,
        "callback_in_time": 50.0,
        "call_average_wait": 20,
        "call_average_talk": 83,
    }


def test_the_days_figures_are_exact_per_queue(day):
    by_queue = _slice(figures.compute(DAY, DAY), QUEUE)
    hotline, vip = day["hotline"].pk, day["vip"].pk
    assert by_queue["calls_offered"] == {hotline: 4, vip: 2, 0: 1}
    assert by_queue["calls_answered"] == {hotline: 2, vip: 1}
    assert by_queue["calls_answered_20s"] == {hotline: 1, vip: 1}
    assert by_queue["calls_abandoned"] == {hotline: 1, 0: 1}
    assert by_queue["calls_missed"] == {vip: 1}
    assert by_queue["calls_voicemail"] == {hotline: 1}
    assert by_queue["calls_wait_seconds"] == {hotline: 40, vip: 20}
    assert by_queue["calls_talk_seconds"] == {hotline: 160, vip: 90}
    # A callback counts in the queue of the call that made it (its caller's first).
    assert by_queue["callbacks"] == {vip: 1, hotline: 1}
    assert by_queue["callbacks_in_time"] == {vip: 1}


def test_the_days_figures_are_exact_per_agent(day):
    by_agent = _slice(figures.compute(DAY, DAY), AGENT)
    wang, li = day["wang"].pk, day["li"].pk
    assert by_agent["calls_offered"] == {wang: 2, li: 1, 0: 4}
    assert by_agent["calls_answered"] == {wang: 2, li: 1}
    assert by_agent["calls_answered_20s"] == {wang: 2}
    assert by_agent["calls_wait_seconds"] == {wang: 30, li: 30}
    assert by_agent["calls_talk_seconds"] == {wang: 150, li: 100}
    assert by_agent["callbacks"] == {wang: 1, li: 1}
    assert by_agent["callbacks_in_time"] == {wang: 1}


def test_the_days_figures_are_exact_per_hour_in_hospital_time(day):
    by_hour = _slice(figures.compute(DAY, DAY), HOUR)
    assert by_hour["calls_offered"] == {9: 2, 10: 3, 11: 2}
    assert by_hour["calls_answered"] == {9: 2, 10: 1}
    assert by_hour["calls_answered_20s"] == {9: 1, 10: 1}
    assert by_hour["calls_abandoned"] == {10: 2}
    assert by_hour["calls_wait_seconds"] == {9: 40, 10: 20}
    assert by_hour["callbacks"] == {11: 2}
    assert by_hour["callbacks_in_time"] == {11: 1}


def test_per_day_the_figures_fall_on_the_day_they_rang(day):
    values = figures.compute(DAY - datetime.timedelta(days=1), DAY, dimensions=(figures.DAY,))
    by_day = _slice(values, figures.DAY)
    before = DAY - datetime.timedelta(days=1)
    assert by_day["calls_offered"] == {before: 1, DAY: 7}
    assert by_day["callbacks"] == {before: 1, DAY: 2}
    assert by_day["callbacks_in_time"] == {DAY: 1}


def test_each_figure_alone_counts_what_the_batch_counts(day):
    """One definition, two ways to read it: each figure's records (the drill-down, the
    rollups) and the wallboard's filtered aggregates."""
    batch = figures.compute(DAY, DAY)
    for figure in figures.FIGURES:
        alone = figure.records(DAY, DAY).aggregate(v=figure.value())["v"] or 0
        assert alone == batch[figure.key][("", 0)], figure.key


def test_the_dashboards_rollups_and_drill_down_count_the_same_rows(day):
    rollups.refresh_day(DAY)
    kept = rollups.period_figures(DAY, DAY, today=DAY + datetime.timedelta(days=1))
    batch = figures.compute(DAY, DAY)
    for key, value in OVERALL.items():
        assert kept[key][("", 0)] == value, key
        figure = report_figures.BY_KEY[key]
        records = selectors.figure_records(figure, DAY, DAY)
        assert records.total == value, key
        assert {slot: v for slot, v in kept[key].items() if v} == {
            slot: v for slot, v in batch[key].items() if v
        }, key


def test_the_monthly_report_has_the_telephony_figures(day):
    from reports import satisfaction

    data = satisfaction.compute(DAY.replace(day=1), with_trend=False)
    telephony = data["telephony"]
    assert telephony["overall"]["calls_offered"] == 7
    assert telephony["overall"]["call_service_level"] == 28.6
    queues = {row["name"]: row for row in telephony["queues"]}
    assert queues["健康专线"]["calls_offered"] == 4 and queues["VIP专线"]["calls_missed"] == 1
    agents = {row["name"]: row for row in telephony["agents"]}
    assert agents["王芳 (8001)"]["calls_answered"] == 2
    assert agents["王芳 (8001)"]["callbacks_in_time"] == 1
    hours = {row["hour"]: row for row in telephony["hours"]}
    assert hours[10]["calls_abandoned"] == 2
    days = {row["day"]: row for row in telephony["days"]}
    assert days[DAY.isoformat()]["calls_offered"] == 7


# --- Today: the wallboard, the dashboard, the monthly report --------------------------------


def recently(seconds):
    """`seconds` ago, but today in hospital time (a test run just after midnight plays its
    calls a little into the future, which the webhook's five minutes allow)."""
    now = timezone.now().replace(microsecond=0)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=1)
    return max(now - datetime.timedelta(seconds=seconds), midnight)


@pytest.fixture
def today(pbx):
    """Today's hotline: one call answered a few minutes ago (10 s wait, 60 s talk), one
    abandoned in the queue; two agents, one available."""
    hotline = CallQueue.objects.create(code="hotline", name="健康专线")
    wang = Agent.objects.create(
        user=UserFactory(first_name="王芳"), extension="8001", presence="available"
    )
    Agent.objects.create(user=UserFactory(first_name="李娜"), extension="8002")
    start = recently(240)
    play(pbx, "t1", start, [(10, "answered", {"extension": "8001"}), (70, "ended", {})])
    play(
        pbx, "t2", start + datetime.timedelta(seconds=5), [(40, "ended", {"abandoned_in": "queue"})]
    )
    return {"hotline": hotline, "wang": wang, "start": start}


WALLBOARD = reverse("voice:wallboard")


@pytest.mark.parametrize(("language", "words"), [("en", "Waiting now"), ("zh-hans", "正在等待")])
def test_the_wallboard_shows_todays_figures_per_queue_and_agent(client_for, today, language, words):
    page = client_for(roles.CONSULTANT).get(WALLBOARD, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    html = page.content.decode()
    assert words in html and 'hx-trigger="every 5s"' in html
    board = page.context["board"]
    overall = board["overall"]
    assert overall["calls_offered"] == 2 and overall["calls_answered"] == 1
    assert overall["calls_abandoned"] == 1 and overall["call_service_level"] == "50.0%"
    assert overall["call_average_wait"] == "0:10" and overall["call_average_talk"] == "1:00"
    assert board["waiting"] == 0 and board["longest"] == "—"
    queue = next(row for row in board["queues"] if row["pk"] == today["hotline"].pk)
    assert (queue["name"], queue["calls_offered"], queue["calls_abandoned"]) == ("健康专线", 2, 1)
    agents = {row["extension"]: row for row in board["agents"]}
    assert agents["8001"]["calls_answered"] == 1 and agents["8001"]["presence"] == "available"
    assert agents["8002"]["calls_answered"] == 0 and agents["8002"]["presence"] == "away"
    assert "王芳" in html and "健康专线" in html


def test_the_wallboard_shows_the_calls_waiting_and_the_longest_wait(client_for, today, pbx):
    ringing = recently(75)
    play(pbx, "w1", ringing, [])
    play(pbx, "w2", ringing + datetime.timedelta(seconds=30), [])
    page = client_for(roles.MANAGER).get(WALLBOARD)
    board = page.context["board"]
    assert board["waiting"] == 2
    assert board["longest"] == clock((board["at"] - ringing).total_seconds())
    queue = next(row for row in board["queues"] if row["pk"] == today["hotline"].pk)
    assert queue["waiting"] == 2 and queue["longest"] == board["longest"]
    assert board["overall"]["calls_offered"] == 4  # waiting calls are offered already


def test_the_wallboard_answers_an_empty_204_until_something_changes(client_for, today, pbx):
    consultant = client_for(roles.CONSULTANT)
    version = consultant.get(WALLBOARD).context["live"].version
    poll = {"since": version}
    unchanged = consultant.get(WALLBOARD, poll, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""
    start = recently(120)
    play(pbx, "t3", start, [(5, "answered", {"extension": "8002"}), (35, "ended", {})])
    changed = consultant.get(WALLBOARD, poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert changed.context["board"]["overall"]["calls_offered"] == 3
    assert b"<html" not in changed.content  # the part alone
    new = {"since": changed.context["live"].version}
    assert consultant.get(WALLBOARD, new, HTTP_HX_REQUEST="true").status_code == 204
    agent_set_presence(Agent.objects.get(extension="8002"), "available")
    assert consultant.get(WALLBOARD, new, HTTP_HX_REQUEST="true").status_code == 200


def test_a_poll_of_the_wallboard_costs_a_few_queries(
    client_for, today, django_assert_max_num_queries
):
    consultant = client_for(roles.CONSULTANT)
    version = consultant.get(WALLBOARD).context["live"].version
    with django_assert_max_num_queries(8):  # the session and user, then the version's four
        consultant.get(WALLBOARD, {"since": version}, HTTP_HX_REQUEST="true")


def test_the_wallboard_page_runs_the_same_queries_whatever_the_day(
    client_for, today, pbx, django_assert_num_queries
):
    consultant = client_for(roles.CONSULTANT)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    consultant.get(WALLBOARD)
    with CaptureQueriesContext(connection) as first:
        consultant.get(WALLBOARD)
    CallQueue.objects.create(code="vip", name="VIP专线")
    Agent.objects.create(user=UserFactory(first_name="张伟"), extension="8003")
    start = recently(200)
    play(pbx, "t4", start, [(8, "answered", {"extension": "8003"}), (68, "ended", {})], queue="vip")
    play(pbx, "t5", start, [(30, "ended", {})])
    with django_assert_num_queries(len(first)):
        consultant.get(WALLBOARD)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.CONSULTANT, 200),
        (roles.MANAGER, 200),
        (roles.ADMINISTRATOR, 200),
        (roles.FRONT_DESK, 403),
        (roles.CLIENT_MANAGER, 403),
        (roles.CLINICIAN, 403),
    ],
)
def test_the_call_centre_and_its_managers_open_the_wallboard(client_for, role, status):
    assert client_for(role).get(WALLBOARD).status_code == status


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(WALLBOARD)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_wallboard_is_in_the_consultants_menu(client_for):
    html = client_for(roles.CONSULTANT).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert WALLBOARD in html.content.decode()


def test_the_dashboard_has_the_hotline_section_with_the_same_figures(manager_client, today):
    page = manager_client.get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'data-testid="telephony"' in html and WALLBOARD in html
    telephony = page.context["telephony"]
    rows = {row.key: row for row in telephony["rows"]}
    assert rows["calls_offered"].today == 2 and rows["calls_abandoned"].month == 2 - 1
    assert reverse("reports:figure_records", args=["calls_answered_20s"]) in html
    rates = {rate["key"]: rate for rate in telephony["rates"]}
    assert rates["call_service_level"]["today"] == 50.0
    averages = {average["key"]: average for average in telephony["averages"]}
    assert averages["call_average_wait"]["today"] == 10
    _title, queues, _testid = telephony["breakdowns"][0]
    assert [row["name"] for row in queues] == ["健康专线"] and queues[0]["values"][0] == 2
    # The other figures' table stays as it was.
    assert all(row.key not in OVERALL for row in page.context["rows"])
    chinese = manager_client.get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "服务水平" in chinese.content.decode()


def test_the_monthly_report_page_shows_the_hotline(manager_client, today):
    page = manager_client.get(reverse("reports:satisfaction"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'data-testid="telephony"' in html and "健康专线" in html
    sections = dict(page.context["telephony"]["sections"])
    assert sections["The month"][0][1][:2] == ["2", "1"]  # offered, answered
    chinese = manager_client.get(reverse("reports:satisfaction"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "热线" in chinese.content.decode()


def test_the_drill_down_lists_the_calls_a_figure_counts(manager_client, today):
    url = reverse("reports:figure_records", args=["calls_abandoned"])
    page = manager_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page.context["records"].total == 1
    waits = manager_client.get(reverse("reports:figure_records", args=["calls_wait_seconds"]))
    assert waits.context["records"].total == 10
    assert sum(row["amount"] for row in waits.context["records"].rows) == 10
