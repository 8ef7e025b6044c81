"""The return-visit call workbench (回访工作台) through its pages: the queue, claiming and
reassigning, the call page, recording what happened, calls made by hand; who may do what."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from complaints.models import Complaint
from followup.models import CallAttempt, FollowUpCall, FollowUpPolicy
from surveys.models import SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.followup.factories import days, make_call, make_plan, make_vip, pool_call
from tests.guide.factories import triaged, walk_in
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import CalendarDay

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
WORKBENCH = reverse("followup:call_list")
READERS = sorted(roles.FOLLOWUP_READERS)
NOT_READERS = sorted(roles.ALL_ROLES - roles.FOLLOWUP_READERS)
Status = FollowUpCall.Status


def _user(role):
    from tests.conftest import ROLE_USERNAMES

    return get_user_model().objects.get(username=ROLE_USERNAMES[role])


@pytest.fixture
def cm(client_for):
    """The signed-in client manager (t_clientmgr)."""
    http = client_for(roles.CLIENT_MANAGER)
    http.user = _user(roles.CLIENT_MANAGER)
    return http


@pytest.fixture
def colleague(db):
    roles.sync_group_permissions()
    return UserFactory(username="cm_colleague", first_name="王芳", roles=[roles.CLIENT_MANAGER])


def _body(response):
    return response.content.decode()


def _record(http, call, **data):
    return http.post(reverse("followup:call_record", args=[call.pk]), data, **EN)


def _rows(page):
    return [call.pk for call in page.context["calls"]]


# --- The workbench ------------------------------------------------------------------


def test_a_client_manager_sees_their_calls_due_today_and_overdue_vips_first(cm, colleague):
    today = make_call(client=ClientFactory(name="李娜"), assigned_to=cm.user, title="第7天回访")
    overdue = make_call(due_on=days(-3), assigned_to=cm.user)
    vip = make_call(client=make_vip(ClientFactory(name="赵敏")), assigned_to=cm.user)
    make_call(due_on=days(1), assigned_to=cm.user)  # tomorrow: not yet
    make_call(assigned_to=colleague)  # a colleague's
    pool_call()  # in the pool, on the other tab
    page = cm.get(WORKBENCH, **EN)
    assert page.status_code == 200
    assert page.context["view"] == "mine"
    assert _rows(page) == [vip.pk, overdue.pk, today.pk]
    body = _body(page)
    assert "第7天回访" in body and "李娜" in body
    assert "overdue" in body
    assert "VIP" in body
    assert today.client.phone_masked in body and today.client.phone not in body
    assert page.context["counts"]["mine"] == 3
    assert page.context["counts"]["pool"] == 1


def test_each_row_names_the_department_of_the_visit_and_the_attempts(cm):
    visit = triaged(walk_in(), department=DepartmentFactory(name="激光美容科"))
    call = make_call(client=visit.client, visit=visit, assigned_to=cm.user)
    FollowUpCall.objects.filter(pk=call.pk).update(attempts=2)
    body = _body(cm.get(WORKBENCH, **EN))
    assert "激光美容科" in body
    assert reverse("followup:call_detail", args=[call.pk]) in body


def test_the_shared_pool_lists_unassigned_calls_to_claim(cm):
    call = pool_call(client=ClientFactory(name="孙丽"))
    page = cm.get(WORKBENCH, {"view": "pool"}, **EN)
    assert _rows(page) == [call.pk]
    assert reverse("followup:call_claim", args=[call.pk]) in _body(page)


def test_claiming_a_pool_call_makes_it_mine_and_returns_to_the_workbench(cm):
    call = pool_call(client=ClientFactory(name="孙丽"))
    url = reverse("followup:call_claim", args=[call.pk])
    page = cm.post(url, {"next": f"{WORKBENCH}?view=pool"}, follow=True, **EN)
    assert page.redirect_chain == [(f"{WORKBENCH}?view=pool", 302)]
    assert "The call to 孙丽 is yours." in _body(page)
    call.refresh_from_db()
    assert call.assigned_to == cm.user
    assert CallAttempt.objects.filter(call=call, detail__startswith="Assigned to").exists()


def test_the_workbench_never_sends_a_claim_elsewhere(cm):
    call = pool_call()
    page = cm.post(
        reverse("followup:call_claim", args=[call.pk]), {"next": "https://evil.example/"}, **EN
    )
    assert page["Location"] == call.get_absolute_url()


def test_the_workbench_says_so_when_nothing_is_due(cm):
    page = cm.get(WORKBENCH, **EN)
    assert "No call is due for you today" in _body(page)
    page = cm.get(WORKBENCH, {"view": "pool"}, **EN)
    assert "The shared pool is empty" in _body(page)


def test_a_full_queue_says_the_rest_come_as_these_are_made(cm, monkeypatch):
    from followup import selectors as call_selectors

    monkeypatch.setattr(call_selectors, "QUEUE_LIMIT", 3)
    for _ in range(2):
        make_call(assigned_to=cm.user)
    assert 'data-testid="queue-limit"' not in _body(cm.get(WORKBENCH, **EN))
    for _ in range(2):
        make_call(assigned_to=cm.user)
    page = cm.get(WORKBENCH, **EN)
    assert len(page.context["calls"]) == 3 and page.context["counts"]["mine"] == 4
    assert "Showing the 3 most urgent calls" in _body(page)
    assert "最紧急的3通" in _body(cm.get(WORKBENCH))


def test_the_upcoming_count_looks_a_week_ahead(cm):
    make_call(due_on=days(2), assigned_to=cm.user)
    make_call(due_on=days(7), assigned_to=cm.user)
    make_call(due_on=days(8), assigned_to=cm.user)  # beyond the week
    make_call(assigned_to=cm.user)  # due today: in the queue, not upcoming
    page = cm.get(WORKBENCH, **EN)
    assert page.context["counts"]["upcoming"] == 2
    assert "2 more of yours in the next 7 days" in _body(page)


def test_a_client_manager_has_no_tab_for_everyones_calls(cm, colleague):
    theirs = make_call(assigned_to=colleague)
    page = cm.get(WORKBENCH, {"view": "all"}, **EN)
    assert page.context["view"] == "mine"
    assert theirs.pk not in _rows(page)
    assert page.context["tabs"] == ["mine", "pool"]


def test_a_manager_sees_everyones_queue_and_filters_by_handler(client_for, cm, colleague):
    mine = make_call(assigned_to=cm.user)
    theirs = make_call(assigned_to=colleague)
    pooled = pool_call()
    manager = client_for(roles.MANAGER)
    page = manager.get(WORKBENCH, **EN)
    assert page.context["view"] == "all"
    assert set(_rows(page)) == {mine.pk, theirs.pk, pooled.pk}
    assert "王芳" in _body(page)  # the handler filter and the reassign selects
    assert reverse("followup:call_reassign", args=[theirs.pk]) in _body(page)
    page = manager.get(WORKBENCH, {"view": "all", "handler": colleague.pk}, **EN)
    assert _rows(page) == [theirs.pk]


def _row(body, call):
    """The HTML of the call's row on the workbench."""
    return body.split(f'<tr data-call="{call.pk}"')[1].split("</tr>")[0]


