"""Access and privacy after the exam: a health plan written from an exam's results is health
information of the results (read by the result readers, written by the assessment writers, with
the discretion rule, every read audited); its calls and timepoints carry neutral titles and
labels, and the call pages keep the findings from those who do not read results; the assessment
form refuses control characters; one access-checked fetch of an order for the results and the
assessment pages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from exams import selectors
from exams.assessment_forms import AssessmentForm
from followup.models import CarePlan, FollowUpCall
from tests.consult.factories import make_vip
from zhongdu import roles
from zhongdu.models import AuditEvent

from .assessment_factories import HEADINGS, fungal_finding, released_order

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
FINDING = "真菌感染"
DIAGNOSIS = "足部真菌阳性，建议复查。"


def _plan(client_for):
    """An order's released results assessed and finalised by a client manager: its plan."""
    order = released_order()
    finding = fungal_finding()
    data = {"findings": [finding.pk], "action": "finalise", "assessment": DIAGNOSIS, **HEADINGS}
    answer = client_for(roles.CLIENT_MANAGER).post(
        reverse("exams:assessment", args=[order.pk]), data, **EN
    )
    assert answer.status_code == 302
    return order, CarePlan.objects.get(exam_order=order)


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_a_plan_from_an_exam_is_read_by_the_result_readers_only(client_for, role):
    _order, plan = _plan(client_for)
    reads = AuditEvent.objects.filter(
        action="view", object_type="followup.careplan", object_id=str(plan.pk)
    )
    page = client_for(role).get(reverse("followup:plan_detail", args=[plan.pk]), **EN)
    opens_plans = roles.PAGE_ACCESS["followup:plan_detail"]
    if role in roles.RESULT_READERS and role in opens_plans:
        assert page.status_code == 200
        assert DIAGNOSIS in page.content.decode()
        assert reads.count() == 1
    else:
        assert page.status_code == 403
        assert DIAGNOSIS not in page.content.decode()
        assert not reads.exists()


def test_only_the_assessment_writers_change_it_and_the_discretion_rule_holds(client_for):
    _order, plan = _plan(client_for)
    edit = reverse("followup:plan_edit", args=[plan.pk])
    assert client_for(roles.FRONT_DESK).get(edit).status_code == 403
    assert client_for(roles.CLIENT_MANAGER).get(edit).status_code == 200
    make_vip(plan.client)
    # The calls the manager holds would make them one who serves the VIP: handed back.
    FollowUpCall.objects.filter(plan=plan).update(assigned_to=None)
    detail = reverse("followup:plan_detail", args=[plan.pk])
    # The writer of the plan has no exception here: a VIP's results are for those who serve them.
    assert client_for(roles.CLIENT_MANAGER).get(detail).status_code == 403
    assert client_for(roles.VIP_MANAGER).get(detail).status_code == 200


def test_its_calls_and_timepoints_name_no_finding(client_for):
    _order, plan = _plan(client_for)
    calls = list(FollowUpCall.objects.filter(plan=plan))
    assert len(calls) == 2
    assert {call.title for call in calls} == {"体检结果随访"}
    labels = [step.label for step in plan.steps.all()]
    assert "复查" in labels and not any(FINDING in label for label in labels)
    reexam = next(call for call in calls if call.step.label == "复查")
    assert FINDING in reexam.script  # the finding only in the script, for the result readers
    url = reverse("followup:call_detail", args=[reexam.pk])
    for role, lang, neutral in (
        (roles.MANAGER, EN, "Follow-up of exam results."),
        (roles.MANAGER, ZH, "体检结果随访。"),
    ):
        page = client_for(role).get(url, **lang)
        html = page.content.decode()
        assert page.status_code == 200
        assert FINDING not in html and DIAGNOSIS not in html
        assert neutral in html
        assert 'data-testid="plan-results-private"' in html
    reader = client_for(roles.CLIENT_MANAGER).get(url, **EN).content.decode()
    assert FINDING in reader and DIAGNOSIS in reader


def test_the_client_timeline_shows_no_finding_of_the_plan(client_for):
    order, _plan_made = _plan(client_for)
    page = client_for(roles.FRONT_DESK).get(
        reverse("clientmgmt:client_detail", args=[order.client_id]), **EN
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert DIAGNOSIS not in html and "真菌感染健康管理" not in html


@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "invisible control character"), ("zh-hans", "不可见的控制字符")],
)
def test_the_assessment_form_refuses_control_characters(lang, message):
    finding = fungal_finding()
    data = {"findings": [finding.pk], "assessment": "正\x0b常", "diet": "少\x1b油", "rehab": ""}
    with translation.override(lang):
        form = AssessmentForm(data)
        assert not form.is_valid()
        assert message in form.errors["assessment"][0]
        assert message in form.errors["diet"][0]
    kept = AssessmentForm({"findings": [finding.pk], "assessment": "第一行\n\t第二行"})
    assert kept.is_valid(), kept.errors


def test_one_fetch_for_the_results_and_the_assessment(role_user):
    order = released_order(released=False)
    clinician, manager = role_user(roles.CLINICIAN), role_user(roles.CLIENT_MANAGER)
    assert selectors.order_get_for_user(clinician, order.pk) == order
    with pytest.raises(PermissionDenied):
        selectors.order_get_for_user(clinician, order.pk, write=True)
    assert selectors.order_get_for_user(manager, order.pk, write=True) == order
    assert not selectors.values_shown(manager, None)
    assert selectors.values_shown(clinician, None)
    with pytest.raises(PermissionDenied):
        selectors.order_get_for_user(role_user(roles.FRONT_DESK), order.pk)
