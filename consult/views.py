# Views of Consultation desk: decorators, an access-checked fetch, a form, one service call.
import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user
from referrals.selectors import referrals_to_call
from zhongdu import phones, roles
from zhongdu.audit import client_ip
from zhongdu.forms import error_text, new_form_key
from zhongdu.models import HospitalProfile
from zhongdu.origins import call_facts, call_reference
from zhongdu.origins import tell as tell_call
from zhongdu.origins import will_link as will_link_call
from zhongdu.private_query import address, search_by_post, search_params
from zhongdu.roles import user_may_open, user_roles

from . import selectors, services
from .forms import (
    BookingFilterForm,
    BookingForm,
    CancelForm,
    EnquiryForm,
    PublicBookingRequestForm,
    RecallAttemptForm,
    RecallCloseForm,
    RescheduleForm,
    SessionFilterForm,
)
from .models import Enquiry, Recall


def _can_book(user):
    return bool(user_roles(user) & selectors.BOOKING_WRITERS)


@require_GET
def booking_list(request):
    form = BookingFilterForm(request.GET or None, initial={"date": timezone.localdate()})
    filters = form.cleaned_data if form.is_valid() else {}
    day = filters.get("date") or timezone.localdate()
    week = request.GET.get("view") == "week"
    if week:
        day -= datetime.timedelta(days=day.weekday())  # the week from Monday
    step = datetime.timedelta(days=7 if week else 1)
    chosen = {
        "department": filters.get("department"),
        "expert": filters.get("expert"),
        "status": filters.get("status", ""),
    }
    query = request.GET.copy()
    query.pop("date", None)
    filter_query = query.copy()  # the filters alone, for the day / week switch and day links
    filter_query.pop("view", None)
    context = {
        "form": form,
        "day": day,
        "week": week,
        "week_end": day + datetime.timedelta(days=6),
        "previous_day": day - step,
        "next_day": day + step,
        "query": query.urlencode(),
        "filter_query": filter_query.urlencode(),
    }
    if week:
        context["days"] = selectors.booking_week(monday=day, **chosen)
    else:
        context["bookings"] = selectors.booking_list(day=day, **chosen)
    return render(request, "consult/booking_list.html", context)


