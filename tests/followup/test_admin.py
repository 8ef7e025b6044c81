"""Follow-up's admin: templates with their timepoints edited there; the policy a single row;
calls and plans looked up read-only, phones masked."""

import pytest
from django.urls import reverse

from followup.models import CarePlanTemplate, FollowUpCall, FollowUpPolicy
from tests.clientmgmt.factories import ClientFactory
from tests.followup.factories import make_call, make_plan, plan_template, sms_template

pytestmark = pytest.mark.django_db


def _body(response):
    return response.content.decode()


def test_an_administrator_writes_a_template_with_its_timepoints(admin_client_):
    reminder = sms_template()
    data = {
        "name": "光子嫩肤术后",
        "kind": "care",
        "department": "",
        "active": "on",
        "treatment_plan": "",
        "diet": "忌辛辣",
        "rehab": "",
        "lifestyle": "",
        "exercise": "",
        "mental_health": "",
        "prevention": "",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-day_offset": "1",
        "steps-0-label": "术后第1天",
        "steps-0-call": "on",
        "steps-0-script": "询问红肿情况",
        "steps-1-day_offset": "7",
        "steps-1-label": "一周复查提醒",
        "steps-1-sms_template": str(reminder.pk),
    }
    page = admin_client_.post(reverse("admin:followup_careplantemplate_add"), data)
    assert page.status_code == 302, page.context["adminform"].errors if page.context else ""
    template = CarePlanTemplate.objects.get(name="光子嫩肤术后")
    steps = list(template.steps.values_list("day_offset", "call", "sms_template"))
    assert steps == [(1, True, None), (7, False, reminder.pk)]


def test_the_policy_is_one_row_never_deleted(admin_client_):
    policy = FollowUpPolicy.current()
    assert admin_client_.get(reverse("admin:followup_followuppolicy_add")).status_code == 403
    url = reverse("admin:followup_followuppolicy_delete", args=[policy.pk])
    assert admin_client_.get(url).status_code == 403
    url = reverse("admin:followup_followuppolicy_change", args=[policy.pk])
    assert admin_client_.get(url).status_code == 200


def test_calls_are_listed_masked_with_their_history_and_not_changed_here(admin_client_):
    call = make_call(client=ClientFactory(name="李娜", phone="13912345678"), title="术后回访")
    page = admin_client_.get(reverse("admin:followup_followupcall_changelist"))
    body = _body(page)
    assert page.status_code == 200
    assert "139****5678" in body and "13912345678" not in body
    for query in ({"status__exact": "open"}, {"reason__exact": "manual"}):
        page = admin_client_.get(reverse("admin:followup_followupcall_changelist"), query)
        assert page.status_code == 200
    url = reverse("admin:followup_followupcall_change", args=[call.pk])
    page = admin_client_.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Call planned" in _body(page)  # the history, inline
    assert "13912345678" not in _body(page)
    attempt = call.history.get()
    data = {
        "title": "改过的主题",
        "script": "",
        "status": "done",  # not a field of the form: ignored
        "history-TOTAL_FORMS": "1",
        "history-INITIAL_FORMS": "1",
        "history-MIN_NUM_FORMS": "0",
        "history-MAX_NUM_FORMS": "1000",
        "history-0-id": str(attempt.pk),
        "history-0-call": str(call.pk),
    }
    assert admin_client_.post(url, data).status_code == 302
    call.refresh_from_db()
    assert (call.title, call.status) == ("改过的主题", FollowUpCall.Status.OPEN)
    assert admin_client_.get(reverse("admin:followup_followupcall_add")).status_code == 403


def test_plans_are_read_only_with_their_timepoints(admin_client_):
    plan = make_plan(client=ClientFactory(phone="13912345678"), template=plan_template())
    page = admin_client_.get(reverse("admin:followup_careplan_changelist"))
    assert page.status_code == 200 and "139****5678" in _body(page)
    url = reverse("admin:followup_careplan_change", args=[plan.pk])
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert "第30天回访" in _body(page)
    admin_client_.post(url, {"status": "cancelled"})
    plan.refresh_from_db()
    assert plan.status == "active"
