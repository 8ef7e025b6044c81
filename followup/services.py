"""Writes of Follow-up: keyword-only functions, one transaction each, returning the model.

Care plans. A plan's timepoints each make one return-visit call (a one-to-one link: never two)
and/or one scheduled SMS through the outbox (idempotency key `careplan-step:<id>:<date>`: moving
the date cancels the old message and makes a new one; asking twice makes one). Editing a plan
moves only what is not done; cancelling it cancels the open calls and the messages not sent.

Calls. A call is assigned when it is made (round robin: the client manager with the fewest open
calls), claimed or reassigned later. Each dial is a CallAttempt; an unanswered call comes back on
the next working day until FollowUpPolicy.max_attempts, then closes as unreachable; a wrong
number flags the client's phone for correction.

Service recovery. A low survey answer (from the survey page or a call) makes a call within one
working day: the survey engine decides the answer is low and calls recovery_call_create, which
followup registers (surveys.services.register_recovery, in FollowupConfig.ready).
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clientmgmt import services as client_services
from clientmgmt.models import Client
from clientmgmt.registry import may_see_whole_record
from complaints import services as complaint_services
from complaints.models import Complaint
from guide import selectors as guide_selectors
from guide import services as guide_services
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose
from surveys import services as surveys
from surveys.models import CALL_DIMENSIONS, Dimension, SurveyResponse
from zhongdu import audit, roles
from zhongdu.services import create_once
from zhongdu.workcalendar import WorkCalendar

from .models import (
    CallAttempt,
    CarePlan,
    CarePlanStep,
    CarePlanTemplate,
    FollowUpCall,
    FollowUpPolicy,
)

logger = logging.getLogger(__name__)
CallStatus = FollowUpCall.Status
Outcome = FollowUpCall.Outcome

# Scheduled SMS of a plan go out at this hour, hospital time, on their day.
SMS_HOUR = 10
PLAN_TEXTS = (
    "diagnosis",
    "treatment_plan",
    "diet",
    "rehab",
    "lifestyle",
    "exercise",
    "mental_health",
    "prevention",
    "sub_health",
    "insurance",
)

# Every allowed move of a call. An unanswered attempt keeps the call open (a new date);
# done, unreachable and cancelled are final.
CALL_TRANSITIONS: dict[str, set[str]] = {
    CallStatus.OPEN: {CallStatus.DONE, CallStatus.UNREACHABLE, CallStatus.CANCELLED},
    CallStatus.DONE: set(),
    CallStatus.UNREACHABLE: set(),
    CallStatus.CANCELLED: set(),
}


class IllegalTransition(ValidationError):
    pass


def _check_client(client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError(
            _("This record was merged into another one; use the surviving record.")
        )


# --- Assignment ---------------------------------------------------------------------


def call_handlers():
    """Client managers who take return-visit calls (active users with the role)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.CLIENT_MANAGER)
        .distinct()
    )


def next_handler():
    """Round robin by load: the client manager with the fewest open calls (then the one who has
    waited longest, by id). None when there is nobody: the call waits in the shared pool."""
    return (
        call_handlers()
        .annotate(
            open_calls=Count("assigned_calls", filter=Q(assigned_calls__status=CallStatus.OPEN))
        )
        .order_by("open_calls", "pk")
        .first()
    )


def call_create(
    *,
    client,
    due_on: datetime.date,
    reason: str = FollowUpCall.Reason.MANUAL,
    title: str = "",
    script: str = "",
    plan=None,
    step=None,
    visit=None,
    source: str = "",
    recovery_for=None,
    assigned_to=None,
    by=None,
) -> FollowUpCall:
    """A call to make on `due_on`, assigned round robin unless someone is named. A call from the
    same origin (`source`, or the same plan timepoint) is made once."""
    _check_client(client)
    _check_vip_assignment(client, to=assigned_to, by=by)
    if source:
        existing = FollowUpCall.objects.filter(source=source).first()
        if existing is not None:
            return existing
    call = FollowUpCall(
        client=client,
        reason=reason,
        title=title[:120],
        script=script,
        plan=plan,
        step=step,
        visit=visit,
        source=source[:60],
        recovery_for=recovery_for,
        due_on=due_on,
        planned_on=due_on,
        priority=client.is_vip,
        assigned_to=assigned_to or next_handler(),
    )
    try:
        with transaction.atomic():
            call.save()
            CallAttempt.objects.create(call=call, detail=_("Call planned"), actor=by)
    except IntegrityError:
        # The same origin made it a moment ago (a unique index decided).
        if source:
            return FollowUpCall.objects.get(source=source)
        return FollowUpCall.objects.get(step=step)
    return call


