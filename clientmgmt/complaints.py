"""Writes of complaints (投诉): received from a client page, a return-visit call or a survey,
worked along COMPLAINT_TRANSITIONS to a recorded result. Each change is one transaction, appends a
ComplaintEvent and writes the audit trail. Deadlines are working hours by severity
(ComplaintDeadline, counted by zhongdu.workcalendar).

Who works a complaint. A new complaint goes to a client manager in turn (the one with the fewest
open complaints) unless a handler is chosen; anything open may be re-assigned, to a client manager
or a manager. Its handler moves it along (managers and administrators may move any); another
client manager takes it over first (complaint_assign), so each step has one owner on record.

Deadlines. The beat job complaints_check_deadlines warns the handler ComplaintDeadline.warn_hours
working hours before each deadline, and when one is missed tells the managers (in the application,
and by SMS when COMPLAINT_ESCALATION_SMS is set). Each warning and escalation is claimed with a
conditional UPDATE of its *_warned_at / *_escalated_at column, so two workers, or a job run twice,
send it once. A step taken after its deadline that the job had not yet seen records the miss
itself (an `*_missed` event): the monthly figures count those events.

Reopening a closed complaint sends it back to investigation with a fresh deadline to resolve; the
call-back and the client's answer are asked again when it is closed again.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from zhongdu import audit, phones, roles
from zhongdu.services import notify
from zhongdu.workcalendar import WorkCalendar

from .models import Complaint, ComplaintDeadline, ComplaintEvent

logger = logging.getLogger(__name__)
Status = Complaint.Status

# Every allowed move, in one place. Closed may be reopened (back to investigating). Re-assigning
# is not a move: anything open may be re-assigned (complaint_assign).
COMPLAINT_TRANSITIONS: dict[str, set[str]] = {
    Status.RECEIVED: {Status.ACKNOWLEDGED},
    Status.ACKNOWLEDGED: {Status.INVESTIGATING},
    Status.INVESTIGATING: {Status.RESOLVED},
    Status.RESOLVED: {Status.CLOSED},
    Status.CLOSED: {Status.INVESTIGATING},
}
OPEN_STATUSES = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.RESOLVED)

# The two deadlines, by the prefix of their columns (acknowledge_due_at, resolve_warned_at...),
# and the statuses in which each is still to be met.
ACKNOWLEDGE, RESOLVE = "acknowledge", "resolve"
DEADLINES = (ACKNOWLEDGE, RESOLVE)
PENDING = {
    ACKNOWLEDGE: (Status.RECEIVED,),
    RESOLVE: (Status.RECEIVED, Status.ACKNOWLEDGED, Status.INVESTIGATING),
}

# ComplaintEvent.action values written here, with their labels for the history.
EVENT_LABELS = {
    "received": pgettext_lazy("complaint event", "Received"),
    "assigned": pgettext_lazy("complaint event", "Assigned"),
    Status.ACKNOWLEDGED: pgettext_lazy("complaint event", "Acknowledged"),
    Status.INVESTIGATING: pgettext_lazy("complaint event", "Investigation started"),
    Status.RESOLVED: pgettext_lazy("complaint event", "Resolved"),
    Status.CLOSED: pgettext_lazy("complaint event", "Closed with the result"),
    "reopened": pgettext_lazy("complaint event", "Reopened"),
    "acknowledge_warned": pgettext_lazy(
        "complaint event", "Warned: the deadline to acknowledge is near"
    ),
    "resolve_warned": pgettext_lazy("complaint event", "Warned: the deadline to resolve is near"),
    "acknowledge_missed": pgettext_lazy("complaint event", "Deadline to acknowledge missed"),
    "resolve_missed": pgettext_lazy("complaint event", "Deadline to resolve missed"),
}
MISSED_EVENTS = ("acknowledge_missed", "resolve_missed")

# Working hours to acknowledge and to resolve, by severity, when administrators set none.
DEFAULT_DEADLINES = {
    Complaint.Severity.MINOR: (8, 5 * 9),
    Complaint.Severity.NORMAL: (4, 3 * 9),
    Complaint.Severity.SERIOUS: (2, 2 * 9),
    Complaint.Severity.CRITICAL: (1, 9),
}
DEFAULT_WARN_HOURS = 2
# A call-back typed a few minutes ahead of the server's clock is a clock, not a lie.
CALL_BACK_CLOCK_SKEW = datetime.timedelta(minutes=5)
# The beat job handles at most this many warnings and as many escalations of each deadline per
# run; the rest wait for the next run (15 minutes later).
CHECK_BATCH = 200


class IllegalTransition(ValidationError):
    pass


def deadline_hours(severity: str) -> tuple[int, int]:
    row = ComplaintDeadline.objects.filter(severity=severity).first()
    if row is not None:
        return row.acknowledge_hours, row.resolve_hours
    return DEFAULT_DEADLINES[severity]


def _event(complaint, action, *, by, detail="", from_status="", to_status="", at=None):
    ComplaintEvent.objects.create(
        complaint=complaint,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
        actor=by,
        at=at or timezone.now(),
    )


def _name(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _notify(user, complaint, build) -> None:
    """A notification whose text `build()` writes in the hospital's language: the recipient's own
    language is not known when it is written (notifications are stored text)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = build()
    notify(user, text, complaint.get_absolute_url())


