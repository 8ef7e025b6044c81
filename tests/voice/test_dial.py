"""Click-to-call from every worklist (voice.outbound): one click rings the agent's own line, then
the client, through the voice service, recorded; the number is read from the task, never from
the request, and appears in no page or address; a second click rings nobody twice; the receipt
fills in the task's outcome form (answered) or counts an attempt and reschedules the task
(not answered); a number off the voice route is dialled by hand after the audited reveal."""

import datetime
import json
import re
from urllib.parse import unquote_plus

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from consult.models import Recall
from consult.services import enquiry_request_create
from followup.models import CallAttempt, FollowUpCall
from tests.clientmgmt.factories import ClientFactory
from tests.complaints.factories import make_complaint
from tests.consult.factories import make_enquiry, make_no_show, make_vip
from tests.factories import UserFactory
from tests.followup.factories import make_call
from voice import outbound, receipts
from voice.models import Agent, Call, VoiceReceipt
from zhongdu import roles, sms, vms
from zhongdu.models import AuditEvent
from zhongdu.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HX = {"HTTP_HX_REQUEST": "true"}
LINE = "+8613700000001"
# The client's number: what a page may show is its mask, 138****0001; never the rest.
PHONE = "+8613899990001"
NATIONAL = "13899990001"
HIDDEN = ("9999", NATIONAL, "13899990", "899990001")
DIAL = reverse("voice:dial")
SECRET = "dial-receipt-secret-0123456789abcdefABCDEF"


@pytest.fixture(autouse=True)
def _voice(settings):
    settings.VOICE_BACKEND = "memory"
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    vms.clear()
    yield
    vms.clear()


def agent(role, *, line=LINE, extension=None, **user_fields):
    """A member of staff of `role` who takes calls, with their own line, signed in."""
    roles.sync_group_permissions()
    user = UserFactory(roles=[role], **user_fields)
    Agent.objects.create(user=user, extension=extension or str(8000 + user.pk), line=line)
    http = HttpClient()
    http.force_login(user)
    if roles.two_factor_required(user):
        from tests.conftest import verify_session

        verify_session(http, user)
    return user, http


@pytest.fixture
def person(db):
    return ClientFactory(name="李娜", phone=PHONE)


def _followup(user, person):
    return make_call(client=person, assigned_to=user, title="术后第7天回访")


def _no_show(user, person):
    return make_no_show(client=person)


def _callback(user, person):
    return Recall.objects.create(
        kind=Recall.Kind.CALLBACK,
        phone=PHONE,
        client=person,
        due_at=timezone.now() + datetime.timedelta(minutes=30),
        next_attempt_on=timezone.localdate(),
    )


def _booking_request(user, person):
    return enquiry_request_create(name="王芳", phone=NATIONAL, message="想约皮肤科")


def _call_back(user, person):
    """A caller the consultant promised to call back today."""
    return make_enquiry(
        by=user, client=person, outcome="call_back", call_back_date=timezone.localdate()
    )


def _complaint(user, person):
    return make_complaint(client=person, by=user)


def _client(user, person):
    return person


# worklist, the role that works it, the task's maker, where its rows are listed.
WORKLISTS = [
    ("followup", roles.CLIENT_MANAGER, _followup, "followup:call_list"),
    ("recall", roles.CONSULTANT, _no_show, "consult:queue"),
    ("recall", roles.CONSULTANT, _callback, "voice:callbacks"),
    ("booking_request", roles.CONSULTANT, _booking_request, "consult:queue"),
    ("call_back", roles.CONSULTANT, _call_back, "consult:queue"),
    ("complaint", roles.CLIENT_MANAGER, _complaint, "complaints:complaint_list"),
    ("client", roles.CONSULTANT, _client, None),
]
IDS = ["followup", "no-show", "callback", "booking-request", "call-back", "complaint", "client"]


def dial(http, worklist, pk, **extra):
    return http.post(DIAL, {"worklist": worklist, "task": pk}, **EN, **extra)


def receipt(call, status="200100", *, talk=95, call_id=None, **fields):
    """The provider's receipt of a two-legged call, as pushed (VoiceReport)."""
    answered = status == "200100" and talk
    start = timezone.localtime(timezone.now(), datetime.timezone(datetime.timedelta(hours=8)))
    return {
        "call_id": call_id or call.provider_call_id or f"{call.pk}^1",
        "out_id": f"call:{call.pk}",
        "status_code": status,
        "b_start_time": start.strftime("%Y-%m-%d %H:%M:%S") if answered else "",
        "b_duration": str(talk if answered else 0),
        "end_time": start.strftime("%Y-%m-%d %H:%M:%S"),
        **fields,
    }


