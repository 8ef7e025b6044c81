"""Care plans (护理计划) through their pages: written from a template after a visit with the
timepoints adjusted for the client, printed for the patient, changed and cancelled, with the
return-visit calls and SMS following; who may do what."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import services
from followup.models import CarePlan, CarePlanStep, FollowUpCall
from messaging.models import OutboxMessage
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.followup.factories import days, make_plan, plan_template, sms_template
from tests.guide.factories import triaged, walk_in
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
WRITERS = sorted(roles.PLAN_WRITERS)
NOT_WRITERS = sorted(roles.ALL_ROLES - roles.PLAN_WRITERS)
PLAN_READERS = sorted(roles.FOLLOWUP_READERS | roles.PLAN_WRITERS)
Pending = OutboxMessage.Status.PENDING


@pytest.fixture
def cm(client_for):
    return client_for(roles.CLIENT_MANAGER)


@pytest.fixture
def laser():
    """The laser department's template (1/3/7/30 days, an SMS on day 7) and a visit there."""
    department = DepartmentFactory(name="激光美容科")
    template = plan_template()
    template.department = department
    template.save()
    return template


def _body(response):
    return response.content.decode()


def _new_url(client, visit=None, **query):
    url = reverse("followup:plan_new") + f"?client={client.pk}"
    if visit is not None:
        url += f"&visit={visit.pk}"
    for name, value in query.items():
        url += f"&{name}={value}"
    return url


def _value(bound):
    value = bound.value()
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    return str(value)


def _form_data(page) -> dict:
    """What the browser sends back when the rendered plan form is submitted unchanged."""
    data = {}
    texts, steps = page.context["texts"], page.context["steps"]
    for bound in texts:
        data[bound.html_name] = _value(bound) or ""
    management = steps.management_form
    for bound in management:
        data[bound.html_name] = _value(bound)
    for form in steps:
        for bound in form:
            value = _value(bound)
            if value is not None:
                data[bound.html_name] = value
    return data


def _row(data, due_on):
    """The form prefix of the timepoint row showing that date."""
    for key, value in data.items():
        if key.endswith("-due_on") and value == f"{due_on}":
            return key[: -len("due_on")]
    raise AssertionError(f"no row for {due_on}")


def _blank_row(data):
    total = int(data["steps-TOTAL_FORMS"])
    for n in range(total):
        if not data.get(f"steps-{n}-due_on"):
            return f"steps-{n}-"
    raise AssertionError("no blank row")


def _pending_sms(plan):
    return OutboxMessage.objects.filter(
        client=plan.client, idempotency_key__startswith="careplan-step:", status=Pending
    )


# --- Where plans are written from ---------------------------------------------------


def test_the_visit_page_offers_a_care_plan_to_the_front_desk(client_for, laser):
    visit = triaged(walk_in(), department=laser.department)
    page = client_for(roles.FRONT_DESK).get(visit.get_absolute_url(), **EN)
    assert 'data-testid="care-plan"' in _body(page)
    assert _new_url(visit.client, visit).replace("&", "&amp;") in _body(page)
    page = client_for(roles.MANAGER).get(visit.get_absolute_url(), **EN)
    assert 'data-testid="care-plan"' not in _body(page)


def test_the_client_page_offers_a_care_plan(cm, client_for):
    person = ClientFactory()
    assert 'data-testid="care-plan"' in _body(cm.get(person.get_absolute_url()))
    consultant = client_for(roles.CONSULTANT)
    assert 'data-testid="care-plan"' not in _body(consultant.get(person.get_absolute_url()))


# --- Writing a plan -----------------------------------------------------------------


def test_a_plan_after_a_visit_starts_from_the_template_of_its_department(cm, laser):
    plan_template(name="痤疮疗程", offsets=(14,))  # another department's
    visit = triaged(walk_in(client=ClientFactory(name="李娜")), department=laser.department)
    page = cm.get(_new_url(visit.client, visit), **EN)
    assert page.status_code == 200
    assert page.context["template"] == laser
    data = _form_data(page)
    assert [data[f"steps-{n}-due_on"] for n in range(4)] == [
        f"{visit.day + datetime.timedelta(days=offset)}" for offset in (1, 3, 7, 30)
    ]
    assert data["diet"] == "忌辛辣"
    assert "李娜" in _body(page) and "激光美容科" in _body(page)


