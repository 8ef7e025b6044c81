"""The weekly satisfaction summary (每周填写医院客户满意度调查表): its figures on constructed data,
the page, the audited Excel export, and who may open them."""

import datetime
import io
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from surveys import selectors as survey_selectors
from surveys import services as surveys
from surveys.models import (
    Dimension,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from tests.clientmgmt.factories import ClientFactory
from tests.followup.factories import make_call
from tests.surveys.factories import answered, finished_visit, satisfaction_survey
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = datetime.date(2026, 3, 2)
WEDNESDAY = datetime.date(2026, 3, 4)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


def _move(response, when):
    SurveyResponse.objects.filter(pk=response.pk).update(submitted_at=when)


@pytest.fixture
def week():
    """Three satisfaction answers in the week of 2 March 2026 (two on the page, one on a call),
    one each side of it, and a market survey inside it that the summary leaves out."""
    satisfaction_survey()
    skin, laser = DepartmentFactory(name="皮肤科"), DepartmentFactory(name="激光美容科")
    happy = answered(
        score=5,
        recommend=10,
        comment="医生很专业",
        at=at(MONDAY, 0, 0),
        department=skin,
        client=ClientFactory(name="王小红", phone="+8613912345678"),
    )
    lukewarm = answered(score=3, recommend=6, at=at(WEDNESDAY, 15), department=skin)
    call = make_call(visit=finished_visit(department=laser))
    scores = dict.fromkeys(survey_selectors.SUMMARY_DIMENSIONS, 4)
    phoned = surveys.response_record_call(
        client=call.client,
        visit=call.visit,
        scores=scores | {Dimension.DOCTOR: 2},
        recommend=9,
        comment="候诊太久了",
        by=None,
    )
    _move(phoned, at(MONDAY + datetime.timedelta(days=6), 23, 59))
    answered(score=1, recommend=0, comment="下一周", at=at(MONDAY + datetime.timedelta(days=7), 0))
    answered(
        score=1, recommend=0, comment="上一周", at=at(MONDAY, 0) - datetime.timedelta(seconds=1)
    )
    market = SurveyTemplate.objects.create(code="market", name="市场调查", kind="market")
    for order, kind, dimension in (
        (1, SurveyQuestion.Type.SCALE, Dimension.OTHER),
        (2, SurveyQuestion.Type.TEXT, Dimension.COMMENT),
    ):
        SurveyQuestion.objects.create(
            template=market, order=order, text="?", type=kind, dimension=dimension
        )
    market_invitation = SurveyInvitation.objects.create(
        template=market,
        client=ClientFactory(),
        channel=SurveyInvitation.Channel.CAMPAIGN,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    questions = list(market.questions.all())
    market_answer = surveys.survey_submit(
        invitation=market_invitation,
        answers={questions[0].pk: "1", questions[1].pk: "市场调查的意见"},
    )
    _move(market_answer, at(WEDNESDAY, 9))
    return {"happy": happy, "lukewarm": lukewarm, "phoned": phoned}


def test_the_summary_counts_the_weeks_satisfaction_answers(week, django_assert_num_queries):
    with django_assert_num_queries(5):
        summary = survey_selectors.weekly_summary(WEDNESDAY)
    assert summary["start"] == MONDAY and summary["end"] == datetime.date(2026, 3, 8)
    assert summary["counts"] == {"total": 3, "survey": 2, "call": 1, "keypad": 0, "recovery": 2}
    by_dimension = summary["by_dimension"]
    assert by_dimension[Dimension.DOCTOR]["average"] == pytest.approx(10 / 3)
    assert by_dimension[Dimension.DOCTOR]["count"] == 3
    assert by_dimension[Dimension.NURSING]["average"] == pytest.approx(4.0)
    assert Dimension.OTHER not in by_dimension and Dimension.RECOMMEND not in by_dimension
    departments = dict(summary["by_department"])
    assert list(departments) == ["激光美容科", "皮肤科"]
    assert departments["皮肤科"][Dimension.DOCTOR]["average"] == pytest.approx(4.0)
    assert departments["激光美容科"][Dimension.DOCTOR]["average"] == pytest.approx(2.0)
    assert departments["激光美容科"][Dimension.OVERALL]["average"] == pytest.approx(4.0)
    assert summary["recommend_count"] == 3
    assert summary["recommend_average"] == pytest.approx(25 / 3)
    assert (summary["promoters"], summary["detractors"], summary["nps"]) == (2, 1, 33)
    assert [c.comment for c in summary["comments"]] == ["医生很专业", "候诊太久了"]


def test_any_day_of_the_week_gives_the_same_week():
    for day in range(7):
        start, end = survey_selectors.week_bounds(MONDAY + datetime.timedelta(days=day))
        assert start == at(MONDAY, 0) and end == at(MONDAY + datetime.timedelta(days=7), 0)


def test_an_empty_week_has_no_averages():
    summary = survey_selectors.weekly_summary(MONDAY)
    assert summary["counts"]["total"] == 0
    assert summary["nps"] is None and summary["recommend_average"] is None
    assert summary["by_department"] == [] and summary["comments"] == []


def test_visits_without_a_department_are_summarised_last():
    satisfaction_survey()
    answered(at=at(MONDAY, 10), department=DepartmentFactory(name="皮肤科"))
    response = answered(at=at(MONDAY, 11))
    SurveyResponse.objects.filter(pk=response.pk).update(department=None)
    names = [name for name, _scores in survey_selectors.weekly_summary(MONDAY)["by_department"]]
    assert names == ["皮肤科", ""]


def _weekly(client, **params):
    return client.get(reverse("surveys:weekly"), params, **EN)


def test_the_page_shows_the_weeks_figures_and_every_comment(week, client_manager_client):
    response = _weekly(client_manager_client, week=WEDNESDAY.isoformat())
    body = response.content.decode()
    assert response.status_code == 200
    assert "Customer satisfaction, week of 2026-03-02 to 2026-03-08" in body
    assert "3.33" in body and "8.33" in body
    assert body.count('data-testid="comment"') == 2
    assert "医生很专业" in body and "候诊太久了" in body
    assert "市场调查的意见" not in body and "下一周" not in body and "上一周" not in body
    happy = week["happy"]
    assert f'href="/clients/{happy.client_id}/" data-testid="comment-client"' in body
    for secret in ("13912345678", "139****5678", "王小红"):
        assert secret not in body
    assert 'href="?week=2026-02-23" data-testid="previous-week"' in body
    assert 'href="?week=2026-03-09" data-testid="next-week"' in body
    assert f'href="{reverse("surveys:weekly_export")}?week=2026-03-02"' in body
    assert "data-print" in body


def test_the_page_opens_on_this_week_and_explains_a_bad_day(manager_client):
    this_monday = survey_selectors.week_bounds(timezone.localdate())[0].date()
    body = _weekly(manager_client).content.decode()
    assert f"week of {this_monday.isoformat()}" in body
    assert 'data-testid="weekly-recommend-empty"' in body
    assert 'data-testid="weekly-no-comments"' in body
    bad = _weekly(manager_client, week="next tuesday").content.decode()
    assert "Write the day as 2026-03-01." in bad
    assert f"week of {this_monday.isoformat()}" in bad


def test_the_export_holds_the_pages_figures_and_is_audited(week, client_manager_client):
    response = client_manager_client.get(
        reverse("surveys:weekly_export"), {"week": WEDNESDAY.isoformat()}, **EN
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="survey-week-2026-03-02.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    summary = workbook.worksheets[0]
    rows = [
        [cell for cell in row if cell is not None] for row in summary.iter_rows(values_only=True)
    ]
    assert ["Responses", 3] in rows
    assert ["Needing service recovery", 2] in rows
    assert ["Net promoter score (NPS)", 33] in rows
    assert ["Doctor", 3.33, 3] in rows
    assert ["激光美容科", 2.0, 4.0, 4.0, 4.0, 4.0, 4.0] in rows
    comments = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert comments[0][-1] == "Comment"
    assert [row[-1] for row in comments[1:]] == ["医生很专业", "候诊太久了"]
    assert [row[1] for row in comments[1:]] == ["皮肤科", "激光美容科"]
    assert all("+86" not in str(value) for row in comments for value in row)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.object_type == "surveys.survey_weekly" and event.object_id == "2026-03-02"
    assert event.actor.username == "t_clientmgr"


def test_a_comment_that_looks_like_a_formula_stays_text(client_manager_client):
    satisfaction_survey()
    answered(comment='=HYPERLINK("http://x")', at=at(MONDAY, 9))
    response = client_manager_client.get(
        reverse("surveys:weekly_export"), {"week": MONDAY.isoformat()}
    )
    cell = load_workbook(io.BytesIO(response.content)).worksheets[1]["F2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_an_export_of_a_bad_day_goes_back_to_the_page(manager_client):
    response = manager_client.get(reverse("surveys:weekly_export"), {"week": "soon"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("surveys:weekly"))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_the_summary_is_for_follow_ups_readers(client_for, role):
    client = client_for(role)
    allowed = role in roles.FOLLOWUP_READERS
    for name in ("surveys:weekly", "surveys:weekly_export"):
        assert client.get(reverse(name)).status_code == (200 if allowed else 403)


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    for name in ("surveys:weekly", "surveys:weekly_export"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