def test_each_row_shows_its_call_as_prepared_once_with_its_addresses(client_for, cm, colleague):
    visit = triaged(walk_in(), department=DepartmentFactory(name="激光美容科"))
    vip = make_call(client=make_vip(ClientFactory(name="赵敏")), visit=visit, assigned_to=cm.user)
    overdue = make_call(due_on=days(-2), assigned_to=colleague, title="")
    pooled = pool_call(due_on=days(-1))
    body = _body(client_for(roles.MANAGER).get(WORKBENCH, {"view": "all"}, **EN))
    row = _row(body, vip)
    assert f'href="{reverse("followup:call_detail", args=[vip.pk])}"' in row
    assert f'action="{reverse("followup:call_reassign", args=[vip.pk])}"' in row
    assert "赵敏" in row and '<span class="badge text-bg-warning">VIP</span>' in row
    assert vip.client.phone_masked in row and vip.client.phone not in row
    assert "激光美容科" in row and str(FollowUpCall.Reason(vip.reason).label) in row
    assert f"{timezone.localdate():%Y-%m-%d}" in row and "overdue" not in row
    assert 'class="table-warning"' not in row
    row = _row(body, overdue)
    assert row.startswith(' class="table-warning"') and "overdue" in row
    assert f"{days(-2):%Y-%m-%d}" in row
    assert "<td>—</td>" in row  # no subject, no visit
    assert "VIP" not in row
    # The reassign select marks the call's handler, named as the filter names them.
    assert f'<option value="{colleague.pk}" selected>王芳</option>' in row
    assert "shared pool" in _row(body, pooled)
    # The shared pool offers a claim, to the call's own address.
    body = _body(cm.get(WORKBENCH, {"view": "pool"}, **EN))
    assert f'action="{reverse("followup:call_claim", args=[pooled.pk])}"' in _row(body, pooled)


