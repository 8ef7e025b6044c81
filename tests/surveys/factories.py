"""Factories for the survey engine's tests: the satisfaction survey, finished visits, invitations
and responses, made through the real services (the invitation by surveys.services, the visit's
steps by guide)."""

import datetime

from django.utils import timezone

from guide import services as guide_services
from guide.models import Visit
from surveys import services as surveys
from surveys.models import (
    Dimension,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from tests.followup.factories import sms_template
from tests.guide.factories import triaged, walk_in
from tests.zhongdu.factories import DepartmentFactory, ExpertFactory


def satisfaction_survey(default=True):
    template = SurveyTemplate.objects.create(
        code="satisfaction", name="满意度调查", name_en="Satisfaction survey", is_default=default
    )
    for order, dimension in enumerate(
        [
            Dimension.DOCTOR,
            Dimension.NURSING,
            Dimension.FRONT_DESK,
            Dimension.ENVIRONMENT,
            Dimension.WAITING,
            Dimension.OVERALL,
        ]
    ):
        SurveyQuestion.objects.create(
            template=template,
            order=order,
            text=f"您对{Dimension(dimension).label}满意吗？",
            text_en=f"How satisfied are you with: {Dimension(dimension).label}?",
            dimension=dimension,
        )
    SurveyQuestion.objects.create(
        template=template,
        order=10,
        text="您愿意向亲友推荐我院吗？",
        text_en="Would you recommend us?",
        type=SurveyQuestion.Type.RECOMMEND,
        dimension=Dimension.RECOMMEND,
    )
    SurveyQuestion.objects.create(
        template=template,
        order=11,
        text="您的意见和建议",
        text_en="Your comments",
        type=SurveyQuestion.Type.TEXT,
        dimension=Dimension.COMMENT,
        required=False,
    )
    return template


def all_answers(template, score=5, recommend=9, comment=""):
    answers = {}
    for question in template.questions.all():
        if question.type == SurveyQuestion.Type.SCALE:
            answers[question.pk] = str(score)
        elif question.type == SurveyQuestion.Type.RECOMMEND:
            answers[question.pk] = str(recommend)
        elif question.type == SurveyQuestion.Type.TEXT:
            answers[question.pk] = comment
    return answers


def finished_visit(*, client=None, department=None, expert=None, finished_ago=None):
    """A walk-in triaged to a department (and doctor), seen and done; `finished_ago` moves the
    end of the visit back by that timedelta."""
    department = department or DepartmentFactory()
    visit = triaged(walk_in(client=client), department=department, expert=expert)
    guide_services.visit_set_status(visit=visit, new_status=Visit.Status.WITH_DOCTOR, by=None)
    guide_services.visit_set_status(visit=visit, new_status=Visit.Status.DONE, by=None)
    if finished_ago is not None:
        at = timezone.now() - finished_ago
        Visit.objects.filter(pk=visit.pk).update(finished_at=at, day=timezone.localtime(at).date())
        visit.refresh_from_db()
    return visit


def doctor_in(department, name="李医生"):
    return ExpertFactory(name=name, departments=[department])


def invitation(*, visit=None, client=None, template=None, **visit_kwargs):
    """The survey link of a finished visit (the default satisfaction survey, made if missing)."""
    if template is None and not surveys.default_survey():
        satisfaction_survey()
    visit = visit or finished_visit(client=client, **visit_kwargs)
    return surveys.invitation_for_visit(visit=visit)


def expire(invitation_):
    SurveyInvitation.objects.filter(pk=invitation_.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    invitation_.refresh_from_db()
    return invitation_


def answered(*, score=5, recommend=9, comment="", at=None, **kwargs) -> SurveyResponse:
    """A survey answered on the page (through the service), optionally moved to `at`."""
    made = invitation(**kwargs)
    response = surveys.survey_submit(
        invitation=made,
        answers=all_answers(made.template, score=score, recommend=recommend, comment=comment),
    )
    if at is not None:
        SurveyResponse.objects.filter(pk=response.pk).update(submitted_at=at)
        response.refresh_from_db()
    return response


def survey_sms_templates():
    sms_template("survey_invitation", "{name}您好，请评价本次就诊：{link}")
    sms_template("survey_reminder", "{name}您好，您的评价对我们很重要：{link}")
