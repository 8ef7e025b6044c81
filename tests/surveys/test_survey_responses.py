"""The list of survey responses: newest first, keyset pages, filters, a fixed query count, and
who may open it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup.models import FollowUpCall
from surveys import services as surveys
from surveys.models import SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from tests.followup.factories import make_call
from tests.surveys.factories import answered, satisfaction_survey
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
URL = reverse("surveys:response_list")


def _rows(body):
    return body.count('data-testid="response"')


def _bulk(n, *, client=None, department=None, **fields):
    """n responses in one go (the list's pages and query count need many)."""
    client = client or ClientFactory()
    now = timezone.now()
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            client=client,
            department=department,
            source=SurveyResponse.Source.SURVEY,
            submitted_at=now - datetime.timedelta(minutes=i),
            lowest_score=4,
            recommend=9,
            **fields,
        )
        for i in range(n)
    )


def test_responses_are_listed_newest_first_with_their_client(client_manager_client):
    satisfaction_survey()
    first = answered(client=ClientFactory(name="王小红", phone="+8613912345678"), comment="早")
    second = answered(client=ClientFactory(name="李四"), comment="晚")
    body = client_manager_client.get(URL, **EN).content.decode()
    assert _rows(body) == 2
    assert body.index("晚") < body.index("早")
    assert f'href="/clients/{first.client_id}/">王小红</a>' in body
    assert f'href="/clients/{second.client_id}/">李四</a>' in body
    assert "13912345678" not in body and "139****5678" not in body


def test_a_low_response_links_its_recovery_call(client_manager_client):
    satisfaction_survey()
    low = answered(score=1, comment="太差")
    call = FollowUpCall.objects.get(source=f"surveys.surveyresponse:{low.pk}")
    body = client_manager_client.get(URL, **EN).content.decode()
    assert f'href="{reverse("followup:call_detail", args=[call.pk])}"' in body
    assert "table-warning" in body


def test_the_filters_narrow_the_list(client_manager_client):
    satisfaction_survey()
    skin = DepartmentFactory(name="皮肤科")
    answered(department=skin, comment="皮肤科的回答")
    answered(score=1, comment="需要挽回")
    make_call_response = make_call()
    surveys.response_record_call(
        client=make_call_response.client,
        visit=make_call_response.visit,
        scores={"doctor": 5},
        recommend=10,
        comment="电话回答",
        by=None,
    )
    old = answered(comment="上个月的回答")
    SurveyResponse.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=40)
    )

    def listed(**params):
        body = client_manager_client.get(URL, params, **EN).content.decode()
        return {
            text
            for text in ("皮肤科的回答", "需要挽回", "电话回答", "上个月的回答")
            if text in body
        }

    assert listed() == {"皮肤科的回答", "需要挽回", "电话回答", "上个月的回答"}
    assert listed(source="call") == {"电话回答"}
    assert listed(recovery="yes") == {"需要挽回"}
    assert "需要挽回" not in listed(recovery="no")
    assert listed(department=skin.pk) == {"皮肤科的回答"}
    assert listed(week=timezone.localdate().isoformat()) == {"皮肤科的回答", "需要挽回", "电话回答"}


def test_deep_lists_are_paged_by_keyset(client_manager_client):
    _bulk(55, comment="x")
    first = client_manager_client.get(URL, {"source": "survey"}).content.decode()
    assert _rows(first) == 50
    oldest_on_first = SurveyResponse.objects.order_by("-id")[49]
    older = f"?source=survey&amp;before={oldest_on_first.pk}"
    assert f'href="{older}" data-testid="older"' in first
    second = client_manager_client.get(
        URL, {"source": "survey", "before": oldest_on_first.pk}
    ).content.decode()
    assert _rows(second) == 5
    assert 'data-testid="older"' not in second


def test_the_list_keeps_a_fixed_query_count(client_manager_client):
    department = DepartmentFactory()
    _bulk(2, department=department, needs_recovery=True)
    client_manager_client.get(URL)  # the session and the user are loaded once

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client_manager_client.get(URL)
        assert response.status_code == 200
        return [query["sql"] for query in captured]

    few = queries()
    _bulk(45, department=DepartmentFactory(), needs_recovery=True, comment="慢")
    many = queries()
    assert len(many) == len(few)
    # Session, user, roles, the department filter's choices, and the page itself: one query for
    # the rows with their client, department, doctor, survey and recovery call (plus whatever
    # the navigation bar reads).
    assert len([sql for sql in many if '"surveys_surveyresponse"' in sql]) == 1
    assert len(many) <= 7


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_the_list_is_for_follow_ups_readers(client_for, role):
    status = client_for(role).get(URL).status_code
    assert status == (200 if role in roles.FOLLOWUP_READERS else 403)


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