def test_the_handler_filter_marks_the_chosen_handler(client_for, cm, colleague):
    make_call(assigned_to=colleague)
    page = client_for(roles.MANAGER).get(WORKBENCH, {"view": "all", "handler": colleague.pk}, **EN)
    form = _body(page).split('data-testid="handler-filter"')[1].split("</form>")[0]
    assert f'<option value="{colleague.pk}" selected>王芳</option>' in form
    name = cm.user.get_full_name() or cm.user.get_username()
    assert f'<option value="{cm.user.pk}">{name}</option>' in form


@pytest.mark.parametrize(
    "query", [{"view": "everything"}, {"handler": "x"}, {"view": "all", "handler": "99999"}]
)
def test_a_malformed_filter_falls_back_to_the_default_tab(client_for, cm, query):
    make_call(assigned_to=cm.user)
    for http in (cm, client_for(roles.MANAGER)):
        page = http.get(WORKBENCH, query, **EN)
        assert page.status_code == 200


@pytest.mark.parametrize("role", READERS)
def test_followup_readers_open_the_workbench(client_for, role):
    make_call()
    assert client_for(role).get(WORKBENCH, **EN).status_code == 200


@pytest.mark.parametrize("role", NOT_READERS)
def test_other_roles_are_refused_the_workbench(client_for, role):
    assert client_for(role).get(WORKBENCH, **EN).status_code == 403


def test_the_workbench_keeps_its_query_count_whatever_the_number_of_calls(client_for, cm):
    visit = triaged(walk_in(), department=DepartmentFactory(name="皮肤科"))
    manager = client_for(roles.MANAGER)

    def calls(n):
        for i in range(n):
            client = make_vip(ClientFactory()) if i % 3 == 0 else ClientFactory()
            make_call(client=client, visit=visit, due_on=days(-(i % 4)), assigned_to=cm.user)
            pool_call(due_on=days(-1))

    def count(http):
        http.get(WORKBENCH)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            page = http.get(WORKBENCH, {"view": "all"} if http is manager else {})
            assert page.status_code == 200
        return len(queries), len(page.context["calls"])

    # What any signed-in page costs (the session, the user, their roles, what the base template
    # shows): the page that asks to find a client first reads nothing else.
    cm.get(reverse("followup:call_new"))  # warm, as count() does
    with CaptureQueriesContext(connection) as queries:
        cm.get(reverse("followup:call_new"))
    base = len(queries)
    calls(3)
    few, shown = count(cm)
    few_manager, shown_manager = count(manager)
    assert (shown, shown_manager) == (3, 6)
    # the counts and the queue (and the handlers, for a manager's filter and reassign selects)
    assert (few - base, few_manager - base) == (2, 3)
    calls(27)
    assert count(cm) == (few, 30)
    assert count(manager) == (few_manager, 60)


# --- The call page ------------------------------------------------------------------


