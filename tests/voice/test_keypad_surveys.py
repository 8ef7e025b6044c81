"""The keypad survey's trigger and answers (voice.surveys): queued in the outbox as a voice
message of purpose "survey" after an answered consultation call ends (through the CTI webhook)
and after a visit whose client cannot get the web survey's link; once per call and visit, not
twice within the policy's gap; the keys of its receipt written as a survey response whose low
score opens service recovery."""

import datetime

import pytest
from django.utils import timezone

from demo.surveys import seed_surveys
from followup.models import FollowUpCall
from messaging.models import OutboxMessage
from surveys.models import SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.surveys.factories import finished_visit
from tests.voice.test_cti import SECRET, _event, _post, _ringing
from tests.voice.test_receipts import SECRET as RECEIPT_SECRET
from tests.voice.test_receipts import element as receipt_element
from tests.voice.test_receipts import push
from voice import surveys as keypad
from voice import tasks
from voice.models import Call
from zhongdu import roles

pytestmark = pytest.mark.django_db
HOURS = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _ready(settings, db):
    settings.CTI_WEBHOOK_SECRET = SECRET
    roles.sync_group_permissions()
    UserFactory(username="cm", roles=[roles.CLIENT_MANAGER])
    seed_surveys()


def _surveys():
    return OutboxMessage.objects.filter(channel="voice", purpose="survey").order_by("pk")


def _answered_call(client, call_id="c-1", *, http=None):
    """An inbound call from the client, answered by extension 8001, then ended."""
    caller = client.phone.removeprefix("+86")
    assert _post(http, _ringing(call_id, caller=caller)).status_code == 200
    assert _post(http, _event("answered", call_id, extension="8001")).status_code == 200
    assert _post(http, _event("ended", call_id)).status_code == 200
    return Call.objects.get(external_id=call_id)


def test_an_answered_consultation_call_queues_the_keypad_survey_once(client):
    caller = ClientFactory()
    call = _answered_call(caller, http=client)
    assert call.outcome == Call.Outcome.ANSWERED and call.client == caller
    message = _surveys().get()
    assert message.client == caller and message.idempotency_key == keypad.call_key(call.pk)
    assert message.send_after > timezone.now()  # a few minutes after the call, not during it
    # Asked again for the same call: the same message.
    assert keypad.keypad_survey_for_call(call) == message
    assert _surveys().count() == 1


def test_a_second_call_within_the_gap_asks_nothing(client):
    caller = ClientFactory()
    _answered_call(caller, "c-1", http=client)
    _answered_call(caller, "c-2", http=client)
    assert _surveys().count() == 1


def test_a_call_nobody_answered_asks_nothing(client):
    caller = ClientFactory()
    _post(client, _ringing("c-9", caller=caller.phone.removeprefix("+86")))
    _post(client, _event("ended", "c-9"))
    assert Call.objects.get(external_id="c-9").outcome == Call.Outcome.MISSED
    assert not _surveys().exists()


def test_a_number_the_voice_route_does_not_call_is_not_asked():
    call = Call.objects.create(
        external_id="x",
        client=ClientFactory(phone="+14155550123"),
        outcome=Call.Outcome.ANSWERED,
        answered_at=timezone.now(),
        ended_at=timezone.now(),
    )
    assert keypad.keypad_survey_for_call(call) is None


def test_a_visit_whose_client_gets_no_survey_link_gets_the_keypad_survey(mainland_via_twilio):
    mainland = finished_visit(client=ClientFactory(phone="+8613812345678"), finished_ago=3 * HOURS)
    abroad = finished_visit(client=ClientFactory(phone="+14155550123"), finished_ago=3 * HOURS)
    recent = finished_visit(client=ClientFactory(phone="+8613812345679"), finished_ago=HOURS)
    assert tasks.keypad_surveys_send.apply().get() == 1
    message = _surveys().get()
    assert message.client == mainland.client
    assert message.idempotency_key == keypad.visit_key(mainland.pk)
    # Not abroad (the link goes by SMS), nor a visit that ended an hour ago (the slip first).
    assert {abroad.client, recent.client}.isdisjoint(m.client for m in _surveys())
    assert tasks.keypad_surveys_send.apply().get() == 0


