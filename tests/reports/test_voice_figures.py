"""Calls made, voice reminders and keypad surveys through the shared figure definitions
(reports.figures): exact on a few rows made directly, zero (a rate "—") with none, on the
dashboard and in the monthly report."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from messaging.models import OutboxMessage, Purpose
from reports import figures, rollups, satisfaction
from surveys.models import SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from voice.models import Agent, Call

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _agent(extension, name):
    user = get_user_model().objects.create_user(username=f"a{extension}", first_name=name)
    return Agent.objects.create(user=user, extension=extension)


def _call(n, *, worklist, agent, talk=None, answered=True, ended=True):
    now = timezone.now() - datetime.timedelta(minutes=30)
    return Call.objects.create(
        external_id=f"out-{n}",
        direction=Call.Direction.OUTBOUND,
        worklist=worklist,
        task_id=n,
        agent=agent,
        outcome=Call.Outcome.ANSWERED if answered else Call.Outcome.MISSED,
        answered_at=now if answered else None,
        ended_at=now + datetime.timedelta(seconds=talk or 0) if ended else None,
    )


def _message(n, *, status, purpose=Purpose.BOOKING_REMINDER, error_code="", channel="voice"):
    client = ClientFactory()
    return OutboxMessage.objects.create(
        idempotency_key=f"voice-{n}",
        client=client,
        to=client.phone,
        body="语音通知",
        purpose=purpose,
        kind="service",
        status=status,
        error_code=error_code,
        channel=channel,
    )


@pytest.fixture
def rows():
    wang, li = _agent("8001", "王芳"), _agent("8002", "李娜")
    _call(1, worklist="followup", agent=wang, talk=60)
    _call(2, worklist="followup", agent=wang, talk=120)
    _call(3, worklist="followup", agent=wang, answered=False)
    _call(4, worklist="recall", agent=li, ended=False)  # still talking
    _call(5, worklist="somewhere-new", agent=None, answered=False)
    # An inbound call is not a call made.
    Call.objects.create(external_id="in-1", outcome=Call.Outcome.ANSWERED)
    _message(1, status=Status.DELIVERED)
    _message(2, status=Status.FAILED, error_code="busy")
    _message(3, status=Status.FAILED, error_code="no_answer")
    _message(4, status=Status.FAILED, error_code="isv.TEMPLATE_MISSING")
    _message(5, status=Status.SUPPRESSED, error_code="opted_out")
    _message(6, status=Status.SENT, channel="sms")  # an SMS: not a voice reminder
    sent = [_message(10 + n, status=Status.SENT, purpose=Purpose.SURVEY) for n in range(3)]
    _message(20, status=Status.SUPPRESSED, purpose=Purpose.SURVEY)  # never called
    # One keypad survey answered, one called with nothing pressed.
    for message, lowest in ((sent[0], 4), (sent[1], None)):
        SurveyResponse.objects.create(
            source=SurveyResponse.Source.KEYPAD,
            client=message.client,
            reference=f"msg:{message.pk}",
            lowest_score=lowest,
        )
    return wang, li


def _values(start=None, end=None):
    today = timezone.localdate()
    return {
        figure.key: figure.compute_period(start or today, end or today)
        for figure in figures.VOICE_FIGURES
    }


def test_each_figure_counts_what_its_definition_says(rows):
    wang, li = rows
    values = _values()
    overall = {key: by[("", 0)] for key, by in values.items()}
    assert overall == {
        "outbound_attempts": 5,
        "outbound_connected": 3,
        "outbound_completed": 2,
        "outbound_talk_seconds": 180,
        "voice_reminders": 5,
        "voice_reminders_answered": 1,
        "voice_reminders_not_answered": 2,
        "voice_reminders_failed": 1,
        "voice_reminders_held": 1,
        "keypad_surveys_sent": 3,
        "keypad_surveys_answered": 1,
    }
    followup = figures.WORKLIST_NUMBERS["followup"]
    assert values["outbound_attempts"][(figures.WORKLIST, followup)] == 3
    assert values["outbound_connected"][(figures.WORKLIST, followup)] == 2
    assert values["outbound_attempts"][(figures.WORKLIST, 0)] == 1  # a list not named
    assert values["outbound_attempts"][(figures.AGENT, wang.pk)] == 3
    assert values["outbound_connected"][(figures.AGENT, li.pk)] == 1
    assert values["outbound_talk_seconds"][(figures.AGENT, wang.pk)] == 180
    assert "sms_sent" not in overall and figures.BY_KEY["sms_sent"].compute(
        timezone.localdate()
    ) == {("", 0): 1}  # the SMS figures leave voice out


def test_with_no_rows_every_figure_is_zero_and_every_rate_empty(manager_client):
    values = _values(datetime.date(2020, 1, 1), datetime.date(2020, 1, 31))
    assert all(by == {("", 0): 0} for by in values.values())
    data = satisfaction.compute(datetime.date(2020, 1, 1))["voice"]
    assert data["overall"]["outbound_attempts"] == 0
    assert data["overall"]["outbound_connect"] is None
    assert data["overall"]["outbound_average_talk"] is None
    assert data["worklists"] == [] and data["agents"] == []
    table = satisfaction.voice_table(data)
    assert table["sections"][0][1] == [("All calls made", ["0", "0", "—", "—"])]
    page = manager_client.get(reverse("reports:dashboard"))
    assert page.status_code == 200
    voice = page.context["voice"]
    assert [row.month for row in voice["rows"]] == [0] * len(figures.VOICE_FIGURES)
    assert {r["key"]: r["month"] for r in voice["rates"]} == {
        "outbound_connect": None,
        "voice_reminders_answered": None,
        "keypad_response": None,
    }
    report = manager_client.get(reverse("reports:satisfaction"), {"month": "2020-01"})
    assert report.status_code == 200 and b'data-testid="voice-table"' in report.content


def test_the_dashboard_shows_them_per_worklist_and_agent(manager_client, rows):
    rollups.refresh(days=1)
    page = manager_client.get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    voice = page.context["voice"]
    month = {row.key: row.month for row in voice["rows"]}
    assert month["outbound_attempts"] == 5 and month["keypad_surveys_answered"] == 1
    rates = {r["key"]: r["month"] for r in voice["rates"]}
    assert rates == {
        "outbound_connect": 60.0,
        "voice_reminders_answered": 20.0,
        "keypad_response": 33.3,
    }
    assert [a["month"] for a in voice["averages"]] == [90]
    (_title, worklists, *_rest), (_t, agents, *_r) = voice["breakdowns"]
    by_name = {str(row["name"]): row for row in worklists}
    assert by_name["Return-visit calls"]["values"] == [3, 2]
    assert by_name["Return-visit calls"]["rates"] == [66.7]
    assert by_name["Return-visit calls"]["averages"] == [90]
    assert by_name[""]["values"] == [1, 0]  # the list not named: "Another list"
    assert {row["name"]: row["values"] for row in agents}["王芳 (8001)"] == [3, 2]
    body = page.content.decode()
    assert 'data-testid="voice-worklists"' in body and "Another list" in body
    assert str(figures.BY_KEY["keypad_surveys_answered"].definition) in body
    # The main rows and rates leave them to their own section.
    assert "outbound_attempts" not in {row.key for row in page.context["rows"]}


def test_the_monthly_report_keeps_them(manager_client, rows):
    month = timezone.localdate().replace(day=1)
    data = satisfaction.compute(month)["voice"]
    assert data["overall"]["outbound_connect"] == 60.0
    assert data["overall"]["outbound_average_talk"] == 90
    assert data["overall"]["keypad_surveys_answered"] == 1
    names = [row["name"] for row in data["worklists"]]
    assert names == ["Return-visit calls", "No-show recalls and callback tasks", ""]
    messages = {
        str(label): value for label, _d, value in satisfaction.voice_table(data)["messages"]
    }
    assert messages["Keypad survey response rate"] == "33.3%"
    assert messages["Voice reminders not answered"] == "2"
    url = reverse("reports:satisfaction")
    page = manager_client.get(url, {"month": f"{month:%Y-%m}"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Calls made and voice messages" in page.content.decode()
    chinese = manager_client.get(url, {"month": f"{month:%Y-%m}"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "外呼与语音消息" in chinese.content.decode() and "33.3%" in chinese.content.decode()


def test_the_figures_document_lists_them():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "figures.md").read_text()
    for key in ("outbound_attempts", "voice_reminders_answered", "keypad_surveys_answered"):
        assert f"`{key}`" in text
    assert "`keypad_surveys_answered` ÷ `keypad_surveys_sent`" in text


def test_every_list_a_call_is_placed_from_has_its_row():
    from reports.figures import WORKLISTS
    from voice.models import Call

    assert [code for code, _name in WORKLISTS] == list(Call.Worklist.values)