def test_the_call_page_shows_the_client_the_plan_the_script_and_the_previous_calls(cm):
    visit = triaged(walk_in(client=ClientFactory(name="李娜")), department=DepartmentFactory())
    Client.objects.filter(pk=visit.client_id).update(
        last_visit_at=timezone.now() - datetime.timedelta(days=3)
    )
    plan = make_plan(client=visit.client, visit=visit, starts_on=days(-1))
    call = plan.steps.get(due_on=timezone.localdate()).followup_call
    FollowUpCall.objects.filter(pk=call.pk).update(assigned_to=cm.user)
    earlier = make_call(client=visit.client, title="上次回访")
    page = cm.get(call.get_absolute_url(), **EN)
    assert page.status_code == 200
    body = _body(page)
    assert "李娜" in body and visit.client.phone_masked in body
    assert visit.client.phone not in body
    assert "询问第1天恢复情况" in body  # the timepoint's script
    assert "第30天回访" in body  # the live plan's timepoints
    assert "上次回访" in body and earlier.get_absolute_url() in body
    assert f"{days(-3):%Y-%m-%d}" in body  # the last visit
    assert visit.department.name in body
    assert page.context["form"] is not None
    assert "Call planned" in body  # the history


def test_a_call_without_a_script_shows_the_reasons_own(cm):
    call = make_call(assigned_to=cm.user, reason=FollowUpCall.Reason.SERVICE_RECOVERY)
    body = _body(cm.get(call.get_absolute_url(), **EN))
    assert "apologise for what fell short" in body


def test_a_wrong_number_shows_on_the_call_page_and_on_the_client_page(cm):
    call = make_call(assigned_to=cm.user)
    later = make_call(client=call.client, due_on=days(-1), assigned_to=cm.user)
    _record(cm, call, outcome="wrong_number", notes="空号")
    body = _body(cm.get(later.get_absolute_url(), **EN))
    assert 'data-testid="phone-flagged"' in body
    assert "reported wrong" in body
    body = _body(cm.get(call.client.get_absolute_url(), **EN))
    assert 'data-testid="phone-flagged"' in body


def test_a_colleagues_call_is_read_but_not_recorded_by_a_client_manager(cm, colleague):
    call = make_call(assigned_to=colleague)
    page = cm.get(call.get_absolute_url(), **EN)
    assert page.status_code == 200
    assert page.context["form"] is None
    assert not page.context["can_claim"] and not page.context["can_reassign"]
    assert _record(cm, call, outcome="reached").status_code == 403
    assert cm.post(reverse("followup:call_claim", args=[call.pk])).status_code == 403
    url = reverse("followup:call_reassign", args=[call.pk])
    assert cm.post(url, {"to": cm.user.pk}).status_code == 403
    call.refresh_from_db()
    assert (call.status, call.attempts, call.assigned_to) == (Status.OPEN, 0, colleague)


@pytest.mark.parametrize("role", [roles.VIP_MANAGER, roles.MANAGER])
def test_those_who_look_on_see_the_call_without_the_outcome_form(client_for, role):
    call = make_call()
    page = client_for(role).get(call.get_absolute_url(), **EN)
    assert page.status_code == 200
    assert page.context["form"] is None


@pytest.mark.parametrize("role", NOT_READERS)
def test_other_roles_cannot_open_a_call(client_for, role):
    call = make_call()
    assert client_for(role).get(call.get_absolute_url()).status_code == 403


def test_an_unknown_call_is_not_found(cm):
    assert cm.get(reverse("followup:call_detail", args=[999999])).status_code == 404


# --- Recording a call ---------------------------------------------------------------


def test_no_answer_brings_the_call_back_on_the_next_working_day(cm):
    tomorrow = days(1)
    CalendarDay.objects.create(date=tomorrow, name="节日")
    call = make_call(assigned_to=cm.user)
    page = _record(cm, call, outcome="no_answer", notes="无人接听")
    assert page.status_code == 302 and page["Location"] == WORKBENCH
    call.refresh_from_db()
    assert call.status == Status.OPEN and call.attempts == 1 and call.due_on > tomorrow
    page = cm.get(WORKBENCH, **EN)
    assert f"No answer: the call comes back on {call.due_on:%Y-%m-%d} (attempt 1 of 3)." in _body(
        page
    )
    assert call.pk not in _rows(page)  # not due today any more


