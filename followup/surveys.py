"""Writes of the survey engine: single-use invitations (QR code on the visit slip, SMS where
links may go, one reminder), answers from the survey page and from return-visit calls landing in
one SurveyResponse, and service recovery when an answer is low: a call within one working day,
and a complaint when the comment reads like one."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as complaint_services
from complaints.models import Complaint
from guide.models import Visit
from messaging import services as messaging
from messaging.models import Purpose
from zhongdu.workcalendar import WorkCalendar

from .models import (
    Dimension,
    FollowUpCall,
    FollowUpPolicy,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from .services import call_create

logger = logging.getLogger(__name__)


# --- Surveys ------------------------------------------------------------------------


def default_survey() -> SurveyTemplate | None:
    return SurveyTemplate.objects.filter(is_default=True, active=True).first()


def invitation_for_visit(*, visit, channel=SurveyInvitation.Channel.QR) -> SurveyInvitation:
    """The visit's satisfaction survey link (made once, however often the slip is printed)."""
    template = default_survey()
    if template is None:
        raise ValidationError(_("No default satisfaction survey is set up."))
    existing = SurveyInvitation.objects.filter(visit=visit, template=template).first()
    if existing is not None:
        return existing
    days = FollowUpPolicy.current().survey_valid_days
    try:
        with transaction.atomic():
            return SurveyInvitation.objects.create(
                template=template,
                client=visit.client,
                visit=visit,
                channel=channel,
                expires_at=timezone.now() + datetime.timedelta(days=days),
            )
    except IntegrityError:
        return SurveyInvitation.objects.get(visit=visit, template=template)


def _score(question: SurveyQuestion, raw) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(_("Choose one of the offered scores.")) from None
    low, high = (0, 10) if question.type == SurveyQuestion.Type.RECOMMEND else (1, 5)
    if not low <= value <= high:
        raise ValidationError(_("Choose one of the offered scores."))
    return value


def _visit_links(visit) -> dict:
    if visit is None:
        return {"visit": None, "department": None, "expert": None}
    return {"visit": visit, "department": visit.department, "expert": visit.expert}


def survey_submit(
    *, invitation: SurveyInvitation, answers: dict, comment: str = ""
) -> SurveyResponse:
    """Record the answers given on the survey page (answers: question id -> value). The link is
    used once: the conditional update that marks it decides between two submissions."""
    if invitation.is_expired:
        raise ValidationError(_("This survey link has expired."), code="expired")
    questions = list(invitation.template.questions.all())
    rows = []
    for question in questions:
        raw = answers.get(question.pk)
        if question.type in (SurveyQuestion.Type.SCALE, SurveyQuestion.Type.RECOMMEND):
            score = _score(question, raw)
            if score is None and question.required:
                raise ValidationError(_("Please answer every question marked *."))
            if score is not None:
                rows.append(
                    SurveyAnswer(question=question, dimension=question.dimension, score=score)
                )
        else:
            text = (raw or "").strip()[:2000]
            offered = [value for value, _label in question.choice_list()]
            if question.type == SurveyQuestion.Type.CHOICE and text and text not in offered:
                raise ValidationError(_("Choose one of the offered answers."))
            if not text and question.required:
                raise ValidationError(_("Please answer every question marked *."))
            if text:
                rows.append(
                    SurveyAnswer(question=question, dimension=question.dimension, text=text)
                )
    comment = (comment or "").strip()[:2000]
    with transaction.atomic():
        used = SurveyInvitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if not used:
            raise ValidationError(_("This survey has already been answered."), code="used")
        response = _response(
            template=invitation.template,
            source=SurveyResponse.Source.SURVEY,
            client=invitation.client,
            invitation=invitation,
            answers=rows,
            comment=comment,
            **_visit_links(invitation.visit),
        )
    return response