# --- Handlers ----------------------------------------------------------------------------


def complaint_handlers():
    """Who may be given a complaint: active client managers and managers."""
    users = get_user_model().objects
    return users.filter(
        is_active=True,
        pk__in=users.filter(groups__name__in=[roles.CLIENT_MANAGER, roles.MANAGER]).values("pk"),
    ).order_by("first_name", "username")


def next_complaint_handler():
    """Round robin by load: the client manager with the fewest open complaints (then the one who
    has waited longest, by id). None when there is none: managers assign it from the overview."""
    open_complaints = (
        Complaint.objects.filter(handler=OuterRef("pk"))
        .exclude(status=Status.CLOSED)
        .order_by()
        .values("handler")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.CLIENT_MANAGER)
        .annotate(
            open_complaints=Coalesce(
                Subquery(open_complaints, output_field=IntegerField()), Value(0)
            )
        )
        .order_by("open_complaints", "pk")
        .first()
    )


def complaint_may_work(user, complaint) -> bool:
    """Whether `user` may move the complaint along: its handler (or any client manager while it
    has none), managers and administrators."""
    held = roles.user_roles(user)
    if held & {roles.MANAGER, roles.ADMINISTRATOR}:
        return True
    return roles.CLIENT_MANAGER in held and complaint.handler_id in (None, user.pk)


def _tell_assigned(complaint, handler, by) -> None:
    if handler is None or (by is not None and handler.pk == by.pk):
        return
    _notify(
        handler,
        complaint,
        lambda: (
            _("Complaint #%(number)s (%(severity)s, %(category)s) is assigned to you.")
            % {
                "number": complaint.pk,
                "severity": complaint.get_severity_display(),
                "category": complaint.get_category_display(),
            }
        ),
    )


# --- Recording -----------------------------------------------------------------------------


def complaint_create(
    *,
    client,
    by,
    words: str,
    channel: str = Complaint.Channel.PHONE,
    category: str = Complaint.Category.OTHER,
    severity: str = Complaint.Severity.NORMAL,
    department=None,
    person_concerned: str = "",
    source: str = "",
    handler=None,
    received_at: datetime.datetime | None = None,
    request=None,
) -> Complaint:
    """Record a complaint with its deadlines, assigned to `handler` or round robin. A complaint
    from the same origin (a call, a survey response) is made once: the second request returns the
    first."""
    words = (words or "").strip()
    if not words:
        raise ValidationError(_("Write down what the client said."))
    if channel not in Complaint.Channel.values:
        raise ValidationError(_("Choose how the complaint was received."))
    if category not in Complaint.Category.values:
        raise ValidationError(_("Choose the category of the complaint."))
    if severity not in Complaint.Severity.values:
        raise ValidationError(_("Choose the severity of the complaint."))
    if handler is not None and not complaint_handlers().filter(pk=handler.pk).exists():
        raise ValidationError(_("Complaints go to client managers or managers."))
    if source:
        existing = Complaint.objects.filter(source=source).first()
        if existing is not None:
            if existing.client_id != client.pk:
                raise ValidationError(
                    _("That origin already raised a complaint for another client.")
                )
            return existing
    received_at = received_at or timezone.now()
    acknowledge, resolve = deadline_hours(severity)
    calendar = WorkCalendar.load()
    complaint = Complaint(
        client=client,
        channel=channel,
        category=category,
        severity=severity,
        department=department,
        person_concerned=(person_concerned or "").strip()[:50],
        words=words,
        source=source[:60],
        received_at=received_at,
        received_by=by,
        handler=handler or next_complaint_handler(),
        acknowledge_due_at=calendar.add_working_hours(received_at, acknowledge),
        resolve_due_at=calendar.add_working_hours(received_at, resolve),
    )
    try:
        with transaction.atomic():
            complaint.save()
            _event(complaint, "received", by=by, to_status=Status.RECEIVED, at=received_at)
            if complaint.handler is not None:
                detail = _("Assigned to %(who)s") % {"who": _name(complaint.handler)}
                _event(complaint, "assigned", by=by, detail=detail, at=received_at)
                _tell_assigned(complaint, complaint.handler, by)
            audit.record(audit.Action.CREATE, actor=by, obj=complaint, request=request)
    except IntegrityError:
        # The same origin raised it a moment ago (the unique source index decided).
        return Complaint.objects.get(source=source)
    return complaint


