"""The portal's bookings (/my/bookings/): the person's upcoming and past bookings, and booking,
moving and cancelling one themselves.

Every write goes through the consultation desk's own services (consult.services.booking_create,
booking_cancel, booking_reschedule): the same capacity guarantee (one conditional UPDATE of the
session's row), the same confirmation and reminder SMS, the same history. What the portal adds:

- Returning clients only: a person who has been to the hospital before (a visit recorded by the
  front desk, or an appointment they arrived at). A first-time person sends the consultation
  desk's request (/book/), which the desk links to their record when they register.
- The cut-off: nothing is booked, moved or cancelled here later than
  PORTAL_CHANGE_CUTOFF_HOURS before the session starts; later, the person calls the hotline.
- The desk is told at once: a booking made here is marked `source=portal` (the queue lists the
  last day's), and every booking, move or cancellation notifies the consultants
  (consult.services.booking_tell_desk) in the change's own transaction.
- Every read and change is audited under portal.services.portal_username(the person acting).
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from consult import services as consult
from consult.models import Booking
from consult.selectors import BOOKABLE_DAYS, sessions_bookable
from guide.models import Visit
from zhongdu import audit
from zhongdu.models import Department, Expert

from .services import portal_username

Status = Booking.Status

# The list's pages: upcoming bookings are few (shown at once, up to this many); past ones are
# paged by keyset (zhongdu.pagination).
UPCOMING_LIMIT = 20
PAST_PAGE_SIZE = 20

CUT_OFF = _(
    "Bookings can be made, moved or cancelled here up to %(hours)s hours before the session. "
    "Please call the hotline."
)


# --- Reads ------------------------------------------------------------------------------------


def is_returning(client) -> bool:
    """Has the person been to the hospital before: a visit the front desk recorded, or an
    appointment they arrived at. Only they book here; first-time people ask the desk."""
    if Visit.objects.filter(client=client).exists():
        return True
    return Booking.objects.filter(client=client, status=Status.ARRIVED).exists()


def change_deadline(session) -> datetime.datetime:
    """The last moment a booking into `session` is made, moved or cancelled on the portal."""
    hours = datetime.timedelta(hours=settings.PORTAL_CHANGE_CUTOFF_HOURS)
    return consult.session_starts_at(session) - hours


def before_cut_off(session, now=None) -> bool:
    return (now or timezone.now()) < change_deadline(session)


def changeable(booking, now=None) -> bool:
    return booking.status == Status.BOOKED and before_cut_off(booking.session, now)


def _bookings(client):
    return Booking.objects.filter(client=client).select_related(
        "session__department", "session__expert"
    )


def _upcoming_q(today) -> Q:
    return Q(status=Status.BOOKED, session__date__gte=today)


def bookings_upcoming(client, today=None):
    """The person's live bookings from today, soonest first (booking_client_created_idx)."""
    today = today or timezone.localdate()
    return (
        _bookings(client)
        .filter(_upcoming_q(today))
        .order_by("session__date", "session__start_time", "pk")[:UPCOMING_LIMIT]
    )


def bookings_past(client, today=None):
    """Everything else (attended, missed, cancelled, or before today), newest booking first:
    paged by id (zhongdu.pagination.keyset_page)."""
    today = today or timezone.localdate()
    return _bookings(client).exclude(_upcoming_q(today)).order_by("-id")


def booking_get_for_patient(patient, pk) -> Booking:
    """One of the shown person's bookings, or 404: another person's id finds nothing."""
    booking = _bookings(patient.subject).filter(pk=pk).first()
    if booking is None:
        raise Http404
    return booking


def sessions_open(*, client, department=None, expert=None, exclude=None) -> list:
    """The sessions the person may book or move to: scheduled, with a place they may take (the
    desk's own rule, consult.selectors.sessions_bookable), starting after the cut-off."""
    if department is None and expert is None:
        return []
    sessions = sessions_bookable(vip=client.is_vip, department=department, expert=expert)
    now = timezone.now()
    return [s for s in sessions if before_cut_off(s, now) and s.pk != exclude]


def departments_open():
    return Department.objects.filter(active=True).order_by("sort_order", "name")


def experts_open():
    return Expert.objects.filter(active=True).order_by("name")


