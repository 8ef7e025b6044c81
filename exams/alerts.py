"""Abnormal results followed to the end: services and selectors of the result alerts
(exams.models.alerts).

- A release (and every correction after it) calls `alerts_open` (a release hook registered in
  exams.apps): an order with a critical value gets one CRITICAL alert, due EXAM_CRITICAL_MINUTES
  after, counted in clock time, day or night, weekends and holidays included; an order with an
  abnormal value gets one ABNORMAL alert and a return-visit call (followup) on the first moment
  within working hours (today if the day is a working day not yet over, else the next working
  day), whose script asks to book the re-examination where a finding sets one.
- The worker records a call that reached the client (what was said, the advice: it closes the
  alert), a call that did not (an attempt: the alert stays open), or closes it otherwise.
- Every change writes one ResultAlertEvent in its transaction: the alert's history, which the
  page shows. The notes field keeps only what the callers wrote (stamped with the call's time).
- `alerts_check_deadlines` (every minute, exams.tasks) escalates a critical alert still open at
  its deadline, at once and once, to the managers and the releasing clinician (in-app, and by
  SMS to the managers on duty when configured: no health content in it), and closes an abnormal
  alert whose return-visit call was closed (done or unreachable) with that outcome.

Values (the flag and the item's name) are shown only to RESULT_READERS who may see the client's
whole record (the VIP discretion rule); the managers see the task and the masked number.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clientmgmt.selectors import client_shown_for_user
from followup import services as followup_services
from followup.models import FollowUpCall
from messaging.services import duty_sms
from zhongdu import audit, roles
from zhongdu.services import notify
from zhongdu.workcalendar import WorkCalendar

from .models import ExamResult, ExamResultRevision, ResultAlert, ResultAlertEvent, ResultRelease
from .models.results import Flag

logger = logging.getLogger(__name__)

Level = ResultAlert.Level
Status = ResultAlert.Status
Outcome = ResultAlert.Outcome
Event = ResultAlertEvent.Action

REACHED, NOT_REACHED, CLOSE = "reached", "not_reached", "close"
# What the caller writes is kept whole in the event's detail.
NOTES_MAX = ResultAlertEvent.DETAIL_MAX


class AlertClosed(ValidationError):
    """The alert was closed (or changed) meanwhile: a second submit, another tab: a 409."""


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _event(alert, action, *, by=None, at=None, detail="", called_at=None) -> ResultAlertEvent:
    """One line of the alert's history (the caller is inside the change's transaction). A
    system's sentence is stored in the hospital's language, as the alert's other texts."""
    detail = (detail or "").strip()
    if len(detail) > ResultAlertEvent.DETAIL_MAX:
        detail = detail[: ResultAlertEvent.DETAIL_MAX - 1] + "…"
    return ResultAlertEvent.objects.create(
        alert=alert,
        action=action,
        by=by,
        at=at or timezone.now(),
        detail=detail,
        called_at=called_at,
    )


# --- Opening -------------------------------------------------------------------------------


def call_day(now: datetime.datetime, calendar: WorkCalendar | None = None) -> datetime.date:
    """The day a return-visit call is made within working hours: today if it is a working day
    whose hours are not over, else the next working day (Friday evening: Monday)."""
    calendar = calendar or WorkCalendar.load()
    local = timezone.localtime(now)
    day = local.date()
    if calendar.is_working_day(day) and local.time() < calendar.end:
        return day
    return calendar.next_working_day(day)


def _reexam_days(order) -> int | None:
    """The shortest re-examination delay the findings of the order's out-of-range values set."""
    days = [
        result.item.price_item.result_definition.finding.reexam_after_days
        for result in order.results.filter(flag__in=[Flag.ABNORMAL, Flag.CRITICAL])
        .select_related("item__price_item__result_definition__finding")
        .order_by("pk")
        if getattr(result.item.price_item.result_definition.finding, "reexam_after_days", None)
    ]
    return min(days) if days else None


def _script(order, now) -> str:
    """The call's script, in the hospital's language (stored text), with no value in it: the
    caller reads them on the results page as the access table allows."""
    with translation.override(settings.LANGUAGE_CODE):
        script = _(
            "Some results of the exam of %(day)s are outside their range. Explain them to the"
            " client from the results page, give the clinician's advice and answer their"
            " questions."
        ) % {"day": timezone.localdate(order.ordered_at).isoformat()}
        days = _reexam_days(order)
        if days:
            on = timezone.localdate(now) + datetime.timedelta(days=days)
            script += " " + _("Ask the client to book the re-examination on or after %(date)s.") % {
                "date": on.isoformat()
            }
        return script


