"""Results lookup (/my/results/): released results only, a critical value withheld until staff
reached the person, the final assessment only, the person's own orders (or an authorised
dependant's) only, the report as a watermarked PDF shown inline (and WeChat's guidance), every
look audited and shown in the record's access log."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clientmgmt.models import Client
from exams import alerts
from exams import assessment as exam_assessment
from exams.models import ResultAlert
from portal import services as portal_services
from tests.browser import WECHAT_USER_AGENT
from tests.clientmgmt.factories import ClientFactory
from tests.exams.assessment_factories import HEADINGS, fungal_finding, released_order
from tests.exams.factories import number_definition, order_with, record, release
from tests.factories import UserFactory
from zhongdu import audit, roles
from zhongdu.models import AuditEvent, HospitalProfile

pytestmark = pytest.mark.django_db

RESULTS = reverse("portal:results")
HOME = reverse("portal:home")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _detail(order):
    return reverse("portal:result_detail", args=[order.pk])


def _report(order):
    return reverse("portal:result_report", args=[order.pk])


def _critical_order(client):
    """A white-cell count of 1.5 (critical below 2.0), released: its critical alert is open."""
    definition = number_definition("JC101")
    order = order_with(definition, client=client)
    record(order, definition, number="1.5")
    release(order)
    return order


def _reach(order):
    alert = ResultAlert.objects.get(order=order, level=ResultAlert.Level.CRITICAL)
    staff = UserFactory(roles=[roles.CLIENT_MANAGER])
    alerts.alert_record(alert=alert, by=staff, action=alerts.REACHED, notes="已电话告知，建议复查")


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_list_shows_released_orders_and_hides_unreleased_ones(signed_in, patient):
    shown = released_order(client=patient)
    definition = number_definition("JC301")
    hidden = order_with(definition, client=patient)
    record(hidden, definition, number="7.7")
    page = signed_in.get(RESULTS)
    assert page.status_code == 200
    assert [order.pk for order in page.context["page"].items] == [shown.pk]
    # The unreleased order cannot be opened either, and its value is nowhere.
    assert signed_in.get(_detail(hidden)).status_code == 404
    assert signed_in.get(_report(hidden)).status_code == 404
    assert "7.7" not in page.content.decode()


def test_an_order_shows_each_value_with_unit_range_and_plain_words(signed_in, patient):
    order = released_order(client=patient)
    page = signed_in.get(_detail(order))
    text = page.content.decode()
    assert page.status_code == 200
    assert "白细胞计数" in text and "5.2" in text and "×10⁹/L" in text and "3.5–9.5" in text
    assert "在正常范围内" in text
    assert "真菌镜检" in text and "阳性" in text and "超出正常范围" in text
    english = signed_in.get(_detail(order), **EN).content.decode()
    assert "Within the normal range" in english and "Outside the normal range" in english


def test_a_critical_value_is_withheld_until_staff_reached_the_person(signed_in, patient):
    hotline = HospitalProfile.current().hotline
    order = _critical_order(patient)
    listing = signed_in.get(RESULTS).content.decode()
    assert "医院将致电" in listing
    page = signed_in.get(_detail(order))
    text = page.content.decode()
    assert 'data-testid="portal-result-call"' in text and hotline in text
    assert "1.5" not in text and "危急" not in text
    # Neither the report (it prints every value) nor its link.
    assert 'data-testid="portal-report"' not in text
    assert signed_in.get(_report(order)).status_code == 302
    # Not reached on a call: still withheld.
    alert = ResultAlert.objects.get(order=order)
    alerts.alert_record(
        alert=alert, by=UserFactory(roles=[roles.CLIENT_MANAGER]), action=alerts.NOT_REACHED
    )
    assert "1.5" not in signed_in.get(_detail(order)).content.decode()
    _reach(order)
    text = signed_in.get(_detail(order)).content.decode()
    assert "1.5" in text and 'data-testid="portal-result-withheld"' not in text
    assert signed_in.get(_report(order)).status_code == 200


def test_only_a_final_assessment_is_shown(signed_in, patient):
    finding = fungal_finding()
    order = released_order(client=patient, finding_=finding)
    manager = UserFactory(roles=[roles.CLIENT_MANAGER])
    exam_assessment.assessment_save(
        order=order,
        by=manager,
        findings=[finding],
        texts={**HEADINGS, "assessment": "草稿：足部真菌阳性"},
    )
    text = signed_in.get(_detail(order)).content.decode()
    assert "草稿" not in text and "每周快走三次" not in text
    assert 'data-testid="portal-assessment-pending"' in text
    exam_assessment.assessment_finalise(order=order, by=manager)
    text = signed_in.get(_detail(order)).content.decode()
    assert "草稿：足部真菌阳性" in text and "每周快走三次" in text and "运动" in text


def test_another_persons_order_is_not_found(signed_in, patient):
    other = released_order(
        client=ClientFactory(name="王芳", phone="+8613900001111", sex=Client.Sex.FEMALE)
    )
    assert signed_in.get(_detail(other)).status_code == 404
    assert signed_in.get(_report(other)).status_code == 404
    assert signed_in.get("/my/results/99999999/").status_code == 404
    actor = portal_services.portal_username(patient)
    assert not AuditEvent.objects.filter(actor_username=actor, object_type="guide.examorder")


def test_a_dependants_results_show_when_their_record_is_chosen(signed_in, patient):
    child = ClientFactory(
        name="李小明", phone="+8613812345678", date_of_birth=datetime.date(2015, 3, 1)
    )
    staff = UserFactory(roles=[roles.FRONT_DESK])
    portal_services.dependant_authorise(
        holder=patient, dependant=child, relation="子女", evidence="户口簿", by=staff
    )
    own = released_order(client=patient)
    childs = released_order(client=child)
    assert [o.pk for o in signed_in.get(RESULTS).context["page"].items] == [own.pk]
    assert signed_in.get(_detail(childs)).status_code == 404
    signed_in.post(reverse("portal:switch"), {"subject": child.pk})
    assert [o.pk for o in signed_in.get(RESULTS).context["page"].items] == [childs.pk]
    assert signed_in.get(_detail(own)).status_code == 404
    assert signed_in.get(_detail(childs)).status_code == 200
    # The look is the parent's, at the child's record.
    actor = portal_services.portal_username(patient)
    looks = AuditEvent.objects.filter(actor_username=actor, object_type="guide.examorder")
    assert list(looks.values_list("object_id", flat=True)) == [str(childs.pk)]


def test_the_report_is_shown_inline_watermarked_with_the_person_and_time(signed_in, patient):
    order = released_order(client=patient)
    response = signed_in.get(_report(order), **EN)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Cache-Control"] == "private, no-store"
    text = _pdf_text(response.content)
    assert "健康体检报告" in text and "白细胞计数" in text  # the exams' report, in Chinese
    assert "李*" in text and "138****5678" in text and "13812345678" not in text
    assert timezone.localtime().strftime("%Y-%m-%d") in text


def test_wechat_gets_the_open_in_browser_guidance_instead_of_a_link(signed_in, patient):
    order = released_order(client=patient)
    plain = signed_in.get(_detail(order)).content.decode()
    assert 'data-testid="portal-report-link"' in plain
    assert 'data-testid="portal-report-wechat"' not in plain
    wechat = signed_in.get(_detail(order), HTTP_USER_AGENT=WECHAT_USER_AGENT).content.decode()
    assert 'data-testid="portal-report-wechat"' in wechat and "在浏览器打开" in wechat
    assert 'data-testid="portal-report-link"' not in wechat


def test_every_look_is_audited_and_in_the_records_access_log(signed_in, patient, client_for):
    from tests.vip.factories import vip

    order = released_order(client=patient)
    standing = vip(patient)
    signed_in.get(RESULTS)
    signed_in.get(_detail(order))
    signed_in.get(_report(order))
    actor = portal_services.portal_username(patient)
    assert actor.startswith(audit.PATIENT_ACTOR_PREFIX)
    looks = AuditEvent.objects.filter(actor_username=actor, action="view")
    assert set(looks.values_list("object_type", "object_id")) == {
        ("clientmgmt.client", str(patient.pk)),
        ("guide.examorder", str(order.pk)),
    }
    assert looks.filter(object_type="guide.examorder", changed_fields=["report"]).exists()
    manager = client_for(roles.VIP_MANAGER)
    access = reverse("vip:vip_access", args=[standing.client_id])
    log = manager.get(access, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "本人（网上医院）" in log and "体检结果" in log and "体检报告（PDF）" in log
    log = manager.get(access, **EN).content.decode()
    assert "The client, on the online hospital" in log
    assert "Exam results" in log and "Exam report (PDF)" in log
    trail = client_for(roles.ADMINISTRATOR).get(
        reverse("audit_event_list"), {"object_type": "guide.examorder"}, **EN
    )
    assert "The client, on the online hospital" in trail.content.decode()


def test_the_home_page_card_says_new_results_until_looked_at(signed_in, patient):
    assert 'data-testid="portal-card-results"' not in signed_in.get(HOME).content.decode()
    released_order(client=patient)
    home = signed_in.get(HOME).content.decode()
    assert 'data-testid="portal-results-new"' in home
    assert f'href="{RESULTS}"' in home  # the bottom bar's section
    signed_in.get(RESULTS)
    home = signed_in.get(HOME).content.decode()
    assert 'data-testid="portal-card-results"' in home
    assert 'data-testid="portal-results-new"' not in home


def test_the_pages_keep_their_query_counts(signed_in, patient, django_assert_max_num_queries):
    orders = [released_order(client=patient) for _ in range(3)]
    # Session, the hospital's profile, the orders, the audit row, the look remembered; the same
    # for one order or a page of them.
    signed_in.get(RESULTS)
    with django_assert_max_num_queries(5):
        assert signed_in.get(RESULTS).status_code == 200
    # Session, the hospital's profile, the order, its results, the assessment, the audit row.
    with django_assert_max_num_queries(6):
        assert signed_in.get(_detail(orders[0])).status_code == 200


def test_the_pages_need_a_signed_in_patient(client):
    assert client.get(RESULTS)["Location"].startswith(reverse("portal:login"))