def test_the_last_unanswered_attempt_closes_the_call_as_unreachable(cm):
    FollowUpPolicy.objects.create(max_attempts=1)
    call = make_call(assigned_to=cm.user)
    page = cm.post(
        reverse("followup:call_record", args=[call.pk]),
        {"outcome": "no_answer"},
        follow=True,
        **EN,
    )
    assert "No answer after 1 attempts: closed as unreachable." in _body(page)
    call.refresh_from_db()
    assert call.status == Status.UNREACHABLE


def test_a_wrong_number_closes_the_call_and_flags_the_phone(cm):
    call = make_call(client=ClientFactory(name="周杰"), assigned_to=cm.user)
    page = cm.post(
        reverse("followup:call_record", args=[call.pk]),
        {"outcome": "wrong_number", "notes": "空号"},
        follow=True,
        **EN,
    )
    assert "closed as unreachable and the phone of 周杰 is flagged for correction" in _body(page)
    call.refresh_from_db()
    assert call.status == Status.UNREACHABLE
    assert Client.objects.get(pk=call.client_id).phone_flagged_at is not None


def test_a_reached_client_gives_scores_a_recommendation_the_course_and_a_next_call(cm):
    visit = triaged(walk_in(), department=DepartmentFactory(name="皮肤科"))
    call = make_call(client=visit.client, visit=visit, assigned_to=cm.user)
    data = {
        "outcome": "reached",
        "score_doctor": "5",
        "score_nursing": "4",
        "score_overall": "5",
        "score_waiting": "",
        "recommend": "9",
        "course": "improving",
        "rehab_guidance": "on",
        "comment": "恢复得很好",
        "next_call_on": f"{days(14):%Y-%m-%d}",
        "notes": "客户满意",
    }
    page = cm.post(reverse("followup:call_record", args=[call.pk]), data, follow=True, **EN)
    body = _body(page)
    assert f"was reached. The next call is on {days(14):%Y-%m-%d}." in body
    call.refresh_from_db()
    assert (call.status, call.outcome, call.course) == (Status.DONE, "reached", "improving")
    assert call.rehab_guidance and "客户满意" in call.notes
    response = SurveyResponse.objects.get(answered_on_call=call)
    scores = dict(response.answers.filter(score__isnull=False).values_list("dimension", "score"))
    assert scores == {"doctor": 5, "nursing": 4, "overall": 5, "recommend": 9}
    assert response.comment == "恢复得很好" and response.department == visit.department
    follow_up = FollowUpCall.objects.get(client=visit.client, due_on=days(14))
    assert follow_up.assigned_to == cm.user


def test_raising_a_complaint_on_the_call_says_its_number(cm):
    call = make_call(assigned_to=cm.user)
    data = {
        "outcome": "reached",
        "comment": "收费不透明",
        "raise_complaint": "on",
        "complaint_category": "billing",
        "complaint_severity": "serious",
    }
    page = cm.post(reverse("followup:call_record", args=[call.pk]), data, follow=True, **EN)
    complaint = Complaint.objects.get()
    assert f"Complaint #{complaint.pk} raised." in _body(page)
    assert (complaint.category, complaint.severity) == ("billing", "serious")
    assert complaint.channel == Complaint.Channel.RETURN_CALL
    assert complaint.words == "收费不透明"


def test_a_client_who_refuses_closes_the_call(cm):
    call = make_call(client=ClientFactory(name="吴刚"), assigned_to=cm.user)
    page = cm.post(
        reverse("followup:call_record", args=[call.pk]), {"outcome": "refused"}, follow=True, **EN
    )
    assert "吴刚 did not want to talk: the call is closed." in _body(page)
    call.refresh_from_db()
    assert (call.status, call.outcome) == (Status.DONE, "refused")
    assert not SurveyResponse.objects.exists()


