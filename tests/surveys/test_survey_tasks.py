"""The periodic tasks of the survey engine and of follow-up, run as a worker runs them (the real
task code against the database): the survey SMS after a visit, one reminder, and the post-exam
health assessment."""

import datetime

import pytest
from django.utils import timezone

from config.schedules import DEFAULT_SCHEDULES
from followup import tasks as followup_tasks
from followup.models import FollowUpCall
from guide import services as guide_services
from messaging.models import OutboxMessage, SmsRoutePolicy, SmsTemplate
from surveys import services as surveys
from surveys import tasks
from surveys.models import SurveyInvitation, SurveyPolicy
from tests.clientmgmt.factories import ClientFactory
from tests.guide.factories import exam_package, walk_in
from tests.surveys.factories import (
    all_answers,
    expire,
    finished_visit,
    invitation,
    satisfaction_survey,
    survey_sms_templates,
)

pytestmark = pytest.mark.django_db

HOURS = datetime.timedelta(hours=1)


@pytest.fixture
def ready(settings):
    settings.PUBLIC_BASE_URL = "https://kefu.zhongdu.example"
    satisfaction_survey()
    survey_sms_templates()


def _survey_sms():
    return OutboxMessage.objects.filter(purpose="survey").order_by("pk")


def test_a_visit_that_ended_gets_its_survey_link_by_sms_once(ready):
    visit = finished_visit(client=ClientFactory(name="王小红"), finished_ago=3 * HOURS)
    assert tasks.surveys_send.apply().get() == 1
    made = SurveyInvitation.objects.get(visit=visit)
    assert made.channel == SurveyInvitation.Channel.SMS and made.sms_sent_at is not None
    message = _survey_sms().get()
    assert message.client == visit.client
    assert message.idempotency_key == f"survey:{made.pk}:invite"
    assert f"https://kefu.zhongdu.example/s/{made.token}/" in message.body
    assert message.expires_at == made.expires_at
    # Run again (or twice at once): nothing more.
    assert tasks.surveys_send.apply().get() == 0
    assert _survey_sms().count() == 1


def test_the_sweep_leaves_alone_what_is_not_due_or_already_answered(ready):
    finished_visit(finished_ago=30 * datetime.timedelta(minutes=1))  # the slip's QR comes first
    finished_visit(finished_ago=3 * datetime.timedelta(days=1))  # too long ago
    walk_in()  # still here
    answered_at_the_desk = invitation(visit=finished_visit(finished_ago=3 * HOURS))
    surveys.survey_submit(
        invitation=answered_at_the_desk, answers=all_answers(answered_at_the_desk.template)
    )
    assert tasks.surveys_send.apply().get() == 0
    assert not _survey_sms().exists()


def test_a_printed_but_unanswered_link_is_sent_by_sms_too(ready):
    printed = invitation(visit=finished_visit(finished_ago=3 * HOURS))
    assert tasks.surveys_send.apply().get() == 1
    printed.refresh_from_db()
    assert printed.channel == SurveyInvitation.Channel.QR and printed.sms_sent_at is not None
    assert SurveyInvitation.objects.count() == 1


def test_no_survey_sms_without_the_default_survey_or_the_sms_template(settings):
    finished_visit(finished_ago=3 * HOURS)
    survey_sms_templates()
    assert tasks.surveys_send.apply().get() == 0  # no default survey
    satisfaction_survey()
    SmsTemplate.objects.filter(code="survey_invitation").update(active=False)
    assert tasks.surveys_send.apply().get() == 0
    assert not SurveyInvitation.objects.exists()


