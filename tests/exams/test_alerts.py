"""Abnormal results followed to the end (exams.alerts): a critical value is answered by a call
within a deadline in clock time (a Friday evening's too), escalated once when missed; an
abnormal value is followed by a return-visit call within working hours; the worklist, its
access and call button; the figures."""

import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from exams import alerts, tasks
from exams.models import ResultAlert, ResultAlertEvent, ResultDefinition
from followup import services as followup_services
from followup.models import FollowUpCall
from messaging.models import OutboxMessage
from reports import figures
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from voice.models import Agent
from zhongdu import roles
from zhongdu.models import Notification, WorkingHours

from .factories import finding, item_of, number_definition, order_with, record, release

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()
FRIDAY_EVENING = datetime.datetime(2026, 12, 4, 19, 30, tzinfo=TZ)
WEDNESDAY_MORNING = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
PHONE = "+8613899990001"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _monday_to_friday():
    # 8:00–17:30, Monday to Friday: Saturday and Sunday make a weekend.
    WorkingHours.objects.create(weekdays="01234")


@pytest.fixture
def clock(monkeypatch):
    """The hospital's clock, set by the test (django.utils.timezone.now)."""

    class Clock:
        moment = WEDNESDAY_MORNING

        def set(self, moment):
            self.moment = moment

    fixed = Clock()
    monkeypatch.setattr(timezone, "now", lambda: fixed.moment)
    return fixed


def user(role, **fields):
    roles.sync_group_permissions()
    return UserFactory(roles=[role], **fields)


def signed_in(member):
    http = HttpClient()
    http.force_login(member)
    if roles.two_factor_required(member):
        from tests.conftest import verify_session

        verify_session(http, member)
    return http


def white_cells():
    """The white cell count (3.5–9.5, critical < 2.0 or > 30.0), made once."""
    return ResultDefinition.objects.filter(exam__code="JC101").first() or number_definition()


def released_order(value, *, by, definition=None, client=None):
    definition = definition or white_cells()
    order = order_with(definition, client=client or ClientFactory(phone=PHONE))
    record(order, definition, number=value, by=by)
    release(order, by=by)
    return order


def actions(alert):
    """The alert's history, oldest first: its actions."""
    return list(alert.events.order_by("at", "pk").values_list("action", flat=True))


def test_a_critical_value_opens_one_alert_due_sixty_minutes_after_release(clock):
    clinician = user(roles.CLINICIAN)
    order = released_order("1.5", by=clinician)
    alert = ResultAlert.objects.get(order=order)
    assert alert.level == ResultAlert.Level.CRITICAL
    assert alert.status == ResultAlert.Status.OPEN
    assert alert.due_at == WEDNESDAY_MORNING + datetime.timedelta(minutes=60)
    assert alert.released_by == clinician
    # A critical value alone calls for no abnormal follow-up besides.
    assert not FollowUpCall.objects.filter(reason=FollowUpCall.Reason.ABNORMAL_RESULT).exists()


def test_the_deadline_is_settable(clock, settings):
    settings.EXAM_CRITICAL_MINUTES = 30
    order = released_order("1.5", by=user(roles.CLINICIAN))
    assert ResultAlert.objects.get(order=order).due_at == WEDNESDAY_MORNING + datetime.timedelta(
        minutes=30
    )


