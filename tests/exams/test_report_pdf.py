"""The client's printable report: a PDF in Chinese whatever the reader's language, with the
hospital, the client (masked phone), the assessment, every result with its range and flag, the
plan's six headings and dated timepoints, and the education that fits the findings; only after
release, only for the result readers with the discretion rule; every download audited."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from exams.models import HealthAssessment
from tests.consult.factories import make_vip
from zhongdu import pdf, roles
from zhongdu.models import AuditEvent

from .assessment_factories import HEADINGS, article, fungal_finding, lecture, released_order

pytestmark = pytest.mark.django_db


def _url(order):
    return reverse("exams:report_pdf", args=[order.pk])


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _finalised(client_for):
    finding = fungal_finding()
    finding.articles.add(article())
    lecture()
    lecture(title="皮肤健康学校：祛斑与防晒")  # fits no keyword of the finding
    order = released_order(finding_=finding)
    manager = client_for(roles.CLIENT_MANAGER)
    form = {"findings": [finding.pk], "action": "finalise", "assessment": "足部真菌阳性。"}
    assert (
        manager.post(reverse("exams:assessment", args=[order.pk]), {**form, **HEADINGS}).status_code
        == 302
    )
    return order, manager


def test_the_report_is_a_chinese_pdf_even_for_an_english_reader(client_for):
    order, manager = _finalised(client_for)
    response = manager.get(_url(order), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == pdf.PDF_TYPE
    assert f'filename="exam-report-{order.pk}.pdf"' in response["Content-Disposition"]
    text = _text(response.content)
    assert "中都医院" in text
    assert "健康体检报告" in text
    assert "李娜" in text and "女" in text
    assert "138****5678" in text and "13812345678" not in text
    assert "足部真菌阳性。" in text
    # Every result with value, unit, rule and flag, in Chinese.
    assert "白细胞计数" in text and "5.2" in text and "×10⁹/L" in text
    assert "3.5–9.5" in text
    assert "真菌镜检" in text and "阳性" in text and "异常" in text and "正常" in text
    # The six headings of the plan and its dated timepoints.
    for heading in ("运动", "饮食", "心理健康", "疾病预防", "亚健康调理", "健康保险"):
        assert heading in text
    for advice in HEADINGS.values():
        assert advice in text
    plan = HealthAssessment.objects.get(order=order).plan
    for step in plan.steps.all():
        assert f"{step.due_on:%Y-%m-%d}" in text
    # Education: the linked article and the lecture whose title holds a keyword.
    assert "足癣的预防" in text
    assert "真菌感染防治" in text and "祛斑与防晒" not in text
    assert "Health" not in text and "Results" not in text
    assert AuditEvent.objects.filter(
        action="export", object_type="guide.examorder", object_id=str(order.pk)
    ).exists()


def test_a_report_before_the_assessment_shows_the_results_only(client_for):
    order = released_order()
    response = client_for(roles.CLINICIAN).get(_url(order))
    assert response.status_code == 200
    text = _text(response.content)
    assert "白细胞计数" in text and "健康评估将另行提供" in text
    assert "亚健康调理" not in text


def test_no_report_before_the_release(client_for):
    order = released_order(released=False)
    response = client_for(roles.CLIENT_MANAGER).get(_url(order), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "not released" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_who_may_print_it(client_for):
    order = released_order()
    assert client_for(roles.FRONT_DESK).get(_url(order)).status_code == 403
    assert client_for(roles.CLIENT_MANAGER).get(_url(order)).status_code == 200
    make_vip(order.client)
    assert client_for(roles.CLIENT_MANAGER).get(_url(order)).status_code == 403
    assert client_for(roles.VIP_MANAGER).get(_url(order)).status_code == 200