def test_answers_for_a_client_not_reached_are_refused_with_a_clear_message(cm):
    call = make_call(assigned_to=cm.user)
    page = _record(cm, call, outcome="no_answer", score_doctor="4", raise_complaint="on")
    assert page.status_code == 422
    assert "Answers and complaints are recorded only for a reached client." in _body(page)
    call.refresh_from_db()
    assert (call.attempts, call.status) == (0, Status.OPEN)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"outcome": "maybe"}, "Choose what happened on the call."),
        ({}, "Choose what happened on the call."),
        ({"outcome": "reached", "score_doctor": "9"}, "Scores are from 1 to 5."),
        ({"outcome": "reached", "score_nursing": "good"}, "Scores are from 1 to 5."),
        ({"outcome": "reached", "recommend": "11"}, "The recommend score is from 0 to 10."),
        ({"outcome": "reached", "recommend": "-1"}, "The recommend score is from 0 to 10."),
        ({"outcome": "reached", "recommend": "ten"}, "The recommend score is from 0 to 10."),
        ({"outcome": "reached", "next_call_on": "2026-13-45"}, "Enter a date, for example"),
        ({"outcome": "reached", "next_call_on": "today"}, "Enter a date, for example"),
        ({"outcome": "reached", "course": "cured!"}, "Choose how the treatment course is going."),
        (
            {"outcome": "reached", "raise_complaint": "on", "complaint_category": "rude"},
            "Choose the category of the complaint.",
        ),
    ],
)
def test_anything_malformed_is_explained_and_changes_nothing(cm, data, message):
    call = make_call(assigned_to=cm.user)
    page = _record(cm, call, **data)
    assert page.status_code == 422
    assert message in _body(page)
    call.refresh_from_db()
    assert (call.attempts, call.status) == (0, Status.OPEN)


def test_a_next_call_must_be_on_a_later_day(cm):
    call = make_call(assigned_to=cm.user)
    page = _record(cm, call, outcome="reached", next_call_on=f"{timezone.localdate():%Y-%m-%d}")
    assert page.status_code == 422
    assert "The next call must be on a later day." in _body(page)


def test_a_closed_call_cannot_be_recorded_twice(cm):
    call = make_call(assigned_to=cm.user)
    _record(cm, call, outcome="refused")
    page = _record(cm, call, outcome="reached")
    # The call is closed: the page no longer offers the form, and the service refuses.
    assert page.status_code == 409
    assert "This call has already been closed." in _body(page)
    assert CallAttempt.objects.filter(call=call, outcome__gt="").count() == 1


def test_a_pool_call_is_recorded_by_any_client_manager(cm):
    call = pool_call()
    assert _record(cm, call, outcome="refused").status_code == 302


def test_an_administrator_records_a_colleagues_call(client_for, colleague):
    call = make_call(assigned_to=colleague)
    page = client_for(roles.ADMINISTRATOR).post(
        reverse("followup:call_record", args=[call.pk]), {"outcome": "refused"}
    )
    assert page.status_code == 302


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.FOLLOWUP_DESK))
def test_only_the_follow_up_desk_records_calls(client_for, role):
    call = pool_call()
    assert _record(client_for(role), call, outcome="refused").status_code == 403


def test_recording_is_a_post(cm):
    call = make_call(assigned_to=cm.user)
    assert cm.get(reverse("followup:call_record", args=[call.pk])).status_code == 405


# --- Reassigning --------------------------------------------------------------------


def test_a_manager_gives_a_colleagues_call_to_someone_else_and_back_to_the_pool(
    client_for, cm, colleague
):
    call = make_call(assigned_to=colleague)
    manager = client_for(roles.MANAGER)
    url = reverse("followup:call_reassign", args=[call.pk])
    page = manager.post(url, {"to": cm.user.pk, "next": WORKBENCH}, follow=True, **EN)
    assert page.redirect_chain == [(WORKBENCH, 302)]
    call.refresh_from_db()
    assert call.assigned_to == cm.user
    page = manager.post(url, {"to": ""}, follow=True, **EN)
    assert "The call is back in the shared pool." in _body(page)
    call.refresh_from_db()
    assert call.assigned_to is None
    assert CallAttempt.objects.filter(call=call, detail__startswith="Assigned to").count() == 2