def next_booking(client):
    """The home page's card: the person's next live booking, or None."""
    today = timezone.localdate()
    return (
        _bookings(client)
        .filter(_upcoming_q(today))
        .order_by("session__date", "session__start_time", "pk")
        .first()
    )


# --- Writes -----------------------------------------------------------------------------------


def _in_hospital_language(text) -> str:
    # The booking's history is the desk's, kept in the hospital's language.
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _check_cut_off(session) -> None:
    if not before_cut_off(session):
        raise ValidationError(CUT_OFF % {"hours": settings.PORTAL_CHANGE_CUTOFF_HOURS})


def _check_offered(session) -> None:
    """The session is one the pages offer (sessions_open: scheduled, within the desk's booking
    window, of an active department and expert), whatever a hand-made form names; the place
    itself is the capacity rule's to give (consult.services)."""
    today = timezone.localdate()
    offered = (
        session.status == session.Status.SCHEDULED
        and today <= session.date < today + datetime.timedelta(days=BOOKABLE_DAYS)
        and session.department.active
        and session.expert.active
    )
    if not offered:
        raise ValidationError(_("This session cannot be booked online. Choose one of the list."))
    _check_cut_off(session)


def portal_booking_create(*, client, subject, session, request_key: str) -> Booking:
    """`client` (signed in) books `subject` (their own record, or a dependant's) into `session`,
    or raises a ValidationError (not returning, past the cut-off) or consult's SessionFull. The
    form's one-time key: a double click returns the first booking, written and audited once."""
    found = Booking.objects.filter(request_key=request_key).first() if request_key else None
    if found is not None:
        if found.client_id != subject.pk:  # another's form: nothing of theirs is shown
            raise ValidationError(_("This form was already used. Please start again."))
        return found
    if not is_returning(subject):
        raise ValidationError(
            _("Booking here is for returning clients. Send the consultation desk a request.")
        )
    _check_offered(session)
    with transaction.atomic():
        booking = consult.booking_create(
            client=subject,
            session=session,
            kind=Booking.Kind.EXPERT,
            by=None,
            vip=subject.is_vip,
            request_key=request_key,
            source=Booking.Source.PORTAL,
        )
        audit.record(audit.Action.CREATE, obj=booking, username=portal_username(client))
    return booking


def portal_booking_cancel(*, client, booking, reason: str = "") -> Booking:
    """Cancel before the cut-off: the desk's cancellation (the place given back, the reminder
    withdrawn), the consultants told, audited."""
    _check_cut_off(booking.session)
    reason = reason.strip() or _in_hospital_language(_("Cancelled by the client online"))
    with transaction.atomic():
        booking = consult.booking_cancel(booking=booking, reason=reason, by=None)
        consult.booking_tell_desk(booking=booking, text=_("Cancelled"))
        audit.record(
            audit.Action.UPDATE, obj=booking, fields=["status"], username=portal_username(client)
        )
    return booking


def portal_booking_reschedule(*, client, booking, session) -> Booking:
    """Move to `session`, both before the cut-off: the desk's reschedule (a place taken there
    under the capacity rule, the old one given back, a fresh reminder), the consultants told,
    audited."""
    _check_cut_off(booking.session)
    _check_offered(session)
    with transaction.atomic():
        booking = consult.booking_reschedule(
            booking=booking,
            session=session,
            by=None,
            reason=_in_hospital_language(_("Moved by the client online")),
        )
        consult.booking_tell_desk(booking=booking, text=_("Moved"))
        audit.record(
            audit.Action.UPDATE, obj=booking, fields=["session"], username=portal_username(client)
        )
    return booking


LIST_READ = _("Bookings read on the patient portal")


def audit_read(*, patient, obj=None) -> None:
    """The person's bookings (or one of them, `obj`) were shown on the portal."""
    audit.record(
        audit.Action.VIEW,
        obj=obj or patient.subject,
        object_repr="" if obj else _in_hospital_language(LIST_READ),
        username=portal_username(patient.client),
    )


# --- The home page and the bottom bar ---------------------------------------------------------


def home_card(patient) -> dict:
    """The next booking (its read audited), or a way to book."""
    booking = next_booking(patient.subject)
    if booking is not None:
        audit_read(patient=patient, obj=booking)
    return {"template": "portal/_home_bookings.html", "next_booking": booking}
