"""Writes of complaints (投诉): received from a client page, a return-visit call or a survey,
worked along COMPLAINT_TRANSITIONS to a recorded result. Each change is one transaction, appends a
ComplaintEvent and writes the audit trail. Deadlines are working hours by severity
(ComplaintDeadline, counted by zhongdu.workcalendar)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import audit
from zhongdu.workcalendar import WorkCalendar

from .models import Complaint, ComplaintDeadline, ComplaintEvent

Status = Complaint.Status

# Working hours to acknowledge and to resolve, by severity, when administrators set none.
DEFAULT_DEADLINES = {
    Complaint.Severity.MINOR: (8, 5 * 9),
    Complaint.Severity.NORMAL: (4, 3 * 9),
    Complaint.Severity.SERIOUS: (2, 2 * 9),
    Complaint.Severity.CRITICAL: (1, 9),
}


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
    received_at: datetime.datetime | None = None,
    request=None,
) -> Complaint:
    """Record a complaint with its deadlines. A complaint from the same origin (a call, a survey
    response) is made once: the second request returns the first."""
    words = (words or "").strip()
    if not words:
        raise ValidationError(_("Write down what the client said."))
    if channel not in Complaint.Channel.values:
        raise ValidationError(_("Choose how the complaint was received."))
    if category not in Complaint.Category.values:
        raise ValidationError(_("Choose the category of the complaint."))
    if severity not in Complaint.Severity.values:
        raise ValidationError(_("Choose the severity of the complaint."))
    if source:
        existing = Complaint.objects.filter(source=source).first()
        if existing is not None:
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
        acknowledge_due_at=calendar.add_working_hours(received_at, acknowledge),
        resolve_due_at=calendar.add_working_hours(received_at, resolve),
    )
    try:
        with transaction.atomic():
            complaint.save()
            _event(complaint, "received", by=by, to_status=Status.RECEIVED, at=received_at)
            audit.record(audit.Action.CREATE, actor=by, obj=complaint, request=request)
    except IntegrityError:
        # The same origin raised it a moment ago (the unique source index decided).
        return Complaint.objects.get(source=source)
    return complaint
