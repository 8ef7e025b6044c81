"""A client's health archive (健康档案, /clients/<id>/health/): one printable page with the
summary (numbers masked) and every department's entries from the timeline registry, grouped by
kind and filterable; audited as a view; a VIP's only in summary to those who do not serve them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clientmgmt import services
from clientmgmt.models import Client
from guide.models import ExamOrder
from messaging import services as messaging
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import make_complaint
from tests.conftest import ROLE_USERNAMES
from tests.factories import UserFactory
from tests.followup.factories import make_call, make_plan, plan_template
from tests.guide.factories import exam_order, price
from tests.surveys.factories import answered, finished_visit
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import AuditEvent, PriceItem

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _url(client, **query):
    url = reverse("clientmgmt:health_archive", args=[client.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _sections(page):
    return {kind: entries for kind, _label, entries in page.context["groups"]}


@pytest.fixture
def person():
    """A client with something from every department: a visit, a care plan with its diagnosis,
    an exam with its results, a call, an SMS, a complaint and satisfaction answers."""
    client = ClientFactory(name="陈静", id_number="110101199003074514")
    visit = finished_visit(client=client, department=DepartmentFactory(name="激光美容科"))
    make_plan(client=client, template=plan_template(), diagnosis="面部黄褐斑，激光治疗第一次")
    order = exam_order(
        client=client, items=[price("JC001", "100.00", category=PriceItem.Category.EXAM)]
    )
    ExamOrder.objects.filter(pk=order.pk).update(
        status=ExamOrder.Status.COMPLETED,
        result_summary="皮肤镜：色素沉着，未见异常增生",
        completed_at=timezone.now(),
    )
    make_call(client=client, title="术后第3天回访")
    messaging.outbox_enqueue(
        idempotency_key=f"test:{client.pk}", purpose="other", client=client, body="复诊提醒短信"
    )
    make_complaint(client=client, words="候诊时间太长")
    answered(visit=visit, comment="医生很耐心")
    client.refresh_from_db()
    return client


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_every_role_that_reads_clients_opens_the_health_archive(client_for, role, person):
    page = client_for(role).get(_url(person), **EN)
    assert page.status_code == 200
    assert page.templates[0].name == "clientmgmt/health_archive.html"
    event = AuditEvent.objects.get(action="view", object_id=str(person.pk))
    assert event.reason == "health archive"
    assert event.actor_username == ROLE_USERNAMES[role]


def test_the_health_archive_gathers_every_department_on_one_page(client_manager_client, person):
    page = client_manager_client.get(_url(person), **EN)
    sections = _sections(page)
    assert {"visit", "plan", "exam", "call", "sms", "complaint", "survey", "record"} <= set(
        sections
    )
    body = page.content.decode()
    for text in (
        "激光美容科",
        "面部黄褐斑，激光治疗第一次",
        "皮肤镜：色素沉着，未见异常增生",
        "术后第3天回访",
        "复诊提醒短信",
        "候诊时间太长",
        "医生很耐心",
    ):
        assert text in body, text
    # The sections come in the registry's order, each newest first.
    kinds = [kind for kind, _label, _entries in page.context["groups"]]
    assert kinds.index("record") < kinds.index("complaint")
    assert 'data-testid="print"' in body
    assert "css/health-archive.css" in body


def test_numbers_are_masked(client_manager_client, person):
    body = client_manager_client.get(_url(person), **EN).content.decode()
    assert person.phone_masked in body and person.phone not in body
    assert "110***********4514" in body and "110101199003074514" not in body


def test_the_health_archive_shows_one_kind_at_a_time(client_manager_client, person):
    page = client_manager_client.get(_url(person, timeline="complaint"), **EN)
    assert list(_sections(page)) == ["complaint"]
    assert "候诊时间太长" in page.content.decode()
    assert "面部黄褐斑" not in page.content.decode()
    page = client_manager_client.get(_url(person, timeline="nonsense"), **EN)
    assert len(_sections(page)) > 1


def test_a_client_with_nothing_yet_has_an_empty_archive(front_desk_client):
    Client.objects.all().delete()
    client = ClientFactory()
    page = front_desk_client.get(_url(client, timeline="complaint"), **EN)
    assert page.context["groups"] == []
    assert 'data-testid="health-empty"' in page.content.decode()


def test_the_client_page_links_to_the_health_archive(front_desk_client):
    client = ClientFactory()
    body = front_desk_client.get(client.get_absolute_url()).content.decode()
    assert f'href="{_url(client)}"' in body


def test_a_vips_health_archive_is_a_summary_for_those_who_do_not_serve_them(client_for):
    vip = ClientFactory(name="贵宾乙", notes="仅限VIP经理")
    Client.objects.filter(pk=vip.pk).update(is_vip=True)
    make_complaint(client=vip, words="隐私投诉内容")
    page = client_for(roles.FRONT_DESK).get(_url(vip), **EN)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="discretion"' in body
    assert "隐私投诉内容" not in body and 'data-testid="health-archive"' not in body
    assert AuditEvent.objects.get(action="view", object_id=str(vip.pk)).reason == "summary"
    page = client_for(roles.VIP_MANAGER).get(_url(vip), **EN)
    assert "隐私投诉内容" in page.content.decode()


def test_a_merged_records_health_archive_is_the_survivors(client_manager_client):
    survivor, merged = ClientFactory(), ClientFactory()
    services.client_merge(survivor=survivor, merged=merged, by=UserFactory(username="merger"))
    page = client_manager_client.get(_url(merged))
    assert page.status_code == 302 and page["Location"] == _url(survivor)


@pytest.mark.parametrize("pk", ["999999"])
def test_an_unknown_client_is_not_found(client_manager_client, pk):
    assert client_manager_client.get(f"/clients/{pk}/health/").status_code == 404


def test_the_health_archive_reads_the_timeline_in_one_query(client_manager_client, person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_manager_client.get(_url(person))
    with CaptureQueriesContext(connection) as queries:
        client_manager_client.get(_url(person))
    # The UNION ALL of every source, or on Postgres the session's prepared statement of it.
    unions = [
        q
        for q in queries
        if "UNION ALL" in q["sql"].upper() or q["sql"].startswith("EXECUTE zhongdu_timeline_")
    ]
    assert len(unions) == 1