def calls_plan_maintenance(
    *, clients, due_on: datetime.date, title: str = "", by=None
) -> tuple[int, int]:
    """A maintenance call (archive maintenance round) to each client on `due_on`, assigned round
    robin: (made, already planned). The source `archive:<client>:<date>` makes one call per
    client and day, however often the same rows are posted."""
    title = (title or "").strip() or _("Archive maintenance")
    sources = {client.pk: f"archive:{client.pk}:{due_on.isoformat()}" for client in clients}
    existing = set(
        FollowUpCall.objects.filter(source__in=sources.values()).values_list("source", flat=True)
    )
    made = 0
    for client in clients:
        if sources[client.pk] in existing:
            continue
        call_create(
            client=client,
            due_on=due_on,
            reason=FollowUpCall.Reason.MAINTENANCE,
            title=title,
            source=sources[client.pk],
            by=by,
        )
        made += 1
    return made, len(clients) - made


def call_claim(*, call: FollowUpCall, by) -> FollowUpCall:
    """Take an open call from the shared pool (or from a colleague, for a manager)."""
    return call_reassign(call=call, to=by, by=by)


def _check_vip_assignment(client, *, to, by) -> None:
    """The discretion rule (vip.selectors): the handler of a VIP's open call sees the VIP's
    whole record, so nobody who may not see it already can make themselves that handler. VIP
    calls are given out by the VIP officers, or round robin."""
    if by is None or to is None or to.pk != by.pk or not client.is_vip:
        return
    if not may_see_whole_record(by, client):
        raise ValidationError(
            _("A VIP's calls are given out by the VIP managers: ask them for this one.")
        )


def call_reassign(*, call: FollowUpCall, to, by) -> FollowUpCall:
    _check_vip_assignment(call.client, to=to, by=by)
    with transaction.atomic():
        locked = FollowUpCall.objects.select_for_update().get(pk=call.pk)
        if locked.status != CallStatus.OPEN:
            raise IllegalTransition(_("Only an open call can be given to someone."))
        if to is not None and not call_handlers().filter(pk=to.pk).exists():
            raise ValidationError(_("Calls go to client managers."))
        locked.assigned_to = to
        locked.save(update_fields=["assigned_to"])
        who = (to.get_full_name() or to.get_username()) if to else _("the shared pool")
        CallAttempt.objects.create(
            call=locked, detail=_("Assigned to %(who)s") % {"who": who}, actor=by
        )
    call.refresh_from_db()
    return call


def _close(call: FollowUpCall, status: str, *, by) -> None:
    if status not in CALL_TRANSITIONS[call.status]:
        raise IllegalTransition(
            _("A call cannot go from %(from)s to %(to)s.")
            % {"from": CallStatus(call.status).label, "to": CallStatus(status).label}
        )
    call.status = status
    call.closed_at = timezone.now()
    call.closed_by = by
    if call.step_id:
        CarePlanStep.objects.filter(pk=call.step_id, status=CarePlanStep.Status.PLANNED).update(
            status=CarePlanStep.Status.DONE
        )
        _complete_plan_if_done(call.plan_id)


@dataclass(frozen=True)
class CallDial:
    """What was typed about one dial of a call, checked (check_call_record)."""

    outcome: str
    scores: dict
    recommend: int | None
    comment: str
    course: str
    rehab_guidance: bool
    notes: str
    next_call_on: datetime.date | None
    raise_complaint: bool
    complaint_category: str
    complaint_severity: str


