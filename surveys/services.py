"""Writes of the survey engine: single-use invitations (QR code on the visit slip, SMS where
links may go, one reminder), answers from the survey page and from return-visit calls landing in
one SurveyResponse, service recovery when an answer is low (a complaint when the comment reads
like one, and a call within one working day from whoever registered to make it: the return-visit
desk, `followup`), and market survey rounds (below)."""

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
from messaging.selectors import campaign_recipients
from zhongdu import audit
from zhongdu.services import create_once

from .models import (
    CALL_DIMENSIONS,
    Dimension,
    SurveyAnswer,
    SurveyInvitation,
    SurveyPolicy,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyTemplate,
)
from .selectors import ROUND_SMS_TEMPLATE

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
    days = SurveyPolicy.current().survey_valid_days
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


def response_record_call(
    *, client, visit, scores: dict, recommend, comment: str, by, response=None
):
    """The satisfaction answers given on a reached return-visit call (the caller keeps the
    response on its call). With `response`, the one its answers were saved into as they were
    asked (response_answer_call): what the record says replaces those answers, what it leaves
    out keeps them, and service recovery starts now if the whole is low."""
    if response is not None:
        return _response_complete(
            response, scores=scores, recommend=recommend, comment=comment, by=by
        )
    rows = [
        SurveyAnswer(dimension=dimension, score=int(score)) for dimension, score in scores.items()
    ]
    if recommend is not None:
        rows.append(SurveyAnswer(dimension=Dimension.RECOMMEND, score=int(recommend)))
    return _response(
        template=None,
        source=SurveyResponse.Source.CALL,
        client=client,
        answers=rows,
        comment=(comment or "").strip()[:2000],
        by=by,
        **_visit_links(visit),
    )


KEYPAD_TEMPLATE = "keypad"


def keypad_survey() -> SurveyTemplate | None:
    """The short survey asked by telephone, one key per question (satisfaction 1–5, would
    recommend 0–9)."""
    return SurveyTemplate.objects.filter(code=KEYPAD_TEMPLATE, active=True).first()


def _keypad_score(question: SurveyQuestion, key: str) -> int | None:
    """The score a key gives this question, or None (unanswered): no key, a key that is not a
    digit (* or #), or a digit the question does not offer (7 for a 1–5 question)."""
    if len(key) != 1 or not key.isdigit():
        return None
    try:
        return _score(question, key)
    except ValidationError:
        return None


def response_record_keypad(
    *, client, template: SurveyTemplate, keys: str, source_reference: str, visit=None, at=None
) -> SurveyResponse:
    """The keys pressed on a keypad survey call, one per scored question in order, written as a
    SurveyResponse like the survey page's (source "keypad"), so that a low score starts the same
    service recovery. Once per `source_reference` (the outbox message, "msg:<id>"): a receipt
    pushed again returns the response the first one wrote. Keys that answer nothing (none
    pressed, a score the question does not offer) leave their question unanswered; the response
    is written all the same, so the call's result is kept once."""
    reference = source_reference[:40]
    existing = SurveyResponse.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    questions = [
        question
        for question in template.questions.all()
        if question.type in (SurveyQuestion.Type.SCALE, SurveyQuestion.Type.RECOMMEND)
    ]
    keys = keys or ""
    rows = []
    for position, question in enumerate(questions):
        score = _keypad_score(question, keys[position : position + 1])
        if score is not None:
            rows.append(SurveyAnswer(question=question, dimension=question.dimension, score=score))
    try:
        # A savepoint: a receipt applied twice at once writes one response; the second finds it.
        with transaction.atomic():
            return _response(
                template=template,
                source=SurveyResponse.Source.KEYPAD,
                client=client,
                answers=rows,
                comment="",
                reference=reference,
                submitted_at=at or timezone.now(),
                **_visit_links(visit),
            )
    except IntegrityError:
        return SurveyResponse.objects.get(reference=reference)