def _create(order, level, *, due_at, by, now) -> ResultAlert | None:
    if ResultAlert.objects.filter(order=order, level=level).exists():
        return None
    try:
        with transaction.atomic():
            alert = ResultAlert.objects.create(
                order=order, level=level, opened_at=now, due_at=due_at, released_by=by
            )
            _event(alert, Event.OPENED, by=by, at=now)
    except IntegrityError:
        return None  # opened a moment ago (the unique order and level decided)
    audit.record(audit.Action.CREATE, actor=by, obj=alert, fields=["level", "due_at"])
    return alert


def alerts_open(*, order, by=None, now=None) -> list[ResultAlert]:
    """The alerts the order's values call for and it does not have yet (a release hook: inside
    the release's or the correction's transaction). Safe to call again."""
    now = now or timezone.now()
    present = set(order.results.values_list("flag", flat=True))
    opened = []
    if Flag.CRITICAL in present:
        due = now + datetime.timedelta(minutes=settings.EXAM_CRITICAL_MINUTES)
        alert = _create(order, Level.CRITICAL, due_at=due, by=by, now=now)
        if alert is not None:
            opened.append(alert)
            _tell_workers(alert)
    if Flag.ABNORMAL in present:
        calendar = WorkCalendar.load()
        day = call_day(now, calendar)
        due = max(
            now,
            datetime.datetime.combine(day, calendar.end, tzinfo=timezone.get_default_timezone()),
        )
        alert = _create(order, Level.ABNORMAL, due_at=due, by=by, now=now)
        if alert is not None:
            opened.append(alert)
            _plan_call(alert, day=day, by=by, now=now)
    return opened


def release_hook(*, order, by, corrected) -> None:
    """exams.services' release hook: a release, or a correction after it (then `by` corrected
    the value; the clinician told of a missed deadline is still the one who released)."""
    if corrected:
        release = ResultRelease.objects.filter(order=order).first()
        by_release = release.released_by if release is not None else None
        alerts_open(order=order, by=by_release or by)
        alerts_after_correction(order=order, by=by)
    else:
        # A critical value's hour is counted from the release itself.
        release = ResultRelease.objects.filter(order=order).first()
        alerts_open(order=order, by=by, now=release.released_at if release is not None else None)


def alerts_after_correction(*, order, by, now=None) -> None:
    """After a correction (inside its transaction): a closed critical alert is reopened when a
    critical value is there again (a new deadline, escalated again if missed); an open alert
    whose level no value calls for any more is closed as corrected. An abnormal alert's planned
    return-visit call is not cancelled: the note says so, the caller decides on its page."""
    now = now or timezone.now()
    present = set(order.results.values_list("flag", flat=True))
    # The value this correction gave (the newest revision after the release): a correction of
    # another examination does not reopen a critical alert already answered.
    latest = (
        ExamResultRevision.objects.filter(result__order=order, after_release=True)
        .order_by("-pk")
        .values_list("flag", flat=True)
        .first()
    )
    alerts = ResultAlert.objects.select_for_update().filter(order=order).order_by("pk")
    with translation.override(settings.LANGUAGE_CODE):
        for alert in alerts:
            flag = Flag.CRITICAL if alert.level == Level.CRITICAL else Flag.ABNORMAL
            if (
                alert.level == Level.CRITICAL
                and alert.status == Status.CLOSED
                and latest == Flag.CRITICAL
            ):
                _reopen(alert, by=by, now=now)
            elif flag not in present and alert.status == Status.OPEN:
                _close_corrected(alert, by=by, now=now)


def _reopen(alert: ResultAlert, *, by, now) -> None:
    line = _("A correction gives a critical value again (it was closed as %(outcome)s).") % {
        "outcome": alert.get_outcome_display()
    }
    alert.status = Status.OPEN
    alert.due_at = now + datetime.timedelta(minutes=settings.EXAM_CRITICAL_MINUTES)
    alert.escalated_at = None
    alert.outcome = Outcome.NONE
    alert.reached_at = None
    alert.closed_at = None
    alert.closed_by = None
    fields = ["status", "due_at", "escalated_at", "outcome", "reached_at", "closed_at", "closed_by"]
    alert.save(update_fields=fields)
    _event(alert, Event.REOPENED, by=by, at=now, detail=line)
    audit.record(audit.Action.UPDATE, actor=by, obj=alert, fields=fields)
    _tell_workers(alert)