def check_call_record(
    *,
    outcome: str,
    scores: dict | None = None,
    recommend: int | None = None,
    comment: str = "",
    course: str = "",
    rehab_guidance: bool = False,
    notes: str = "",
    next_call_on: datetime.date | None = None,
    raise_complaint: bool = False,
    complaint_category: str = Complaint.Category.OTHER,
    complaint_severity: str = Complaint.Severity.NORMAL,
) -> CallDial:
    """Check what was typed about a dial, reading nothing and writing nothing: an outcome, the
    satisfaction answers (1–5 per dimension, 0–10 recommend) and a complaint only for a reached
    client, a next call on a later day."""
    if outcome not in Outcome.values:
        raise ValidationError(_("Choose what happened on the call."))
    scores = {key: value for key, value in (scores or {}).items() if value is not None}
    if outcome != Outcome.REACHED and (scores or recommend is not None or raise_complaint):
        raise ValidationError(_("Answers and complaints are recorded only for a reached client."))
    for dimension, score in scores.items():
        if dimension not in CALL_DIMENSIONS or not 1 <= int(score) <= 5:
            raise ValidationError(_("Scores are from 1 to 5."))
    if recommend is not None and not 0 <= recommend <= 10:
        raise ValidationError(_("The recommend score is from 0 to 10."))
    if next_call_on is not None and next_call_on <= timezone.localdate():
        raise ValidationError(_("The next call must be on a later day."))
    return CallDial(
        outcome=outcome,
        scores=scores,
        recommend=recommend,
        comment=comment,
        course=course,
        rehab_guidance=rehab_guidance,
        notes=notes,
        next_call_on=next_call_on,
        raise_complaint=raise_complaint,
        complaint_category=complaint_category,
        complaint_severity=complaint_severity,
    )


def call_record(*, call: FollowUpCall, by, request=None, **typed) -> FollowUpCall:
    """Record one dial of a call: check_call_record checks what was typed (its keywords),
    do_call_record writes it."""
    return do_call_record(call=call, dial=check_call_record(**typed), by=by, request=request)


def do_call_record(*, call: FollowUpCall, dial: CallDial, by, request=None) -> FollowUpCall:
    """Write one checked dial of an open call.

    Reached: the call is done; the satisfaction answers go to a SurveyResponse (service
    recovery when low); a next call date makes the next call; a complaint is raised when asked.
    Refused: done, nothing more asked. No answer: the next working day, until the policy's
    attempts, then unreachable. Wrong number: unreachable, and the client's phone is flagged
    for correction.

    Locks the call row: two clerks recording at once write one after the other, and a dial
    that closed the call refuses the next."""
    outcome = dial.outcome
    with transaction.atomic():
        locked = FollowUpCall.objects.select_for_update().select_related("client").get(pk=call.pk)
        if locked.status != CallStatus.OPEN:
            raise IllegalTransition(_("This call has already been closed."))
        locked.attempts += 1
        locked.outcome = outcome
        locked.notes = _append(locked.notes, dial.notes, by=by)
        if outcome == Outcome.NO_ANSWER:
            if locked.attempts >= FollowUpPolicy.current().max_attempts:
                _close(locked, CallStatus.UNREACHABLE, by=by)
            else:
                locked.due_on = WorkCalendar.load().next_working_day(timezone.localdate())
        elif outcome == Outcome.WRONG_NUMBER:
            _close(locked, CallStatus.UNREACHABLE, by=by)
            client_services.client_flag_phone(
                client=locked.client, by=by, detail=_("Return-visit call #%(n)s") % {"n": call.pk}
            )
        else:
            locked.course = dial.course or ""
            locked.rehab_guidance = bool(dial.rehab_guidance)
            locked.next_call_on = dial.next_call_on
            _close(locked, CallStatus.DONE, by=by)
        locked.save()
        detail = (dial.notes or "").strip()[:300]
        CallAttempt.objects.create(call=locked, outcome=outcome, detail=detail, actor=by)
        if outcome == Outcome.REACHED:
            _reached(locked, dial, by=by, request=request)
        elif locked.survey_response_id is not None:
            # Answers saved as they were asked on a dial that did not reach the client after
            # all (the wrong outcome chosen first): answers are for a reached client only.
            surveys.response_discard(response=locked.survey_response)
        audit.record(
            audit.Action.UPDATE, actor=by, obj=locked, fields=["status", "outcome"], request=request
        )
    call.refresh_from_db()
    return call


