"""Follow-up services: plans make calls and SMS once, edits move only what is not done, calls
retry on working days, answers land in one place, low scores start service recovery."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clientmgmt.models import Client
from complaints.models import Complaint
from followup import services
from followup.models import CallAttempt, CarePlan, CarePlanStep, FollowUpCall, FollowUpPolicy
from guide import services as guide_services
from messaging.models import OutboxMessage
from surveys import services as surveys
from surveys.models import SurveyInvitation, SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.followup.factories import days, make_call, make_plan, plan_template, sms_template
from tests.guide.factories import exam_package, triaged, walk_in
from tests.surveys.factories import all_answers, satisfaction_survey
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import CalendarDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def handlers(db):
    roles.sync_group_permissions()
    return [UserFactory(username=f"cm{n}", roles=[roles.CLIENT_MANAGER]) for n in range(2)]


def _pending_sms(plan):
    return OutboxMessage.objects.filter(
        idempotency_key__startswith="careplan-step:", status=OutboxMessage.Status.PENDING
    ).filter(client=plan.client)


def test_a_plan_from_a_template_makes_one_call_per_timepoint_and_its_sms(handlers):
    plan = make_plan()
    assert [step.due_on for step in plan.steps.all()] == [days(1), days(3), days(7), days(30)]
    calls = FollowUpCall.objects.filter(plan=plan).order_by("due_on")
    assert [call.due_on for call in calls] == [days(1), days(3), days(7), days(30)]
    assert {call.reason for call in calls} == {FollowUpCall.Reason.CARE_PLAN}
    sms = _pending_sms(plan).get()
    due = timezone.localtime(sms.send_after)
    assert (due.date(), due.hour) == (days(7), services.SMS_HOUR)
    assert plan.diet == "忌辛辣"  # the template's advice, copied


def test_calls_are_shared_round_robin_among_client_managers(handlers):
    plan = make_plan()
    counts = sorted(
        FollowUpCall.objects.filter(plan=plan, assigned_to=handler).count() for handler in handlers
    )
    assert counts == [2, 2]


def test_moving_a_timepoint_moves_its_call_and_its_sms_and_makes_nothing_twice(handlers):
    plan = make_plan()
    step = plan.steps.get(due_on=days(7))
    services.plan_update(
        plan=plan,
        by=None,
        steps=[
            {
                "id": step.pk,
                "due_on": days(10),
                "label": "第10天",
                "sms_template": step.sms_template,
            }
        ],
    )
    call = FollowUpCall.objects.get(step=step)
    assert call.due_on == days(10)
    sms = _pending_sms(plan).get()
    assert timezone.localtime(sms.send_after).date() == days(10)
    # Asking again changes nothing.
    services.plan_update(
        plan=plan,
        by=None,
        steps=[
            {
                "id": step.pk,
                "due_on": days(10),
                "label": "第10天",
                "sms_template": step.sms_template,
            }
        ],
    )
    assert FollowUpCall.objects.filter(plan=plan).count() == 4
    assert _pending_sms(plan).count() == 1
    # Back to the first date: a fresh message, the first one stays cancelled.
    services.plan_update(
        plan=plan,
        by=None,
        steps=[
            {"id": step.pk, "due_on": days(7), "label": "第7天", "sms_template": step.sms_template}
        ],
    )
    assert timezone.localtime(_pending_sms(plan).get().send_after).date() == days(7)


def test_a_done_timepoint_is_not_moved_and_removing_one_cancels_its_call(handlers):
    plan = make_plan()
    first = plan.steps.get(due_on=days(1))
    services.call_record(call=first.followup_call, by=None, outcome="reached")
    first.refresh_from_db()
    assert first.status == CarePlanStep.Status.DONE
    third = plan.steps.get(due_on=days(3))
    services.plan_update(
        plan=plan,
        by=None,
        steps=[
            {"id": first.pk, "due_on": days(5)},
            {"id": third.pk, "due_on": days(3), "remove": True},
            {"due_on": days(60), "label": "两个月复查", "call": True},
        ],
    )
    first.refresh_from_db()
    assert first.due_on == days(1)
    assert FollowUpCall.objects.get(step=third).status == FollowUpCall.Status.CANCELLED
    assert FollowUpCall.objects.filter(plan=plan, due_on=days(60)).exists()


def test_cancelling_a_plan_cancels_its_open_calls_and_unsent_sms(handlers):
    plan = make_plan()
    with pytest.raises(ValidationError):
        services.plan_cancel(plan=plan, by=None, reason="")
    services.plan_cancel(plan=plan, by=None, reason="客户转院")
    assert set(FollowUpCall.objects.filter(plan=plan).values_list("status", flat=True)) == {
        FollowUpCall.Status.CANCELLED
    }
    assert not _pending_sms(plan).exists()
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.CANCELLED


def test_a_plan_is_complete_when_every_timepoint_is_done(handlers):
    plan = make_plan(template=plan_template(name="短疗程", offsets=(1,), sms_on=()))
    services.call_record(call=FollowUpCall.objects.get(plan=plan), by=None, outcome="reached")
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.COMPLETED


def test_an_unanswered_call_comes_back_on_the_next_working_day_then_closes(handlers):
    FollowUpPolicy.objects.create(max_attempts=2)
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    CalendarDay.objects.create(date=tomorrow, name="节日")
    call = make_call()
    services.call_record(call=call, by=None, outcome="no_answer")
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.OPEN and call.attempts == 1
    assert call.due_on > tomorrow  # skips the holiday
    services.call_record(call=call, by=None, outcome="no_answer")
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.UNREACHABLE
    assert CallAttempt.objects.filter(call=call, outcome="no_answer").count() == 2


def test_a_wrong_number_closes_the_call_and_flags_the_phone_until_corrected(handlers):
    from clientmgmt import services as client_services

    call = make_call()
    services.call_record(call=call, by=handlers[0], outcome="wrong_number", notes="空号")
    client = Client.objects.get(pk=call.client_pk if hasattr(call, "client_pk") else call.client_id)
    assert client.phone_flagged_at is not None
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.UNREACHABLE
    client_services.client_update(client=client, data={"phone": "13900009999"}, by=None)
    client.refresh_from_db()
    assert client.phone_flagged_at is None


def test_a_reached_call_records_the_answers_and_the_next_call(handlers):
    visit = triaged(walk_in(), department=DepartmentFactory(name="皮肤科"))
    call = make_call(client=visit.client, visit=visit)
    services.call_record(
        call=call,
        by=handlers[0],
        outcome="reached",
        scores={"doctor": 5, "nursing": 4, "overall": 5},
        recommend=9,
        course="improving",
        rehab_guidance=True,
        next_call_on=days(14),
    )
    response = SurveyResponse.objects.get(answered_on_call=call)
    assert response.source == SurveyResponse.Source.CALL
    assert response.department.name == "皮肤科" and response.visit == visit
    assert response.lowest_score == 4 and response.recommend == 9
    assert not response.needs_recovery
    assert FollowUpCall.objects.filter(client=visit.client, due_on=days(14)).exists()
    call.refresh_from_db()
    assert (call.course, call.rehab_guidance, call.status) == ("improving", True, "done")


def test_answers_are_only_for_a_reached_client(handlers):
    with pytest.raises(ValidationError, match="reached"):
        services.call_record(call=make_call(), by=None, outcome="no_answer", scores={"doctor": 3})
    with pytest.raises(ValidationError, match="1 to 5"):
        services.call_record(call=make_call(), by=None, outcome="reached", scores={"doctor": 9})


def test_a_dial_is_checked_before_anything_is_read_or_written(django_assert_num_queries):
    with django_assert_num_queries(0):
        with pytest.raises(ValidationError, match="later day"):
            services.check_call_record(outcome="reached", next_call_on=timezone.localdate())
        dial = services.check_call_record(outcome="reached", scores={"doctor": 5, "waiting": None})
    assert (dial.outcome, dial.scores) == ("reached", {"doctor": 5})


def test_a_checked_dial_is_written_once_the_call_is_closed(handlers):
    call = make_call()
    dial = services.check_call_record(outcome="refused", notes="不方便")
    services.do_call_record(call=call, dial=dial, by=None)
    assert (call.status, call.attempts, call.outcome) == ("done", 1, "refused")
    with pytest.raises(services.IllegalTransition, match="already been closed"):
        services.do_call_record(call=call, dial=dial, by=None)
    assert list(call.history.filter(outcome="refused").values_list("detail", flat=True)) == [
        "不方便"
    ]


def test_a_low_score_on_a_call_starts_service_recovery_within_a_working_day(handlers):
    call = make_call()
    services.call_record(
        call=call, by=None, outcome="reached", scores={"waiting": 1}, comment="等了两个小时"
    )
    recovery = FollowUpCall.objects.get(reason=FollowUpCall.Reason.SERVICE_RECOVERY)
    assert recovery.client == call.client
    # The call keeps the answers given on it; the recovery call points back to them.
    call.refresh_from_db()
    assert recovery.recovery_for == call.survey_response and call.survey_response.lowest_score == 1
    assert recovery.due_on <= timezone.localdate() + datetime.timedelta(days=7)
    assert recovery.assigned_to in handlers
    # Not a complaint: the comment does not say so.
    assert not Complaint.objects.exists()


def test_a_comment_that_reads_like_a_complaint_raises_one(handlers):
    template = satisfaction_survey()
    visit = walk_in()
    invitation = surveys.invitation_for_visit(visit=visit)
    surveys.survey_submit(
        invitation=invitation,
        answers=all_answers(template, score=4, recommend=3, comment="前台态度差，我要投诉"),
    )
    response = SurveyResponse.objects.get()
    assert response.needs_recovery and response.recommend == 3
    complaint = Complaint.objects.get()
    assert complaint.channel == Complaint.Channel.SURVEY and "投诉" in complaint.words
    assert complaint.acknowledge_due_at > complaint.received_at
    assert FollowUpCall.objects.filter(reason="service_recovery").count() == 1


def test_raising_a_complaint_on_a_call_makes_one_complaint(handlers):
    call = make_call()
    services.call_record(
        call=call, by=handlers[0], outcome="reached", raise_complaint=True, comment="收费不透明"
    )
    complaint = Complaint.objects.get()
    assert complaint.source == f"followup.call:{call.pk}"
    assert complaint.channel == Complaint.Channel.RETURN_CALL


def test_a_survey_link_is_used_once_and_expires(handlers):
    template = satisfaction_survey()
    invitation = surveys.invitation_for_visit(visit=walk_in())
    assert surveys.invitation_for_visit(visit=invitation.visit) == invitation
    surveys.survey_submit(invitation=invitation, answers=all_answers(template))
    invitation.refresh_from_db()
    with pytest.raises(ValidationError, match="already"):
        surveys.survey_submit(invitation=invitation, answers=all_answers(template))
    late = surveys.invitation_for_visit(visit=walk_in())
    SurveyInvitation.objects.filter(pk=late.pk).update(expires_at=timezone.now())
    late.refresh_from_db()
    with pytest.raises(ValidationError, match="expired"):
        surveys.survey_submit(invitation=late, answers=all_answers(template))


def test_a_survey_needs_every_required_answer_in_range(handlers):
    template = satisfaction_survey()
    invitation = surveys.invitation_for_visit(visit=walk_in())
    answers = all_answers(template)
    first = template.questions.first()
    with pytest.raises(ValidationError, match="every question"):
        surveys.survey_submit(invitation=invitation, answers={**answers, first.pk: ""})
    with pytest.raises(ValidationError, match="offered"):
        surveys.survey_submit(invitation=invitation, answers={**answers, first.pk: "7"})
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_a_completed_exam_starts_the_health_assessment_once(handlers):
    visit = walk_in()
    order = guide_services.exam_order_create(
        client=visit.client, package=exam_package(), visit=visit, by=None
    )
    for item in order.items.all():
        guide_services.exam_item_set_done(item=item, done=True, by=None)
    guide_services.exam_order_complete(order=order, result_summary="血常规正常", by=None)
    assert services.exam_followups_start() == 1
    assert services.exam_followups_start() == 0
    call = FollowUpCall.objects.get(reason=FollowUpCall.Reason.HEALTH_ASSESSMENT)
    plan = CarePlan.objects.get(exam_order=order)
    assert plan.kind == CarePlan.Kind.HEALTH and plan.diagnosis == "血常规正常"
    assert call.plan == plan and call.due_on > timezone.localdate()


def test_survey_sms_go_where_links_may_go_once_with_one_reminder(handlers, settings):
    sms_template("survey_invitation", "{name}您好，请评价本次就诊：{link}")
    sms_template("survey_reminder", "{name}您好，您的评价对我们很重要：{link}")
    satisfaction_survey()
    invitation = surveys.invitation_for_visit(visit=walk_in())
    assert surveys.invitation_send_sms(invitation=invitation, link="https://kefu.example/s/x/")
    assert not surveys.invitation_send_sms(invitation=invitation, link="https://x/")
    assert surveys.invitation_send_sms(invitation=invitation, link="https://x/", reminder=True)
    assert not surveys.invitation_send_sms(invitation=invitation, link="https://x/", reminder=True)
    assert OutboxMessage.objects.filter(purpose="survey").count() == 2
    settings.SMS_BACKEND = "twilio"
    other = surveys.invitation_for_visit(visit=walk_in())
    assert not surveys.invitation_send_sms(invitation=other, link="https://x/")


def test_nothing_is_planned_for_a_merged_record(handlers):
    from clientmgmt import services as client_services

    survivor, duplicate = ClientFactory(), ClientFactory()
    client_services.client_merge(survivor=survivor, merged=duplicate, by=handlers[0])
    duplicate.refresh_from_db()
    with pytest.raises(ValidationError, match="merged"):
        make_plan(client=duplicate)