def test_a_client_manager_hands_their_own_call_to_a_colleague(cm, colleague):
    call = make_call(assigned_to=cm.user)
    url = reverse("followup:call_reassign", args=[call.pk])
    page = cm.post(url, {"to": colleague.pk}, follow=True, **EN)
    assert "The call now goes to 王芳." in _body(page)
    call.refresh_from_db()
    assert call.assigned_to == colleague


@pytest.mark.parametrize("to", ["abc", "999999"])
def test_calls_are_given_only_to_client_managers(client_for, cm, to):
    call = make_call(assigned_to=cm.user)
    manager = client_for(roles.MANAGER)
    url = reverse("followup:call_reassign", args=[call.pk])
    page = manager.post(url, {"to": to}, follow=True, **EN)
    assert "Calls go to client managers." in _body(page)
    call.refresh_from_db()
    assert call.assigned_to == cm.user


def test_a_front_desk_clerk_is_not_a_handler(client_for, cm):
    call = make_call(assigned_to=cm.user)
    front_desk = _user_for(client_for, roles.FRONT_DESK)
    url = reverse("followup:call_reassign", args=[call.pk])
    page = client_for(roles.MANAGER).post(url, {"to": front_desk.pk}, follow=True, **EN)
    assert "Calls go to client managers." in _body(page)


def test_a_closed_call_is_not_reassigned(client_for, cm, colleague):
    call = make_call(assigned_to=cm.user)
    _record(cm, call, outcome="refused")
    url = reverse("followup:call_reassign", args=[call.pk])
    page = client_for(roles.MANAGER).post(url, {"to": colleague.pk}, follow=True, **EN)
    assert "Only an open call can be given to someone." in _body(page)


def _user_for(client_for, role):
    client_for(role)
    return _user(role)


# --- A call by hand -----------------------------------------------------------------


def _new_url(person):
    return reverse("followup:call_new") + f"?client={person.pk}"


def test_the_client_page_offers_a_return_visit_call_to_client_managers(cm, client_for):
    person = ClientFactory()
    assert 'data-testid="return-visit-call"' in _body(cm.get(person.get_absolute_url()))
    front_desk = client_for(roles.FRONT_DESK)
    assert 'data-testid="return-visit-call"' not in _body(front_desk.get(person.get_absolute_url()))


def test_a_call_is_planned_by_hand_for_a_client(cm, colleague):
    person = ClientFactory(name="郑爽")
    page = cm.get(_new_url(person), **EN)
    assert page.status_code == 200 and "郑爽" in _body(page)
    data = {
        "title": "询问祛斑疗效",
        "due_on": f"{days(3):%Y-%m-%d}",
        "script": "先问候，再询问色斑变化",
        "assigned_to": colleague.pk,
    }
    page = cm.post(_new_url(person), data, follow=True, **EN)
    call = FollowUpCall.objects.get(client=person)
    assert page.redirect_chain == [(call.get_absolute_url(), 302)]
    assert f"Return-visit call planned for {days(3):%Y-%m-%d}." in _body(page)
    assert (call.reason, call.title, call.assigned_to) == ("manual", "询问祛斑疗效", colleague)
    assert call.script == "先问候，再询问色斑变化"


def test_a_call_by_hand_goes_round_robin_when_nobody_is_named(cm):
    person = ClientFactory()
    cm.post(_new_url(person), {"title": "复诊提醒", "due_on": f"{days(0):%Y-%m-%d}"})
    assert FollowUpCall.objects.get(client=person).assigned_to == cm.user


