"""Keypad surveys (按键满意度调查): the keys pressed on the telephone land in the same survey
responses as the web survey's, once per message, and a low score starts the same service
recovery; keys that answer nothing leave their question unanswered."""

import pytest

from demo.surveys import seed_surveys
from followup.models import FollowUpCall
from surveys import services as surveys
from surveys.models import Dimension, SurveyAnswer, SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from zhongdu import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def keypad(db):
    roles.sync_group_permissions()
    UserFactory(username="cm", roles=[roles.CLIENT_MANAGER])
    seed_surveys()
    return surveys.keypad_survey()


def _answers(response):
    return dict(response.answers.values_list("dimension", "score"))


def _record(keypad, keys, reference="msg:1", client=None):
    return surveys.response_record_keypad(
        client=client or ClientFactory(), template=keypad, keys=keys, source_reference=reference
    )


def test_the_demo_keypad_survey_asks_satisfaction_then_recommend(keypad):
    questions = list(keypad.questions.values_list("type", "dimension"))
    assert questions == [("scale", Dimension.OVERALL), ("recommend", Dimension.RECOMMEND)]


def test_keys_are_written_as_a_response_like_the_web_surveys(keypad):
    response = _record(keypad, "48")
    assert response.source == SurveyResponse.Source.KEYPAD and response.template == keypad
    assert _answers(response) == {Dimension.OVERALL: 4, Dimension.RECOMMEND: 8}
    assert (response.lowest_score, response.recommend) == (4, 8)
    assert not response.needs_recovery
    assert not FollowUpCall.objects.exists()


def test_a_replayed_receipt_writes_nothing_new(keypad):
    client = ClientFactory()
    first = _record(keypad, "48", client=client)
    again = _record(keypad, "12", client=client)
    assert again.pk == first.pk
    assert SurveyResponse.objects.count() == 1 and SurveyAnswer.objects.count() == 2
    assert _answers(again) == {Dimension.OVERALL: 4, Dimension.RECOMMEND: 8}


def test_a_keypad_score_of_1_starts_the_same_service_recovery_as_the_web_survey(keypad):
    response = _record(keypad, "19")
    assert response.needs_recovery and response.lowest_score == 1
    recovery = FollowUpCall.objects.get(reason=FollowUpCall.Reason.SERVICE_RECOVERY)
    assert recovery.recovery_for == response and recovery.client == response.client
    assert recovery.source == surveys.response_source(response)
    assert recovery.status == FollowUpCall.Status.OPEN and recovery.assigned_to is not None
    # The receipt again: still one recovery call.
    _record(keypad, "19", reference="msg:1", client=response.client)
    assert FollowUpCall.objects.filter(reason="service_recovery").count() == 1


def test_a_low_recommend_alone_starts_recovery_too(keypad):
    assert _record(keypad, "53").needs_recovery


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("", {}),  # nothing pressed
        ("7", {}),  # 7 is no answer to a 1–5 question; the second was not answered
        ("79", {Dimension.RECOMMEND: 9}),
        ("*#", {}),
        ("5#", {Dimension.OVERALL: 5}),
        ("5912", {Dimension.OVERALL: 5, Dimension.RECOMMEND: 9}),  # extra keys left out
    ],
)
def test_keys_that_answer_nothing_leave_their_question_unanswered(keypad, keys, expected):
    response = _record(keypad, keys)
    assert _answers(response) == expected
    assert not response.needs_recovery