def push(items):
    return HttpClient().post(
        reverse("voice:aliyun_receipt", args=[SECRET]),
        data=json.dumps(items),
        content_type="application/json",
    )


def assert_number_hidden(response):
    """Neither the client's full number nor any part of it beyond the mask is in the page, its
    addresses or its headers."""
    texts = [response.content.decode(), *(str(value) for _name, value in response.items())]
    for text in texts:
        compact = re.sub(r"[\s\-().+]", "", unquote_plus(text))
        for part in HIDDEN:
            assert part not in compact, f"{part} in {text[:2000]}"


# --- A click from each worklist --------------------------------------------------------------


@pytest.mark.parametrize(("worklist", "role", "make", "list_page"), WORKLISTS, ids=IDS)
def test_one_click_rings_the_agents_line_then_the_client_recorded(
    person, worklist, role, make, list_page
):
    user, http = agent(role)
    task = make(user, person)
    if list_page:
        listed = http.get(reverse(list_page), **EN)
        assert listed.status_code == 200
        assert f'name="worklist" value="{worklist}"' in listed.content.decode()
        assert_number_hidden(listed)
    answer = dial(http, worklist, task.pk)
    call = Call.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("voice:dial_status", args=[call.pk])
    ((placed,),) = [vms.placed]
    assert placed.action == vms.CLICK_TO_DIAL
    assert (placed.agent, placed.to) == (LINE, PHONE)  # the agent's line first, then the client
    assert placed.record is True
    assert placed.reference == f"call:{call.pk}"
    assert call.direction == Call.Direction.OUTBOUND
    assert (call.worklist, call.task_id, call.agent.user) == (worklist, task.pk, user)
    assert call.provider_call_id == placed.call_id
    assert call.outcome == Call.Outcome.IN_PROGRESS and call.recording_notice
    assert call.external_id.startswith("out-")
    page = http.get(answer["Location"], **EN)
    assert "Ringing your phone, then the client." in page.content.decode()
    assert "138****0001" in page.content.decode()
    for response in (answer, page):
        assert_number_hidden(response)


def test_the_button_with_htmx_becomes_the_calls_state_which_asks_again(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    answer = dial(http, "followup", task.pk, **HX)
    assert answer.status_code == 200
    body = answer.content.decode()
    call = Call.objects.get()
    assert 'data-testid="dial-state"' in body
    assert f'hx-get="/voice/dial/{call.pk}/?since=' in body
    assert_number_hidden(answer)
    # Nothing new: an empty answer; the receipt: the state anew, asking no more.
    since = re.search(r"since=([^\"&]+)", body)[1]
    status = reverse("voice:dial_status", args=[call.pk])
    assert http.get(status, {"since": since}, **HX).status_code == 204
    push([receipt(call)])
    ended = http.get(status, {"since": since}, **EN, **HX)
    assert ended.status_code == 200
    assert "hx-get" not in ended.content.decode()
    assert "1:35" in ended.content.decode()
    assert f"?call={call.pk}" in ended.content.decode()
    assert_number_hidden(ended)


def test_a_call_is_followed_only_by_the_agent_who_placed_it(person):
    user, http = agent(roles.CLIENT_MANAGER)
    dial(http, "followup", _followup(user, person).pk)
    call = Call.objects.get()
    _other, other_http = agent(roles.CLIENT_MANAGER, line="+8613700000002")
    assert other_http.get(reverse("voice:dial_status", args=[call.pk])).status_code == 404


# --- Twice ---------------------------------------------------------------------------------


def test_a_double_click_or_a_second_tab_rings_once(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    first = dial(http, "followup", task.pk)
    second = dial(http, "followup", task.pk, **HX)
    assert len(vms.placed) == 1
    call = Call.objects.get()
    assert first["Location"].endswith(f"/{call.pk}/")
    assert f'data-call="{call.pk}"' in second.content.decode()
    assert "you are not called twice" in second.content.decode()
    # Once the call ended, the button calls again.
    push([receipt(call, "200113")])
    dial(http, "followup", task.pk)
    assert len(vms.placed) == 2
    assert Call.objects.count() == 2


def test_a_call_whose_placing_is_in_doubt_is_never_placed_again_by_itself(person, monkeypatch):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)

    def unknown(**kwargs):
        raise sms.UnknownOutcomeError("http", "read timed out")

    monkeypatch.setattr(vms, "click_to_dial", unknown)
    answer = dial(http, "followup", task.pk, **HX)
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.IN_PROGRESS and call.problem == "unknown:http"
    assert "may still ring" in answer.content.decode()
    # The second click finds it: nothing is placed again.
    calls = []
    monkeypatch.setattr(vms, "click_to_dial", lambda **kwargs: calls.append(kwargs))
    dial(http, "followup", task.pk)
    assert calls == [] and Call.objects.count() == 1


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (sms.TransientError("Throttling.User", "too many"), "try again in a minute"),
        (sms.PermanentError("isv.OUT_OF_SERVICE", "stopped"), "refused the call"),
    ],
)
def test_a_call_the_provider_refuses_is_failed_with_a_message(person, monkeypatch, error, said):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)

    def refuse(**kwargs):
        raise error

    monkeypatch.setattr(vms, "click_to_dial", refuse)
    answer = dial(http, "followup", task.pk, **HX)
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.FAILED and call.ended_at is not None
    body = answer.content.decode()
    assert said in body
    assert 'name="worklist" value="followup"' in body  # the button again
    monkeypatch.undo()
    dial(http, "followup", task.pk)
    assert len(vms.placed) == 1