def test_a_friday_evening_release_is_due_the_same_evening_and_escalated_once_when_missed(
    clock, settings
):
    settings.COMPLAINT_ESCALATION_SMS = True
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613812345678", "not a number"]
    manager = user(roles.MANAGER)
    client_manager = user(roles.CLIENT_MANAGER)
    clinician = user(roles.CLINICIAN)
    clock.set(FRIDAY_EVENING)
    order = released_order("1.5", by=clinician)
    alert = ResultAlert.objects.get(order=order)
    # Clock time: Friday 20:30, not Monday morning.
    assert timezone.localtime(alert.due_at) == datetime.datetime(2026, 12, 4, 20, 30, tzinfo=TZ)
    # The client managers hear of it at once, without the value.
    told = Notification.objects.get(recipient=client_manager)
    assert "20:30" in told.text and "1.5" not in told.text

    clock.set(datetime.datetime(2026, 12, 4, 20, 29, tzinfo=TZ))
    assert tasks.alerts_check_deadlines() == {"escalated": 0, "closed": 0}

    clock.set(datetime.datetime(2026, 12, 4, 20, 31, tzinfo=TZ))
    assert tasks.alerts_check_deadlines() == {"escalated": 1, "closed": 0}
    alert.refresh_from_db()
    assert timezone.localtime(alert.escalated_at).strftime("%H:%M") == "20:31"
    for person in (manager, clinician):
        note = Notification.objects.get(recipient=person)
        assert f"#{order.pk}" in note.text
        assert note.url == reverse("exams:alert_detail", args=[alert.pk])
    sms = OutboxMessage.objects.get()
    assert sms.to == "+8613812345678"
    assert "白细胞" not in sms.body and "1.5" not in sms.body and order.client.name not in sms.body

    # Once only: a second run (or a second worker) tells nobody again.
    assert tasks.alerts_check_deadlines() == {"escalated": 0, "closed": 0}
    assert Notification.objects.filter(recipient__in=[manager, clinician]).count() == 2
    assert OutboxMessage.objects.count() == 1


def test_no_sms_unless_configured(clock, settings):
    settings.COMPLAINT_ESCALATION_SMS = True
    settings.EXAM_CRITICAL_ESCALATION_SMS = False
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613812345678"]
    user(roles.MANAGER)
    released_order("1.5", by=user(roles.CLINICIAN))
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=61))
    assert tasks.alerts_check_deadlines()["escalated"] == 1
    assert not OutboxMessage.objects.exists()


def test_the_critical_escalation_sms_reaches_the_duty_phones_whatever_the_complaints_switch(
    clock, settings
):
    # The complaints' SMS off (its default), the critical values' on (its default).
    settings.COMPLAINT_ESCALATION_SMS = False
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613812345678"]
    assert settings.EXAM_CRITICAL_ESCALATION_SMS is True
    user(roles.MANAGER)
    released_order("1.5", by=user(roles.CLINICIAN))
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=61))
    assert tasks.alerts_check_deadlines()["escalated"] == 1
    assert OutboxMessage.objects.get().to == "+8613812345678"
    # No duty phones: no SMS, and the deploy check says so while DEBUG is off.
    from zhongdu.checks import check_critical_escalation_phones

    settings.DEBUG = False
    assert [w.id for w in check_critical_escalation_phones(None)] == []
    settings.COMPLAINT_ESCALATION_PHONES = []
    assert [w.id for w in check_critical_escalation_phones(None)] == ["zhongdu.W002"]
    settings.DEBUG = True
    assert check_critical_escalation_phones(None) == []