def recovery_call_create(response: SurveyResponse, *, by=None) -> FollowUpCall:
    """Service recovery: a client manager calls within one working day (one call per response:
    its source is unique)."""
    calendar = WorkCalendar.load()
    due = calendar.working_day_on_or_after(timezone.localdate())
    scores = []
    if response.lowest_score is not None:
        scores.append(_("lowest score %(score)s/5") % {"score": response.lowest_score})
    if response.recommend is not None:
        scores.append(_("recommend %(score)s/10") % {"score": response.recommend})
    return call_create(
        client=response.client,
        due_on=due,
        reason=FollowUpCall.Reason.SERVICE_RECOVERY,
        title=_("Low satisfaction: %(scores)s") % {"scores": ", ".join(scores)},
        script=_(
            "Thank the client for their answers, apologise, ask what went wrong and what would"
            " put it right; raise a complaint if they want one."
        ),
        visit=response.visit,
        source=surveys.response_source(response),
        recovery_for=response,
        by=by,
    )


# What the call page saves as each script question is answered: the form field's name -> the
# answer's dimension.
ANSWER_FIELDS = {
    **{f"score_{dimension}": str(dimension) for dimension in CALL_DIMENSIONS},
    "recommend": Dimension.RECOMMEND,
    "comment": Dimension.COMMENT,
}


def call_answer(*, call: FollowUpCall, by, field: str, value: str) -> SurveyResponse:
    """One answer of the script, saved the moment it is chosen on the call page, into the call's
    survey response (made on the first answer): nothing is typed again after the call, and the
    record of the call keeps it (response_record_call with this response). An empty value takes
    the answer back. Locks the call: two answers sent at once each land, one after the other."""
    dimension = ANSWER_FIELDS.get(field)
    if dimension is None:
        raise ValidationError(_("Choose one of the offered scores."))
    value = (value or "").strip()
    score = None
    if dimension != Dimension.COMMENT and value:
        try:
            score = int(value)
        except ValueError:
            raise ValidationError(_("Choose one of the offered scores.")) from None
    with transaction.atomic():
        locked = FollowUpCall.objects.select_for_update().select_related("client").get(pk=call.pk)
        if locked.status != CallStatus.OPEN:
            raise IllegalTransition(_("This call has already been closed."))
        response = surveys.response_answer_call(
            response=locked.survey_response,
            client=locked.client,
            visit=locked.visit,
            dimension=dimension,
            score=score,
            text=value if dimension == Dimension.COMMENT else "",
        )
        if locked.survey_response_id != response.pk:
            locked.survey_response = response
            locked.save(update_fields=["survey_response"])
    return response


def _reached(call: FollowUpCall, dial: CallDial, *, by, request) -> None:
    """What a reached client's dial leads to: their answers (completing those saved as they
    were asked), the next call, a complaint."""
    saved = call.survey_response
    if saved is not None or dial.scores or dial.recommend is not None or dial.comment.strip():
        call.survey_response = surveys.response_record_call(
            client=call.client,
            visit=call.visit,
            scores=dial.scores,
            recommend=dial.recommend,
            comment=dial.comment,
            by=by,
            response=saved,
        )
        call.save(update_fields=["survey_response"])
    if dial.next_call_on is not None:
        call_create(
            client=call.client,
            due_on=dial.next_call_on,
            reason=call.reason,
            title=call.title,
            plan=call.plan,
            visit=call.visit,
            source=f"followup.call:{call.pk}:next",
            assigned_to=call.assigned_to,
            by=by,
        )
    if dial.raise_complaint:
        words = (dial.comment or dial.notes or "").strip()
        complaint_services.complaint_create(
            client=call.client,
            by=by,
            words=words or _("Raised on a return-visit call."),
            channel=Complaint.Channel.RETURN_CALL,
            category=dial.complaint_category,
            severity=dial.complaint_severity,
            department=call.visit.department if call.visit_id else None,
            source=f"followup.call:{call.pk}",
            request=request,
        )


def call_cancel(*, call: FollowUpCall, by, reason: str = "") -> FollowUpCall:
    with transaction.atomic():
        locked = FollowUpCall.objects.select_for_update().get(pk=call.pk)
        _close(locked, CallStatus.CANCELLED, by=by)
        locked.notes = _append(locked.notes, reason, by=by)
        locked.save()
        CallAttempt.objects.create(call=locked, detail=reason[:300] or _("Cancelled"), actor=by)
    call.refresh_from_db()
    return call


