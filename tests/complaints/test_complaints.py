"""Complaints (投诉): the workflow's map (every move allowed and refused), closing only with the
result and the call-back (service, database and page), reopening, round-robin assignment, the
pages for every role, the list's fixed query count, the monthly figures, the admin."""

import datetime
import itertools

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from complaints import selectors as complaint_selectors
from complaints import services as complaints
from complaints.models import Complaint, ComplaintEvent
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import close_kwargs, handler_user, make_complaint, move, walk_to
from tests.conftest import ROLE_USERNAMES
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db

Status = Complaint.Status
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIST = reverse("complaints:complaint_list")
NEW = reverse("complaints:complaint_new")
FIGURES = reverse("complaints:complaint_figures")
ALLOWED = sorted(
    (source, target)
    for source, targets in complaints.COMPLAINT_TRANSITIONS.items()
    for target in targets
)
REFUSED = sorted(
    (source, target)
    for source, target in itertools.product(Status.values, Status.values)
    if (source, target) not in ALLOWED
)


def _body(response):
    return response.content.decode()


def _status_url(complaint):
    return reverse("complaints:complaint_status", args=[complaint.pk])


def _assign_url(complaint):
    return reverse("complaints:complaint_assign", args=[complaint.pk])


def _close_form(**overrides):
    called = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    form = {
        "status": "closed",
        "findings": "候诊时间过长，分诊未及时告知",
        "action_taken": "优化分诊提醒流程",
        "compensation": "赠送复诊挂号一次",
        "client_accepted": "yes",
        "client_called_at": called,
    }
    return {key: value for key, value in (form | overrides).items() if value is not None}


@pytest.fixture
def handler(role_user, django_user_model):
    """The client manager of the role fixtures (t_clientmgr), who gets every new complaint. Made
    once: making it again would change its password and sign its test client out."""
    username = ROLE_USERNAMES[roles.CLIENT_MANAGER]
    existing = django_user_model.objects.filter(username=username).first()
    return existing or role_user(roles.CLIENT_MANAGER)


# --- The map ----------------------------------------------------------------------------


def test_the_map_is_the_issues_workflow():
    workflow = {
        "received": {"acknowledged"},
        "acknowledged": {"investigating"},
        "investigating": {"resolved"},
        "resolved": {"closed"},
        "closed": {"investigating"},  # reopened
    }
    assert workflow == complaints.COMPLAINT_TRANSITIONS


@pytest.mark.parametrize("source,target", ALLOWED)
def test_every_move_of_the_map_is_allowed_and_recorded(handler, source, target):
    complaint = walk_to(make_complaint(), source, by=handler)
    kwargs = {"detail": "客户要求复查"} if source == Status.CLOSED else {}
    complaint = move(complaint, target, by=handler, **kwargs)
    assert complaint.status == target
    last = complaint.events.last()
    assert (last.from_status, last.to_status, last.actor) == (source, target, handler)
    audited = AuditEvent.objects.filter(action="update", object_id=str(complaint.pk))
    assert audited.exists()


@pytest.mark.parametrize("source,target", REFUSED)
def test_every_move_outside_the_map_is_refused_with_a_clear_message(handler, source, target):
    complaint = walk_to(make_complaint(), source, by=handler)
    events = complaint.events.count()
    with pytest.raises(complaints.IllegalTransition) as refused:
        move(complaint, target, by=handler)
    assert refused.value.messages == [
        f"A complaint cannot go from {Status(source).label} to {Status(target).label}."
    ]
    complaint.refresh_from_db()
    assert complaint.status == source
    assert complaint.events.count() == events


def test_each_step_has_its_own_service_which_takes_only_its_own_move(handler):
    closed = walk_to(make_complaint(), Status.CLOSED, by=handler)
    # Back to investigation from closed is a reopening, with its reason, not a plain step.
    with pytest.raises(complaints.IllegalTransition, match="from Closed to Investigating"):
        complaints.complaint_investigate(complaint=closed, by=handler)
    acknowledged = walk_to(make_complaint(), Status.ACKNOWLEDGED, by=handler)
    with pytest.raises(complaints.IllegalTransition, match="from Acknowledged to Investigating"):
        complaints.complaint_reopen(complaint=acknowledged, reason="客户再次来电", by=handler)
    complaints.complaint_investigate(complaint=acknowledged, by=handler, detail="调取监控")
    assert (acknowledged.status, acknowledged.reopened) == (Status.INVESTIGATING, 0)
    assert acknowledged.events.last().detail == "调取监控"
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED


def test_an_unknown_status_is_refused(handler):
    complaint = make_complaint()
    with pytest.raises(complaints.ValidationError, match="Choose what to do"):
        move(complaint, "escalated", by=handler)


