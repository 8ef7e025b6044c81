"""Writes of market survey rounds (市场调查): a survey template of kind "market" sent to a segment
of clients, one single-use link each, by marketing SMS.

- The segment is messaging's campaign segment (messaging.selectors.campaign_segment) after the
  marketing consent rules (campaign_recipients with kind "marketing"): a market survey is not
  about a service the client received, so only those who agreed to marketing SMS are asked. The
  outbox applies the opt-outs and the quiet hours again when it sends.
- The invitations are written in the background (followup.tasks.survey_round_send): bounded
  batches after the last client id done, each batch one transaction writing the invitations
  (unique per round and client) and the outbox rows (key `survey-round:<round>:client:<client>`),
  so a client is asked once however often the job runs. A number that cannot receive a link
  through the SMS backend in use (mainland numbers through Twilio) is counted, not sent to.
- Answers land in SurveyResponse like every other survey's; the satisfaction figures leave market
  surveys out (followup.survey_selectors.satisfaction_responses). Market rounds get no reminder:
  one marketing message per round is enough.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging import services as messaging
from messaging.models import Purpose
from messaging.selectors import campaign_recipients
from zhongdu import audit

from .models import FollowUpPolicy, SurveyInvitation, SurveyRound, SurveyTemplate
from .surveys import survey_link

SMS_TEMPLATE = "market_survey"
BATCH = 500
BATCHES_PER_RUN = 20
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
    if request_key:
        existing = SurveyRound.objects.filter(request_key=request_key).first()
        if existing is not None:
            return existing
    if template.kind != SurveyTemplate.Kind.MARKET or not template.active:
        raise ValidationError(_("Choose an active market survey."))
    if not template.questions.exists():
        raise ValidationError(_("This survey has no questions yet."))
    if not messaging.template_available(SMS_TEMPLATE):
        raise ValidationError(
            _("There is no active SMS template %(code)s.") % {"code": SMS_TEMPLATE}
        )
    from .tasks import survey_round_send  # the task module imports this one

    days = FollowUpPolicy.current().survey_valid_days
    try:
        with transaction.atomic():
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
    except IntegrityError:
        # The same key committed a moment ago, from a second click (a unique index decided).
        return SurveyRound.objects.get(request_key=request_key)
    return survey_round


def round_send(*, round_id: int, batch: int = BATCH, batches: int = BATCHES_PER_RUN) -> bool:
    """Write up to `batches` batches of invitations; True when the segment is done. Safe to run
    again or twice at once: each batch starts after the last client id committed, and the
    invitation and outbox keys are unique."""
    survey_round = SurveyRound.objects.filter(pk=round_id).first()
    if survey_round is None or survey_round.done_at:
        return True
    recipients = round_recipients(survey_round.segment).only("pk", "name", "phone").order_by("pk")
    after = survey_round.sending_after
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
                messaging.outbox_enqueue(
                    idempotency_key=round_key(round_id, client.pk),
                    purpose=Purpose.SURVEY,
                    client=client,
                    template_code=SMS_TEMPLATE,
                    values={"name": client.name, "link": survey_link(invitation)},
                    send_after=survey_round.send_at,
                    expires_at=survey_round.expires_at,
                )
                invited += 1
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