def test_the_critical_escalation_phones_check_runs_with_deploy(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.COMPLAINT_ESCALATION_PHONES = []
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--deploy", fail_level="WARNING")
    assert "zhongdu.W002" in str(raised.value)


def _post(member, alert, **data):
    """Post the outcome form as `member`, signed in now (the test's clock moves by hours)."""
    http = signed_in(member)
    alert.refresh_from_db()
    fields = {"attempts": alert.attempts, "notes": "", "outcome": "", **data}
    return http.post(reverse("exams:alert_record", args=[alert.pk]), fields, **EN)


def test_reached_within_the_deadline_counts_in_time_and_late_counts_late(clock):
    clinician = user(roles.CLINICIAN)
    http = user(roles.CLIENT_MANAGER)
    clock.set(FRIDAY_EVENING)
    first = ResultAlert.objects.get(order=released_order("1.5", by=clinician))
    second = ResultAlert.objects.get(order=released_order("40", by=clinician))

    clock.set(datetime.datetime(2026, 12, 4, 19, 50, tzinfo=TZ))
    response = _post(http, first, action="not_reached", notes="无人接听")
    assert response.status_code == 302
    assert response.url == reverse("exams:alert_detail", args=[first.pk])
    first.refresh_from_db()
    assert first.attempts == 1
    # The same form posted again (a double click) records no second attempt.
    again = signed_in(http).post(
        reverse("exams:alert_record", args=[first.pk]),
        {"attempts": 0, "action": "not_reached", "notes": ""},
        **EN,
    )
    assert again.status_code == 302
    first.refresh_from_db()
    assert (first.attempts, first.status) == (1, ResultAlert.Status.OPEN)
    # One event a change, in its transaction: the double click wrote none.
    assert actions(first) == ["opened", "told", "attempt"]
    attempt = first.events.get(action="attempt")
    assert (attempt.by, attempt.detail, attempt.called_at) == (http, "无人接听", clock.moment)

    clock.set(datetime.datetime(2026, 12, 4, 20, 10, tzinfo=TZ))
    response = _post(http, first, action="reached", notes="已告知结果，建议明日来院复查")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == ResultAlert.Status.CLOSED
    assert first.outcome == ResultAlert.Outcome.REACHED
    assert first.reached_at == clock.moment
    assert "建议明日来院复查" in first.notes
    # A second submit of a closed alert changes nothing and says so.
    repeat = _post(http, first, action="reached", notes="again")
    assert repeat.status_code == 302
    first.refresh_from_db()
    assert "again" not in first.notes
    assert actions(first) == ["opened", "told", "attempt", "reached"]
    assert first.events.get(action="reached").detail == "已告知结果，建议明日来院复查"

    clock.set(datetime.datetime(2026, 12, 4, 20, 35, tzinfo=TZ))
    tasks.alerts_check_deadlines()
    clock.set(datetime.datetime(2026, 12, 4, 21, 0, tzinfo=TZ))
    _post(http, second, action="reached", notes="已告知")
    second.refresh_from_db()
    assert second.escalated_at is not None and second.reached_at > second.due_at
    # Escalated once: the second run of the minute task wrote nothing.
    tasks.alerts_check_deadlines()
    assert actions(second) == ["opened", "told", "escalated", "reached"]
    assert second.events.get(action="escalated").by is None

    day = datetime.date(2026, 12, 4)
    values = figures.compute_day(day)
    assert values["critical_alerts"][("", 0)] == 2
    assert values["critical_alerts_in_time"][("", 0)] == 1
    assert values["critical_alerts_late"][("", 0)] == 1
    assert values["critical_alerts_escalated"][("", 0)] == 1
    assert figures.RATES_BY_KEY["critical_in_time"].numerator == "critical_alerts_in_time"
    clock.set(datetime.datetime(2026, 12, 4, 21, 5, tzinfo=TZ))
    page = signed_in(user(roles.MANAGER)).get(reverse("reports:dashboard"), **EN)
    assert b'data-key="critical_alerts_in_time"' in page.content


def test_bad_outcome_input_is_refused_with_a_message_and_nothing_changes(clock):
    alert = ResultAlert.objects.get(order=released_order("1.5", by=user(roles.CLINICIAN)))
    http = user(roles.CLIENT_MANAGER)
    response = _post(http, alert, action="reached", notes="")
    assert response.status_code == 422
    assert b"Write what was said" in response.content
    response = _post(http, alert, action="close", notes="号码停机", outcome="")
    assert response.status_code == 422
    response = _post(http, alert, action="teleport")
    assert response.status_code == 422
    alert.refresh_from_db()
    assert alert.status == ResultAlert.Status.OPEN and alert.attempts == 0
    response = _post(http, alert, action="close", notes="号码停机", outcome="unreachable")
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == ("closed", "unreachable")
    # The refused posts wrote no history; the close wrote one event with the reason.
    assert actions(alert) == ["opened", "told", "closed"]
    assert alert.events.get(action="closed").detail == "号码停机"


def test_an_abnormal_value_is_followed_by_a_call_on_the_next_working_day(clock):
    clinician = user(roles.CLINICIAN)
    user(roles.CLIENT_MANAGER)
    acne = finding("acne", "痤疮", reexam_after_days=90)
    definition = number_definition(finding=acne)
    clock.set(FRIDAY_EVENING)
    order = released_order("12.0", by=clinician, definition=definition)
    alert = ResultAlert.objects.get(order=order)
    assert alert.level == ResultAlert.Level.ABNORMAL
    call = alert.followup_call
    assert call.reason == FollowUpCall.Reason.ABNORMAL_RESULT
    assert call.client == order.client
    # Friday evening: working hours are over, the weekend is not worked: Monday.
    assert call.due_on == datetime.date(2026, 12, 7)
    # The re-examination the finding asks for, 90 days after the release.
    assert "2027-03-04" in call.script
    assert "12.0" not in call.script and "12.0" not in call.title
    # Within working hours on a working day: today.
    clock.set(WEDNESDAY_MORNING)
    other = ResultAlert.objects.get(order=released_order("12.0", by=clinician))
    assert other.followup_call.due_on == datetime.date(2026, 12, 2)

    # The call done closes the alert with that outcome (the minute task).
    clock.set(datetime.datetime(2026, 12, 7, 10, 0, tzinfo=TZ))
    followup_services.call_record(
        call=call, by=call.assigned_to, outcome=FollowUpCall.Outcome.REACHED, notes="已解释"
    )
    assert tasks.alerts_check_deadlines()["closed"] == 1
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == ("closed", "reached")
    assert alert.reached_at is not None
    assert tasks.alerts_check_deadlines()["closed"] == 0
    # An abnormal alert tells nobody at once (its call is planned); closed once by its call.
    assert actions(alert) == ["opened", "closed"]
    assert alert.events.get(action="closed").by == call.assigned_to
    values = figures.compute_day(datetime.date(2026, 12, 4))
    assert values["abnormal_alerts"][("", 0)] == 1
    assert values["abnormal_alerts_closed"][("", 0)] == 1


def test_a_correction_after_release_opens_the_missing_alert_once(clock):
    clinician = user(roles.CLINICIAN)
    definition = number_definition()
    order = order_with(definition, client=ClientFactory(phone=PHONE))
    record(order, definition, number="5.0", by=clinician)
    release(order, by=clinician)
    assert not ResultAlert.objects.exists()
    corrector = user(roles.CLINICIAN)
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(hours=2))
    record(order, definition, number="1.2", by=corrector, reason="录入错误")
    alert = ResultAlert.objects.get(order=order)
    assert alert.level == ResultAlert.Level.CRITICAL
    assert alert.due_at == clock.moment + datetime.timedelta(minutes=60)
    # The clinician told when it is missed is the one who released.
    assert alert.released_by == clinician
    record(order, definition, number="1.1", by=corrector, reason="复核")
    assert ResultAlert.objects.filter(order=order).count() == 1
    assert item_of(order, definition).result.flag == "critical"