def test_each_step_stamps_its_time(handler):
    complaint = make_complaint()
    complaint = move(complaint, Status.ACKNOWLEDGED, by=handler)
    assert complaint.acknowledged_at is not None and complaint.resolved_at is None
    complaint = move(complaint, Status.INVESTIGATING, by=handler)
    complaint = move(
        complaint, Status.RESOLVED, by=handler, findings="分诊延误", action_taken="调整流程"
    )
    assert complaint.resolved_at is not None
    assert (complaint.findings, complaint.action_taken) == ("分诊延误", "调整流程")
    complaint = move(
        complaint,
        Status.CLOSED,
        by=handler,
        findings=None,  # as recorded when it was resolved
        action_taken=None,
        compensation="赠送护理一次",
    )
    assert complaint.closed_at is not None
    assert complaint.client_accepted is True and complaint.client_called_at is not None
    actions = list(complaint.events.values_list("action", flat=True))
    assert actions == [
        "received",
        "assigned",
        "acknowledged",
        "investigating",
        "resolved",
        "closed",
    ]
    closing = complaint.events.last().detail
    assert "Findings: 分诊延误" in closing and "Compensation: 赠送护理一次" in closing


# --- Closing: the result and the call-back ----------------------------------------------


@pytest.mark.parametrize(
    "missing,message",
    [
        ({"findings": ""}, "Write down the findings before closing the complaint."),
        ({"action_taken": "  "}, "Write down the action taken before closing the complaint."),
        ({"client_accepted": None}, "Record whether the client accepted the result."),
        (
            {"client_called_at": None},
            "Call the client back about the result, and record when, before closing.",
        ),
    ],
)
def test_closing_without_the_result_or_the_call_back_is_refused(handler, missing, message):
    complaint = walk_to(make_complaint(), Status.RESOLVED, by=handler)
    with pytest.raises(complaints.ValidationError) as refused:
        complaints.complaint_set_status(
            complaint=complaint, new_status=Status.CLOSED, by=handler, **close_kwargs(**missing)
        )
    assert refused.value.messages == [message]
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.closed_at is None


def test_a_call_back_in_the_future_or_before_the_complaint_is_refused(handler):
    complaint = walk_to(make_complaint(), Status.RESOLVED, by=handler)
    later = timezone.now() + datetime.timedelta(hours=1)
    with pytest.raises(complaints.ValidationError, match="cannot be in the future"):
        move(complaint, Status.CLOSED, by=handler, client_called_at=later)
    earlier = complaint.received_at - datetime.timedelta(days=1)
    with pytest.raises(complaints.ValidationError, match="before the complaint came in"):
        move(complaint, Status.CLOSED, by=handler, client_called_at=earlier)


