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
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from messaging.services import duty_sms
from zhongdu import audit, roles
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


class _Move:
    """One step of a complaint under way (see _move): the locked row, the step's moment, and
    what the step writes besides the status."""

    def __init__(self, locked, *, now, detail, action):
        self.complaint, self.now, self.detail, self.action = locked, now, detail, action
        self.fields = ["status"]

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self.complaint, name, value)
            self.fields.append(name)


def _illegal(from_status, to) -> IllegalTransition:
    return IllegalTransition(
        _("A complaint cannot go from %(from)s to %(to)s.")
        % {"from": Status(from_status).label, "to": Status(to).label}
    )


@contextmanager
def _move(complaint, to, *, by, detail="", only_from=(), request=None):
    """The one way a complaint changes status, shared by the services of each step: lock the row,
    refuse a move COMPLAINT_TRANSITIONS does not allow (or, for a step that leads to `to` from
    only some statuses, one from another), let the step set its columns (a ValidationError in
    the block refuses the step: nothing is written), then save, append the event and audit it.

    Locks the complaint row (SELECT ... FOR UPDATE): two handlers pressing the same button make
    one step, the second is refused; and the deadline job's conditional UPDATEs wait for it."""
    now = timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        from_status = locked.status
        if to not in COMPLAINT_TRANSITIONS[from_status] or (
            only_from and from_status not in only_from
        ):
            raise _illegal(from_status, to)
        move = _Move(locked, now=now, detail=(detail or "").strip(), action=to)
        yield move
        locked.status = to
        locked.save(update_fields=[*move.fields, "updated_at"])
        _event(
            locked,
            move.action,
            by=by,
            detail=move.detail,
            from_status=from_status,
            to_status=to,
            at=now,
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=move.fields, request=request)
    complaint.refresh_from_db()


def complaint_acknowledge(*, complaint: Complaint, by, detail: str = "", request=None) -> Complaint:
    """Received → acknowledged: stamped, and a missed deadline to acknowledge recorded."""
    with _move(complaint, Status.ACKNOWLEDGED, by=by, detail=detail, request=request) as move:
        move.set(acknowledged_at=move.now)
        _record_if_late(move.complaint, ACKNOWLEDGE, move.now)
    return complaint


def complaint_investigate(*, complaint: Complaint, by, detail: str = "", request=None) -> Complaint:
    """Acknowledged → investigating. (A closed complaint goes back to investigation only by
    complaint_reopen, with a reason.)"""
    with _move(
        complaint,
        Status.INVESTIGATING,
        by=by,
        detail=detail,
        only_from=(Status.ACKNOWLEDGED,),
        request=request,
    ):
        pass
    return complaint


def complaint_resolve(
    *,
    complaint: Complaint,
    by,
    findings: str | None = None,
    action_taken: str | None = None,
    detail: str = "",
    request=None,
) -> Complaint:
    """Investigating → resolved: stamped, with the findings and the action taken so far (None
    keeps what is recorded); a missed deadline to resolve is recorded."""
    with _move(complaint, Status.RESOLVED, by=by, detail=detail, request=request) as move:
        locked = move.complaint
        move.set(
            resolved_at=move.now,
            findings=locked.findings if findings is None else findings.strip(),
            action_taken=locked.action_taken if action_taken is None else action_taken.strip(),
        )
        _record_if_late(locked, RESOLVE, move.now)
    return complaint


def complaint_close(
    *,
    complaint: Complaint,
    by,
    client_accepted: bool | None = None,
    client_called_at: datetime.datetime | None = None,
    findings: str | None = None,
    action_taken: str | None = None,
    compensation: str | None = None,
    detail: str = "",
    request=None,
) -> Complaint:
    """Resolved → closed with the result: the findings and the action taken (None keeps those
    recorded when it was resolved), whether the client accepted it, and when the client was
    called back about it (the check constraint complaint_closed_has_result backs this). The
    event's detail is the result."""
    with _move(complaint, Status.CLOSED, by=by, detail=detail, request=request) as move:
        locked = move.complaint
        findings = locked.findings if findings is None else findings.strip()
        action_taken = locked.action_taken if action_taken is None else action_taken.strip()
        _check_result(
            locked,
            findings=findings,
            action_taken=action_taken,
            client_accepted=client_accepted,
            client_called_at=client_called_at,
            now=move.now,
        )
        move.set(
            findings=findings,
            action_taken=action_taken,
            compensation=(compensation or "").strip()[:200],
            client_accepted=client_accepted,
            client_called_at=client_called_at,
            closed_at=move.now,
        )
        move.detail = "\n".join(filter(None, [_result_summary(locked), move.detail]))
    return complaint


def complaint_reopen(*, complaint: Complaint, reason: str, by, request=None) -> Complaint:
    """Closed → investigating again, for a reason, with a fresh deadline to resolve that is
    warned and escalated afresh; the call-back and the client's answer are asked again at the
    next close (the history keeps the old ones)."""
    with _move(
        complaint,
        Status.INVESTIGATING,
        by=by,
        detail=reason,
        only_from=(Status.CLOSED,),
        request=request,
    ) as move:
        if not move.detail:
            raise ValidationError(_("Give the reason for reopening the complaint."))
        move.action = "reopened"
        locked = move.complaint
        _acknowledge, resolve = deadline_hours(locked.severity)
        move.set(
            reopened=locked.reopened + 1,
            resolve_due_at=WorkCalendar.load().add_working_hours(move.now, resolve),
            resolved_at=None,
            closed_at=None,
            resolve_warned_at=None,
            resolve_escalated_at=None,
            client_called_at=None,
            client_accepted=None,
        )
    return complaint


# The service of each status a complaint is moved to, for callers that hold the status rather
# than the step (a status from a list, the tests of the whole map). Nothing moves back to
# received.
_STEPS = {
    Status.ACKNOWLEDGED: complaint_acknowledge,
    Status.INVESTIGATING: complaint_investigate,
    Status.RESOLVED: complaint_resolve,
    Status.CLOSED: complaint_close,
}


def complaint_set_status(
    *, complaint: Complaint, new_status: str, by, detail: str = "", request=None, **result
) -> Complaint:
    """Take the step that leads to `new_status`, by its own service (investigating from closed
    is complaint_reopen, `detail` the reason); `result` goes to complaint_resolve or
    complaint_close. A move COMPLAINT_TRANSITIONS does not allow is refused."""
    if new_status not in Status.values:
        raise ValidationError(_("Choose what to do with the complaint."))
    if new_status == Status.INVESTIGATING and complaint.status == Status.CLOSED:
        return complaint_reopen(complaint=complaint, reason=detail, by=by, request=request)
    step = _STEPS.get(new_status)
    if step is None:  # received: nothing leads back there
        raise _illegal(complaint.status, new_status)
    return step(complaint=complaint, by=by, detail=detail, request=request, **result)


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
    with translation.override(settings.LANGUAGE_CODE):
        body = _sms_text(complaint, which)
    key = f"complaint:{complaint.pk}:escalate:{which}"
    if which == RESOLVE and complaint.reopened:
        key += f":reopened{complaint.reopened}"
    return duty_sms(key=key, body=body)


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