def test_a_correction_reopens_a_closed_critical_alert_and_closes_one_no_value_calls_for(
    clock, settings
):
    settings.COMPLAINT_ESCALATION_PHONES = ["+8613812345678"]
    clinician = user(roles.CLINICIAN)
    vip_manager = user(roles.VIP_MANAGER)
    http = user(roles.CLIENT_MANAGER)
    definition = white_cells()
    order = released_order("1.5", by=clinician, definition=definition)
    alert = ResultAlert.objects.get(order=order)
    # The VIP managers are told of a critical value with the client managers.
    assert Notification.objects.filter(recipient=vip_manager).count() == 1
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=20))
    assert _post(http, alert, action="reached", notes="已告知").status_code == 302
    alert.refresh_from_db()
    assert alert.status == ResultAlert.Status.CLOSED

    # A later correction gives a critical value again: the alert is open again, a new
    # deadline, escalated again when missed.
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(hours=3))
    record(order, definition, number="1.2", by=clinician, reason="复核")
    alert.refresh_from_db()
    assert alert.status == ResultAlert.Status.OPEN
    assert alert.due_at == clock.moment + datetime.timedelta(minutes=60)
    assert (alert.outcome, alert.reached_at, alert.escalated_at) == ("", None, None)
    # The history says so (the notes keep only what the callers wrote).
    assert actions(alert) == ["opened", "told", "reached", "reopened", "told"]
    assert alert.events.get(action="reopened").by == clinician
    assert alert.notes.endswith("已告知")
    assert Notification.objects.filter(recipient=vip_manager).count() == 2
    assert ResultAlert.objects.filter(order=order).count() == 1
    clock.set(clock.moment + datetime.timedelta(minutes=61))
    assert tasks.alerts_check_deadlines()["escalated"] == 1
    assert OutboxMessage.objects.count() == 1

    # Corrected back to normal: the alert is closed as corrected and escalates no more.
    record(order, definition, number="5.0", by=clinician, reason="录入错误")
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == ("closed", ResultAlert.Outcome.CORRECTED)
    assert alert.reached_at is None
    clock.set(clock.moment + datetime.timedelta(hours=2))
    assert tasks.alerts_check_deadlines()["escalated"] == 0
    page = signed_in(http).get(reverse("exams:alert_detail", args=[alert.pk]), **EN)
    assert b"Value corrected" in page.content
    assert actions(alert)[-3:] == ["told", "escalated", "corrected"]