# --- The workflow --------------------------------------------------------------------------


def _record_if_late(complaint, which: str, now) -> None:
    """A step taken after its deadline that the beat job has not escalated yet: record the miss
    (the figures count it). Call with the row locked."""
    due = getattr(complaint, f"{which}_due_at")
    if due is None or now <= due or getattr(complaint, f"{which}_escalated_at") is not None:
        return
    _event(complaint, f"{which}_missed", by=None, detail=_local(due), at=now)


def _check_result(locked, *, findings, action_taken, client_accepted, client_called_at, now):
    if not findings:
        raise ValidationError(_("Write down the findings before closing the complaint."))
    if not action_taken:
        raise ValidationError(_("Write down the action taken before closing the complaint."))
    if client_accepted is None:
        raise ValidationError(_("Record whether the client accepted the result."))
    if client_called_at is None:
        raise ValidationError(
            _("Call the client back about the result, and record when, before closing.")
        )
    if client_called_at > now + CALL_BACK_CLOCK_SKEW:
        raise ValidationError(_("The call to the client cannot be in the future."))
    # Times are typed to the minute: a call in the minute the complaint came in is after it.
    if client_called_at < locked.received_at.replace(second=0, microsecond=0):
        raise ValidationError(_("The call to the client cannot be before the complaint came in."))


def _result_summary(locked) -> str:
    lines = [
        _("Findings: %(text)s") % {"text": locked.findings},
        _("Action taken: %(text)s") % {"text": locked.action_taken},
    ]
    if locked.compensation:
        lines.append(_("Compensation: %(text)s") % {"text": locked.compensation})
    lines.append(
        _("The client accepted the result.")
        if locked.client_accepted
        else _("The client did not accept the result.")
    )
    lines.append(_("Client called back on %(when)s.") % {"when": _local(locked.client_called_at)})
    return "\n".join(lines)


def complaint_set_status(
    *,
    complaint: Complaint,
    new_status: str,
    by,
    detail: str = "",
    findings: str | None = None,
    action_taken: str | None = None,
    compensation: str | None = None,
    client_accepted: bool | None = None,
    client_called_at: datetime.datetime | None = None,
    request=None,
) -> Complaint:
    """Move a complaint to `new_status` if COMPLAINT_TRANSITIONS allows it, stamp the time of the
    step and record it. Resolving may record the findings and the action taken; closing requires
    them, whether the client accepted the result, and when the client was called back about it
    (the check constraint complaint_closed_has_result backs this). Reopening needs a reason.

    Locks the complaint row (SELECT ... FOR UPDATE): two handlers pressing the same button make
    one step, the second is refused; and the deadline job's conditional UPDATEs wait for it.
    """
    if new_status not in Status.values:
        raise ValidationError(_("Choose what to do with the complaint."))
    detail = (detail or "").strip()
    now = timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        from_status = locked.status
        if new_status not in COMPLAINT_TRANSITIONS[from_status]:
            raise IllegalTransition(
                _("A complaint cannot go from %(from)s to %(to)s.")
                % {"from": Status(from_status).label, "to": Status(new_status).label}
            )
        fields = ["status"]
        action = new_status
        if findings is not None:
            locked.findings = findings.strip()
        if action_taken is not None:
            locked.action_taken = action_taken.strip()
        if new_status == Status.ACKNOWLEDGED:
            locked.acknowledged_at = now
            fields.append("acknowledged_at")
            _record_if_late(locked, ACKNOWLEDGE, now)
        elif new_status == Status.RESOLVED:
            locked.resolved_at = now
            fields += ["resolved_at", "findings", "action_taken"]
            _record_if_late(locked, RESOLVE, now)
        elif new_status == Status.CLOSED:
            _check_result(
                locked,
                findings=locked.findings,
                action_taken=locked.action_taken,
                client_accepted=client_accepted,
                client_called_at=client_called_at,
                now=now,
            )
            locked.compensation = (compensation or "").strip()[:200]
            locked.client_accepted = client_accepted
            locked.client_called_at = client_called_at
            locked.closed_at = now
            fields += [
                "findings",
                "action_taken",
                "compensation",
                "client_accepted",
                "client_called_at",
                "closed_at",
            ]
            detail = "\n".join(filter(None, [_result_summary(locked), detail]))
        elif from_status == Status.CLOSED:  # reopened
            if not detail:
                raise ValidationError(_("Give the reason for reopening the complaint."))
            action = "reopened"
            _acknowledge, resolve = deadline_hours(locked.severity)
            locked.reopened += 1
            locked.resolve_due_at = WorkCalendar.load().add_working_hours(now, resolve)
            # A fresh deadline is warned and escalated afresh; the call-back and the client's
            # answer are asked again at the next close (the history keeps the old ones).
            locked.resolved_at = locked.closed_at = None
            locked.resolve_warned_at = locked.resolve_escalated_at = None
            locked.client_called_at = locked.client_accepted = None
            fields += [
                "reopened",
                "resolve_due_at",
                "resolved_at",
                "closed_at",
                "resolve_warned_at",
                "resolve_escalated_at",
                "client_called_at",
                "client_accepted",
            ]
        locked.status = new_status
        locked.save(update_fields=[*fields, "updated_at"])
        _event(
            locked,
            action,
            by=by,
            detail=detail,
            from_status=from_status,
            to_status=new_status,
            at=now,
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=fields, request=request)
    complaint.refresh_from_db()
    return complaint


