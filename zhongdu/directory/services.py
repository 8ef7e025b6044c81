"""Writes to the hospital directory: generating dated clinic sessions from the weekly clinics,
cancelling a session and changing its capacity."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhongdu.models import ClinicSession, SessionTemplate

MAX_WEEKS = 52


@transaction.atomic
def clinic_sessions_generate(*, start: date, weeks: int, dry_run: bool = False) -> int:
    """Create the dated sessions of every active weekly clinic from `start` for `weeks` weeks and
    return how many were created (or, with dry_run, would be).

    Safe to re-run: a (template, date) pair that already has a session is left exactly as it is,
    so a session an administrator cancelled or re-capacitied keeps the administrator's values.
    The unique constraint session_template_date_unique backs this when two runs overlap
    (bulk_create ignores the conflicting rows instead of failing).
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}, not {weeks}")
    end = start + timedelta(weeks=weeks)  # exclusive
    templates = list(
        SessionTemplate.objects.filter(active=True, expert__active=True, department__active=True)
    )
    existing = set(
        ClinicSession.objects.filter(
            template__in=templates, date__gte=start, date__lt=end
        ).values_list("template_id", "date")
    )
    missing = [
        ClinicSession(
            template=template,
            expert_id=template.expert_id,
            department_id=template.department_id,
            date=day,
            start_time=template.start_time,
            end_time=template.end_time,
            capacity=template.capacity,
        )
        for template in templates
        for day in _weekdays_between(start, end, template.weekday)
        if (template.pk, day) not in existing
    ]
    if not dry_run:
        ClinicSession.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def _weekdays_between(start: date, end: date, weekday: int):
    """Every date with this weekday (Monday = 0) from start (inclusive) to end (exclusive)."""
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    while day < end:
        yield day
        day += timedelta(weeks=1)


def clinic_session_capacity_check(*, session: ClinicSession, capacity: int) -> None:
    """Refuse a capacity below the places already booked. Shared by the service and the admin's
    form, so both say the same thing."""
    if capacity < session.booked:
        raise ValidationError(
            ngettext(
                "The capacity cannot be lower than the %(booked)d place already booked.",
                "The capacity cannot be lower than the %(booked)d places already booked.",
                session.booked,
            ),
            code="below_booked",
            params={"booked": session.booked},
        )


@transaction.atomic
def clinic_session_set_capacity(*, session: ClinicSession, capacity: int) -> ClinicSession:
    # Lock the row: a booking committed between reading `booked` and writing the capacity would
    # otherwise slip under the check (the check constraint session_not_overbooked is the last
    # line of defence, but it answers with an IntegrityError rather than a message).
    locked = ClinicSession.objects.select_for_update().get(pk=session.pk)
    clinic_session_capacity_check(session=locked, capacity=capacity)
    locked.capacity = capacity
    locked.save(update_fields=["capacity"])
    return locked


@transaction.atomic
def clinic_session_cancel(*, session: ClinicSession, reason: str) -> ClinicSession:
    """Cancel a scheduled session. Bookings already made stay on the session for the booking
    desk to follow up; the generator never brings a cancelled session back."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the session is cancelled."), code="reason_required")
    locked = ClinicSession.objects.select_for_update().get(pk=session.pk)
    if locked.status != ClinicSession.Status.SCHEDULED:
        raise ValidationError(_("This session is already cancelled."), code="not_scheduled")
    locked.status = ClinicSession.Status.CANCELLED
    locked.cancel_reason = reason[:200]
    locked.save(update_fields=["status", "cancel_reason"])
    return locked