def _close_corrected(alert: ResultAlert, *, by, now) -> None:
    if alert.level == Level.CRITICAL:
        line = _("A correction leaves no critical value.")
    else:
        line = _(
            "A correction leaves no abnormal value. Its return-visit call stays planned: cancel it"
            " on its page if it is not needed any more."
        )
    alert.status = Status.CLOSED
    alert.outcome = Outcome.CORRECTED
    alert.closed_at = now
    alert.closed_by = by
    fields = ["status", "outcome", "closed_at", "closed_by"]
    alert.save(update_fields=fields)
    _event(alert, Event.CORRECTED, by=by, at=now, detail=line)
    audit.record(audit.Action.UPDATE, actor=by, obj=alert, fields=fields)


def _tell_workers(alert: ResultAlert) -> None:
    """The client and VIP managers hear of a new (or reopened) critical value at once (no
    value in the text)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "A critical exam result (exam order #%(order)s) is to be followed by a call before"
            " %(due)s."
        ) % {"order": alert.order_id, "due": _local(alert.due_at)}
    users = get_user_model().objects.filter(
        is_active=True, groups__name__in=[roles.CLIENT_MANAGER, roles.VIP_MANAGER]
    )
    told = list(users.distinct().order_by("pk"))
    for user in told:
        notify(user, text, alert_url(alert))
    with translation.override(settings.LANGUAGE_CODE):
        detail = _("%(count)s client and VIP managers told.") % {"count": len(told)}
    _event(alert, Event.TOLD, detail=detail)


def _plan_call(alert: ResultAlert, *, day, by, now) -> None:
    order = alert.order
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Abnormal exam results to explain")
    try:
        call = followup_services.call_create(
            client=order.client,
            due_on=day,
            reason=FollowUpCall.Reason.ABNORMAL_RESULT,
            title=title,
            script=_script(order, now),
            visit=order.visit,
            source=f"result-alert:{alert.pk}",
            by=by,
        )
    except ValidationError as exc:
        # A merged record: the alert stays open on the worklist, to be called from there.
        logger.warning("result alert %s: no return-visit call (%s)", alert.pk, exc.messages)
        return
    ResultAlert.objects.filter(pk=alert.pk).update(followup_call=call)
    alert.followup_call = call


def alert_url(alert) -> str:
    from django.urls import reverse

    return reverse("exams:alert_detail", args=[alert.pk])


# --- Access ----------------------------------------------------------------------------------


def may_work_alerts(user) -> bool:
    return bool(roles.user_roles(user) & roles.ALERT_WORKERS)


def alert_get_for_user(user, pk, *, write=False) -> ResultAlert:
    """The one way views (and the call button) fetch an alert: 404 if there is none; 403 unless
    the user works alerts; with `write`, 403 unless the discretion rule shows them the client's
    whole record (a VIP is telephoned by those who serve them). `alert.shown_client` is the
    client as this user may see them."""
    try:
        alert = ResultAlert.objects.select_related(
            "order__client", "released_by", "closed_by", "followup_call"
        ).get(pk=pk)
    except (ResultAlert.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_work_alerts(user):
        raise PermissionDenied
    alert.shown_client = client_shown_for_user(user, alert.order.client)
    if write and not alert.shown_client.whole:
        raise PermissionDenied
    return alert


def may_read_values(user, shown_client) -> bool:
    """Whether `user` reads the values behind an alert: a result reader who may see the
    client's whole record."""
    return bool(roles.user_roles(user) & roles.RESULT_READERS) and shown_client.whole