def _new_page(request, client, booking_form, status=200, alternatives=(), enquiry=None):
    filters = SessionFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    sessions = selectors.sessions_bookable(
        vip=client.is_vip, department=chosen.get("department"), expert=chosen.get("expert")
    )
    context = {
        "client": client,
        "filter_form": filters,
        "form": booking_form,
        "sessions": sessions,
        "alternatives": alternatives,
        "enquiry": enquiry,
    }
    return render(request, "consult/booking_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def booking_new(request):
    """Book a client (`?client=`), from an enquiry when the call screen names it
    (`&enquiry=`)."""
    if not request.GET.get("client"):
        return render(request, "consult/booking_pick_client.html")
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    enquiry = selectors.enquiry_for_booking(request.GET.get("enquiry"), client=client)
    if request.method == "GET":
        form = BookingForm(initial={"key": new_form_key()})
        return _new_page(request, client, form, enquiry=enquiry)
    form = BookingForm(request.POST)
    if not form.is_valid():
        return _new_page(request, client, form, status=422, enquiry=enquiry)
    try:
        booking = services.booking_create(
            client=client,
            session=form.cleaned_data["session"],
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
            vip=client.is_vip,
            enquiry=enquiry,
            by=request.user,
            request_key=form.cleaned_data["key"],
        )
    except services.SessionFull as exc:
        form.add_error(None, exc)
        return _new_page(
            request, client, form, status=409, alternatives=exc.alternatives, enquiry=enquiry
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _new_page(request, client, form, status=422, enquiry=enquiry)
    messages.success(request, _("Booked. The confirmation SMS is on its way."))
    return redirect(booking)


def _detail_page(request, booking, *, reschedule_form=None, cancel_form=None, status=200):
    can_change = _can_book(request.user) and booking.status == booking.Status.BOOKED
    vip = booking.priority and booking.client.is_vip
    context = {
        "booking": booking,
        "history": selectors.booking_history(booking),
        "can_change": can_change,
        "reschedule_form": reschedule_form or RescheduleForm(),
        "cancel_form": cancel_form or CancelForm(),
        "vip": vip,
        "sessions": selectors.sessions_bookable(vip=vip, department=booking.session.department)
        if can_change
        else [],
    }
    return render(request, "consult/booking_detail.html", context, status=status)


@require_GET
def booking_detail(request, pk):
    booking = selectors.booking_get_for_user(request.user, pk)
    return _detail_page(request, booking)


@require_POST
def booking_reschedule(request, pk):
    booking = selectors.booking_get_for_user(request.user, pk, write=True)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, booking, reschedule_form=form, status=422)
    try:
        services.booking_reschedule(
            booking=booking,
            session=form.cleaned_data["session"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _detail_page(request, booking, reschedule_form=form, status=409)
    messages.success(request, _("Rescheduled. A fresh reminder will be sent."))
    return redirect(booking)


@require_POST
def booking_cancel(request, pk):
    booking = selectors.booking_get_for_user(request.user, pk, write=True)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, booking, cancel_form=form, status=422)
    try:
        services.booking_cancel(
            booking=booking, reason=form.cleaned_data["reason"], by=request.user
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(booking)
    messages.success(request, _("The booking was cancelled and its place given back."))
    return redirect(booking)


@require_GET
def booking_slip(request, pk):
    booking = selectors.booking_get_for_user(request.user, pk)
    return render(request, "consult/booking_slip.html", {"booking": booking})


# --- Enquiries ----------------------------------------------------------------------


def _caller(request, phone: str):
    """(matches, client) for the call screen: the clients with the popped number, and the one
    the enquiry is for: chosen with ?client=, or the only match."""
    matches = selectors.callers_by_phone(phone)
    if request.GET.get("client"):
        return matches, client_get_for_user(request.user, request.GET["client"], write=True)
    return matches, matches[0] if len(matches) == 1 else None


def _after_enquiry(request, enquiry):
    if enquiry.outcome == Enquiry.Outcome.BOOKED and enquiry.client_id:
        query = {"client": enquiry.client_id, "enquiry": enquiry.pk}
        return redirect(reverse("consult:booking_new") + "?" + urlencode(query))
    if enquiry.outcome == Enquiry.Outcome.BOOKED:
        messages.success(request, _("Enquiry saved. Register the caller, then book."))
        query = {"name": enquiry.prospect_name, "phone": enquiry.prospect_phone}
        url = reverse("clientmgmt:client_create")
        return redirect(address(request, url, query, private=["phone"]))
    messages.success(request, _("Enquiry saved."))
    return redirect(enquiry.client if enquiry.client_id else "consult:call")


def _normalised(phone: str) -> str:
    try:
        return phones.normalise(phone)
    except ValidationError:
        return ""


@search_by_post("phone")
@require_http_methods(["GET", "POST"])
def call(request):
    follows = selectors.enquiry_followed(request.GET.get("follows"))
    # A callback task's caller with no record: the screen reads their number from the task. A
    # caller with a record is opened as the record, with the viewer's access to it.
    callback = selectors.callback_followed(request.GET.get("recall"))
    if callback is not None and callback.client_id:
        query = {"client": callback.client_id}
        if call_reference(request):
            query["call"] = call_reference(request)
        return redirect(reverse("consult:call") + "?" + urlencode(query))
    # The queue's links name the enquiry they follow, not the number (no phone numbers in
    # addresses, which end up in logs and browser histories): the number is the prospect's, or
    # the client's once ?client= has opened the record with the viewer's access.
    phone = search_params(request).get("phone", "")
    if not phone and follows is not None and not follows.client_id:
        phone = follows.prospect_phone
    if not phone and callback is not None:
        phone = callback.phone
    matches, client = _caller(request, phone)
    if not phone and client is not None and follows is not None and follows.client_id == client.pk:
        phone = client.phone
    # Opened from a hotline call (?call=) that what is recorded here will be linked to: the
    # enquiry's duration is the call's, not typed.
    on_call = will_link_call(
        request,
        phone=client.phone if client is not None else _normalised(phone),
        client_id=client.pk if client is not None else None,
    )
    form_options = {"known_client": client is not None, "on_call": on_call}
    if request.method == "POST":
        form = EnquiryForm(request.POST, **form_options)
        if form.is_valid():
            try:
                enquiry = services.enquiry_create(
                    by=request.user, client=client, follows=follows, **form.create_kwargs()
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                tell_call(request, enquiry)
                return _after_enquiry(request, enquiry)
    else:
        initial = {"prospect_phone": phone[:30], "key": new_form_key()}
        if follows is not None:
            initial |= {"direction": Enquiry.Direction.OUTBOUND, "department": follows.department}
        if callback is not None:
            initial |= {"direction": Enquiry.Direction.OUTBOUND}
        form = EnquiryForm(initial=initial, **form_options)
    context = {
        "matches": matches,
        "client": client,
        "form": form,
        "follows": follows,
        "phone": phone,
    }
    return render(request, "consult/call.html", context, status=422 if form.is_bound else 200)


@require_GET
def queue(request):
    callbacks = list(selectors.enquiry_callbacks_due(consultant=request.user))
    online_requests = list(selectors.enquiry_online_requests())
    # No-shows, and the hotline's callers to call back for those who answer it: each kind up
    # to its own limit, so that a busy hotline never hides the no-shows.
    recalls = list(selectors.recalls_due(kind=Recall.Kind.NO_SHOW))
    if user_roles(request.user) & roles.CALLBACK_READERS:
        recalls = list(selectors.recalls_due(kind=Recall.Kind.CALLBACK)) + recalls
    # Clients the marketing department (or a partner) referred: the desk calls them first.
    referrals = referrals_to_call()
    # What clients booked, moved or cancelled themselves on the portal (网上医院) lately.
    portal_bookings = list(selectors.bookings_from_portal())
    context = {
        # What each list holds, and its rows as the page shows them (selectors, "The queue's
        # rows"): the template reads only the rows.
        "callbacks": callbacks,
        "callback_rows": selectors.callback_rows(callbacks),
        "online_requests": online_requests,
        "online_request_rows": selectors.online_request_rows(online_requests),
        "recalls": recalls,
        "recall_rows": selectors.recall_rows(recalls),
        "recall_figures": selectors.recall_figures(),
        "referrals": referrals,
        "referral_rows": selectors.referral_to_call_rows(referrals),
        "portal_booking_rows": selectors.portal_booking_rows(portal_bookings),
        "can_move_referral": user_may_open(request.user, "referrals:referral_status"),
        "next": request.get_full_path(),
        "can_call": user_may_open(request.user, "consult:call"),
    }
    return render(request, "consult/queue.html", context)


@require_http_methods(["GET", "POST"])
def public_book(request):
    """The public booking-request page: no login, and nothing on it depends on whether the
    person is a client (the same thanks page for everyone, bots included)."""
    form = PublicBookingRequestForm(
        request.POST or None, today=timezone.localdate(), initial={"key": new_form_key()}
    )
    if request.method == "GET" or not form.is_valid():
        return _public_page(request, form, status=200 if request.method == "GET" else 422)
    ip = client_ip(request)
    if form.is_bot:
        services.public_request_attempt(ip=ip, phone=form.cleaned_data["phone"])
        return redirect("consult:public_book_thanks")
    data = form.cleaned_data
    try:
        services.enquiry_request_create(
            name=data["name"],
            phone=data["phone"],
            department=data["department"],
            preferred_date=data["preferred_date"],
            message=data["message"],
            ip=ip,
            request_key=data["key"],
            consents=form.consents,
            notice_version=HospitalProfile.current().privacy_notice_version,
        )
    except services.RateLimited as exc:
        form.add_error(None, exc)
        return _public_page(request, form, status=429)
    return redirect("consult:public_book_thanks")


def _public_page(request, form, status):
    return render(request, "consult/public_book.html", {"form": form}, status=status)


@require_GET
def public_book_thanks(request):
    return render(request, "consult/public_book_thanks.html")


# --- No-shows and recall ------------------------------------------------------------


def _recall_page(request, recall, *, attempt_form=None, close_form=None, status=200):
    can_call = user_may_open(request.user, "consult:recall_attempt")
    # Opened from the call button's call (?call=): what its receipt said fills the form in, and
    # the form keeps the call (a caller reached goes on to the call screen with it).
    facts = call_facts(request, worklist="recall", task_id=recall.pk) if can_call else None
    initial = {"seen": recall.attempts}
    if facts is not None and facts.prefill:
        reached = RecallAttemptForm.REACHED if facts.answered else RecallAttemptForm.UNREACHABLE
        initial["outcome"] = reached
    context = {
        "recall": recall,
        "can_call": can_call,
        "can_book": can_call and _can_book(request.user),
        "call_facts": facts,
        "call_query": urlencode({"call": call_reference(request)}) if facts else "",
        "attempt_form": attempt_form
        or RecallAttemptForm(callback=recall.is_callback, initial=initial),
        "close_form": close_form or RecallCloseForm(),
        "rebook_url": reverse("consult:booking_new") + "?" + urlencode({"client": recall.client_id})
        if recall.client_id
        else "",
    }
    return render(request, "consult/recall_detail.html", context, status=status)


@require_GET
def recall_detail(request, pk):
    recall = selectors.recall_get_for_user(request.user, pk)
    return _recall_page(request, recall)


@require_POST
def recall_attempt(request, pk):
    recall = selectors.recall_get_for_user(request.user, pk, write=True)
    form = RecallAttemptForm(request.POST, callback=recall.is_callback)
    if not form.is_valid():
        return _recall_page(request, recall, attempt_form=form, status=422)
    data = form.cleaned_data
    reached = data["outcome"] == RecallAttemptForm.REACHED
    try:
        recall = services.recall_record_attempt(
            recall=recall,
            reached=reached,
            reason=data.get("reason", "") if reached else "",
            action=data.get("action", "") if reached else "",
            note=data["note"],
            by=request.user,
            seen_attempts=data.get("seen"),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(recall)
    if recall.is_callback and recall.reached_at is not None:
        messages.success(request, _("Called back. Record what the caller wanted."))
        query = _call_screen_query(recall, request)
        return redirect(reverse("consult:call") + "?" + urlencode(query))
    if recall.status == recall.Status.REACHED:
        messages.success(request, _("Reason recorded. Book the client's new appointment."))
        return redirect(
            reverse("consult:booking_new") + "?" + urlencode({"client": recall.client_id})
        )
    if recall.status == recall.Status.CLOSED:
        messages.success(request, _("The recall is closed."))
    elif recall.is_callback:
        messages.success(
            request,
            _("Attempt recorded. Try again by %(time)s.")
            % {"time": f"{timezone.localtime(recall.due_at):%Y-%m-%d %H:%M}"},
        )
    else:
        messages.success(request, _("Attempt recorded. The next call is due tomorrow."))
    return redirect("consult:queue")


def _call_screen_query(recall, request=None) -> dict:
    """The call screen for a callback's caller: their record, or the callback (whose number the
    screen reads, so that it stays out of the address); with the call it was made on, if any
    (?call=: the enquiry recorded there is the call's and takes its duration)."""
    query = {"client": recall.client_id} if recall.client_id else {"recall": recall.pk}
    if request is not None and call_reference(request):
        query["call"] = call_reference(request)
    return query


@require_POST
def recall_close(request, pk):
    recall = selectors.recall_get_for_user(request.user, pk, write=True)
    form = RecallCloseForm(request.POST)
    if not form.is_valid():
        return _recall_page(request, recall, close_form=form, status=422)
    try:
        services.recall_close(recall=recall, note=form.cleaned_data["note"], by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(recall)
    messages.success(request, _("The recall is closed."))
    return redirect("consult:queue")