def complaint_reopen(*, complaint: Complaint, reason: str, by, request=None) -> Complaint:
    return complaint_set_status(
        complaint=complaint,
        new_status=Status.INVESTIGATING,
        by=by,
        detail=reason,
        request=request,
    )


def complaint_assign(*, complaint: Complaint, handler, by, request=None) -> Complaint:
    """Give an open complaint to `handler` (a client manager or a manager), and tell them."""
    if handler is None:
        raise ValidationError(_("Choose who handles the complaint."))
    if not complaint_handlers().filter(pk=handler.pk).exists():
        raise ValidationError(_("Complaints go to client managers or managers."))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.status == Status.CLOSED:
            raise IllegalTransition(_("A closed complaint is not re-assigned: reopen it first."))
        if locked.handler_id == handler.pk:
            complaint.refresh_from_db()
            return complaint
        locked.handler = handler
        locked.save(update_fields=["handler", "updated_at"])
        _event(locked, "assigned", by=by, detail=_("Assigned to %(who)s") % {"who": _name(handler)})
        _tell_assigned(locked, handler, by)
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["handler"], request=request)
    complaint.refresh_from_db()
    return complaint


# --- Deadlines: warnings and escalations (the beat job) --------------------------------------


def _pending(which: str) -> Q:
    return Q(status__in=PENDING[which])


def _warn_hours() -> dict[str, int]:
    hours = dict.fromkeys(Complaint.Severity.values, DEFAULT_WARN_HOURS)
    hours.update(ComplaintDeadline.objects.values_list("severity", "warn_hours"))
    return hours


def _managers():
    """Who hears of a missed deadline: the managers (the administrators when there is none, so
    an escalation never reaches nobody)."""
    users = get_user_model().objects.filter(is_active=True)
    managers = list(users.filter(groups__name=roles.MANAGER).order_by("pk"))
    return managers or list(users.filter(groups__name=roles.ADMINISTRATOR).order_by("pk"))


def _warning_text(complaint, which: str, due) -> str:
    values = {
        "number": complaint.pk,
        "severity": complaint.get_severity_display(),
        "due": _local(due),
    }
    if which == ACKNOWLEDGE:
        return _("Complaint #%(number)s (%(severity)s) must be acknowledged by %(due)s.") % values
    return _("Complaint #%(number)s (%(severity)s) must be resolved by %(due)s.") % values


def _escalation_text(complaint, which: str, due) -> str:
    values = {
        "number": complaint.pk,
        "severity": complaint.get_severity_display(),
        "due": _local(due),
        "handler": _name(complaint.handler),
    }
    if which == ACKNOWLEDGE:
        return (
            _(
                "Complaint #%(number)s (%(severity)s) was not acknowledged by its deadline"
                " %(due)s. Handler: %(handler)s."
            )
            % values
        )
    return (
        _(
            "Complaint #%(number)s (%(severity)s) was not resolved by its deadline %(due)s."
            " Handler: %(handler)s."
        )
        % values
    )


def _sms_text(complaint, which: str) -> str:
    # No client's name or words in an SMS: the manager opens the complaint in the application.
    values = {"number": complaint.pk, "severity": complaint.get_severity_display()}
    if which == ACKNOWLEDGE:
        return (
            _(
                "Zhongdu customer service: complaint #%(number)s (%(severity)s) missed its"
                " deadline to be acknowledged. Please look at it."
            )
            % values
        )
    return (
        _(
            "Zhongdu customer service: complaint #%(number)s (%(severity)s) missed its deadline"
            " to be resolved. Please look at it."
        )
        % values
    )