def test_the_rendered_plan_saved_as_it_is_makes_a_call_per_timepoint_and_the_sms(cm, laser):
    visit = triaged(walk_in(), department=laser.department)
    page = cm.get(_new_url(visit.client, visit), **EN)
    page = cm.post(_new_url(visit.client, visit), _form_data(page), follow=True, **EN)
    plan = CarePlan.objects.get()
    assert page.redirect_chain == [(plan.get_absolute_url(), 302)]
    assert "Care plan saved: 4 return-visit calls and 1 SMS reminders planned." in _body(page)
    assert (plan.visit, plan.template, plan.kind) == (visit, laser, "care")
    assert plan.rehab == "术后一周内防晒"
    calls = FollowUpCall.objects.filter(plan=plan).order_by("due_on")
    assert [call.due_on for call in calls] == [days(1), days(3), days(7), days(30)]
    sms = _pending_sms(plan).get()
    assert timezone.localtime(sms.send_after).date() == days(7)


def test_staff_adjust_the_timepoints_and_texts_before_saving(cm, laser):
    visit = triaged(walk_in(), department=laser.department)
    page = cm.get(_new_url(visit.client, visit), **EN)
    data = _form_data(page)
    data["diet"] = ""  # no diet advice for this client
    data["diagnosis"] = "面部色斑，激光术后"
    day7 = _row(data, days(7))
    data[f"{day7}due_on"] = f"{days(10)}"
    data.pop(f"{_row(data, days(3))}call")  # day 3: an SMS-free, call-free reminder row
    data[f"{_row(data, days(30))}remove"] = "on"
    new = _blank_row(data)
    data |= {
        f"{new}due_on": f"{days(60)}",
        f"{new}label": "两个月复查",
        f"{new}call": "on",
        f"{new}sms_template": str(sms_template().pk),
    }
    page = cm.post(_new_url(visit.client, visit), data, **EN)
    assert page.status_code == 302
    plan = CarePlan.objects.get()
    assert (plan.diet, plan.diagnosis) == ("", "面部色斑，激光术后")
    steps = list(plan.steps.values_list("due_on", "call", "label"))
    assert steps == [
        (days(1), True, "第1天回访"),
        (days(3), False, "第3天回访"),
        (days(10), True, "第7天回访"),
        (days(60), True, "两个月复查"),
    ]
    call_days = sorted(FollowUpCall.objects.filter(plan=plan).values_list("due_on", flat=True))
    assert call_days == [days(1), days(10), days(60)]
    sms_days = sorted(timezone.localtime(m.send_after).date() for m in _pending_sms(plan))
    assert sms_days == [days(10), days(60)]


def test_choosing_another_template_redraws_the_texts_and_the_timepoints(cm, laser):
    acne = plan_template(name="痤疮疗程", offsets=(14, 28), sms_on=())
    acne.diet = "少吃甜食和奶制品"
    acne.save()
    visit = triaged(walk_in(), department=laser.department)
    start = days(2)
    page = cm.get(_new_url(visit.client, visit, template=acne.pk, starts_on=start), **EN)
    assert page.context["template"] == acne
    data = _form_data(page)
    assert data["diet"] == "少吃甜食和奶制品"
    assert [data["steps-0-due_on"], data["steps-1-due_on"]] == [
        f"{start + datetime.timedelta(days=14)}",
        f"{start + datetime.timedelta(days=28)}",
    ]
    cm.post(_new_url(visit.client, visit, template=acne.pk, starts_on=start), data)
    plan = CarePlan.objects.get()
    assert (plan.template, plan.starts_on) == (acne, start)