def response_answer_call(
    *, response: SurveyResponse | None, client, visit, dimension: str, score=None, text=""
) -> SurveyResponse:
    """One answer given on a return-visit call, saved as it is asked: into the call's response
    (`response`, made on the first answer; the caller keeps it on its call). A score of None and
    no text takes the answer back. Service recovery waits for the call to be recorded
    (response_record_call with this response), when every answer is in."""
    if dimension == Dimension.COMMENT:
        text = (text or "").strip()[:2000]
    elif dimension == Dimension.RECOMMEND:
        if score is not None and not 0 <= int(score) <= 10:
            raise ValidationError(_("The recommend score is from 0 to 10."))
    elif dimension in CALL_DIMENSIONS:
        if score is not None and not 1 <= int(score) <= 5:
            raise ValidationError(_("Scores are from 1 to 5."))
    else:
        raise ValidationError(_("Choose one of the offered scores."))
    with transaction.atomic():
        if response is None:
            response = SurveyResponse.objects.create(
                source=SurveyResponse.Source.CALL, client=client, **_visit_links(visit)
            )
        else:
            response = SurveyResponse.objects.select_for_update().get(pk=response.pk)
        if dimension == Dimension.COMMENT:
            response.comment = text
        else:
            SurveyAnswer.objects.filter(response=response, dimension=dimension).delete()
            if score is not None:
                SurveyAnswer.objects.create(response=response, dimension=dimension, score=score)
        _summarise(response)
        response.save()
    return response


def response_discard(*, response: SurveyResponse) -> None:
    """Drop the answers saved on a return-visit call that did not reach the client after all
    (never one that started service recovery, nor one from elsewhere)."""
    if response.source == SurveyResponse.Source.CALL and not response.needs_recovery:
        response.delete()