def _escalation_sms(complaint, which: str) -> int:
    """One outbox message per configured number, once each (the idempotency key names the
    complaint, the deadline, the time it was reopened and the number)."""
    if not settings.COMPLAINT_ESCALATION_SMS:
        return 0
    # messaging sits above clientmgmt (a message belongs to a client): it plugs its outbox in
    # through the registry (messaging.apps), so this lower layer never imports it.
    from .registry import staff_sms_sender

    send = staff_sms_sender()
    if send is None:
        logger.warning("complaint escalation SMS: no SMS sender is installed")
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        body = _sms_text(complaint, which)
    key = f"complaint:{complaint.pk}:escalate:{which}"
    if which == RESOLVE and complaint.reopened:
        key += f":reopened{complaint.reopened}"
    sent = 0
    for raw in settings.COMPLAINT_ESCALATION_PHONES:
        try:
            phone = phones.normalise(raw)
        except ValidationError:
            phone = ""
        if not phone:
            logger.warning("COMPLAINT_ESCALATION_PHONES: %r is not a mobile number", raw)
            continue
        send(idempotency_key=f"{key}:{phone}", to=phone, body=body)
        sent += 1
    return sent


def _escalate(pk: int, which: str, now) -> bool:
    with transaction.atomic():
        # The claim: only one run (or worker) sets the stamp, and only that one tells anyone.
        claimed = (
            Complaint.objects.filter(_pending(which), pk=pk)
            .filter(**{f"{which}_escalated_at__isnull": True, f"{which}_due_at__lte": now})
            .update(**{f"{which}_escalated_at": now})
        )
        if not claimed:
            return False
        complaint = Complaint.objects.select_related("handler").get(pk=pk)
        due = getattr(complaint, f"{which}_due_at")
        _event(complaint, f"{which}_missed", by=None, detail=_local(due), at=now)
        for manager in _managers():
            _notify(manager, complaint, lambda: _escalation_text(complaint, which, due))
        _escalation_sms(complaint, which)
    return True


def _warn(pk: int, which: str, now) -> bool:
    with transaction.atomic():
        claimed = (
            Complaint.objects.filter(_pending(which), pk=pk)
            .filter(
                **{
                    f"{which}_warned_at__isnull": True,
                    f"{which}_escalated_at__isnull": True,
                    f"{which}_due_at__gt": now,
                }
            )
            .update(**{f"{which}_warned_at": now})
        )
        if not claimed:
            return False
        complaint = Complaint.objects.select_related("handler").get(pk=pk)
        due = getattr(complaint, f"{which}_due_at")
        _event(complaint, f"{which}_warned", by=None, detail=_local(due), at=now)
        # Nobody holds it: the managers, who assign, are told instead.
        for user in [complaint.handler] if complaint.handler_id else _managers():
            _notify(user, complaint, lambda: _warning_text(complaint, which, due))
    return True


def complaints_check_deadlines(now: datetime.datetime | None = None) -> dict[str, int]:
    """Warn handlers of deadlines coming within their severity's warn_hours working hours, and
    escalate the deadlines missed to the managers; each once. Safe to run twice, or in two
    workers at once: every warning and escalation is claimed by a conditional UPDATE. Working
    hours (nights, weekends and holidays do not count) come from zhongdu.workcalendar."""
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    warn_hours = _warn_hours()
    counts = {"warned": 0, "escalated": 0}
    for which in DEADLINES:
        due_at = f"{which}_due_at"
        missed = Complaint.objects.filter(
            _pending(which),
            **{f"{which}_escalated_at__isnull": True, f"{due_at}__lte": now},
        )
        for pk in missed.order_by(due_at).values_list("pk", flat=True)[:CHECK_BATCH]:
            counts["escalated"] += _escalate(pk, which, now)
        # Due within warn_hours working hours: before the moment that many working hours on.
        soon = Q()
        for severity, hours in warn_hours.items():
            horizon = calendar.add_working_hours(now, hours)
            soon |= Q(severity=severity, **{f"{due_at}__lte": horizon})
        near = Complaint.objects.filter(
            _pending(which),
            soon,
            **{
                f"{which}_warned_at__isnull": True,
                f"{which}_escalated_at__isnull": True,
                f"{due_at}__gt": now,
            },
        )
        for pk in near.order_by(due_at).values_list("pk", flat=True)[:CHECK_BATCH]:
            counts["warned"] += _warn(pk, which, now)
    return counts