def test_a_critical_alert_open_is_closed_as_corrected_and_not_escalated(clock):
    clinician = user(roles.CLINICIAN)
    definition = white_cells()
    order = released_order("1.5", by=clinician, definition=definition)
    record(order, definition, number="5.0", by=clinician, reason="录入错误")
    alert = ResultAlert.objects.get(order=order)
    assert (alert.status, alert.outcome, alert.closed_by) == ("closed", "corrected", clinician)
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(hours=2))
    assert tasks.alerts_check_deadlines()["escalated"] == 0


def test_an_abnormal_value_corrected_closes_its_alert_and_keeps_the_call_saying_so(clock):
    clinician = user(roles.CLINICIAN)
    definition = white_cells()
    order = released_order("12.0", by=clinician, definition=definition)
    alert = ResultAlert.objects.get(order=order)
    assert alert.level == ResultAlert.Level.ABNORMAL and alert.followup_call is not None
    record(order, definition, number="5.0", by=clinician, reason="录入错误")
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == ("closed", "corrected")
    # The planned call is not cancelled behind the caller's back: the note says so.
    assert alert.followup_call.status == FollowUpCall.Status.OPEN
    corrected = alert.events.get(action="corrected")
    assert "return-visit call" in corrected.detail or "回访" in corrected.detail
    assert actions(alert) == ["opened", "corrected"] and alert.notes == ""


def test_a_correction_of_another_value_does_not_reopen_an_answered_critical_alert(clock):
    clinician = user(roles.CLINICIAN)
    cells = white_cells()
    other = number_definition("JC102")
    order = order_with(cells, other, client=ClientFactory(phone=PHONE))
    record(order, cells, number="1.5", by=clinician)
    record(order, other, number="5.0", by=clinician)
    release(order, by=clinician)
    alert = ResultAlert.objects.get(order=order)
    _post(user(roles.CLIENT_MANAGER), alert, action="reached", notes="已告知")
    record(order, other, number="5.5", by=clinician, reason="录入错误")
    alert.refresh_from_db()
    assert alert.status == ResultAlert.Status.CLOSED


def test_the_time_of_the_call_is_judged_against_the_deadline_and_checked(clock):
    clinician = user(roles.CLINICIAN)
    http = user(roles.CLIENT_MANAGER)
    alert = ResultAlert.objects.get(order=released_order("1.5", by=clinician))
    # Saved late, but the call was made in time.
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=90))
    for bad in (
        "2026-12-02 12:00",
        "2026-12-02 09:59",
        "1999-01-01 10:00",
        "yesterday",
        "2026-13-45 10:00",
    ):
        response = _post(http, alert, action="reached", notes="已告知", called_at=bad)
        assert response.status_code == 422, bad
        alert.refresh_from_db()
        assert alert.status == ResultAlert.Status.OPEN
    response = _post(http, alert, action="reached", notes="已告知", called_at="2026-12-02T10:45")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.reached_at == datetime.datetime(2026, 12, 2, 10, 45, tzinfo=TZ)
    page = signed_in(http).get(reverse("exams:alert_detail", args=[alert.pk]), **EN)
    assert b"in time" in page.content
    # Left empty: now.
    other = ResultAlert.objects.get(order=released_order("1.5", by=clinician))
    _post(http, other, action="reached", notes="已告知", called_at="")
    other.refresh_from_db()
    assert other.reached_at == clock.moment