def _append(notes: str, note: str, *, by) -> str:
    note = (note or "").strip()
    if not note:
        return notes
    who = (by.get_full_name() or by.get_username()) if by else ""
    line = f"{timezone.localtime():%Y-%m-%d %H:%M} {who}: {note[:500]}".replace("  ", " ")
    return f"{notes}\n{line}" if notes else line


# --- Care plans ---------------------------------------------------------------------


def _step_key_prefix(step) -> str:
    return f"careplan-step:{step.pk}:"


def _sms_due(day: datetime.date) -> datetime.datetime:
    tz = timezone.get_default_timezone()
    return datetime.datetime.combine(day, datetime.time(SMS_HOUR), tzinfo=tz)


def _cancel_step_sms(step, *, by, detail) -> None:
    keys = OutboxMessage.objects.filter(
        idempotency_key__startswith=_step_key_prefix(step),
        status=OutboxMessage.Status.PENDING,
    ).values_list("idempotency_key", flat=True)
    for key in list(keys):
        messaging.outbox_cancel(idempotency_key=key, detail=detail, actor=by)


def _step_call_title(step) -> str:
    """The title of a timepoint's call: its label; for a plan written from an exam's results
    (whose labels may name a finding, and whose calls every call worker lists), a neutral one in
    the hospital's language."""
    plan = step.plan
    if plan.kind == CarePlan.Kind.HEALTH and plan.exam_order_id is not None:
        with translation.override(settings.LANGUAGE_CODE):
            return _("Follow-up of exam results")
    return step.label[:120]


def _schedule_step(step: CarePlanStep, *, by) -> None:
    """Make what a planned timepoint needs, once: its call, and its SMS on its day."""
    plan = step.plan
    if step.call:
        call = FollowUpCall.objects.filter(step=step).first()
        if call is None:
            call_create(
                client=plan.client,
                due_on=step.due_on,
                reason=(
                    FollowUpCall.Reason.HEALTH_ASSESSMENT
                    if plan.kind == CarePlan.Kind.HEALTH
                    else FollowUpCall.Reason.CARE_PLAN
                ),
                title=_step_call_title(step),
                script=step.script,
                plan=plan,
                step=step,
                visit=plan.visit,
                by=by,
            )
        elif call.status == CallStatus.OPEN and (call.due_on, call.title, call.script) != (
            step.due_on,
            _step_call_title(step),
            step.script,
        ):
            FollowUpCall.objects.filter(pk=call.pk).update(
                due_on=step.due_on,
                planned_on=step.due_on,
                title=_step_call_title(step),
                script=step.script,
            )
    else:
        open_call = FollowUpCall.objects.filter(step=step, status=CallStatus.OPEN).first()
        if open_call is not None:
            call_cancel(call=open_call, by=by, reason=_("Removed from the care plan"))
    _schedule_step_sms(step, by=by)


def _schedule_step_sms(step: CarePlanStep, *, by) -> None:
    """The timepoint's SMS on its day at SMS_HOUR, one per date: a moved timepoint cancels the
    message for the old date; a timepoint without SMS (or already past) has none pending."""
    prefix = _step_key_prefix(step)
    pending = OutboxMessage.objects.filter(
        idempotency_key__startswith=prefix, status=OutboxMessage.Status.PENDING
    )
    wanted = step.sms_template_id and step.due_on >= timezone.localdate()
    key = f"{prefix}{step.due_on:%Y%m%d}"
    if (
        wanted
        and OutboxMessage.objects.filter(
            idempotency_key=key, status=OutboxMessage.Status.CANCELLED
        ).exists()
    ):
        # Moved back to a date whose message was cancelled (cancelled is final): a new key.
        key = f"{key}:{OutboxMessage.objects.filter(idempotency_key__startswith=prefix).count()}"
    for old in list(pending.exclude(idempotency_key=key).values_list("idempotency_key", flat=True)):
        messaging.outbox_cancel(idempotency_key=old, detail=_("Care plan changed"), actor=by)
    if not wanted or not messaging.template_available(step.sms_template.code):
        return
    plan = step.plan
    department = plan.visit.department if plan.visit_id else None
    messaging.outbox_enqueue(
        idempotency_key=key,
        purpose=step.sms_template.purpose or Purpose.FOLLOWUP_REMINDER,
        client=plan.client,
        template_code=step.sms_template.code,
        values={
            "name": plan.client.name,
            "date": f"{step.due_on:%Y-%m-%d}",
            "department": department.name if department else "",
        },
        send_after=_sms_due(step.due_on),
    )