def _summarise(response: SurveyResponse) -> None:
    """The response's lowest score and recommend score, from its answers."""
    scores = list(response.answers.values_list("dimension", "score"))
    scale = [s for d, s in scores if s is not None and d != Dimension.RECOMMEND]
    response.lowest_score = min(scale) if scale else None
    response.recommend = next(
        (s for d, s in scores if d == Dimension.RECOMMEND and s is not None), None
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
    policy = SurveyPolicy.current()
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


def _response_complete(response, *, scores: dict, recommend, comment: str, by) -> SurveyResponse:
    with transaction.atomic():
        response = SurveyResponse.objects.select_for_update().get(pk=response.pk)
        given = {dimension: int(score) for dimension, score in scores.items() if score is not None}
        if recommend is not None:
            given[Dimension.RECOMMEND] = int(recommend)
        SurveyAnswer.objects.filter(response=response, dimension__in=list(given)).delete()
        SurveyAnswer.objects.bulk_create(
            SurveyAnswer(response=response, dimension=dimension, score=score)
            for dimension, score in given.items()
        )
        comment = (comment or "").strip()[:2000]
        if comment:
            response.comment = comment
        _summarise(response)
        policy = SurveyPolicy.current()
        scale, recommend = response.lowest_score, response.recommend
        low = (scale is not None and scale <= policy.recovery_score) or (
            recommend is not None and recommend <= policy.recovery_recommend
        )
        response.needs_recovery = bool(low)
        response.submitted_at = timezone.now()
        response.save()
        if low:
            _start_recovery(response, policy=policy, by=by)
    return response


def _reads_like_a_complaint(comment: str, policy: SurveyPolicy) -> bool:
    text = comment.lower()
    return any(word.lower() in text for word in policy.complaint_word_list)


# Who performs service recovery: functions (response, *, by) registered by a higher layer in
# its AppConfig.ready() (the return-visit desk plans a call within one working day). The survey
# engine decides that a response needs recovery; it does not know how the hospital recovers.
_recovery: list = []


def register_recovery(handler) -> None:
    """Called with every response that needs service recovery, in its transaction."""
    if handler not in _recovery:
        _recovery.append(handler)


def response_source(response: SurveyResponse) -> str:
    """The origin the recovery call and the complaint record ("<app label>.<model>:<id>")."""
    return f"surveys.surveyresponse:{response.pk}"


def _start_recovery(response: SurveyResponse, *, policy: SurveyPolicy, by=None) -> None:
    """Service recovery: whoever registered calls the client back; the comment becomes a
    complaint when it reads like one."""
    for handler in _recovery:
        handler(response, by=by)
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
            source=response_source(response),
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
    """One reminder to each survey sent by SMS more than SurveyPolicy.survey_reminder_days
    ago and still unanswered, while its link is valid. Served by invitation_to_remind_idx; safe
    to re-run (reminded_at is set once, by a conditional update). Returns the reminders queued."""
    if not messaging.template_available("survey_reminder"):
        return 0
    now = now or timezone.now()
    days = SurveyPolicy.current().survey_reminder_days
    due = (
        SurveyInvitation.objects.filter(
            used_at__isnull=True,
            reminded_at__isnull=True,
            sms_sent_at__lte=now - datetime.timedelta(days=days),
            expires_at__gt=now,
            # Market survey rounds ask once (below).
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


# --- Market survey rounds ------------------------------------------------------------
#
# Market survey rounds (市场调查): a survey template of kind "market" sent to a segment
# of clients, one single-use link each, by marketing SMS.
#
# - The segment is messaging's campaign segment (messaging.selectors.campaign_segment) after the
#   marketing consent rules (campaign_recipients with kind "marketing"): a market survey is not
#   about a service the client received, so only those who agreed to marketing SMS are asked. The
#   outbox applies the opt-outs and the quiet hours again when it sends.
# - The invitations are written in the background (surveys.tasks.survey_round_send): bounded
#   batches after the last client id done, each batch one transaction writing the invitations
#   (unique per round and client) and the outbox rows (key `survey-round:<round>:client:<client>`),
#   so a client is asked once however often the job runs. A number that cannot receive a link
#   through the SMS backend in use (mainland numbers through Twilio) is counted, not sent to.
# - Answers land in SurveyResponse like every other survey's; the satisfaction figures leave market
#   surveys out (surveys.selectors.satisfaction_responses). Market rounds get no reminder:
#   one marketing message per round is enough.

ROUND_BATCH = 500
ROUND_BATCHES_PER_RUN = 20
# A run of the job writes a batch well within this; a round that has not moved for longer has
# lost its job.
STALLED_AFTER = datetime.timedelta(minutes=10)


def round_key(round_id: int, client_id: int) -> str:
    return f"survey-round:{round_id}:client:{client_id}"


def round_recipients(segment: dict):
    """Who a round with this segment asks: the segment's clients who agreed to marketing SMS
    and did not opt out, with a mobile number."""
    return campaign_recipients(segment, "marketing")


def round_create(
    *,
    name: str,
    template: SurveyTemplate,
    segment: dict,
    send_at,
    by,
    request=None,
    request_key: str = "",
) -> SurveyRound:
    """Save the round and start writing its invitations in the background. The same
    `request_key` (the form's one-time key) returns the round it made the first time."""

    def write() -> SurveyRound:
        return _round_write(
            name=name,
            template=template,
            segment=segment,
            send_at=send_at,
            by=by,
            request=request,
            request_key=request_key,
        )

    return create_once(SurveyRound, request_key, write)[0]


@transaction.atomic
def _round_write(*, name, template, segment, send_at, by, request, request_key) -> SurveyRound:
    if template.kind != SurveyTemplate.Kind.MARKET or not template.active:
        raise ValidationError(_("Choose an active market survey."))
    if not template.questions.exists():
        raise ValidationError(_("This survey has no questions yet."))
    if not messaging.template_available(ROUND_SMS_TEMPLATE):
        raise messaging.template_missing(ROUND_SMS_TEMPLATE, name=_("Market survey invitation"))
    from .tasks import survey_round_send  # the task module imports this one

    days = SurveyPolicy.current().survey_valid_days
    survey_round = SurveyRound.objects.create(
        request_key=request_key,
        name=name,
        template=template,
        segment=segment,
        send_at=send_at,
        expires_at=send_at + datetime.timedelta(days=days),
        total=round_recipients(segment).count(),
        started_at=timezone.now(),
        progress_at=timezone.now(),
        created_by=by,
    )
    audit.record(audit.Action.CREATE, actor=by, obj=survey_round, request=request)
    survey_round_send.delay_on_commit(survey_round.pk)
    return survey_round


def round_send(
    *, round_id: int, batch: int = ROUND_BATCH, batches: int = ROUND_BATCHES_PER_RUN
) -> bool:
    """Write up to `batches` batches of invitations; True when the segment is done. Safe to run
    again or twice at once: each batch starts after the last client id committed, and the
    invitation and outbox keys are unique."""
    survey_round = SurveyRound.objects.filter(pk=round_id).first()
    if survey_round is None or survey_round.done_at:
        return True
    recipients = round_recipients(survey_round.segment).only("pk", "name", "phone").order_by("pk")
    after = survey_round.sending_after
    hospital_values = messaging.hospital_placeholder_values()
    for _n in range(batches):
        clients = list(recipients.filter(pk__gt=after)[:batch])
        if not clients:
            SurveyRound.objects.filter(pk=round_id, done_at__isnull=True).update(
                done_at=timezone.now()
            )
            return True
        with transaction.atomic():
            # Re-read under a lock: a second run of the job waits, then starts where this
            # batch ends.
            survey_round = SurveyRound.objects.select_for_update().get(pk=round_id)
            if survey_round.sending_after != after:
                after = survey_round.sending_after
                continue
            invited = no_link = 0
            for client in clients:
                if not messaging.links_allowed(client.phone):
                    no_link += 1
                    continue
                invitation, created = SurveyInvitation.objects.get_or_create(
                    round=survey_round,
                    client=client,
                    defaults={
                        "template_id": survey_round.template_id,
                        "channel": SurveyInvitation.Channel.CAMPAIGN,
                        "expires_at": survey_round.expires_at,
                        "sms_sent_at": survey_round.send_at,
                    },
                )
                if not created:
                    continue
                message = messaging.outbox_enqueue(
                    idempotency_key=round_key(round_id, client.pk),
                    purpose=Purpose.SURVEY,
                    client=client,
                    template_code=ROUND_SMS_TEMPLATE,
                    values={"name": client.name, "link": survey_link(invitation)},
                    send_after=survey_round.send_at,
                    expires_at=survey_round.expires_at,
                    hospital_values=hospital_values,
                )
                # Held as it was written (a route's rule, a hole): not an invitation sent.
                invited += message.status != message.Status.SUPPRESSED
            after = clients[-1].pk
            survey_round.sending_after = after
            survey_round.invited += invited
            survey_round.no_link += no_link
            survey_round.progress_at = timezone.now()
            survey_round.save(update_fields=["sending_after", "invited", "no_link", "progress_at"])
    return False


def rounds_resume(*, now=None) -> int:
    """Start again the rounds whose job stopped (a worker lost for good, a queue emptied):
    not done, and no batch written for STALLED_AFTER. Beat's sweep; returns the rounds queued."""
    from .tasks import survey_round_send

    now = now or timezone.now()
    stalled = SurveyRound.objects.filter(
        done_at__isnull=True, progress_at__lt=now - STALLED_AFTER
    ).values_list("pk", flat=True)
    resumed = 0
    for round_id in stalled:
        # Claim it by moving progress_at: two sweeps at once queue it once.
        if SurveyRound.objects.filter(pk=round_id, progress_at__lt=now - STALLED_AFTER).update(
            progress_at=now
        ):
            survey_round_send.delay_on_commit(round_id)
            resumed += 1
    return resumed
