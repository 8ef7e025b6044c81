from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demo.directory import seed_directory
from tests.zhongdu.factories import (
    ClinicSessionFactory,
    DepartmentFactory,
    ExpertFactory,
    KnowledgeArticleFactory,
    PriceItemFactory,
)
from zhongdu import roles
from zhongdu.directory.selectors import knowledge_desk_search
from zhongdu.models import (
    Channel,
    ClinicSession,
    Department,
    Expert,
    KnowledgeArticle,
    PriceItem,
    SessionTemplate,
)

pytestmark = pytest.mark.django_db

DESK = reverse("knowledge_desk")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}


def _desk(client, query, **headers):
    return client.get(DESK, {"q": query}, HTTP_ACCEPT_LANGUAGE="en", **headers)


def test_the_desk_opens_for_consultants_and_the_front_desk(consultant_client, front_desk_client):
    for client in (consultant_client, front_desk_client):
        response = client.get(DESK, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body
        assert 'data-testid="desk-hint"' in body


def test_every_role_may_use_the_desk(client_for):
    for role in roles.ALL_ROLES:
        assert client_for(role).get(DESK).status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(DESK)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_search_box_asks_htmx_for_results_as_the_user_types(consultant_client):
    body = consultant_client.get(DESK).content.decode()
    assert f'hx-get="{DESK}"' in body
    assert 'hx-trigger="input changed delay:250ms, search"' in body
    assert 'hx-target="#desk-results"' in body
    assert 'hx-push-url="true"' in body
    assert 'id="desk-results"' in body


def test_it_finds_a_price_by_name_with_its_department_and_yuan(consultant_client):
    laser = DepartmentFactory(name="白癜风诊疗中心")
    PriceItemFactory(code="ZL001", name="308准分子激光治疗", price=Decimal("280"), department=laser)
    PriceItemFactory(code="JC002", name="真菌镜检")
    response = _desk(consultant_client, "准分子")
    assert [item.code for item in response.context["results"].prices] == ["ZL001"]
    body = response.content.decode()
    assert "308准分子激光治疗" in body
    assert "¥280.00" in body
    assert "白癜风诊疗中心" in body
    assert "真菌镜检" not in body


def test_it_finds_a_price_by_code_but_not_an_inactive_one(consultant_client):
    PriceItemFactory(code="GH003", name="主任医师挂号费")
    PriceItemFactory(code="GH099", name="旧挂号费", active=False)
    results = _desk(consultant_client, "gh0").context["results"]
    assert [item.code for item in results.prices] == ["GH003"]


def test_it_finds_a_department_by_specialty_with_floor_and_extension(front_desk_client):
    DepartmentFactory(
        name="性病科", floor="3F", phone_extension="8301", specialties="尖锐湿疣\n梅毒"
    )
    DepartmentFactory(name="体检中心", specialties="入职体检")
    response = _desk(front_desk_client, "梅毒")
    assert [d.name for d in response.context["results"].departments] == ["性病科"]
    body = response.content.decode()
    assert "Floor 3F" in body and "ext. 8301" in body
    assert "尖锐湿疣、梅毒" in body


def test_it_finds_an_expert_by_specialty_with_this_weeks_remaining_places(consultant_client):
    today = timezone.localdate()
    vitiligo = DepartmentFactory(name="白癜风诊疗中心")
    expert = ExpertFactory(name="李淑芬", specialties="白癜风、黄褐斑", departments=[vitiligo])
    ExpertFactory(name="王建国", specialties="银屑病")
    ClinicSessionFactory(expert=expert, date=today, capacity=25, booked=7)
    ClinicSessionFactory(
        expert=expert,
        date=today + timedelta(days=6),
        start_time=time(14),
        end_time=time(17),
        capacity=10,
        booked=10,
    )
    # Not this week, or not happening: left out.
    ClinicSessionFactory(expert=expert, date=today + timedelta(days=7))
    ClinicSessionFactory(expert=expert, date=today - timedelta(days=1))
    ClinicSessionFactory(
        expert=expert, date=today + timedelta(days=2), status=ClinicSession.Status.CANCELLED
    )

    response = _desk(consultant_client, "白癜风")

    experts = response.context["results"].experts
    assert [e.name for e in experts] == ["李淑芬"]
    sessions = experts[0].week_sessions
    assert [(s.date, s.remaining) for s in sessions] == [
        (today, 18),
        (today + timedelta(days=6), 0),
    ]
    body = response.content.decode()
    assert "18 places left" in body
    assert "Full" in body
    assert "白癜风诊疗中心" in body


def test_an_expert_without_sessions_this_week_says_so(consultant_client):
    ExpertFactory(name="周国华", specialties="慢性湿疹")
    body = _desk(consultant_client, "湿疹").content.decode()
    assert "No session in the coming seven days." in body


def test_it_finds_an_active_article_by_keyword(consultant_client):
    KnowledgeArticleFactory(title="医保报销范围", keywords="医保 社保卡 报销", body="持社保卡挂号")
    KnowledgeArticleFactory(title="旧政策", keywords="社保卡", active=False)
    response = _desk(consultant_client, "社保卡")
    assert [a.title for a in response.context["results"].articles] == ["医保报销范围"]
    assert "持社保卡挂号" in response.content.decode()


def test_every_word_of_the_query_must_match(consultant_client):
    PriceItemFactory(code="TX003", name="冰点激光脱毛（腋下）")
    PriceItemFactory(code="TX004", name="冰点激光脱毛（唇周）")
    results = _desk(consultant_client, "脱毛  唇周").context["results"]
    assert [item.code for item in results.prices] == ["TX004"]


def test_an_htmx_request_gets_the_results_fragment_only(consultant_client):
    PriceItemFactory(code="ZL001", name="308准分子激光治疗")
    response = consultant_client.get(DESK, {"q": "308"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "308准分子激光治疗" in body
    assert "HX-Request" in response["Vary"]


def test_htmx_restoring_history_gets_the_whole_page(consultant_client):
    response = consultant_client.get(
        DESK, {"q": "308"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert "<html" in response.content.decode()


def test_a_query_in_the_address_shows_the_page_with_its_results(consultant_client):
    PriceItemFactory(code="ZL001", name="308准分子激光治疗")
    body = _desk(consultant_client, "308").content.decode()
    assert "<html" in body
    assert 'value="308"' in body
    assert "308准分子激光治疗" in body


def test_a_query_with_no_match_says_nothing_was_found(consultant_client):
    response = consultant_client.get(DESK, {"q": "<b>火星</b>"}, **HTMX)
    body = response.content.decode()
    assert 'data-testid="desk-nothing"' in body
    assert "Nothing found for “&lt;b&gt;火星&lt;/b&gt;”" in body


def test_an_empty_query_shows_the_hint(consultant_client):
    response = consultant_client.get(DESK, {"q": "   "}, **HTMX)
    assert 'data-testid="desk-hint"' in response.content.decode()
    assert response.context["query"] == ""


def test_an_empty_query_runs_no_search(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert not knowledge_desk_search(query="  ").found


def test_a_very_long_query_is_cut_not_crashed_on(consultant_client):
    response = consultant_client.get(DESK, {"q": "皮" * 5000}, **HTMX)
    assert response.status_code == 200
    assert len(response.context["query"]) == 50


def _hospital(size):
    """`size` experts who all treat eczema, each with three sessions this week, plus as many
    matching departments, prices and articles."""
    today = timezone.localdate()
    for n in range(size):
        department = DepartmentFactory(name=f"湿疹{n}科")
        expert = ExpertFactory(name=f"专家{n}", specialties="湿疹", departments=[department])
        for day in range(3):
            ClinicSessionFactory(expert=expert, date=today + timedelta(days=day))
        PriceItemFactory(name=f"湿疹治疗{n}", department=department)
        KnowledgeArticleFactory(title=f"湿疹须知{n}")


def _queries(client):
    with CaptureQueriesContext(connection) as captured:
        client.get(DESK, {"q": "湿疹"}, **HTMX)
    return len(captured)


def test_the_query_count_does_not_grow_with_the_results(
    consultant_client, django_assert_max_num_queries
):
    _hospital(1)
    consultant_client.get(DESK)  # warm the session
    few = _queries(consultant_client)
    _hospital(12)
    assert _queries(consultant_client) == few
    # Session, user, roles; prices, departments, experts with their departments and week
    # sessions, articles; the session's save (3 statements in a savepoint).
    with django_assert_max_num_queries(12):
        response = consultant_client.get(DESK, {"q": "湿疹"}, **HTMX)
    results = response.context["results"]
    assert len(results.experts) == 13
    assert all(len(expert.week_sessions) == 3 for expert in results.experts)


def test_the_search_runs_six_queries(django_assert_num_queries):
    _hospital(5)
    with django_assert_num_queries(6):
        results = knowledge_desk_search(query="湿疹")
        for expert in results.experts:
            list(expert.departments.all())
            [session.department.name for session in expert.week_sessions]


def test_the_demo_hospital_answers_the_usual_calls():
    created = seed_directory()
    assert Department.objects.filter(name__in=["皮肤科", "性病科", "体检中心"]).count() == 3
    assert Expert.objects.count() >= 15
    assert PriceItem.objects.count() >= 50
    assert set(PriceItem.objects.values_list("category", flat=True)) == set(
        PriceItem.Category.values
    )
    assert set(Channel.objects.values_list("kind", flat=True)) == set(Channel.Kind.values)
    assert KnowledgeArticle.objects.count() >= 12
    assert created == ClinicSession.objects.count() == 4 * SessionTemplate.objects.count()

    results = knowledge_desk_search(query="308")
    assert "ZL001" in [item.code for item in results.prices]
    assert "308准分子激光" in [article.title for article in results.articles]
    results = knowledge_desk_search(query="白癜风")
    assert "李淑芬" in [expert.name for expert in results.experts]
    assert all(expert.week_sessions for expert in results.experts)


def test_seeding_the_demo_hospital_twice_adds_nothing_and_keeps_edits():
    seed_directory()
    price = PriceItem.objects.get(code="GH001")
    price.price = Decimal("12.00")
    price.save()
    counts = [
        model.objects.count()
        for model in (Department, Expert, SessionTemplate, ClinicSession, PriceItem, Channel)
    ]
    assert seed_directory() == 0
    assert counts == [
        model.objects.count()
        for model in (Department, Expert, SessionTemplate, ClinicSession, PriceItem, Channel)
    ]
    assert PriceItem.objects.get(code="GH001").price == Decimal("12.00")