def _step_values(step: dict) -> dict:
    return {
        "due_on": step["due_on"],
        "label": (step.get("label") or "")[:60],
        "call": bool(step.get("call", True)),
        "script": step.get("script") or "",
        "sms_template": step.get("sms_template"),
    }


def default_steps(template: CarePlanTemplate | None, starts_on: datetime.date) -> list[dict]:
    if template is None:
        return []
    return [
        {
            "due_on": starts_on + datetime.timedelta(days=step.day_offset),
            "label": step.label or _("Day %(day)s") % {"day": step.day_offset},
            "call": step.call,
            "script": step.script,
            "sms_template": step.sms_template,
        }
        for step in template.steps.select_related("sms_template")
    ]


def plan_create(
    *,
    client,
    by,
    starts_on: datetime.date,
    template: CarePlanTemplate | None = None,
    kind: str = CarePlan.Kind.CARE,
    visit=None,
    exam_order=None,
    steps: list[dict] | None = None,
    request=None,
    request_key: str = "",
    **texts,
) -> CarePlan:
    """A care plan for the client: the template's texts (or those given), and its timepoints
    (the template's defaults from `starts_on`, or `steps` as staff adjusted them). The same
    `request_key` (the form's one-time key) returns the plan it wrote the first time."""

    def write() -> CarePlan:
        return _plan_write(
            client=client,
            by=by,
            starts_on=starts_on,
            template=template,
            kind=kind,
            visit=visit,
            exam_order=exam_order,
            steps=steps,
            request=request,
            request_key=request_key,
            texts=texts,
        )

    return create_once(CarePlan, request_key, write)[0]


@transaction.atomic
def _plan_write(
    *, client, by, starts_on, template, kind, visit, exam_order, steps, request, request_key, texts
) -> CarePlan:
    _check_client(client)
    if visit is not None and visit.client_id != client.pk:
        raise ValidationError(_("This visit is another client's."))
    unknown = set(texts) - set(PLAN_TEXTS)
    if unknown:
        raise ValueError(f"not plan texts: {sorted(unknown)}")
    if template is not None:
        kind = template.kind
        # Texts not given come from the template; a text given empty stays empty (staff removed
        # advice that does not apply to this client).
        for name in PLAN_TEXTS:
            if name not in texts and hasattr(template, name):
                texts[name] = getattr(template, name)
    steps = default_steps(template, starts_on) if steps is None else steps
    plan = CarePlan.objects.create(
        client=client,
        visit=visit,
        exam_order=exam_order,
        template=template,
        kind=kind,
        starts_on=starts_on,
        created_by=by,
        request_key=request_key,
        **{name: value or "" for name, value in texts.items()},
    )
    for values in steps:
        step = CarePlanStep.objects.create(plan=plan, **_step_values(values))
        _schedule_step(step, by=by)
    audit.record(audit.Action.CREATE, actor=by, obj=plan, request=request)
    return plan


def plan_update(
    *, plan: CarePlan, by, steps: list[dict] | None = None, request=None, **texts
) -> CarePlan:
    """Change a live plan's texts and its timepoints not yet done: each step dict has `id` (none
    for a new timepoint), `due_on`, `label`, `call`, `script`, `sms_template`, and `remove` to
    drop it. Done timepoints stay as they were."""
    with transaction.atomic():
        locked = CarePlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != CarePlan.Status.ACTIVE:
            raise IllegalTransition(_("Only a live plan can be changed."))
        for name, value in texts.items():
            if name not in PLAN_TEXTS:
                raise ValueError(f"not a plan text: {name}")
            setattr(locked, name, value or "")
        locked.save()
        current = {step.pk: step for step in locked.steps.select_related("sms_template")}
        for values in steps or []:
            step = current.get(values.get("id"))
            if values.get("id") is not None and step is None:
                continue  # another plan's timepoint (or a stale form): never a new one
            if step is not None and step.status != CarePlanStep.Status.PLANNED:
                continue
            if values.get("remove"):
                if step is not None:
                    _drop_step(step, by=by)
                continue
            if step is None:
                step = CarePlanStep.objects.create(plan=locked, **_step_values(values))
            else:
                for name, value in _step_values(values).items():
                    setattr(step, name, value)
                step.save()
            _schedule_step(step, by=by)
        _complete_plan_if_done(locked.pk)
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, request=request)
    plan.refresh_from_db()
    return plan