def test_the_closed_alerts_are_paged_by_keyset(clock, monkeypatch):
    from exams import alert_views

    monkeypatch.setattr(alert_views, "PER_PAGE", 2)
    monkeypatch.setattr(alert_views, "OPEN_SHOWN", 2)
    clinician = user(roles.CLINICIAN)
    http = user(roles.CLIENT_MANAGER)
    made = [ResultAlert.objects.get(order=released_order("1.5", by=clinician)) for _ in range(3)]
    browser = signed_in(http)
    page = browser.get(reverse("exams:alerts"), **EN)
    assert page.context["more_open"] == 1
    assert b'data-testid="more-open"' in page.content
    for alert in made:
        _post(http, alert, action="reached", notes="已告知")
    first = browser.get(reverse("exams:alerts") + "?view=closed", **EN)
    assert [row["alert"].pk for row in first.context["rows"]] == [made[2].pk, made[1].pk]
    older = first.context["page"].next_before
    assert older == made[1].pk and b'data-testid="older"' in first.content
    second = browser.get(reverse("exams:alerts") + f"?view=closed&before={older}", **EN)
    assert [row["alert"].pk for row in second.context["rows"]] == [made[0].pk]
    assert second.context["page"].next_before is None


def test_access_front_desk_refused_manager_sees_the_task_not_the_values(clock):
    alert = ResultAlert.objects.get(order=released_order("1.5", by=user(roles.CLINICIAN)))
    desk = signed_in(user(roles.FRONT_DESK))
    assert desk.get(reverse("exams:alerts"), **EN).status_code == 403
    assert desk.get(reverse("exams:alert_detail", args=[alert.pk]), **EN).status_code == 403

    manager = signed_in(user(roles.MANAGER))
    for url in (reverse("exams:alerts"), reverse("exams:alert_detail", args=[alert.pk])):
        page = manager.get(url, **EN)
        assert page.status_code == 200
        assert "白细胞计数" not in page.content.decode()
        assert "138****0001" in page.content.decode()
        assert "13899990001" not in page.content.decode()

    reader = signed_in(user(roles.CLIENT_MANAGER))
    page = reader.get(reverse("exams:alerts"), **EN)
    assert "白细胞计数" in page.content.decode()
    assert page.content.decode().index(f'data-alert="{alert.pk}"')
    detail = reader.get(reverse("exams:alert_detail", args=[alert.pk]), **EN)
    assert "白细胞计数" in detail.content.decode()
    from zhongdu.models import AuditEvent

    assert AuditEvent.objects.filter(
        object_type="exams.resultalert", object_id=str(alert.pk), action="view"
    ).exists()


def test_the_worklist_puts_open_critical_first_and_shows_time_left(clock):
    clinician = user(roles.CLINICIAN)
    abnormal = ResultAlert.objects.get(order=released_order("12.0", by=clinician))
    critical = ResultAlert.objects.get(order=released_order("1.5", by=clinician))
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=15))
    page = signed_in(user(roles.CLIENT_MANAGER)).get(reverse("exams:alerts"), **EN)
    html = page.content.decode()
    assert html.index(f'data-alert="{critical.pk}"') < html.index(f'data-alert="{abnormal.pk}"')
    assert "0:45 left" in html


def test_the_call_button_is_on_the_list_and_the_alert(clock, settings):
    settings.VOICE_BACKEND = "memory"
    alert = ResultAlert.objects.get(order=released_order("1.5", by=user(roles.CLINICIAN)))
    member = user(roles.CLIENT_MANAGER)
    Agent.objects.create(user=member, extension="8101", line="+8613700000001")
    http = signed_in(member)
    for url in (reverse("exams:alerts"), reverse("exams:alert_detail", args=[alert.pk])):
        html = http.get(url, **EN).content.decode()
        assert 'data-testid="dial"' in html
        assert 'name="worklist" value="result_alert"' in html
        assert f'name="task" value="{alert.pk}"' in html
    # The button's task loads through the alerts' own access helper.
    from voice import outbound

    task = outbound.WORKLISTS["result_alert"].load(member, alert.pk)
    assert task.number == PHONE
    assert task.page_url == reverse("exams:alert_detail", args=[alert.pk])
    assert alerts.alert_get_for_user(member, alert.pk, write=True) == alert