def response_record_call(*, call: FollowUpCall, scores: dict, recommend, comment: str, by):
    """The satisfaction answers given on a reached return-visit call."""
    rows = [
        SurveyAnswer(dimension=dimension, score=int(score)) for dimension, score in scores.items()
    ]
    if recommend is not None:
        rows.append(SurveyAnswer(dimension=Dimension.RECOMMEND, score=int(recommend)))
    visit = call.visit
    return _response(
        template=None,
        source=SurveyResponse.Source.CALL,
        client=call.client,
        call=call,
        answers=rows,
        comment=(comment or "").strip()[:2000],
        by=by,
        **_visit_links(visit),
    )


def _response(*, answers, by=None, **fields) -> SurveyResponse:
    scale = [a.score for a in answers if a.score is not None and a.dimension != Dimension.RECOMMEND]
    recommend = next(
        (a.score for a in answers if a.dimension == Dimension.RECOMMEND and a.score is not None),
        None,
    )
    comment_answers = [a.text for a in answers if a.dimension == Dimension.COMMENT and a.text]
    if comment_answers and not fields.get("comment"):
        fields["comment"] = comment_answers[0]
    policy = FollowUpPolicy.current()
    low = (scale and min(scale) <= policy.recovery_score) or (
        recommend is not None and recommend <= policy.recovery_recommend
    )
    response = SurveyResponse.objects.create(
        lowest_score=min(scale) if scale else None,
        recommend=recommend,
        needs_recovery=bool(low),
        **fields,
    )
    for answer in answers:
        answer.response = response
    SurveyAnswer.objects.bulk_create(answers)
    if low:
        _start_recovery(response, policy=policy, by=by)
    return response


def _reads_like_a_complaint(comment: str, policy: FollowUpPolicy) -> bool:
    text = comment.lower()
    return any(word.lower() in text for word in policy.complaint_word_list)


def _start_recovery(response: SurveyResponse, *, policy: FollowUpPolicy, by=None) -> None:
    """Service recovery: a client manager calls within one working day; the comment becomes a
    complaint when it reads like one."""
    calendar = WorkCalendar.load()
    due = calendar.working_day_on_or_after(timezone.localdate())
    scores = []
    if response.lowest_score is not None:
        scores.append(_("lowest score %(score)s/5") % {"score": response.lowest_score})
    if response.recommend is not None:
        scores.append(_("recommend %(score)s/10") % {"score": response.recommend})
    call_create(
        client=response.client,
        due_on=due,
        reason=FollowUpCall.Reason.SERVICE_RECOVERY,
        title=_("Low satisfaction: %(scores)s") % {"scores": ", ".join(scores)},
        script=_(
            "Thank the client for their answers, apologise, ask what went wrong and what would"
            " put it right; raise a complaint if they want one."
        ),
        visit=response.visit,
        source=f"followup.surveyresponse:{response.pk}",
        by=by,
    )
    if response.comment and _reads_like_a_complaint(response.comment, policy):
        complaint_services.complaint_create(
            client=response.client,
            by=by,
            words=response.comment,
            channel=(
                Complaint.Channel.SURVEY
                if response.source == SurveyResponse.Source.SURVEY
                else Complaint.Channel.RETURN_CALL
            ),
            department=response.department,
            source=f"followup.surveyresponse:{response.pk}",
        )


def survey_links_allowed(phone: str) -> bool:
    return messaging.links_allowed(phone)


def invitation_send_sms(*, invitation: SurveyInvitation, link: str, reminder: bool = False) -> bool:
    """Send (or remind of) a survey link by SMS, once each, where the SMS backend may carry a
    link to the number. True when a message was queued."""
    phone = invitation.client.phone
    if not phone or not survey_links_allowed(phone) or invitation.used_at or invitation.is_expired:
        return False
    template = "survey_reminder" if reminder else "survey_invitation"
    if not messaging.template_available(template):
        return False
    field = "reminded_at" if reminder else "sms_sent_at"
    with transaction.atomic():
        marked = SurveyInvitation.objects.filter(pk=invitation.pk, **{f"{field}__isnull": True})
        if not marked.update(**{field: timezone.now()}):
            return False
        messaging.outbox_enqueue(
            idempotency_key=f"survey:{invitation.pk}:{'reminder' if reminder else 'invite'}",
            purpose=Purpose.SURVEY,
            client=invitation.client,
            template_code=template,
            values={"name": invitation.client.name, "link": link},
            expires_at=invitation.expires_at,
        )
    return True