def test_links_are_not_sent_to_mainland_numbers_through_twilio(ready, mainland_via_twilio):
    mainland = finished_visit(client=ClientFactory(phone="+8613812345678"), finished_ago=3 * HOURS)
    abroad = finished_visit(client=ClientFactory(phone="+14155550123"), finished_ago=3 * HOURS)
    assert tasks.surveys_send.apply().get() == 1
    assert _survey_sms().get().client == abroad.client
    refused = SurveyInvitation.objects.get(visit=mainland)
    assert refused.sms_sent_at is None  # the slip's QR code is their way in
    # The refused visit does not hold the next run back, and is refused again.
    assert tasks.surveys_send.apply().get() == 0


def test_the_sweep_works_through_the_window_in_batches(ready):
    visits = [finished_visit(finished_ago=3 * HOURS) for _ in range(5)]
    assert surveys.surveys_send_after_visits(batch=2) == 5
    assert SurveyInvitation.objects.filter(visit__in=visits, sms_sent_at__isnull=False).count() == 5


def _sent(days_ago, **kwargs):
    made = invitation(visit=finished_visit(**kwargs))
    SurveyInvitation.objects.filter(pk=made.pk).update(
        sms_sent_at=timezone.now() - datetime.timedelta(days=days_ago),
        channel=SurveyInvitation.Channel.SMS,
    )
    made.refresh_from_db()
    return made


def test_a_non_responder_is_reminded_once(ready):
    due = _sent(4)
    _sent(1)  # not yet
    answered = _sent(5)
    surveys.survey_submit(invitation=answered, answers=all_answers(answered.template))
    expire(_sent(6))
    assert tasks.surveys_remind.apply().get() == 1
    reminder = _survey_sms().get()
    assert reminder.idempotency_key == f"survey:{due.pk}:reminder"
    assert f"https://kefu.zhongdu.example/s/{due.token}/" in reminder.body
    due.refresh_from_db()
    assert due.reminded_at is not None
    assert tasks.surveys_remind.apply().get() == 0
    assert _survey_sms().count() == 1


def test_the_reminder_waits_the_days_the_policy_says(ready):
    policy = SurveyPolicy.current()
    policy.survey_reminder_days = 7
    policy.save()
    _sent(4)
    assert tasks.surveys_remind.apply().get() == 0


def test_no_reminder_link_to_a_mainland_number_through_twilio(ready, settings):
    _sent(4, client=ClientFactory(phone="+8613812345678"))
    settings.SMS_BACKEND = "twilio"  # only Twilio: no route serves mainland numbers at all
    assert tasks.surveys_remind.apply().get() == 0
    assert not _survey_sms().exists()
    settings.SMS_ROUTES = {"cn": "twilio", "other": "twilio"}
    SmsRoutePolicy.objects.create(mainland_via_twilio=True, legal_basis="Separate consent")
    assert tasks.surveys_remind.apply().get() == 0
    assert not _survey_sms().exists()


def test_a_completed_exam_starts_its_health_assessment_through_the_task():
    visit = walk_in()
    order = guide_services.exam_order_create(
        client=visit.client, package=exam_package(), visit=visit, by=None
    )
    for item in order.items.all():
        guide_services.exam_item_set_done(item=item, done=True, by=None)
    guide_services.exam_order_complete(order=order, result_summary="血常规正常", by=None)
    assert followup_tasks.exam_followups_start.apply().get() == 1
    assert followup_tasks.exam_followups_start.apply().get() == 0
    assert FollowUpCall.objects.filter(reason=FollowUpCall.Reason.HEALTH_ASSESSMENT).count() == 1


def test_the_tasks_are_thin_late_acked_limited_and_scheduled_by_beat():
    for task in (tasks.surveys_send, tasks.surveys_remind, followup_tasks.exam_followups_start):
        assert task.acks_late
        assert task.soft_time_limit < task.time_limit
    for entry in (
        ("surveys.send", "surveys.tasks.surveys_send", 900),
        ("surveys.remind", "surveys.tasks.surveys_remind", 3600),
        ("followup.exam_followups_start", "followup.tasks.exam_followups_start", 3600),
    ):
        assert entry in DEFAULT_SCHEDULES
