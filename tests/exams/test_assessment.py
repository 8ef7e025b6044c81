"""The health assessment and plan from released results: the findings of abnormal results
pre-selected, the templates' texts filled into the six headings, a draft saved, then finalised
into the order's health plan, whose timepoints become calls and SMS through followup and the
outbox; once per order however often it is submitted; only after release; read by the result
readers with the discretion rule, written by the client managers, every read audited."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from exams.models import HealthAssessment
from exams.models.assessment import PLAN_HEADINGS
from followup import services as followup
from followup.models import CarePlan, FollowUpCall
from guide import services as guide_services
from messaging.models import OutboxMessage
from tests.consult.factories import make_vip
from zhongdu import roles
from zhongdu.models import AuditEvent

from .assessment_factories import HEADINGS, fungal_finding, released_order
from .factories import number_definition, order_with, record, release

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _url(order):
    return reverse("exams:assessment", args=[order.pk])


@pytest.fixture
def manager(client_for):
    return client_for(roles.CLIENT_MANAGER)


def _form(finding, action, **texts):
    return {"findings": [finding.pk], "action": action, "assessment": "", **texts}


def test_the_page_waits_for_the_release(manager):
    order = released_order(released=False)
    page = manager.get(_url(order), **EN)
    assert page.status_code == 200
    assert 'data-testid="not-released"' in page.content.decode()
    assert "not released" in page.content.decode()
    finding = fungal_finding()
    posted = manager.post(_url(order), _form(finding, "save"), **EN)
    assert posted.status_code == 409
    assert not HealthAssessment.objects.exists()


def test_released_results_show_with_flags_and_the_abnormal_findings_preselected(manager):
    order = released_order()
    page = manager.get(_url(order), **EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert "5.2 ×10⁹/L" in html and "阳性" in html
    assert ">Abnormal<" in html and ">Normal<" in html
    assert page.context["form"].initial["findings"] == [fungal_finding()]
    assert re.search(rf'value="{fungal_finding().pk}"[^>]*checked', html)
    assert AuditEvent.objects.filter(
        action="view", object_type="guide.examorder", object_id=str(order.pk)
    ).exists()


def test_from_templates_to_a_final_plan_with_calls_and_sms(manager):
    order = released_order()
    finding = fungal_finding()
    filled = manager.post(_url(order), _form(finding, "fill"), **EN)
    assert filled.status_code == 200 and filled.context["filled"]
    initial = filled.context["form"].initial
    for name, text in HEADINGS.items():
        assert initial[name] == text
    assert "真菌感染" in initial["assessment"]
    assert not HealthAssessment.objects.exists()  # filling saves nothing

    texts = {name: initial[name] for name in PLAN_HEADINGS}
    texts["insurance"] = "建议购买门诊险"
    saved = manager.post(
        _url(order), _form(finding, "save", assessment="足部真菌阳性。", **texts), **EN
    )
    assert saved.status_code == 302
    assessment = HealthAssessment.objects.get(order=order)
    assert assessment.status == "draft" and assessment.plan is None
    assert not CarePlan.objects.filter(exam_order=order).exists()

    final = manager.post(
        _url(order), _form(finding, "finalise", assessment="足部真菌阳性。", **texts), **EN
    )
    assert final.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "final" and assessment.finalised_at is not None
    plan = assessment.plan
    assert plan.kind == CarePlan.Kind.HEALTH and plan.exam_order == order
    assert plan.diagnosis == "足部真菌阳性。"
    assert plan.insurance == "建议购买门诊险" and plan.sub_health == "规律作息"
    today = timezone.localdate()
    steps = list(plan.steps.order_by("due_on"))
    assert [(s.due_on - today).days for s in steps] == [7, 14, 30]
    reexam = steps[-1]
    # Stored in the hospital's language whoever finalises; the label names no finding.
    assert reexam.call and "预约" in reexam.script and "真菌感染" in reexam.script
    assert reexam.label == "复查"
    # The calls of the call timepoints, through followup.
    calls = FollowUpCall.objects.filter(plan=plan).order_by("due_on")
    assert [call.step_id for call in calls] == [steps[0].pk, reexam.pk]
    assert all(call.reason == FollowUpCall.Reason.HEALTH_ASSESSMENT for call in calls)
    # The SMS of the SMS timepoints (the 14th day's reminder, the re-examination's), pending in
    # the outbox on their day; none names the finding.
    messages = OutboxMessage.objects.filter(
        idempotency_key__startswith="careplan-step:", client=order.client
    )
    assert messages.count() == 2
    assert all("真菌" not in message.body for message in messages)
    assert {timezone.localtime(m.send_after).date() for m in messages} == {
        today + datetime.timedelta(days=14),
        today + datetime.timedelta(days=30),
    }
    assert (
        AuditEvent.objects.filter(
            object_type="exams.healthassessment", object_id=str(assessment.pk)
        ).count()
        >= 3
    )


def test_a_double_submit_makes_one_assessment_and_one_plan(manager):
    order = released_order()
    finding = fungal_finding()
    form = _form(finding, "finalise", assessment="评估", **HEADINGS)
    assert manager.post(_url(order), form).status_code == 302
    assert manager.post(_url(order), form).status_code == 302
    assert HealthAssessment.objects.filter(order=order).count() == 1
    assert CarePlan.objects.filter(exam_order=order).count() == 1
    plan = CarePlan.objects.get(exam_order=order)
    assert plan.steps.count() == 3
    assert FollowUpCall.objects.filter(plan=plan).count() == 2
    # Finalising again changes the texts, not the timepoints.
    manager.post(_url(order), {**form, "diet": "清淡饮食"})
    plan.refresh_from_db()
    assert plan.diet == "清淡饮食" and plan.steps.count() == 3


def test_finalising_fills_the_plan_the_post_exam_sweep_made():
    from tests.exams.factories import clinician

    order = released_order()
    guide_services.exam_order_complete(order=order, result_summary="见结果", by=None)
    assert followup.exam_followups_start() == 1
    sweep_plan = CarePlan.objects.get(exam_order=order)
    from exams import assessment as services

    writer = clinician()
    services.assessment_save(
        order=order, by=writer, findings=[fungal_finding()], texts={"diet": "少油"}
    )
    assessment = services.assessment_finalise(order=order, by=writer)
    assert assessment.plan == sweep_plan
    sweep_plan.refresh_from_db()
    assert sweep_plan.diet == "少油" and sweep_plan.steps.count() == 3


def test_the_sweep_waits_for_the_release_of_an_order_with_results():
    definition = number_definition("JC201")
    order = order_with(definition)
    record(order, definition, number="5.0")
    guide_services.exam_order_complete(order=order, result_summary="见结果", by=None)
    assert followup.exam_followups_start() == 0
    release(order)
    assert followup.exam_followups_start() == 1
    assert CarePlan.objects.filter(exam_order=order, kind="health").exists()


def test_who_may_read_and_write(client_for):
    order = released_order()
    finding = fungal_finding()
    assert client_for(roles.FRONT_DESK).get(_url(order)).status_code == 403
    assert client_for(roles.CLINICIAN).get(_url(order)).status_code == 200
    assert client_for(roles.CLINICIAN).post(_url(order), _form(finding, "save")).status_code == 403
    make_vip(order.client)
    manager = client_for(roles.CLIENT_MANAGER)
    assert manager.get(_url(order)).status_code == 403
    assert manager.post(_url(order), _form(finding, "save")).status_code == 403
    assert client_for(roles.VIP_MANAGER).get(_url(order)).status_code == 200
    assert not HealthAssessment.objects.exists()


def test_bad_input_is_refused_with_a_message(manager):
    order = released_order()
    finding = fungal_finding()
    too_long = manager.post(_url(order), _form(finding, "save", diet="长" * 4001), **EN)
    assert too_long.status_code == 422
    assert "长" * 100 in too_long.content.decode()  # what was typed is kept
    unknown = manager.post(_url(order), {"findings": ["999999"], "action": "save"}, **EN)
    assert unknown.status_code == 422
    control = manager.post(_url(order), _form(finding, "save", diet="少\x00油"), **EN)
    assert control.status_code == 400
    assert not HealthAssessment.objects.exists()


def test_the_health_plan_page_shows_the_six_headings(manager):
    order = released_order()
    manager.post(_url(order), _form(fungal_finding(), "finalise", **HEADINGS))
    plan = CarePlan.objects.get(exam_order=order)
    html = manager.get(plan.get_absolute_url(), **EN).content.decode()
    for label in (
        "Exercise",
        "Diet",
        "Mental health",
        "Prevention",
        "Sub-health care",
        "Health insurance",
    ):
        assert f">{label}</h2>" in html
    for text in HEADINGS.values():
        assert text in html
    edit = manager.get(reverse("followup:plan_edit", args=[plan.pk]), **EN).content.decode()
    assert 'name="sub_health"' in edit and 'name="insurance"' in edit


def test_saving_a_final_assessment_changes_its_plan_too(manager):
    order = released_order()
    finding = fungal_finding()
    manager.post(_url(order), _form(finding, "finalise", **HEADINGS))
    manager.post(_url(order), _form(finding, "save", **{**HEADINGS, "exercise": "游泳"}))
    assessment = HealthAssessment.objects.get(order=order)
    assert assessment.status == "final" and assessment.exercise == "游泳"
    assert assessment.plan.exercise == "游泳" and assessment.plan.steps.count() == 3
