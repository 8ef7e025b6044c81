"""Survey templates in the admin (questions inline, checked), read-only invitations and
responses, and the demo surveys."""

import pytest
from django.urls import reverse

from demo.surveys import seed_surveys
from messaging.models import Purpose, SmsTemplate
from surveys.admin import SurveyQuestionForm
from surveys.models import Dimension, SurveyInvitation, SurveyQuestion, SurveyTemplate
from tests.surveys.factories import answered, invitation, satisfaction_survey
from zhongdu import roles

pytestmark = pytest.mark.django_db

ADD = reverse("admin:surveys_surveytemplate_add")


@pytest.fixture
def admin(client_for):
    return client_for(roles.ADMINISTRATOR)


def _template_post(questions, **fields):
    data = {
        "code": "new",
        "name": "新问卷",
        "name_en": "",
        "kind": "satisfaction",
        "intro": "",
        "intro_en": "",
        "active": "on",
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for n, question in enumerate(questions):
        for key, value in {"order": n, "text_en": "", "choices": "", "required": "on"}.items():
            data[f"questions-{n}-{key}"] = value
        for key, value in question.items():
            data[f"questions-{n}-{key}"] = value
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


DOCTOR = {"text": "医生？", "type": "scale", "dimension": "doctor"}


def test_an_administrator_writes_a_survey_with_its_questions(admin):
    choice = {"text": "途径？", "type": "choice", "dimension": "other", "choices": "亲友|Friends"}
    response = admin.post(ADD, _template_post([DOCTOR, choice]))
    assert response.status_code == 302
    template = SurveyTemplate.objects.get(code="new")
    assert template.questions.count() == 2


def test_a_choice_question_needs_its_choices(admin):
    choice = {"text": "途径？", "type": "choice", "dimension": "other", "choices": "  \n"}
    response = admin.post(ADD, _template_post([choice]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "A question of one choice needs its choices, one a line." in response.content.decode()
    assert not SurveyTemplate.objects.exists()


@pytest.mark.parametrize(
    "question,message",
    [
        ({"type": "recommend", "dimension": "doctor"}, "A 0–10 question measures"),
        ({"type": "scale", "dimension": "recommend"}, "is asked as a 0–10 question"),
        ({"type": "scale", "dimension": "comment"}, "A comment is asked as a text question."),
    ],
)
def test_a_question_type_must_fit_its_dimension(admin, question, message):
    response = admin.post(
        ADD, _template_post([{"text": "?", **question}]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_only_one_survey_is_the_default(admin):
    satisfaction_survey()
    response = admin.post(ADD, _template_post([DOCTOR], is_default="on"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "“满意度调查” is the default survey: untick it there first." in response.content.decode()
    assert SurveyTemplate.objects.filter(is_default=True).count() == 1


def test_the_default_survey_is_an_active_satisfaction_survey_with_questions(admin):
    response = admin.post(
        ADD,
        _template_post([], is_default="on", kind="market", active=None),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Only a satisfaction survey can be the default." in body
    assert "The default survey must be active." in body
    empty = admin.post(ADD, _template_post([], is_default="on"), HTTP_ACCEPT_LANGUAGE="en")
    assert "The default survey needs at least one question." in empty.content.decode()
    assert not SurveyTemplate.objects.exists()


def test_invitations_are_read_only_and_never_show_the_whole_token(admin):
    made = invitation()
    body = admin.get(reverse("admin:surveys_surveyinvitation_changelist")).content.decode()
    assert f"/s/{made.token[:4]}…/" in body
    assert made.token not in body
    page = admin.get(reverse("admin:surveys_surveyinvitation_change", args=[made.pk]))
    assert page.status_code == 200 and made.token not in page.content.decode()
    assert admin.get(reverse("admin:surveys_surveyinvitation_add")).status_code == 403


def test_responses_are_read_only_with_their_answers(admin):
    response = answered(comment="很好")
    page = admin.get(reverse("admin:surveys_surveyresponse_change", args=[response.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "很好" in body and body.count("dimension") >= 1
    assert 'name="_save"' not in body
    assert admin.get(reverse("admin:surveys_surveyresponse_add")).status_code == 403


def test_the_demo_surveys_and_their_sms_are_made_once_and_valid():
    # Three SMS templates and the keypad survey's two voice ones (its text and its reply).
    assert seed_surveys() == {"templates": 3, "sms": 5}
    assert seed_surveys() == {"templates": 0, "sms": 0}
    default = SurveyTemplate.objects.get(is_default=True)
    assert default.kind == SurveyTemplate.Kind.SATISFACTION and default.active
    dimensions = list(default.questions.values_list("dimension", flat=True))
    assert dimensions == [
        Dimension.DOCTOR,
        Dimension.NURSING,
        Dimension.FRONT_DESK,
        Dimension.ENVIRONMENT,
        Dimension.WAITING,
        Dimension.OVERALL,
        Dimension.RECOMMEND,
        Dimension.COMMENT,
    ]
    assert all(q.text and q.text_en for q in SurveyQuestion.objects.all())
    market = SurveyTemplate.objects.get(kind=SurveyTemplate.Kind.MARKET)
    assert "市场调查" in market.name
    for question in SurveyQuestion.objects.all():
        data = {
            "order": question.order,
            "text": question.text,
            "text_en": question.text_en,
            "type": question.type,
            "dimension": question.dimension,
            "choices": question.choices,
            "required": question.required,
        }
        assert SurveyQuestionForm(data).is_valid(), question
    for code in ("survey_invitation", "survey_reminder"):
        sms = SmsTemplate.objects.get(code=code)
        sms.full_clean()
        assert sms.purpose == Purpose.SURVEY and sms.kind == "service"
        assert "{name}" in sms.body and "{link}" in sms.body
    # The market survey goes to those who agreed to marketing SMS, with the way to opt out.
    market_sms = SmsTemplate.objects.get(code="market_survey")
    market_sms.full_clean()
    assert market_sms.kind == "marketing" and "{link}" in market_sms.body
    assert "退订" in market_sms.body


def test_the_demo_keeps_a_default_chosen_by_an_administrator():
    chosen = satisfaction_survey()
    seed_surveys()
    assert SurveyTemplate.objects.get(is_default=True) == chosen
    assert SurveyInvitation.objects.count() == 0