def test_the_new_plan_page_runs_the_same_queries_for_4_or_12_timepoints(cm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = ClientFactory()
    sms_template()

    def queries(offsets):
        template = plan_template(name=f"{len(offsets)}个时间点", offsets=offsets)
        url = _new_url(person, template=template.pk)
        cm.get(url)
        with CaptureQueriesContext(connection) as captured:
            page = cm.get(url)
        steps = page.context["steps"]
        assert len(steps.forms) == len(offsets) + steps.extra  # and blank rows to add
        return len(captured)

    assert queries((1, 3, 7, 30)) == queries(tuple(range(1, 13)))


def test_a_health_management_plan_adds_exercise_mental_health_and_prevention(cm):
    health = plan_template(name="健康管理", offsets=(30,), sms_on=(), kind="health")
    health.exercise = "每周三次快走"
    health.save()
    person = ClientFactory()
    page = cm.get(_new_url(person, template=health.pk), **EN)
    assert "exercise" in page.context["texts"].fields
    data = _form_data(page)
    assert data["exercise"] == "每周三次快走"
    cm.post(_new_url(person, template=health.pk), data | {"prevention": "每年体检"})
    plan = CarePlan.objects.get()
    assert (plan.kind, plan.exercise, plan.prevention) == ("health", "每周三次快走", "每年体检")
    call = FollowUpCall.objects.get(plan=plan)
    assert call.reason == FollowUpCall.Reason.HEALTH_ASSESSMENT


def test_an_after_care_plan_does_not_ask_for_health_management_texts(cm, laser):
    page = cm.get(_new_url(ClientFactory(), template=laser.pk), **EN)
    assert "exercise" not in page.context["texts"].fields


def test_a_plan_can_be_written_without_a_template(cm, laser):
    person = ClientFactory()
    page = cm.get(_new_url(person, template=""), **EN)
    assert page.context["template"] is None
    data = _form_data(page) | {
        "treatment_plan": "外用药膏两周",
        "steps-0-due_on": f"{days(14)}",
        "steps-0-label": "两周复诊",
        "steps-0-call": "on",
    }
    page = cm.post(_new_url(person, template=""), data, **EN)
    assert page.status_code == 302
    plan = CarePlan.objects.get()
    assert (plan.template, plan.treatment_plan) == (None, "外用药膏两周")
    assert FollowUpCall.objects.get(plan=plan).due_on == days(14)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"steps-0-due_on": "2026-02-30"}, "Enter a date, for example"),
        ({"steps-0-due_on": ""}, "Give the timepoint&#x27;s date."),
        ({"steps-0-sms_template": "999999"}, "Choose one of the SMS templates."),
        ({"steps-0-label": "x" * 61}, "at most 60 characters"),
        ({"steps-TOTAL_FORMS": "x"}, "ManagementForm data is missing or has been tampered with"),
    ],
)
def test_a_malformed_timepoint_is_explained_and_nothing_is_saved(cm, laser, change, message):
    person = ClientFactory()
    page = cm.get(_new_url(person, template=laser.pk), **EN)
    page = cm.post(_new_url(person, template=laser.pk), _form_data(page) | change, **EN)
    assert page.status_code == 422
    assert message in _body(page)
    assert not CarePlan.objects.exists() and not FollowUpCall.objects.exists()


@pytest.mark.parametrize(
    "query,message",
    [
        ({"template": "999999"}, "Choose one of the plan templates."),
        ({"template": "abc"}, "Choose one of the plan templates."),
        ({"starts_on": "someday"}, "Enter a date, for example"),
    ],
)
def test_a_malformed_choice_of_template_is_explained(cm, laser, query, message):
    person = ClientFactory()
    page = cm.get(_new_url(person, **query), **EN)
    assert page.status_code == 200
    assert message in _body(page)
    page = cm.post(_new_url(person, **query), _form_data(page), **EN)
    assert page.status_code == 422
    assert not CarePlan.objects.exists()


def test_another_clients_visit_is_not_found(cm, laser):
    visit = triaged(walk_in(), department=laser.department)
    assert cm.get(_new_url(ClientFactory(), visit)).status_code == 404


def test_no_plan_is_written_for_a_merged_record(cm, laser):
    from clientmgmt import services as client_services

    survivor, duplicate = ClientFactory(), ClientFactory()
    by = UserFactory(username="merger", roles=[roles.CLIENT_MANAGER])
    client_services.client_merge(survivor=survivor, merged=duplicate, by=by)
    page = cm.get(_new_url(duplicate, template=laser.pk), **EN)
    page = cm.post(_new_url(duplicate, template=laser.pk), _form_data(page), **EN)
    assert page.status_code == 422
    assert "merged into another one" in _body(page)


def test_the_new_plan_page_without_a_client_says_to_find_one(cm):
    page = cm.get(reverse("followup:plan_new"), **EN)
    assert page.status_code == 200 and "Find the client first" in _body(page)


@pytest.mark.parametrize("role", WRITERS)
def test_plan_writers_write_plans(client_for, role, laser):
    person = ClientFactory()
    http = client_for(role)
    page = http.get(_new_url(person, template=laser.pk), **EN)
    assert page.status_code == 200
    assert http.post(_new_url(person, template=laser.pk), _form_data(page)).status_code == 302