def test_the_database_refuses_a_closed_complaint_without_the_call_back(handler):
    complaint = walk_to(make_complaint(), Status.RESOLVED, by=handler)
    rows = Complaint.objects.filter(pk=complaint.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(
            status="closed",
            closed_at=timezone.now(),
            findings="x",
            action_taken="y",
            client_accepted=True,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(
            status="closed",
            closed_at=timezone.now(),
            findings="x",
            action_taken="y",
            client_called_at=timezone.now(),
        )


def test_a_client_who_did_not_accept_is_recorded_as_such(handler):
    complaint = walk_to(make_complaint(), Status.RESOLVED, by=handler)
    complaint = move(complaint, Status.CLOSED, by=handler, client_accepted=False)
    assert complaint.client_accepted is False
    assert "The client did not accept the result." in complaint.events.last().detail


# --- Reopening ----------------------------------------------------------------------------


def test_reopening_needs_a_reason(handler):
    complaint = walk_to(make_complaint(), Status.CLOSED, by=handler)
    with pytest.raises(complaints.ValidationError, match="reason for reopening"):
        complaints.complaint_reopen(complaint=complaint, reason="  ", by=handler)
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED and complaint.reopened == 0


def test_reopening_counts_and_asks_for_a_new_call_back_and_a_fresh_deadline(handler):
    complaint = walk_to(make_complaint(), Status.CLOSED, by=handler)
    first_due = complaint.resolve_due_at
    Complaint.objects.filter(pk=complaint.pk).update(resolve_escalated_at=timezone.now())
    complaint = complaints.complaint_reopen(complaint=complaint, reason="客户再次来电", by=handler)
    assert complaint.status == Status.INVESTIGATING and complaint.reopened == 1
    assert complaint.closed_at is None and complaint.resolved_at is None
    assert complaint.client_called_at is None and complaint.client_accepted is None
    assert complaint.resolve_escalated_at is None and complaint.resolve_due_at >= first_due
    assert complaint.findings  # kept as the starting point of the new investigation
    reopened = complaint.events.last()
    assert (reopened.action, reopened.detail) == ("reopened", "客户再次来电")
    complaint = move(complaint, Status.RESOLVED, by=handler)
    with pytest.raises(complaints.ValidationError, match="Call the client back"):
        complaints.complaint_set_status(
            complaint=complaint,
            new_status=Status.CLOSED,
            by=handler,
            **close_kwargs(client_called_at=None),
        )
    complaint = move(complaint, Status.CLOSED, by=handler)
    complaint = complaints.complaint_reopen(complaint=complaint, reason="again", by=handler)
    assert complaint.reopened == 2


# --- Recording and assignment -------------------------------------------------------------


def test_a_new_complaint_goes_to_the_client_manager_with_the_fewest_open_complaints(role_user):
    first, second, third = (handler_user(f"cm{n}") for n in (1, 2, 3))
    handler_user("gone", is_active=False)
    handler_user("boss", role=roles.MANAGER)  # managers are not in the rotation
    made = [make_complaint() for _n in range(3)]
    assert [c.handler for c in made] == [first, second, third]
    walk_to(made[1], Status.CLOSED, by=second)  # second is free again
    assert make_complaint().handler == second
    assert make_complaint().handler == first  # all even: the longest waiting, by id


def test_a_chosen_handler_is_kept_and_must_be_a_handler(role_user):
    handler_user("cm1")
    boss = handler_user("boss", role=roles.MANAGER)
    assert make_complaint(handler=boss).handler == boss
    desk = role_user(roles.FRONT_DESK)
    with pytest.raises(complaints.ValidationError, match="client managers or managers"):
        make_complaint(handler=desk)


def test_without_client_managers_a_complaint_waits_unassigned():
    assert make_complaint().handler is None


def test_the_handler_is_told_of_a_new_complaint(handler, role_user):
    complaint = make_complaint(by=role_user(roles.FRONT_DESK))
    notification = Notification.objects.get(recipient=handler)
    assert notification.url == complaint.get_absolute_url()
    assert f"#{complaint.pk}" in notification.text


def test_the_same_origin_raises_one_complaint_for_its_client(handler):
    person = ClientFactory()
    first = make_complaint(client=person, source="followup.call:7")
    again = make_complaint(client=person, source="followup.call:7", words="另一句")
    assert again == first and Complaint.objects.count() == 1
    with pytest.raises(complaints.ValidationError, match="another client"):
        make_complaint(source="followup.call:7")


def test_anything_open_may_be_re_assigned_and_the_new_handler_is_told(handler):
    colleague = handler_user("cm2")
    complaint = walk_to(make_complaint(handler=handler), Status.INVESTIGATING, by=handler)
    complaint = complaints.complaint_assign(complaint=complaint, handler=colleague, by=handler)
    assert complaint.handler == colleague
    assert complaint.events.last().action == "assigned"
    assert Notification.objects.filter(recipient=colleague, url=complaint.get_absolute_url())


def test_a_closed_complaint_is_not_re_assigned(handler):
    complaint = walk_to(make_complaint(), Status.CLOSED, by=handler)
    with pytest.raises(complaints.IllegalTransition, match="reopen it first"):
        complaints.complaint_assign(complaint=complaint, handler=handler_user("cm2"), by=handler)


def test_complaints_go_only_to_client_managers_or_managers(handler, role_user):
    complaint = make_complaint()
    with pytest.raises(complaints.ValidationError, match="client managers or managers"):
        complaints.complaint_assign(
            complaint=complaint, handler=role_user(roles.CONSULTANT), by=handler
        )


# --- Pages: recording ---------------------------------------------------------------------


def test_the_new_page_without_a_client_sends_to_the_client_search(front_desk_client):
    page = front_desk_client.get(NEW, **EN)
    assert page.status_code == 200
    assert reverse("clientmgmt:client_list") in _body(page)


def test_a_complaint_from_a_survey_is_prefilled(consultant_client):
    person = ClientFactory(name="王芳")
    query = {"client": person.pk, "source": "surveys.surveyresponse:3", "words": "等了两个小时"}
    page = consultant_client.get(NEW, query, **EN)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["channel"] == "survey" and form.initial["words"] == "等了两个小时"
    assert 'value="surveys.surveyresponse:3"' in _body(page) and "王芳" in _body(page)


def test_a_merged_records_prefilled_complaint_moves_on_with_no_number_in_the_address(
    consultant_client,
):
    survivor, merged = ClientFactory(name="王芳"), ClientFactory(name="王芳")
    Client.objects.filter(pk=merged.pk).update(status=Client.Status.MERGED, merged_into=survivor)
    words = "请回电 138 1234 5678，等了两个小时"
    query = {"client": merged.pk, "source": "surveys.surveyresponse:3", "words": words}
    moved = consultant_client.get(NEW, query, **EN)
    assert moved.status_code == 302
    assert "1234" not in moved["Location"] and "t=" in moved["Location"]
    page = consultant_client.get(moved["Location"], **EN)
    assert page.context["client"] == survivor
    assert page.context["form"].initial["words"] == words


@pytest.mark.parametrize("role", sorted(roles.CLIENT_EDITORS))
def test_every_client_editing_role_records_a_complaint(client_for, handler, role):
    person = ClientFactory()
    department = DepartmentFactory(name="激光美容科")
    form = {
        "channel": "in_person",
        "category": "attitude",
        "severity": "serious",
        "department": department.pk,
        "person_concerned": "李护士",
        "words": "护士说话很冲",
        "source": "followup.call:12",
    }
    page = client_for(role).post(f"{NEW}?client={person.pk}", form, **EN)
    complaint = Complaint.objects.get()
    assert page.status_code == 302 and page["Location"] == complaint.get_absolute_url()
    assert (complaint.client, complaint.category, complaint.severity) == (
        person,
        "attitude",
        "serious",
    )
    assert complaint.department == department and complaint.source == "followup.call:12"
    assert complaint.received_by.username == ROLE_USERNAMES[role]
    assert complaint.handler == handler
    assert complaint.acknowledge_due_at < complaint.resolve_due_at


def test_a_handler_may_choose_who_handles_it(client_manager_client):
    boss = handler_user("boss", role=roles.MANAGER)
    form = {"channel": "phone", "category": "billing", "severity": "normal", "words": "多收费"}
    person = ClientFactory()
    client_manager_client.post(f"{NEW}?client={person.pk}", form | {"handler": boss.pk})
    assert Complaint.objects.get().handler == boss


def test_the_new_page_says_what_is_missing(front_desk_client):
    person = ClientFactory()
    form = {"channel": "phone", "category": "nonsense", "severity": "normal", "words": " "}
    page = front_desk_client.post(f"{NEW}?client={person.pk}", form, **EN)
    assert page.status_code == 422
    errors = page.context["form"].errors
    assert errors["words"] == ["Write down what the client said."]
    assert errors["category"] == ["Choose the category of the complaint."]
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("query", ["?client=abc", "?client=999999", "?client=", "?client=1.5"])
def test_a_bad_client_never_gives_a_server_error(front_desk_client, query):
    assert front_desk_client.get(NEW + query).status_code in (200, 404)


def test_a_mangled_source_is_dropped(front_desk_client):
    person = ClientFactory()
    form = {"channel": "phone", "category": "other", "severity": "minor", "words": "x"}
    front_desk_client.post(f"{NEW}?client={person.pk}", form | {"source": "'; drop table"})
    assert Complaint.objects.get().source == ""


def test_the_list_offers_record_a_complaint_only_to_those_who_may(client_for):
    recorder = client_for(roles.FRONT_DESK).get(LIST)
    assert 'data-testid="record-complaint"' in _body(recorder)
    manager = client_for(roles.MANAGER).get(LIST)
    assert manager.status_code == 200 and 'data-testid="record-complaint"' not in _body(manager)
    assert client_for(roles.MANAGER).get(NEW).status_code == 403


def test_a_double_click_on_record_records_one_complaint(front_desk_client):
    """The blank form carries a one-time key; the second POST of the same form finds the
    complaint the first one recorded (one complaint, one handler notification)."""
    person = ClientFactory()
    blank = front_desk_client.get(f"{NEW}?client={person.pk}")
    key = blank.context["form"].initial["key"]
    assert len(key) == 32 and f'name="key" value="{key}"' in _body(blank)
    form = {"channel": "phone", "category": "attitude", "severity": "normal", "words": "态度差"}
    first = front_desk_client.post(f"{NEW}?client={person.pk}", form | {"key": key})
    second = front_desk_client.post(f"{NEW}?client={person.pk}", form | {"key": key})
    complaint = Complaint.objects.get()
    assert first["Location"] == second["Location"] == complaint.get_absolute_url()
    assert complaint.source == f"form:{key}"
    assert complaint.events.filter(action="received").count() == 1
    # A new blank form is a new complaint; a form without a (valid) key still records one.
    again = front_desk_client.get(f"{NEW}?client={person.pk}").context["form"].initial["key"]
    assert again != key
    front_desk_client.post(f"{NEW}?client={person.pk}", form | {"key": again})
    front_desk_client.post(f"{NEW}?client={person.pk}", form | {"key": "not-a-key"})
    assert Complaint.objects.count() == 3
    assert Complaint.objects.filter(source="").count() == 1


def test_a_complaint_from_a_call_keeps_its_origin_whatever_the_key(front_desk_client):
    person = ClientFactory()
    form = {"channel": "phone", "category": "other", "severity": "minor", "words": "x"}
    front_desk_client.post(
        f"{NEW}?client={person.pk}",
        form | {"source": "followup.call:12", "key": "0123456789abcdef0123456789abcdef"},
    )
    assert Complaint.objects.get().source == "followup.call:12"


def test_the_client_page_offers_a_complaint_to_those_who_record_them(client_for):
    person = ClientFactory()
    url = person.get_absolute_url()
    assert 'data-testid="complaint"' in _body(client_for(roles.FRONT_DESK).get(url))
    assert 'data-testid="complaint"' not in _body(client_for(roles.MANAGER).get(url))


# --- Pages: one complaint ------------------------------------------------------------------


def test_the_handler_sees_everything_and_the_next_step(client_manager_client, handler):
    complaint = make_complaint(department=DepartmentFactory(name="皮肤科"))
    page = client_manager_client.get(complaint.get_absolute_url(), **EN)
    body = _body(page)
    assert page.status_code == 200
    assert "医生态度很差" in body and "皮肤科" in body
    assert [step["status"] for step in page.context["steps"]] == ["acknowledged"]
    assert page.context["close_form"] is None and page.context["reopen_form"] is None
    assert "working hours left" in body
    assert [row.label for row in page.context["history"]] == ["Received", "Assigned"]
    assert AuditEvent.objects.filter(action="view", object_id=str(complaint.pk)).exists()


def test_whoever_recorded_a_complaint_may_read_it_but_not_move_it(client_for, role_user):
    desk = role_user(roles.FRONT_DESK)
    complaint = make_complaint(by=desk)
    http = client_for(roles.FRONT_DESK)
    page = http.get(complaint.get_absolute_url())
    assert page.status_code == 200 and page.context["steps"] == []
    other = make_complaint()
    assert http.get(other.get_absolute_url()).status_code == 403


def test_a_missing_complaint_is_a_404(client_manager_client):
    url = reverse("complaints:complaint_detail", args=[999999])
    assert client_manager_client.get(url).status_code == 404


def test_the_handler_moves_the_complaint_through_its_page_to_a_closed_result(
    client_manager_client, handler
):
    complaint = make_complaint()
    http = client_manager_client
    for status in ("acknowledged", "investigating"):
        assert http.post(_status_url(complaint), {"status": status}).status_code == 302
    resolve = {"status": "resolved", "findings": "分诊延误", "action_taken": "调整流程"}
    page = http.post(_status_url(complaint), resolve, follow=True, **EN)
    assert "Call the client back, then close it" in _body(page)
    close = page.context["close_form"]
    assert close.initial["findings"] == "分诊延误"
    page = http.post(_status_url(complaint), _close_form(findings="分诊延误"), follow=True, **EN)
    assert "The complaint is closed with its result." in _body(page)
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.client_accepted is True
    assert complaint.compensation == "赠送复诊挂号一次"
    assert page.context["reopen_form"] is not None


@pytest.mark.parametrize(
    "missing,message",
    [
        ({"client_called_at": None}, "Call the client back about the result"),
        ({"client_called_at": ""}, "Call the client back about the result"),
        ({"client_called_at": "yesterday"}, "Enter the date and time of the call"),
        ({"client_accepted": None}, "Record whether the client accepted the result."),
        ({"findings": ""}, "Write down the findings before closing the complaint."),
        ({"action_taken": ""}, "Write down the action taken before closing the complaint."),
    ],
)
def test_the_close_form_refuses_a_close_without_the_result_or_the_call_back(
    client_manager_client, handler, missing, message
):
    complaint = walk_to(make_complaint(), Status.RESOLVED, by=handler)
    page = client_manager_client.post(_status_url(complaint), _close_form(**missing), **EN)
    assert page.status_code == 422
    assert message in _body(page)
    complaint.refresh_from_db()
    assert complaint.status == "resolved"


def test_a_call_back_in_the_future_is_refused_on_the_page(client_manager_client, handler):
    complaint = walk_to(make_complaint(), Status.RESOLVED, by=handler)
    tomorrow = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client_manager_client.post(
        _status_url(complaint), _close_form(client_called_at=tomorrow), **EN
    )
    assert page.status_code == 422
    assert "cannot be in the future" in _body(page)


def test_an_illegal_move_on_the_page_is_a_409_with_the_reason(client_manager_client, handler):
    complaint = make_complaint()
    page = client_manager_client.post(_status_url(complaint), {"status": "resolved"}, **EN)
    assert page.status_code == 409
    assert "A complaint cannot go from Received to Resolved." in _body(page)


@pytest.mark.parametrize("status", ["", "escalated", "closed'--"])
def test_a_bad_status_never_gives_a_server_error(client_manager_client, handler, status):
    complaint = make_complaint()
    page = client_manager_client.post(_status_url(complaint), {"status": status})
    assert page.status_code in (409, 422)


def test_the_page_offers_no_step_back_to_received(client_manager_client, handler):
    complaint = walk_to(make_complaint(), Status.ACKNOWLEDGED, by=handler)
    page = client_manager_client.post(_status_url(complaint), {"status": "received"}, **EN)
    assert page.status_code == 422
    assert "Choose what to do with the complaint." in _body(page)
    complaint.refresh_from_db()
    assert complaint.status == Status.ACKNOWLEDGED


def test_reopening_on_the_page_needs_a_reason(client_manager_client, handler):
    complaint = walk_to(make_complaint(), Status.CLOSED, by=handler)
    page = client_manager_client.post(_status_url(complaint), {"status": "investigating"}, **EN)
    assert page.status_code == 422
    assert "Give the reason for reopening the complaint." in _body(page)
    reopen = {"status": "investigating", "detail": "客户不满意处理结果"}
    page = client_manager_client.post(_status_url(complaint), reopen, follow=True, **EN)
    assert "The complaint is reopened" in _body(page)
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and complaint.reopened == 1


def test_another_client_manager_takes_the_complaint_over_before_working_it(client_for, handler):
    complaint = make_complaint(handler=handler_user("cm2"))
    http = client_for(roles.CLIENT_MANAGER)
    page = http.get(complaint.get_absolute_url())
    assert page.context["steps"] == [] and page.context["may_take_over"]
    assert http.post(_status_url(complaint), {"status": "acknowledged"}).status_code == 403
    assert http.post(_assign_url(complaint), {"handler": handler.pk}).status_code == 302
    assert http.post(_status_url(complaint), {"status": "acknowledged"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.handler == handler and complaint.status == "acknowledged"


def test_a_manager_works_any_complaint_and_re_assigns_it(manager_client, handler):
    complaint = make_complaint()
    colleague = handler_user("cm2")
    assert (
        manager_client.post(_status_url(complaint), {"status": "acknowledged"}).status_code == 302
    )
    assert manager_client.post(_assign_url(complaint), {"handler": colleague.pk}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged" and complaint.handler == colleague


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_a_bad_handler_never_gives_a_server_error(manager_client, handler, value):
    complaint = make_complaint()
    assert manager_client.post(_assign_url(complaint), {"handler": value}).status_code == 422


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.COMPLAINT_HANDLERS))
def test_those_who_do_not_handle_complaints_cannot_move_or_assign_them(client_for, role, role_user):
    recorder = role_user(role)
    complaint = make_complaint(by=recorder)
    http = client_for(role)
    assert http.post(_status_url(complaint), {"status": "acknowledged"}).status_code == 403
    assert http.post(_assign_url(complaint), {"handler": recorder.pk}).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "received"


def test_the_pages_refuse_get_where_they_change_state(client_manager_client, handler):
    complaint = make_complaint()
    assert client_manager_client.get(_status_url(complaint)).status_code == 405
    assert client_manager_client.get(_assign_url(complaint)).status_code == 405


# --- Pages: the list ------------------------------------------------------------------------


def _overdue(complaint):
    """Make the complaint's deadline to acknowledge a working day past."""
    past = timezone.now() - datetime.timedelta(days=3)
    Complaint.objects.filter(pk=complaint.pk).update(acknowledge_due_at=past)


def _within_deadline(*complaints):
    """Put the deadline to acknowledge a week ahead, whatever the hour the test runs at.

    A complaint received a few hours ago is already overdue when those hours were working
    hours (the CI run at noon in Zhengzhou saw one); the tests that mean "not yet due" say so.
    """
    ahead = timezone.now() + datetime.timedelta(days=7)
    Complaint.objects.filter(pk__in=[c.pk for c in complaints]).update(acknowledge_due_at=ahead)


def test_the_client_managers_queue_is_theirs_overdue_first_then_oldest(
    client_manager_client, handler
):
    now = timezone.now()
    old = make_complaint(received_at=now - datetime.timedelta(hours=5))
    new = make_complaint(received_at=now - datetime.timedelta(hours=1))
    late = make_complaint(received_at=now - datetime.timedelta(hours=2))
    _overdue(late)
    _within_deadline(old, new)
    make_complaint(handler=handler_user("cm2"))  # a colleague's
    closed = walk_to(make_complaint(), Status.CLOSED, by=handler)
    page = client_manager_client.get(LIST, **EN)
    assert page.context["scope"] == "mine"
    rows = page.context["page"].rows
    assert [row.complaint for row in rows] == [late, old, new]
    assert rows[0].overdue and "overdue by" in rows[0].time_left
    assert not rows[1].overdue and "working hours left" in rows[1].time_left
    assert 'data-overdue="1"' in _body(page)
    assert closed not in [row.complaint for row in rows]
    assert page.context["overview"] is None


def test_the_managers_overview_shows_every_open_complaint_by_severity_and_age(manager_client):
    now = timezone.now()
    handler_user("cm1")
    critical = make_complaint(severity="critical", received_at=now - datetime.timedelta(days=10))
    serious = make_complaint(severity="serious", received_at=now - datetime.timedelta(hours=2))
    _overdue(serious)
    minor = make_complaint(severity="minor", received_at=now - datetime.timedelta(hours=3))
    _within_deadline(minor)
    page = manager_client.get(LIST, **EN)
    assert page.context["scope"] == "all"
    rows = page.context["page"].rows
    assert [row.complaint for row in rows] == [critical, serious, minor]  # overdue, then oldest
    overview = {row.label: row for row in page.context["overview"]}
    assert overview["Critical"].ages == [0, 0, 0, 1]
    assert overview["Serious"].ages == [1, 0, 0, 0] and overview["Serious"].overdue == 1
    assert overview["All"].total == 3 and overview["All"].overdue == 2
    assert page.context["age_labels"] == ["under 1 day", "1–3 days", "3–7 days", "over 7 days"]


def test_the_list_filters(manager_client, handler):
    billing = make_complaint(category="billing", severity="serious")
    make_complaint(category="attitude")
    late = make_complaint(category="attitude")
    _overdue(late)
    closed = walk_to(make_complaint(category="billing"), Status.CLOSED, by=handler)

    def shown(**query):
        rows = manager_client.get(LIST, query).context["page"].rows
        return {row.complaint.pk for row in rows}

    assert shown(category="billing") == {billing.pk}
    assert shown(severity="serious") == {billing.pk}
    assert shown(overdue="on") == {late.pk}
    assert shown(status="closed") == {closed.pk}
    assert closed.pk in shown(status="all")
    assert len(shown(handler=handler.pk)) == 3


def test_those_who_do_not_handle_complaints_list_the_ones_they_recorded(client_for, role_user):
    desk = role_user(roles.FRONT_DESK)
    mine = make_complaint(by=desk)
    make_complaint()
    page = client_for(roles.FRONT_DESK).get(LIST, {"scope": "all"}, **EN)
    assert page.context["scope"] == "recorded"
    assert [row.complaint for row in page.context["page"].rows] == [mine]
    assert "Complaints I recorded" in _body(page)


@pytest.mark.parametrize(
    "query",
    [
        {"status": "zzz"},
        {"after": "x"},
        {"after": "1.2"},
        {"after": "9.99999999999999999999.1"},
        {"handler": "abc"},
        {"severity": "huge"},
        {"scope": "everyone"},
        {"overdue": "maybe"},
    ],
)
def test_bad_list_filters_never_give_a_server_error(manager_client, handler, query):
    make_complaint()
    assert manager_client.get(LIST, query).status_code == 200


def test_the_list_pages_by_keyset(manager_client, handler, monkeypatch):
    monkeypatch.setattr(complaint_selectors, "PAGE_SIZE", 2)
    now = timezone.now()
    made = [make_complaint(received_at=now - datetime.timedelta(hours=n)) for n in range(5, 0, -1)]
    _overdue(made[3])
    _within_deadline(*made[:3], made[4])
    order = [made[3], made[0], made[1], made[2], made[4]]
    seen, cursor = [], None
    while True:
        query = {"after": cursor} if cursor else {}
        page = manager_client.get(LIST, query).context["page"]
        seen += [row.complaint for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == order


def test_the_list_keeps_a_fixed_query_count(client_for, handler, django_assert_max_num_queries):
    http = client_for(roles.MANAGER)
    for n in range(3):
        make_complaint(department=DepartmentFactory(name=f"科{n}"), handler=handler)
    http.get(LIST)  # warm the session and the working hours

    def count(**query):
        with CaptureQueriesContext(connection) as queries:
            assert http.get(LIST, query).status_code == 200
        return len(queries)

    few = count()
    # The session, the user, the roles, the handlers of the filter, the page of complaints with
    # their clients, handlers and departments, the overview, the working hours and the calendar's
    # days (the notification badge's count is kept since the first page).
    assert few == 8
    for n in range(30):
        complaint = make_complaint(department=DepartmentFactory(name=f"科室{n}"))
        if n % 3 == 0:
            _overdue(complaint)
    assert count() == few
    assert count(scope="mine") == few - 1  # no overview
    with django_assert_max_num_queries(few):
        http.get(LIST, {"overdue": "on", "category": "attitude"})


# --- The monthly figures --------------------------------------------------------------------


def test_the_figures_count_the_months_complaints(manager_client, handler):
    skin, laser = DepartmentFactory(name="皮肤科"), DepartmentFactory(name="激光科")
    tz = timezone.get_default_timezone()
    monday = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=tz)
    quick = make_complaint(received_at=monday, category="billing", department=skin)
    slow = make_complaint(received_at=monday, category="billing", department=laser)
    make_complaint(received_at=monday, category="waiting")
    make_complaint(received_at=monday - datetime.timedelta(days=5))  # February
    with_time = [
        (quick, monday + datetime.timedelta(hours=1), monday + datetime.timedelta(hours=4)),
        (slow, monday + datetime.timedelta(hours=3), monday + datetime.timedelta(hours=8)),
    ]
    for complaint, acknowledged, resolved in with_time:
        Complaint.objects.filter(pk=complaint.pk).update(
            acknowledged_at=acknowledged, resolved_at=resolved, status="resolved"
        )
    Complaint.objects.filter(pk=slow.pk).update(reopened=2)
    ComplaintEvent.objects.create(complaint=slow, action="acknowledge_missed")
    ComplaintEvent.objects.create(complaint=quick, action="resolve_missed")
    page = manager_client.get(FIGURES, {"month": "2026-03"}, **EN)
    assert page.status_code == 200
    figures = page.context["figures"]
    assert figures["total"] == 3 and figures["open"] == 3
    assert dict(figures["by_category"])["Billing"] == 2
    assert dict(figures["by_category"])["Waiting time"] == 1
    assert figures["by_department"] == [("激光科", 1), ("皮肤科", 1), ("Not given", 1)]
    assert figures["acknowledge_median"] == "2.0" and figures["resolve_median"] == "6.0"
    assert (figures["missed_acknowledge"], figures["missed_resolve"]) == (1, 1)
    assert (figures["reopened_complaints"], figures["reopenings"]) == (1, 2)
    body = _body(page)
    assert "Complaints of 2026-03" in body and "data-print" in body


@pytest.mark.parametrize("month", ["2026-13", "0000-01", "9999-12", "x", "2026-3", ""])
def test_a_bad_month_never_gives_a_server_error(manager_client, month):
    page = manager_client.get(FIGURES, {"month": month})
    assert page.status_code == 200
    assert page.context["month"] == timezone.localdate().replace(day=1)


def test_the_figures_keep_a_fixed_query_count(manager_client, handler):
    tz = timezone.get_default_timezone()
    march = datetime.datetime(2026, 3, 10, 10, tzinfo=tz)
    make_complaint(received_at=march)
    manager_client.get(FIGURES, {"month": "2026-03"})

    def count():
        with CaptureQueriesContext(connection) as queries:
            manager_client.get(FIGURES, {"month": "2026-03"})
        return len(queries)

    few = count()
    for n in range(10):
        make_complaint(received_at=march, department=DepartmentFactory(name=f"科{n}"))
    assert count() == few


# --- Access for every role ------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_every_role_opens_the_list_and_the_figures_only_where_the_table_says(client_for, role):
    http = client_for(role)
    # Every role that serves clients (clinicians do not record complaints here).
    assert http.get(LIST).status_code == (200 if role in roles.COMPLAINT_READERS else 403)
    may_see_figures = role in {roles.CLIENT_MANAGER, roles.MANAGER, roles.ADMINISTRATOR}
    assert http.get(FIGURES).status_code == (200 if may_see_figures else 403)
    may_record = role in roles.CLIENT_EDITORS
    assert http.get(f"{NEW}?client={ClientFactory().pk}").status_code == (
        200 if may_record else 403
    )


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_every_role_reads_a_complaint_only_if_it_handles_or_recorded_it(client_for, role):
    complaint = make_complaint()
    expected = 200 if role in roles.COMPLAINT_HANDLERS else 403
    assert client_for(role).get(complaint.get_absolute_url()).status_code == expected


def test_anonymous_visitors_are_sent_to_sign_in(client):
    complaint = make_complaint()
    for url in (LIST, NEW, FIGURES, complaint.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


# --- The admin --------------------------------------------------------------------------------


def test_the_deadlines_are_edited_in_the_admin_one_row_per_severity(admin_client_):
    add = reverse("admin:complaints_complaintdeadline_add")
    row = {
        "severity": "serious",
        "acknowledge_hours": "2",
        "resolve_hours": "18",
        "warn_hours": "1",
    }
    assert admin_client_.post(add, row).status_code == 302
    assert admin_client_.post(add, row).status_code == 200  # refused: the severity has its row
    assert complaints.deadline_hours("serious") == (2, 18)
    for severity in ("minor", "normal", "critical"):
        admin_client_.post(add, row | {"severity": severity})
    assert admin_client_.get(add).status_code == 403  # one row per severity, all there


def test_the_complaint_admin_is_read_only_with_its_history(admin_client_, handler):
    complaint = walk_to(make_complaint(), Status.INVESTIGATING, by=handler)
    changelist = reverse("admin:complaints_complaint_changelist")
    assert admin_client_.get(changelist).status_code == 200
    page = admin_client_.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert page.status_code == 200
    assert "investigating" in _body(page) and "acknowledged" in _body(page)
    assert admin_client_.get(reverse("admin:complaints_complaint_add")).status_code == 403
    admin_client_.post(
        reverse("admin:complaints_complaint_change", args=[complaint.pk]), {"status": "closed"}
    )
    complaint.refresh_from_db()
    assert complaint.status == "investigating"