def _drop_step(step: CarePlanStep, *, by) -> None:
    step.status = CarePlanStep.Status.CANCELLED
    step.save(update_fields=["status"])
    call = FollowUpCall.objects.filter(step=step, status=CallStatus.OPEN).first()
    if call is not None:
        call_cancel(call=call, by=by, reason=_("Removed from the care plan"))
    _cancel_step_sms(step, by=by, detail=_("Removed from the care plan"))


def plan_cancel(*, plan: CarePlan, by, reason: str, request=None) -> CarePlan:
    """Stop a plan: its open calls and unsent messages are cancelled; done ones stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the cancellation."))
    with transaction.atomic():
        locked = CarePlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != CarePlan.Status.ACTIVE:
            raise IllegalTransition(_("Only a live plan can be cancelled."))
        for step in locked.steps.filter(status=CarePlanStep.Status.PLANNED):
            _drop_step(step, by=by)
        locked.status = CarePlan.Status.CANCELLED
        locked.cancel_reason = reason[:200]
        locked.save(update_fields=["status", "cancel_reason", "updated_at"])
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"], request=request)
    plan.refresh_from_db()
    return plan


def _complete_plan_if_done(plan_id) -> None:
    if plan_id is None:
        return
    if not CarePlanStep.objects.filter(
        plan_id=plan_id, status=CarePlanStep.Status.PLANNED
    ).exists():
        CarePlan.objects.filter(pk=plan_id, status=CarePlan.Status.ACTIVE).exclude(
            steps__isnull=True
        ).update(status=CarePlan.Status.COMPLETED)


# --- Post-exam service ----------------------------------------------------------------


def exam_followups_start(*, by=None, limit: int = 200) -> int:
    """Completed exam orders whose health assessment nobody has started (an order with results
    once they are released: guide.selectors.exam_orders_awaiting_assessment): a
    health-management plan (from the first active health template, if any; the assessment
    written from the results fills it later, exams.assessment) and the assessment call on the
    next working day. Safe to run twice: one plan per order (a unique index) and one call per order
    (its source); the order is marked started in the same transaction."""
    started = 0
    calendar = WorkCalendar.load()
    template = CarePlanTemplate.objects.filter(
        kind=CarePlanTemplate.Kind.HEALTH, active=True
    ).first()
    for order in list(guide_selectors.exam_orders_awaiting_assessment()[:limit]):
        try:
            with transaction.atomic():
                if not guide_services.exam_order_mark_assessment_started(order=order):
                    continue
                due = calendar.next_working_day(timezone.localdate())
                plan = CarePlan.objects.filter(exam_order=order).first() or plan_create(
                    client=order.client,
                    by=by,
                    starts_on=due,
                    template=template,
                    kind=CarePlan.Kind.HEALTH,
                    visit=order.visit,
                    exam_order=order,
                    steps=[],
                    diagnosis=order.result_summary,
                )
                call_create(
                    client=order.client,
                    due_on=due,
                    reason=FollowUpCall.Reason.HEALTH_ASSESSMENT,
                    title=_("Health assessment of exam order #%(n)s") % {"n": order.pk},
                    script=_(
                        "Go through the exam results with the client, answer their questions"
                        " and agree the health-management plan."
                    ),
                    plan=plan,
                    visit=order.visit,
                    source=f"guide.examorder:{order.pk}",
                    by=by,
                )
        except ValidationError:
            logger.warning("exam order %s: no post-exam service (merged client?)", order.pk)
            continue
        started += 1
    return started