# --- What the receipt does -------------------------------------------------------------------


def test_an_answered_call_fills_in_the_return_visit_form(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    assert push([receipt(call, talk=185)]).status_code == 200
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.ANSWERED and call.talk_seconds == 185
    form = http.get(f"{task.get_absolute_url()}?call={call.pk}", **EN)
    body = form.content.decode()
    assert "answered, 3:05 talking" in body
    assert re.search(r'value="reached"[^>]*checked', body)
    assert_number_hidden(form)
    # The outcome is the agent's: nothing was recorded on the task.
    task.refresh_from_db()
    assert task.attempts == 0 and task.status == FollowUpCall.Status.OPEN
    # The task's page lists the call placed for it.
    assert 'data-testid="task-calls"' in body
    # Without the call (or with someone else's) the form is as it always was.
    plain = http.get(task.get_absolute_url(), **EN).content.decode()
    assert "call-facts" not in plain and not re.search(r'value="reached"[^>]*checked', plain)


def test_an_answered_call_fills_in_the_recall_form_and_the_complaints_call_back(person):
    consultant, consultant_http = agent(roles.CONSULTANT)
    recall = _no_show(consultant, person)
    dial(consultant_http, "recall", recall.pk)
    handler, handler_http = agent(roles.CLIENT_MANAGER, line="+8613700000002")
    complaint = _complaint(handler, person)
    Complaint.objects.filter(pk=complaint.pk).update(status=Complaint.Status.RESOLVED)
    dial(handler_http, "complaint", complaint.pk)
    first, second = Call.objects.order_by("pk")
    push([receipt(first), receipt(second)])  # each names the call id the provider gave it
    page = consultant_http.get(f"{recall.get_absolute_url()}?call={first.pk}", **EN)
    body = page.content.decode()
    assert "answered, 1:35 talking" in body
    assert re.search(r'value="reached"[^>]*checked', body)
    assert f"?call={first.pk}" in body  # the form keeps the call
    assert_number_hidden(page)
    page = handler_http.get(f"{complaint.get_absolute_url()}?call={second.pk}", **EN)
    second.refresh_from_db()
    called = timezone.localtime(second.answered_at).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{called}"' in page.content.decode()
    assert_number_hidden(page)


def test_a_callback_reached_goes_on_to_the_call_screen_with_the_call(person):
    user, http = agent(roles.CONSULTANT)
    recall = _callback(user, person)
    dial(http, "recall", recall.pk)
    call = Call.objects.get()
    push([receipt(call, talk=40)])
    answer = http.post(
        reverse("consult:recall_attempt", args=[recall.pk]) + f"?call={call.pk}",
        {"outcome": "reached", "seen": 0},
        **EN,
    )
    assert answer.status_code == 302
    assert f"call={call.pk}" in answer["Location"] and f"client={person.pk}" in answer["Location"]


@pytest.mark.parametrize("status", ["200112", "200113", "200010", "200111"])
def test_a_return_visit_call_not_answered_is_an_attempt_and_comes_back_next_working_day(
    person, status
):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    push([receipt(call, status)])
    task.refresh_from_db()
    assert task.attempts == 1 and task.status == FollowUpCall.Status.OPEN
    assert task.outcome == FollowUpCall.Outcome.NO_ANSWER
    assert task.due_on == WorkCalendar.load().next_working_day(timezone.localdate())
    attempt = CallAttempt.objects.exclude(outcome="").get(call=task)
    assert attempt.outcome == FollowUpCall.Outcome.NO_ANSWER and attempt.actor == user
    # Pushed again: applied once.
    push([receipt(call, status)])
    task.refresh_from_db()
    assert task.attempts == 1
    # The form says it is counted, and fills nothing in.
    body = http.get(f"{task.get_absolute_url()}?call={call.pk}", **EN).content.decode()
    assert "counted as an attempt already" in body
    assert not re.search(r'value="no_answer"[^>]*checked', body)
    # The state says so too.
    state = http.get(reverse("voice:dial_status", args=[call.pk]), **EN).content.decode()
    assert "counted as an attempt" in state


def test_a_recall_not_answered_is_an_attempt_and_comes_back_tomorrow(person):
    user, http = agent(roles.CONSULTANT)
    recall = _no_show(user, person)
    dial(http, "recall", recall.pk)
    push([receipt(Call.objects.get(), "200113")])
    recall.refresh_from_db()
    assert recall.attempts == 1 and recall.status == Recall.Status.OPEN
    assert recall.next_attempt_on == timezone.localdate() + datetime.timedelta(days=1)


def test_a_dial_recorded_by_hand_before_the_receipt_is_not_counted_twice(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    http.post(reverse("followup:call_record", args=[task.pk]), {"outcome": "no_answer"}, **EN)
    push([receipt(Call.objects.get(), "200113")])
    task.refresh_from_db()
    assert task.attempts == 1


def test_the_agents_own_phone_not_answering_is_no_attempt_on_the_client(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk, **HX)
    call = Call.objects.get()
    push([receipt(call, "200003")])
    call.refresh_from_db()
    task.refresh_from_db()
    assert call.outcome == Call.Outcome.AGENT_UNANSWERED
    assert task.attempts == 0
    assert not CallAttempt.objects.filter(call=task).exclude(outcome="").exists()
    state = http.get(reverse("voice:dial_status", args=[call.pk]), **EN).content.decode()
    assert "Your phone did not answer" in state
    assert 'name="worklist" value="followup"' in state  # call again


def test_a_receipt_is_applied_through_receipts_take_once(person):
    user, http = agent(roles.CONSULTANT)
    recall = _no_show(user, person)
    dial(http, "recall", recall.pk)
    call = Call.objects.get()
    element = receipt(call, "200112")
    assert receipts.receipts_take([element]) == 1
    assert receipts.receipts_take([element]) == 0
    recall.refresh_from_db()
    assert recall.attempts == 1
    assert VoiceReceipt.objects.count() == 1


# --- Refused -----------------------------------------------------------------------------------


def test_a_user_who_may_not_work_the_task_is_refused(person):
    manager_user, _ = agent(roles.CLIENT_MANAGER, line="+8613700000009")
    theirs = _followup(manager_user, person)
    # Another client manager: not their call (nor the pool's).
    _user, http = agent(roles.CLIENT_MANAGER)
    assert dial(http, "followup", theirs.pk).status_code == 403
    # A consultant works no return-visit calls; a front-desk member no recalls.
    _user, consultant_http = agent(roles.CONSULTANT, line="+8613700000003")
    assert dial(consultant_http, "followup", theirs.pk).status_code == 403
    _user, desk_http = agent(roles.FRONT_DESK, line="+8613700000004")
    recall = _callback(_user, person)
    assert dial(desk_http, "recall", recall.pk).status_code == 403
    # Nothing, or no such task.
    assert dial(http, "followup", 999999).status_code == 404
    assert vms.placed == []
    assert not Call.objects.exists()


def test_a_vip_the_agent_does_not_serve_is_not_called(person):
    make_vip(person)
    _user, http = agent(roles.CONSULTANT)
    assert dial(http, "client", person.pk).status_code == 403
    assert vms.placed == []


def test_a_vip_is_not_called_through_any_list_by_those_who_do_not_serve_them(person):
    """The discretion rule on every worklist, not only the client page: a VIP's no-show or
    complaint is called by those who serve the VIP."""
    make_vip(person)
    consultant, consultant_http = agent(roles.CONSULTANT)
    assert dial(consultant_http, "recall", _no_show(consultant, person).pk).status_code == 403
    manager, manager_http = agent(roles.CLIENT_MANAGER)
    complaint = _complaint(manager, person)
    assert dial(manager_http, "complaint", complaint.pk).status_code == 403
    assert vms.placed == [] and not Call.objects.exists()


def test_a_redial_that_rings_out_after_the_client_was_reached_is_no_attempt(person):
    """Reached, the line dropped, the agent rings again and nobody answers: the first call
    reached the client, so the return visit takes no unreached attempt and keeps its answers."""
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    first = Call.objects.get()
    push([receipt(first, talk=40)])
    http.post(reverse("followup:call_answer", args=[task.pk]), {"score_doctor": "4"}, **EN)
    dial(http, "followup", task.pk)
    second = Call.objects.exclude(pk=first.pk).get()
    push([receipt(second, "200113", talk=0)])
    task.refresh_from_db()
    assert task.attempts == 0 and task.status == FollowUpCall.Status.OPEN
    assert task.survey_response is not None
    assert task.survey_response.answers.count() == 1


def test_a_receipt_naming_another_call_id_is_not_this_calls(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    push([receipt(call, "200113", call_id="9999^1111")])
    call.refresh_from_db()
    assert call.ended_at is None and call.outcome == Call.Outcome.IN_PROGRESS


def test_a_clinician_or_someone_who_takes_no_calls_gets_no_button(person, client_for):
    user, _http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    # A client manager who is no agent: the list without the button; the post refused.
    plain = client_for(roles.CLIENT_MANAGER)
    FollowUpCall.objects.filter(pk=task.pk).update(assigned_to=None)
    listed = plain.get(reverse("followup:call_list") + "?view=pool", **EN)
    assert task.client.name in listed.content.decode()
    assert 'name="worklist"' not in listed.content.decode()
    refused = plain.post(DIAL, {"worklist": "followup", "task": task.pk}, **EN)
    assert refused.status_code == 409
    assert "not set up to place calls" in refused.content.decode()
    assert (
        client_for(roles.CLINICIAN).post(DIAL, {"worklist": "client", "task": 1}).status_code == 403
    )


def test_an_agent_without_a_line_is_told_to_ask_for_one(person):
    user, http = agent(roles.CLIENT_MANAGER, line="")
    answer = dial(http, "followup", _followup(user, person).pk, **HX)
    assert answer.status_code == 200
    assert (
        "Your phone line is not set: an administrator adds it under agents"
        in answer.content.decode()
    )
    assert vms.placed == [] and not Call.objects.exists()


def test_a_number_off_the_voice_route_is_offered_for_dialling_by_hand(person):
    abroad = ClientFactory(name="Anna Berg", phone="+4915112345678")
    _user, http = agent(roles.CONSULTANT)
    answer = dial(http, "client", abroad.pk, **HX)
    body = answer.content.decode()
    assert answer.status_code == 200
    assert "dial it by hand" in body
    # The client page's reveal: a reason, audited.
    assert reverse("clientmgmt:client_reveal", args=[abroad.pk]) in body
    assert "15112345678" not in body and abroad.phone_masked in body
    assert vms.placed == [] and not Call.objects.exists()
    shown = http.post(
        reverse("clientmgmt:client_reveal", args=[abroad.pk]),
        {"field": "phone", "reason": "回访电话，客户在德国"},
        **HX,
    )
    assert "15112345678" in shown.content.decode().replace(" ", "")
    assert AuditEvent.objects.filter(object_id=str(abroad.pk), reason__contains="德国").exists()


def test_a_closed_task_is_not_called(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    FollowUpCall.objects.filter(pk=task.pk).update(status=FollowUpCall.Status.DONE)
    answer = dial(http, "followup", task.pk, **HX)
    assert "This task is closed" in answer.content.decode()
    assert vms.placed == []


def test_a_post_naming_a_number_is_no_call(person):
    """The number is read from the task: one posted alongside is ignored."""
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    http.post(DIAL, {"worklist": "followup", "task": task.pk, "number": "+8613911112222"})
    assert vms.placed[0].to == PHONE
    assert http.post(DIAL, {"worklist": "elsewhere", "task": task.pk}).status_code == 409


# --- The agent's line --------------------------------------------------------------------------


def test_an_agents_line_is_set_in_the_admin_as_a_mainland_number(admin_client, role_user):
    user = role_user(roles.CONSULTANT)
    agent_row = Agent.objects.create(user=user, extension="8101")
    url = reverse("admin:voice_agent_change", args=[agent_row.pk])
    fields = {
        "user": user.pk,
        "extension": "8101",
        "presence": "away",
        "presence_since_0": "2026-12-07",
        "presence_since_1": "09:00:00",
    }
    refused = admin_client.post(url, {**fields, "line": "+4915112345678"}, **EN)
    assert refused.status_code == 200 and "Enter a mainland number" in refused.content.decode()
    admin_client.post(url, {**fields, "line": "137 0000 0001"})
    agent_row.refresh_from_db()
    assert agent_row.line == LINE
    listed = admin_client.get(reverse("admin:voice_agent_changelist"))
    assert "137****0001" in listed.content.decode()


def test_facts_are_told_only_for_the_task_the_call_was_placed_for(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    other = make_call(client=person, assigned_to=user, title="另一次")
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    push([receipt(call)])
    assert outbound.call_facts(str(call.pk), by=user, worklist="followup", task_id=task.pk)
    assert outbound.call_facts(str(call.pk), by=user, worklist="followup", task_id=other.pk) is None
    assert outbound.call_facts(str(call.pk), by=user, worklist="recall", task_id=task.pk) is None
    body = http.get(f"{other.get_absolute_url()}?call={call.pk}", **EN).content.decode()
    assert "call-facts" not in body


def test_the_button_costs_no_query_per_row(person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, http = agent(roles.CLIENT_MANAGER)
    _followup(user, person)
    url = reverse("followup:call_list")
    http.get(url)  # the agent and the session kept

    def queries():
        with CaptureQueriesContext(connection) as seen:
            assert http.get(url).status_code == 200
        return len(seen)

    one = queries()
    for n in range(5):
        make_call(client=ClientFactory(phone=f"+861380000000{n}"), assigned_to=user)
    assert queries() == one
    assert http.get(url).content.decode().count('data-testid="dial"') == 6


def test_a_call_with_no_receipt_is_left_to_the_agent(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    Call.objects.filter(pk=call.pk).update(
        created_at=timezone.now() - outbound.RECEIPT_EXPECTED_WITHIN - datetime.timedelta(minutes=1)
    )
    state = http.get(reverse("voice:dial_status", args=[call.pk]), **EN, **HX).content.decode()
    assert "No word from the voice service" in state
    assert "hx-get" not in state and f"?call={call.pk}" in state
    # A later click places a new call.
    dial(http, "followup", task.pk)
    assert len(vms.placed) == 2


def test_in_development_the_receipt_of_a_printed_call_is_played_by_a_command(person):
    from io import StringIO

    from django.core.management import CommandError, call_command

    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    out = StringIO()
    call_command("voice_receipt", f"call:{call.pk}", "--talk", "95", stdout=out)
    assert "applied" in out.getvalue()
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.ANSWERED and call.talk_seconds == 95
    # A receipt for a reminder that does not exist is kept and applied to nothing.
    call_command("voice_receipt", "msg:999999", "--keys", "1", stdout=out)
    with pytest.raises(CommandError):
        call_command("voice_receipt", "other:1")


def test_a_placed_calls_page_says_whom_it_called_and_links_the_task(person):
    user, http = agent(roles.CLIENT_MANAGER)
    task = _followup(user, person)
    dial(http, "followup", task.pk)
    call = Call.objects.get()
    page = http.get(reverse("voice:call_detail", args=[call.pk]), **EN)
    body = page.content.decode()
    assert "Called" in body and "Placed from" in body
    assert f'href="{task.get_absolute_url()}"' in body
    assert_number_hidden(page)
    chinese = http.get(reverse("voice:call_detail", args=[call.pk])).content.decode()
    assert "被叫客户" in chinese and "外呼来源" in chinese
