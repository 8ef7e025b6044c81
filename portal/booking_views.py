"""The bookings part's pages (/my/bookings/): the person's bookings, booking a session, moving
or cancelling one. Every page reads the person through request.patient.subject; a booking is
found among theirs only (portal.bookings.booking_get_for_patient)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from consult.services import SessionFull
from zhongdu.forms import new_form_key
from zhongdu.pagination import keyset_page

from . import bookings
from .booking_forms import (
    PortalBookingForm,
    PortalCancelForm,
    PortalRescheduleForm,
    SessionFilterForm,
)

# What the booking's page says after a change (?done=...).
DONE = {
    "booked": _("Booked. The confirmation SMS is on its way."),
    "moved": _("Moved. A fresh reminder will be sent."),
    "cancelled": _("Cancelled. The place was given back."),
}


def _sessions_context(request, subject, *, exclude=None, initial=None):
    """The filter (department or expert) and the open sessions it finds."""
    filter_form = SessionFilterForm(request.GET or initial)
    sessions = bookings.sessions_open(client=subject, exclude=exclude, **filter_form.filters())
    return {"filter_form": filter_form, "sessions": sessions, "filtered": filter_form.filters()}


@require_GET
def booking_list(request):
    subject = request.patient.subject
    page = keyset_page(
        bookings.bookings_past(subject),
        before=request.GET.get("before"),
        size=bookings.PAST_PAGE_SIZE,
    )
    bookings.audit_read(patient=request.patient)
    context = {
        "upcoming": list(bookings.bookings_upcoming(subject)),
        "page": page,
        "returning": bookings.is_returning(subject),
    }
    return render(request, "portal/bookings.html", context)


@require_http_methods(["GET", "POST"])
def booking_new(request):
    subject = request.patient.subject
    if not bookings.is_returning(subject):
        return render(request, "portal/booking_first_time.html")
    form = PortalBookingForm(request.POST or None, initial={"key": new_form_key()})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            booking = bookings.portal_booking_create(
                client=request.patient.client,
                subject=subject,
                session=form.cleaned_data["session"],
                request_key=form.cleaned_data["key"],
            )
        except SessionFull as exc:
            form.add_error(None, exc)
            status = 409
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 422
        else:
            return redirect(_done(booking, "booked"))
    elif request.method == "POST":
        status = 422
    context = {
        "form": form,
        "cut_off_hours": settings.PORTAL_CHANGE_CUTOFF_HOURS,
        **_sessions_context(request, subject),
    }
    return render(request, "portal/booking_new.html", context, status=status)


def _done(booking, what: str) -> str:
    return reverse("portal:booking", args=[booking.pk]) + f"?done={what}"


@require_GET
def booking_detail(request, pk):
    booking = bookings.booking_get_for_patient(request.patient, pk)
    bookings.audit_read(patient=request.patient, obj=booking)
    context = {
        "booking": booking,
        "changeable": bookings.changeable(booking),
        "done": DONE.get(request.GET.get("done", "")),
        "cut_off_hours": settings.PORTAL_CHANGE_CUTOFF_HOURS,
    }
    return render(request, "portal/booking_detail.html", context)


@require_http_methods(["GET", "POST"])
def booking_cancel(request, pk):
    """A confirmation page first; the POST cancels."""
    booking = bookings.booking_get_for_patient(request.patient, pk)
    if request.method == "GET":
        bookings.audit_read(patient=request.patient, obj=booking)
    form = PortalCancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            bookings.portal_booking_cancel(
                client=request.patient.client, booking=booking, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 409
        else:
            return redirect(_done(booking, "cancelled"))
    elif request.method == "POST":
        status = 422
    context = {"booking": booking, "form": form, "changeable": bookings.changeable(booking)}
    return render(request, "portal/booking_cancel.html", context, status=status)


@require_http_methods(["GET", "POST"])
def booking_reschedule(request, pk):
    """The open sessions of the booking's expert (or another department's or expert's); the
    POST moves the booking to the one chosen."""
    booking = bookings.booking_get_for_patient(request.patient, pk)
    if request.method == "GET":
        bookings.audit_read(patient=request.patient, obj=booking)
    form = PortalRescheduleForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            bookings.portal_booking_reschedule(
                client=request.patient.client, booking=booking, session=form.cleaned_data["session"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 409
        else:
            return redirect(_done(booking, "moved"))
    elif request.method == "POST":
        status = 422
    initial = {"expert": booking.session.expert_id}
    context = {
        "booking": booking,
        "form": form,
        "changeable": bookings.changeable(booking),
        **_sessions_context(
            request, request.patient.subject, exclude=booking.session_id, initial=initial
        ),
    }
    return render(request, "portal/booking_reschedule.html", context, status=status)