@pytest.mark.parametrize("role", NOT_WRITERS)
def test_other_roles_do_not_write_plans(client_for, role):
    assert client_for(role).get(_new_url(ClientFactory())).status_code == 403


# --- The plan page, printable -------------------------------------------------------


def test_the_plan_page_shows_each_timepoint_with_its_call_and_its_sms(cm):
    visit = triaged(walk_in(client=ClientFactory(name="李娜")), department=DepartmentFactory())
    plan = make_plan(client=visit.client, visit=visit, diagnosis="痤疮")
    first = plan.steps.get(due_on=days(1))
    services.call_record(call=first.followup_call, by=None, outcome="reached")
    page = cm.get(plan.get_absolute_url(), **EN)
    assert page.status_code == 200
    steps = {step.due_on: step for step in page.context["steps"]}
    assert steps[days(1)].call_row.status == "done"
    assert steps[days(7)].sms_row.status == Pending
    assert steps[days(30)].sms_row is None
    body = _body(page)
    assert "痤疮" in body and "忌辛辣" in body and "第30天回访" in body
    assert "Done" in body and "Pending" in body
    assert visit.client.phone_masked in body and visit.client.phone not in body
    assert "data-print" in body and "js/print-button.js" in body
    assert reverse("followup:plan_edit", args=[plan.pk]) in body


def test_the_front_desk_prints_the_plan_it_wrote(client_for, laser):
    plan = make_plan(template=laser)
    page = client_for(roles.FRONT_DESK).get(plan.get_absolute_url(), **EN)
    assert page.status_code == 200
    assert "Print the patient" in _body(page)


def test_the_plan_page_keeps_its_query_count_whatever_the_number_of_timepoints(cm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(plan):
        with CaptureQueriesContext(connection) as queries:
            assert cm.get(plan.get_absolute_url()).status_code == 200
        return len(queries)

    short = make_plan(template=plan_template(name="短", offsets=(1, 7)))
    long = make_plan(template=plan_template(name="长", offsets=tuple(range(1, 40, 3))))
    count(short)  # warm the session
    assert count(short) == count(long)


@pytest.mark.parametrize("role", PLAN_READERS)
def test_readers_and_writers_open_a_plan(client_for, role):
    plan = make_plan()
    assert client_for(role).get(plan.get_absolute_url()).status_code == 200


def test_a_consultant_does_not_open_plans(client_for):
    plan = make_plan()
    assert client_for(roles.CONSULTANT).get(plan.get_absolute_url()).status_code == 403


def test_an_unknown_plan_is_not_found(cm):
    assert cm.get(reverse("followup:plan_detail", args=[999999])).status_code == 404


# --- Changing a plan ----------------------------------------------------------------


def _edit_url(plan):
    return reverse("followup:plan_edit", args=[plan.pk])


def test_changing_a_plan_moves_removes_and_adds_timepoints_with_their_calls_and_sms(cm):
    plan = make_plan()
    done = plan.steps.get(due_on=days(1))
    services.call_record(call=done.followup_call, by=None, outcome="reached")
    page = cm.get(_edit_url(plan), **EN)
    assert page.status_code == 200
    assert [step.label for step in page.context["settled"]] == ["第1天回访"]  # done: shown only
    data = _form_data(page)
    assert data["steps-INITIAL_FORMS"] == "3"  # the timepoints still to come
    data[f"{_row(data, days(7))}due_on"] = f"{days(9)}"
    data[f"{_row(data, days(3))}remove"] = "on"
    new = _blank_row(data)
    data |= {f"{new}due_on": f"{days(60)}", f"{new}label": "两个月复查", f"{new}call": "on"}
    data["lifestyle"] = "规律作息"
    page = cm.post(_edit_url(plan), data, follow=True, **EN)
    assert page.redirect_chain == [(plan.get_absolute_url(), 302)]
    assert "Care plan updated" in _body(page)
    plan.refresh_from_db()
    assert plan.lifestyle == "规律作息"
    assert FollowUpCall.objects.get(step__due_on=days(9), plan=plan).status == "open"
    assert FollowUpCall.objects.get(step__label="第3天回访").status == "cancelled"
    assert FollowUpCall.objects.filter(plan=plan, due_on=days(60)).exists()
    done.refresh_from_db()
    assert (done.status, done.due_on) == (CarePlanStep.Status.DONE, days(1))
    sms = _pending_sms(plan).get()
    assert timezone.localtime(sms.send_after).date() == days(9)
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.CANCELLED).count() == 1