def test_a_call_from_the_button_not_answered_is_an_attempt_on_the_alert(settings):
    from tests.voice.test_dial import SECRET, push, receipt
    from voice.models import Call
    from zhongdu import vms

    settings.VOICE_BACKEND = "memory"
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    vms.clear()
    alert = ResultAlert.objects.get(order=released_order("1.5", by=user(roles.CLINICIAN)))
    member = user(roles.CLIENT_MANAGER)
    Agent.objects.create(user=member, extension="8102", line="+8613700000001")
    http = signed_in(member)
    placed = http.post(reverse("voice:dial"), {"worklist": "result_alert", "task": alert.pk}, **EN)
    assert placed.status_code in (200, 302)
    call = Call.objects.get(worklist="result_alert", task_id=alert.pk)
    push([receipt(call, "200112")])
    # Pushed again: applied once.
    push([receipt(call, "200112")])
    alert.refresh_from_db()
    assert (alert.attempts, alert.status) == (1, ResultAlert.Status.OPEN)
    assert actions(alert) == ["opened", "told", "attempt"]
    vms.clear()


def test_a_vips_alert_shows_its_values_and_takes_outcomes_only_as_discretion_allows(clock):
    from tests.consult.factories import make_vip

    vip = make_vip(ClientFactory(phone=PHONE))
    alert = ResultAlert.objects.get(
        order=released_order("1.5", by=user(roles.CLINICIAN), client=vip)
    )
    outsider = user(roles.CLIENT_MANAGER)
    page = signed_in(outsider).get(reverse("exams:alert_detail", args=[alert.pk]), **EN)
    assert page.status_code == 200
    assert "白细胞计数" not in page.content.decode()
    assert 'data-testid="alert-record"' not in page.content.decode()
    response = _post(outsider, alert, action="reached", notes="已告知")
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == ResultAlert.Status.OPEN


def test_the_history_is_append_only(clock):
    alert = ResultAlert.objects.get(order=released_order("1.5", by=user(roles.CLINICIAN)))
    event = alert.events.get(action="opened")
    event.detail = "rewritten"
    with pytest.raises(ResultAlertEvent.Immutable):
        event.save()
    with pytest.raises(ResultAlertEvent.Immutable):
        event.delete()
    with pytest.raises(ResultAlertEvent.Immutable):
        alert.events.update(detail="rewritten")
    with pytest.raises(ResultAlertEvent.Immutable):
        ResultAlertEvent.objects.filter(alert=alert).delete()
    assert alert.events.filter(detail="rewritten").count() == 0
    assert alert.events.count() == 2


def test_the_page_shows_the_history_newest_first_in_both_languages(clock):
    clinician = user(roles.CLINICIAN, first_name="", last_name="", username="dr_wang")
    member = user(roles.CLIENT_MANAGER, username="cm_li", first_name="", last_name="")
    alert = ResultAlert.objects.get(order=released_order("1.5", by=clinician))
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=10))
    _post(member, alert, action="not_reached", notes="无人接听")
    clock.set(WEDNESDAY_MORNING + datetime.timedelta(minutes=20))
    _post(member, alert, action="reached", notes="已告知结果")
    url = reverse("exams:alert_detail", args=[alert.pk])

    page = signed_in(member).get(url, **EN).content.decode()
    history = page[page.index('data-testid="alert-history"') :]
    reached, attempt, opened = (
        history.index("Client reached"),
        history.index("Call not answered"),
        history.index("Opened"),
    )
    assert reached < attempt < opened
    assert "已告知结果" in history and "无人接听" in history
    assert "2026-12-02 10:20" in history and "cm_li" in history and "dr_wang" in history
    assert "Workers told" in history

    page = signed_in(member).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    history = page[page.index('data-testid="alert-history"') :]
    assert "历史" in page
    assert history.index("已联系到客户") < history.index("未接通") < history.index("已开启")
    assert "Client reached" not in history and "History" not in page