def test_keys_of_the_receipt_become_the_response_and_a_1_opens_recovery(client):
    caller = ClientFactory()
    _answered_call(caller, http=client)
    message = _surveys().get()
    response = keypad.keypad_answers_take(message, "19")
    assert response.source == SurveyResponse.Source.KEYPAD and response.client == caller
    assert response.reference == f"msg:{message.pk}"
    recovery = FollowUpCall.objects.get(reason=FollowUpCall.Reason.SERVICE_RECOVERY)
    assert recovery.recovery_for == response
    # The receipt pushed again: nothing new.
    assert keypad.keypad_answers_take(message, "19") == response
    assert SurveyResponse.objects.count() == 1
    assert FollowUpCall.objects.filter(reason="service_recovery").count() == 1


def test_a_visits_keypad_answers_are_linked_to_the_visit(mainland_via_twilio):
    visit = finished_visit(client=ClientFactory(phone="+8613812345678"), finished_ago=3 * HOURS)
    message = keypad.keypad_survey_for_visit(visit)
    response = keypad.keypad_answers_take(message, "5")
    assert response.visit == visit and response.department == visit.department
    assert response.lowest_score == 5 and response.recommend is None


def test_a_keypad_survey_is_called_and_its_receipt_opens_recovery_once(client, settings):
    """The whole way: the survey queued after the consultation call is called (a keypad call
    whose every digit plays the approved reply), and the provider's receipt through the webhook
    and the outbox's own handler writes the response and starts recovery, once."""
    from clientmgmt.consent import SERVICE_VOICE
    from messaging import services as outbox
    from tests.clientmgmt.factories import grant
    from zhongdu import vms

    settings.ALIYUN_VOICE_RECEIPT_SECRET = RECEIPT_SECRET
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0  # whatever the hour
    vms.clear()
    caller = ClientFactory()
    grant(caller, SERVICE_VOICE, method="phone")  # calls go to those who chose them
    _answered_call(caller, http=client)
    message = _surveys().get()
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    outbox.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (OutboxMessage.Status.SENT, "")
    (placed,) = vms.placed
    assert placed.action == vms.IVR_CALL and placed.reference == f"msg:{message.pk}"
    assert placed.template_code == "TTS_300001"
    assert placed.menu_keys == dict.fromkeys("0123456789", "TTS_300002")
    element = {
        **receipt_element(out_id=f"msg:{message.pk}"),
        "call_id": placed.call_id,
        "dtmf": "18",
    }
    assert push(client, [element]).status_code == 200
    assert push(client, [element]).status_code == 200  # pushed again
    message.refresh_from_db()
    assert (message.status, message.keys) == (OutboxMessage.Status.DELIVERED, "18")
    response = SurveyResponse.objects.get()
    assert (response.lowest_score, response.recommend, response.source) == (1, 8, "keypad")
    assert FollowUpCall.objects.filter(reason="service_recovery").count() == 1
    vms.clear()


def test_a_keypad_survey_nobody_answered_writes_nothing(client, settings):
    from clientmgmt.consent import SERVICE_VOICE
    from messaging import services as outbox
    from tests.clientmgmt.factories import grant
    from zhongdu import vms

    settings.ALIYUN_VOICE_RECEIPT_SECRET = RECEIPT_SECRET
    settings.VOICE_RETRY_ATTEMPTS = 0
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0
    vms.clear()
    caller = ClientFactory()
    grant(caller, SERVICE_VOICE, method="phone")
    _answered_call(caller, http=client)
    message = _surveys().get()
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    outbox.outbox_send(message_id=message.pk)
    (placed,) = vms.placed
    unanswered = {
        **receipt_element(out_id=f"msg:{message.pk}"),
        "call_id": placed.call_id,
        "status_code": "200003",
        "dtmf": "",
    }
    assert push(client, [unanswered]).status_code == 200
    message.refresh_from_db()
    assert (message.status, message.error_code) == (OutboxMessage.Status.FAILED, "no_answer")
    assert not SurveyResponse.objects.exists()
    vms.clear()