def alert_values(alert) -> list[dict]:
    """The order's out-of-range values: the flag and the examination's name (critical first)."""
    results = (
        ExamResult.objects.filter(order_id=alert.order_id, flag__in=[Flag.CRITICAL, Flag.ABNORMAL])
        .select_related("item__price_item")
        .annotate(
            rank=Case(
                When(flag=Flag.CRITICAL, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "item_id")
    )
    return [
        {
            "flag": result.flag,
            "flag_label": result.get_flag_display(),
            "name": result.item.price_item.name,
        }
        for result in results
    ]


@dataclass
class TimeLeft:
    overdue: bool
    minutes: int

    @property
    def text(self) -> str:
        hours, minutes = divmod(self.minutes, 60)
        span = f"{hours}:{minutes:02d}"
        if self.overdue:
            return _("overdue by %(span)s") % {"span": span}
        return _("%(span)s left") % {"span": span}


def time_left(due_at, now=None) -> TimeLeft:
    """Clock time to the deadline (hours:minutes), or past it."""
    now = now or timezone.now()
    seconds = (due_at - now).total_seconds()
    return TimeLeft(overdue=seconds < 0, minutes=int(abs(seconds) // 60))


def alerts_for_list(*, closed: bool = False):
    """The worklist: open alerts critical first, then by deadline; closed ones newest first
    (by id: the keyset pages them)."""
    qs = ResultAlert.objects.select_related("order__client", "followup_call")
    if closed:
        return qs.filter(status=Status.CLOSED).order_by("-pk")
    rank = Case(
        When(level=Level.CRITICAL, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return qs.filter(status=Status.OPEN).annotate(rank=rank).order_by("rank", "due_at", "pk")


def open_count() -> int:
    return ResultAlert.objects.filter(status=Status.OPEN).count()


def open_critical_count() -> int:
    return ResultAlert.objects.filter(status=Status.OPEN, level=Level.CRITICAL).count()


# --- Working an alert -------------------------------------------------------------------------


def alert_record(
    *,
    alert: ResultAlert,
    by,
    action: str,
    notes: str = "",
    outcome: str = "",
    seen_attempts: int | None = None,
    called_at=None,
    request=None,
    now=None,
) -> ResultAlert:
    """Record a call or close the alert. `reached`: the client was reached (what was said and
    the advice, in `notes`): closed with reached_at. `not_reached`: one more attempt, the alert
    stays open. `close`: closed with `outcome` (unreachable or otherwise) and why. The alert's
    row is locked and its state checked against what the form showed (`seen_attempts`), so a
    second submit or another tab changes nothing twice. `called_at`: when the call was made
    (default now; not in the future, not before the alert opened with the release): a reached
    client's reached_at,
    which the deadline is judged by."""
    now = now or timezone.now()
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationError(_("Keep the notes under %(max)s characters.") % {"max": NOTES_MAX})
    if action in (REACHED, CLOSE) and not notes:
        raise ValidationError(
            _("Write what was said and the advice given.")
            if action == REACHED
            else _("Say why the alert is closed without reaching the client.")
        )
    if action == CLOSE and outcome not in (Outcome.UNREACHABLE, Outcome.OTHER):
        raise ValidationError(_("Choose how the alert ends."))
    if action not in (REACHED, NOT_REACHED, CLOSE):
        raise ValidationError(_("Choose what happened."))
    called_at = called_at or now
    if called_at > now:
        raise ValidationError(_("The time of the call cannot be in the future."))
    # The alert opens with the release (or the correction that gave the value).
    if called_at < alert.opened_at:
        raise ValidationError(_("The time of the call cannot be before the release."))
    with transaction.atomic():
        locked = ResultAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != Status.OPEN:
            raise AlertClosed(_("This alert is closed already."))
        if seen_attempts is not None and locked.attempts != seen_attempts:
            raise AlertClosed(_("Someone recorded a call on this alert meanwhile: look again."))
        stamp = _local(called_at)
        if action == NOT_REACHED:
            locked.attempts += 1
            locked.last_attempt_at = called_at
            fields = ["attempts", "last_attempt_at"]
            if notes:
                locked.notes = "\n".join(filter(None, [locked.notes, f"{stamp}: {notes}"]))
                fields.append("notes")
            event = Event.ATTEMPT
        else:
            locked.status = Status.CLOSED
            locked.closed_at = now
            locked.closed_by = by
            locked.outcome = Outcome.REACHED if action == REACHED else outcome
            if action == REACHED:
                locked.reached_at = called_at
            locked.notes = "\n".join(filter(None, [locked.notes, f"{stamp}: {notes}"]))
            fields = ["status", "outcome", "reached_at", "closed_at", "closed_by", "notes"]
            event = Event.REACHED if action == REACHED else Event.CLOSED
        locked.save(update_fields=fields)
        _event(locked, event, by=by, at=now, detail=notes, called_at=called_at)
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=fields, request=request)
    return locked


# --- Deadlines ----------------------------------------------------------------------------------


def _managers():
    """The managers (the administrators when there is none: an escalation never reaches
    nobody)."""
    users = get_user_model().objects.filter(is_active=True)
    managers = list(users.filter(groups__name=roles.MANAGER).order_by("pk").distinct())
    return managers or list(
        users.filter(groups__name=roles.ADMINISTRATOR).order_by("pk").distinct()
    )


def _escalate(pk: int, now) -> bool:
    with transaction.atomic():
        # The claim: only one run (or worker) sets the stamp, and only that one tells anyone.
        claimed = ResultAlert.objects.filter(
            pk=pk,
            level=Level.CRITICAL,
            status=Status.OPEN,
            escalated_at__isnull=True,
            due_at__lte=now,
        ).update(escalated_at=now)
        if not claimed:
            return False
        alert = ResultAlert.objects.select_related("released_by").get(pk=pk)
        with translation.override(settings.LANGUAGE_CODE):
            text = _(
                "Critical exam result of exam order #%(order)s: the client was not reached by"
                " the deadline %(due)s. Call now."
            ) % {"order": alert.order_id, "due": _local(alert.due_at)}
            sms = _(
                "Zhongdu customer service: a critical-value follow-up has passed its deadline."
                " Please sign in and handle it at once."
            )
        told = _managers()
        if alert.released_by is not None and alert.released_by not in told:
            told.append(alert.released_by)
        for user in told:
            notify(user, text, alert_url(alert))
        with translation.override(settings.LANGUAGE_CODE):
            detail = _("Told: %(names)s.") % {
                "names": ", ".join(user.get_full_name() or user.get_username() for user in told)
            }
        _event(alert, Event.ESCALATED, at=now, detail=detail)
        # The managers on duty by SMS, day or night, whatever the complaints' switch
        # (EXAM_CRITICAL_ESCALATION_SMS); a reopened alert's escalation is a new message.
        duty_sms(
            key=f"result-alert:{alert.pk}:escalate:{alert.escalated_at.timestamp():.0f}",
            body=sms,
            enabled=settings.EXAM_CRITICAL_ESCALATION_SMS,
        )
        audit.record(audit.Action.UPDATE, obj=alert, fields=["escalated_at"])
    return True


_CALL_OUTCOMES = {
    FollowUpCall.Status.DONE: Outcome.REACHED,
    FollowUpCall.Status.UNREACHABLE: Outcome.UNREACHABLE,
}


def _close_from_call(pk: int, now) -> bool:
    with transaction.atomic():
        alert = (
            ResultAlert.objects.select_for_update(of=("self",))
            .filter(pk=pk, status=Status.OPEN)
            .select_related("followup_call")
            .first()
        )
        if alert is None or alert.followup_call is None:
            return False
        call = alert.followup_call
        outcome = _CALL_OUTCOMES.get(call.status)
        if outcome is None:
            return False
        if call.status == FollowUpCall.Status.DONE and call.outcome == FollowUpCall.Outcome.REFUSED:
            outcome = Outcome.OTHER
        closed_at = call.closed_at or now
        alert.status = Status.CLOSED
        alert.outcome = outcome
        alert.closed_at = closed_at
        alert.closed_by = call.closed_by
        if outcome == Outcome.REACHED:
            alert.reached_at = closed_at
        with translation.override(settings.LANGUAGE_CODE):
            line = _("Closed with its return-visit call (%(status)s).") % {
                "status": call.get_status_display()
            }
        alert.save(update_fields=["status", "outcome", "closed_at", "closed_by", "reached_at"])
        _event(alert, Event.CLOSED, by=call.closed_by, at=now, detail=line)
        audit.record(audit.Action.UPDATE, obj=alert, fields=["status", "outcome"])
    return True


def alerts_check_deadlines(now=None) -> dict[str, int]:
    """Escalate the critical alerts open past their deadline (each once: a conditional UPDATE
    claims it), and close the abnormal alerts whose return-visit call was closed. Safe to run
    twice, or in two workers at once."""
    now = now or timezone.now()
    missed = ResultAlert.objects.filter(
        level=Level.CRITICAL, status=Status.OPEN, escalated_at__isnull=True, due_at__lte=now
    ).values_list("pk", flat=True)
    escalated = sum(_escalate(pk, now) for pk in list(missed))
    answered = ResultAlert.objects.filter(
        level=Level.ABNORMAL,
        status=Status.OPEN,
        followup_call__status__in=list(_CALL_OUTCOMES),
    ).values_list("pk", flat=True)
    closed = sum(_close_from_call(pk, now) for pk in list(answered))
    return {"escalated": escalated, "closed": closed}