def test_a_timepoint_of_another_plan_cannot_be_changed_through_this_one(cm):
    mine, other = make_plan(), make_plan()
    foreign = other.steps.get(due_on=days(3))
    page = cm.get(_edit_url(mine), **EN)
    data = _form_data(page)
    data["steps-0-id"] = str(foreign.pk)
    data["steps-0-remove"] = "on"
    assert cm.post(_edit_url(mine), data).status_code == 302
    foreign.refresh_from_db()
    assert foreign.status == CarePlanStep.Status.PLANNED
    assert mine.steps.count() == 4


def test_a_bad_date_when_changing_a_plan_is_explained(cm):
    plan = make_plan()
    data = _form_data(cm.get(_edit_url(plan), **EN)) | {"steps-0-due_on": "31/12/2026"}
    page = cm.post(_edit_url(plan), data, **EN)
    assert page.status_code == 422
    assert "Enter a date, for example" in _body(page)


def test_a_cancelled_plan_is_not_changed(cm):
    plan = make_plan()
    services.plan_cancel(plan=plan, by=None, reason="转院")
    page = cm.get(_edit_url(plan), follow=True, **EN)
    assert page.redirect_chain == [(plan.get_absolute_url(), 302)]
    assert "Only a live plan can be changed." in _body(page)


@pytest.mark.parametrize("role", NOT_WRITERS)
def test_other_roles_do_not_change_plans(client_for, role):
    plan = make_plan()
    assert client_for(role).get(_edit_url(plan)).status_code == 403


# --- Cancelling a plan --------------------------------------------------------------


def test_cancelling_a_plan_needs_a_reason(cm):
    plan = make_plan()
    page = cm.post(reverse("followup:plan_cancel", args=[plan.pk]), {"reason": " "}, **EN)
    assert page.status_code == 422
    assert "Give the reason for the cancellation." in _body(page)
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.ACTIVE


def test_cancelling_a_plan_cancels_its_open_calls_and_unsent_sms(cm):
    plan = make_plan()
    url = reverse("followup:plan_cancel", args=[plan.pk])
    page = cm.post(url, {"reason": "客户转院"}, follow=True, **EN)
    assert "Care plan cancelled" in _body(page)
    plan.refresh_from_db()
    assert (plan.status, plan.cancel_reason) == (CarePlan.Status.CANCELLED, "客户转院")
    assert set(FollowUpCall.objects.filter(plan=plan).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert not _pending_sms(plan).exists()
    page = cm.post(url, {"reason": "again"}, **EN)
    assert page.status_code == 409
    assert "Only a live plan can be cancelled." in _body(page)


def test_the_cancel_button_asks_first(cm):
    plan = make_plan()
    body = _body(cm.get(plan.get_absolute_url(), **EN))
    assert "data-confirm=" in body and reverse("followup:plan_cancel", args=[plan.pk]) in body


@pytest.mark.parametrize("role", NOT_WRITERS)
def test_other_roles_do_not_cancel_plans(client_for, role):
    plan = make_plan()
    url = reverse("followup:plan_cancel", args=[plan.pk])
    assert client_for(role).post(url, {"reason": "x"}).status_code == 403


def test_a_second_click_on_save_writes_one_plan(cm, laser):
    visit = triaged(walk_in(), department=laser.department)
    page = cm.get(_new_url(visit.client, visit), **EN)
    key = page.context["request_key"]
    assert f'name="key" value="{key}"' in _body(page)
    data = {**_form_data(page), "key": key}
    first = cm.post(_new_url(visit.client, visit), data)
    second = cm.post(_new_url(visit.client, visit), data)
    plan = CarePlan.objects.get(client=visit.client)
    assert first["Location"] == second["Location"] == plan.get_absolute_url()
    # One reminder per timepoint, not two.
    assert _pending_sms(plan).count() == plan.steps.filter(sms_template__isnull=False).count()
    # A fresh form is a fresh key: a second plan on purpose is possible.
    assert cm.get(_new_url(visit.client, visit)).context["request_key"] != key