# --- Links and the SMS sweeps -------------------------------------------------------

# A visit's survey SMS waits this long after the visit ends: the slip's QR code comes first, and
# whoever answers it at the desk gets no message.
SMS_DELAY = datetime.timedelta(hours=2)
# Visits that ended longer ago than this get no survey SMS (a sweep that was down for a week
# does not send a week of stale links at once).
SMS_WINDOW = datetime.timedelta(days=2)
BATCH = 200


def survey_link(invitation: SurveyInvitation) -> str:
    """The absolute address of the survey page, as printed under the QR code and sent by SMS:
    PUBLIC_BASE_URL is the address the public reaches the application at."""
    return settings.PUBLIC_BASE_URL + invitation.get_absolute_url()


def surveys_send_after_visits(*, now=None, batch: int = BATCH) -> int:
    """The survey SMS of visits that ended: done, finished between SMS_WINDOW and SMS_DELAY
    ago, not answered yet and sent no survey SMS. Safe to re-run and to run twice at once: the
    invitation is made once per visit (a unique index) and its SMS once (a conditional update
    and the outbox's idempotency key). Works through the window in bounded batches by visit id,
    so visits that cannot get a link (no phone, a backend that refuses links) never hold back the
    others. Returns the number of messages queued."""
    template = default_survey()
    if template is None or not messaging.template_available("survey_invitation"):
        return 0
    now = now or timezone.now()
    done_before, done_after = now - SMS_DELAY, now - SMS_WINDOW
    answered_or_sent = SurveyInvitation.objects.filter(visit=OuterRef("pk"), template=template)
    visits = (
        Visit.objects.filter(
            # day first: the (day, status) index of the board narrows it to three days' visits.
            day__gte=timezone.localtime(done_after).date(),
            status=Visit.Status.DONE,
            finished_at__gt=done_after,
            finished_at__lte=done_before,
        )
        .exclude(
            Exists(answered_or_sent.filter(Q(used_at__isnull=False) | Q(sms_sent_at__isnull=False)))
        )
        .select_related("client")
        .order_by("pk")
    )
    sent, after = 0, 0
    while True:
        rows = list(visits.filter(pk__gt=after)[:batch])
        for visit in rows:
            try:
                invitation = invitation_for_visit(visit=visit, channel=SurveyInvitation.Channel.SMS)
                sent += invitation_send_sms(invitation=invitation, link=survey_link(invitation))
            except ValidationError:
                # A merged record or a template that went away meanwhile: this visit only.
                logger.warning("No survey SMS for visit %s", visit.pk, exc_info=True)
        if len(rows) < batch:
            return sent
        after = rows[-1].pk


def surveys_remind(*, now=None, batch: int = BATCH) -> int:
    """One reminder to each survey sent by SMS more than FollowUpPolicy.survey_reminder_days
    ago and still unanswered, while its link is valid. Served by invitation_to_remind_idx; safe
    to re-run (reminded_at is set once, by a conditional update). Returns the reminders queued."""
    if not messaging.template_available("survey_reminder"):
        return 0
    now = now or timezone.now()
    days = FollowUpPolicy.current().survey_reminder_days
    due = (
        SurveyInvitation.objects.filter(
            used_at__isnull=True,
            reminded_at__isnull=True,
            sms_sent_at__lte=now - datetime.timedelta(days=days),
            expires_at__gt=now,
            # Market survey rounds ask once (followup.survey_rounds).
            round__isnull=True,
        )
        .select_related("client")
        .order_by("pk")
    )
    reminded, after = 0, 0
    while True:
        rows = list(due.filter(pk__gt=after)[:batch])
        for invitation in rows:
            reminded += invitation_send_sms(
                invitation=invitation, link=survey_link(invitation), reminder=True
            )
        if len(rows) < batch:
            return reminded
        after = rows[-1].pk