@pytest.mark.parametrize(
    "data,message",
    [
        ({"title": "", "due_on": "2030-01-01"}, "Say what the call is about."),
        ({"title": "x", "due_on": "2026-02-30"}, "Enter a date, for example"),
        ({"title": "x", "due_on": ""}, "Enter a date."),
        ({"title": "x", "due_on": "2020-01-01"}, "A new call cannot be due in the past."),
        ({"title": "x", "due_on": "2030-01-01", "assigned_to": "7x"}, "Calls go to client"),
    ],
)
def test_a_call_by_hand_explains_what_is_wrong(cm, data, message):
    page = cm.post(_new_url(ClientFactory()), data, **EN)
    assert page.status_code == 422
    assert message in _body(page)
    assert not FollowUpCall.objects.exists()


def test_a_double_click_on_plan_the_call_plans_one_call(cm):
    person = ClientFactory()
    blank = cm.get(_new_url(person))
    key = blank.context["form"].initial["key"]
    assert len(key) == 32 and f'name="key" value="{key}"' in _body(blank)
    data = {"title": "复诊提醒", "due_on": f"{days(1):%Y-%m-%d}", "key": key}
    first = cm.post(_new_url(person), data)
    second = cm.post(_new_url(person), data)
    call = FollowUpCall.objects.get(client=person)
    assert first["Location"] == second["Location"] == call.get_absolute_url()
    assert call.source == f"form:{key}" and call.history.count() == 1
    # Another blank form plans another call; a form whose key is mangled still plans one.
    again = cm.get(_new_url(person)).context["form"].initial["key"]
    assert again != key
    cm.post(_new_url(person), data | {"key": again})
    cm.post(_new_url(person), data | {"key": "<script>"})
    assert FollowUpCall.objects.filter(client=person).count() == 3


def test_no_call_is_planned_for_a_merged_record(cm):
    from clientmgmt import services as client_services

    survivor, duplicate = ClientFactory(), ClientFactory()
    client_services.client_merge(survivor=survivor, merged=duplicate, by=cm.user)
    data = {"title": "x", "due_on": f"{days(1):%Y-%m-%d}"}
    page = cm.post(_new_url(duplicate), data, **EN)
    assert page.status_code == 422
    assert "merged" in _body(page)


def test_the_new_call_page_without_a_client_says_to_find_one(cm):
    page = cm.get(reverse("followup:call_new"), **EN)
    assert page.status_code == 200
    assert "Find the client first" in _body(page)


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.FOLLOWUP_DESK))
def test_only_the_follow_up_desk_plans_calls_by_hand(client_for, role):
    person = ClientFactory()
    assert client_for(role).get(_new_url(person)).status_code == 403


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.FOLLOWUP_DESK))
def test_only_the_follow_up_desk_claims_calls(client_for, role):
    call = pool_call()
    assert client_for(role).post(reverse("followup:call_claim", args=[call.pk])).status_code == 403
    call.refresh_from_db()
    assert call.assigned_to is None


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.FOLLOWUP_DESK - {roles.MANAGER}))
def test_only_the_follow_up_desk_and_managers_reassign_calls(client_for, cm, role):
    call = make_call(assigned_to=cm.user)
    url = reverse("followup:call_reassign", args=[call.pk])
    assert client_for(role).post(url, {"to": ""}).status_code == 403
    call.refresh_from_db()
    assert call.assigned_to == cm.user


def test_the_call_page_keeps_its_query_count_whatever_the_clients_history(cm):
    def count(call):
        with CaptureQueriesContext(connection) as queries:
            assert cm.get(call.get_absolute_url()).status_code == 200
        return len(queries)

    quiet = make_call(assigned_to=cm.user)
    make_plan(client=quiet.client)  # one plan: its timepoints make a few calls
    busy_client = ClientFactory()
    for n in range(3):
        make_plan(client=busy_client, starts_on=days(-n))
    for _n in range(8):
        earlier = make_call(client=busy_client, assigned_to=cm.user)
        _record(cm, earlier, outcome="no_answer")
    busy = make_call(client=busy_client, assigned_to=cm.user)
    count(quiet)  # warm the session
    assert count(quiet) == count(busy)
