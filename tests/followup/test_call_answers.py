"""Return-visit call scripts save their answers as they are asked: each answer chosen on the call
page goes to the call's survey response at once (a small POST per answer, htmx without a page
reload), so nothing is typed again after the call, and the record of the call keeps them."""

import pytest
from django.test import Client
from django.urls import reverse

from followup.models import FollowUpCall
from surveys.models import Dimension, SurveyResponse
from tests.factories import UserFactory
from tests.followup.factories import make_call
from tests.followup.test_calls import EN, _record, _user
from zhongdu import roles

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cm(client_for):
    """The signed-in client manager (t_clientmgr)."""
    http = client_for(roles.CLIENT_MANAGER)
    http.user = _user(roles.CLIENT_MANAGER)
    return http


def _answer(http, call, field, value, **headers):
    url = reverse("followup:call_answer", args=[call.pk])
    return http.post(url, {field: value}, **EN, **(headers or HTMX))


def _scores(response):
    return dict(response.answers.values_list("dimension", "score"))


def test_two_answers_posted_one_by_one_land_in_the_calls_response(cm):
    call = make_call(assigned_to=cm.user)
    first = _answer(cm, call, "score_doctor", "4")
    assert first.status_code == 200 and "Saved." in first.content.decode()
    call.refresh_from_db()
    response = call.survey_response
    assert response.source == SurveyResponse.Source.CALL and response.client == call.client
    assert _scores(response) == {Dimension.DOCTOR: 4}
    _answer(cm, call, "recommend", "9")
    call.refresh_from_db()
    assert call.survey_response == response  # one response for the call
    assert _scores(response) == {Dimension.DOCTOR: 4, Dimension.RECOMMEND: 9}
    response.refresh_from_db()
    assert (response.lowest_score, response.recommend) == (4, 9)
    # A changed mind replaces the answer; nothing chosen takes it back.
    _answer(cm, call, "score_doctor", "5")
    _answer(cm, call, "score_waiting", "3")
    _answer(cm, call, "score_waiting", "")
    assert _scores(response) == {Dimension.DOCTOR: 5, Dimension.RECOMMEND: 9}


def test_the_record_of_the_call_keeps_the_answers_saved_as_asked(cm):
    call = make_call(assigned_to=cm.user)
    _answer(cm, call, "score_doctor", "4")
    _answer(cm, call, "score_nursing", "5")
    # The page reloaded mid-call shows them chosen.
    page = cm.get(call.get_absolute_url(), **EN)
    form = page.context["form"]
    assert form.initial["score_doctor"] == 4 and form.initial["outcome"] == "reached"
    # The final record sends only what else was said: the saved answers stay.
    recorded = _record(cm, call, outcome="reached", score_overall="5", comment="很好")
    assert recorded.status_code == 302
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.DONE
    assert SurveyResponse.objects.count() == 1
    response = call.survey_response
    assert _scores(response) == {
        Dimension.DOCTOR: 4,
        Dimension.NURSING: 5,
        Dimension.OVERALL: 5,
    }
    assert response.comment == "很好" and not response.needs_recovery


def test_a_low_answer_saved_as_asked_starts_recovery_when_the_call_is_recorded(cm):
    call = make_call(assigned_to=cm.user)
    _answer(cm, call, "score_waiting", "1")
    # Not while the call is going on ...
    assert not FollowUpCall.objects.filter(reason="service_recovery").exists()
    _record(cm, call, outcome="reached")
    # ... but once it is recorded, as for answers typed at the end.
    recovery = FollowUpCall.objects.get(reason="service_recovery")
    call.refresh_from_db()
    assert recovery.recovery_for == call.survey_response
    assert call.survey_response.needs_recovery and call.survey_response.lowest_score == 1


def test_answers_of_a_dial_recorded_as_not_reached_are_dropped(cm):
    call = make_call(assigned_to=cm.user)
    _answer(cm, call, "score_doctor", "4")
    _record(cm, call, outcome="no_answer")
    call.refresh_from_db()
    assert call.survey_response is None and not SurveyResponse.objects.exists()


def test_a_score_out_of_range_is_refused_on_the_page(cm):
    call = make_call(assigned_to=cm.user)
    refused = _answer(cm, call, "score_doctor", "7")
    assert "Scores are from 1 to 5." in refused.content.decode()
    assert "Choose one" in _answer(cm, call, "score_doctor", "x").content.decode()
    assert "Choose one" in _answer(cm, call, "unknown", "3").content.decode()
    assert not SurveyResponse.objects.exists()


def test_without_htmx_the_answer_is_saved_and_the_call_page_comes_back(cm):
    call = make_call(assigned_to=cm.user)
    back = _answer(cm, call, "score_doctor", "4", HTTP_X_NOTHING="1")
    assert back.status_code == 302 and back.url == call.get_absolute_url()
    call.refresh_from_db()
    assert _scores(call.survey_response) == {Dimension.DOCTOR: 4}


def test_a_closed_call_takes_no_more_answers(cm):
    call = make_call(assigned_to=cm.user)
    _record(cm, call, outcome="refused")
    assert "already been closed" in _answer(cm, call, "score_doctor", "4").content.decode()
    assert not SurveyResponse.objects.exists()


def test_the_page_posts_each_answer_with_the_csrf_token(cm):
    call = make_call(assigned_to=cm.user)
    body = cm.get(call.get_absolute_url(), **EN).content.decode()
    url = reverse("followup:call_answer", args=[call.pk])
    assert f'hx-post="{url}"' in body and 'hx-params="score_doctor"' in body
    assert "X-CSRFToken" in body
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cm.user)
    assert strict.post(url, {"score_doctor": "4"}, **HTMX).status_code == 403


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.FOLLOWUP_DESK))
def test_who_may_not_record_calls_may_not_save_answers(client_for, role):
    call = make_call()
    http = client_for(role)
    assert _answer(http, call, "score_doctor", "4").status_code in (403, 404)
    assert not SurveyResponse.objects.exists()


def test_a_client_manager_may_not_answer_a_colleagues_call(cm):
    other = UserFactory(username="cm_other", roles=[roles.CLIENT_MANAGER])
    call = make_call(assigned_to=other)
    assert _answer(cm, call, "score_doctor", "4").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    call = make_call()
    assert _answer(client, call, "score_doctor", "4").status_code == 302
    assert not SurveyResponse.objects.exists()
