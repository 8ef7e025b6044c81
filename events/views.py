# Views of events (活动邀请: free clinics, skin-health school lectures): decorators, an
# access-checked fetch (event_selectors.event_get_for_user), a form, one service call, redirect
# or render. The services refuse what the rules forbid (a full event, a VIP event to others, an
# audience changed after the invitations); their messages are shown on the page, never a 500.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.search import parse_query
from clientmgmt.selectors import (
    client_get_for_user,
    client_registered_by,
    client_search_for_user,
    clients_shown_for_user,
)
from zhongdu import phones
from zhongdu.forms import error_text, new_form_key
from zhongdu.private_query import address, search_by_post, search_params
from zhongdu.roles import user_may_open

from . import selectors
from . import services as events
from .forms import DoorClientForm, DoorSearchForm, EventForm, RsvpForm
from .models import EventInvitation


@require_GET
def event_list(request):
    context = {
        "page": selectors.event_list(cursor=request.GET.get("before")),
        "can_create": user_may_open(request.user, "events:event_new"),
        "can_open": user_may_open(request.user, "events:event_detail"),
        "can_door": user_may_open(request.user, "events:event_door"),
    }
    return render(request, "events/event_list.html", context)


def _form_page(request, form, event=None, status=200):
    context = {"form": form, "event": event}
    return render(request, "events/event_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def event_new(request):
    form = EventForm(request.POST or None, initial={"key": new_form_key()})
    if request.method == "GET" or not form.is_valid():
        return _form_page(request, form, status=200 if request.method == "GET" else 422)
    try:
        event = events.event_create(
            by=request.user,
            request=request,
            request_key=form.cleaned_data["key"],
            **form.service_data(),
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _form_page(request, form, status=422)
    messages.success(
        request,
        _("Event saved. Its channel “%(channel)s” is the way new people met there heard of us.")
        % {"channel": event.channel.name},
    )
    return redirect(event)


@require_http_methods(["GET", "POST"])
def event_edit(request, pk):
    event = selectors.event_get_for_user(request.user, pk, write=True)
    form = EventForm(request.POST or None, instance=event)
    if request.method == "GET" or not form.is_valid():
        return _form_page(request, form, event, status=200 if request.method == "GET" else 422)
    try:
        events.event_update(event=event, by=request.user, request=request, **form.service_data())
    except ValidationError as exc:
        form.add_error(None, exc)
        return _form_page(request, form, event, status=422)
    messages.success(request, _("Event saved."))
    return redirect(event)


@require_GET
def event_detail(request, pk):
    event = selectors.event_get_for_user(request.user, pk)
    rsvp = request.GET.get("rsvp")
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "event": event,
        "figures": selectors.event_figures(event),
        "invitations": selectors.event_invitations(
            event, rsvp=rsvp, after=request.GET.get("after")
        ),
        "rsvp_shown": rsvp if rsvp in EventInvitation.Rsvp.values else None,
        "rsvp_choices": EventInvitation.Rsvp.choices,
        "arrivals": selectors.event_arrivals(event),
        "query": query.urlencode(),
        "can_edit": user_may_open(request.user, "events:event_edit"),
        "can_invite": user_may_open(request.user, "events:event_invite"),
        "can_rsvp": user_may_open(request.user, "events:event_rsvp"),
        "next": request.get_full_path(),
    }
    return render(request, "events/event_detail.html", context)


@require_http_methods(["GET", "POST"])
def event_invite(request, pk):
    """GET: what sending the invitations will do (messaging's rules on the audience not yet
    invited), with the button that sends; POST: send."""
    event = selectors.event_get_for_user(request.user, pk, write=True)
    if request.method == "GET":
        context = {"event": event, "breakdown": selectors.event_invitation_breakdown(event)}
        return render(request, "events/event_invite.html", context)
    try:
        events.event_invitations_start(event=event, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _(
                "The invitations are being written in the background: refresh the page to see"
                " them. Each client is invited once; the SMS rules (consent, quiet hours) apply."
            ),
        )
    return redirect(event)


@require_POST
def event_rsvp(request, pk):
    invitation = selectors.invitation_get_for_user(request.user, pk)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the client's reply."))
    else:
        try:
            events.event_rsvp(
                invitation=invitation,
                answer=form.cleaned_data["answer"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request, _("Reply of %(name)s recorded.") % {"name": invitation.client.name}
            )
    target = request.POST.get("next", "")
    if target.startswith(invitation.event.get_absolute_url()):
        return redirect(target)
    return redirect(invitation.event)


# --- At the door ------------------------------------------------------------------------


def _door_page(request, event, *, search, matches=(), new_form=None, duplicates=(), status=200):
    taken = selectors.event_places_taken(event)
    context = {
        "event": event,
        "search": search,
        "matches": matches,
        "new_form": new_form,
        "duplicates": duplicates,
        "taken": taken,
        "full": taken >= event.capacity,
        "arrivals": selectors.event_arrivals(event),
        "can_open": user_may_open(request.user, "events:event_detail"),
    }
    return render(request, "events/event_door.html", context, status=status)


@search_by_post("phone")
@require_GET
def event_door(request, pk):
    """Attendance at the door: search by phone; a known client is ticked in, someone new is
    registered (clientmgmt's client form) with the event's channel."""
    event = selectors.event_get_for_user(request.user, pk, door=True)
    search = DoorSearchForm(search_params(request) or None)
    if not search.is_valid():
        return _door_page(request, event, search=search)
    query = parse_query(search.cleaned_data["phone"])
    if query.kind not in ("phone", "last4"):
        search.add_error("phone", _("Type the mobile number (or its last 4 digits)."))
        return _door_page(request, event, search=search, status=422)
    # As this user may see them: a VIP they do not serve shows the summary (clientmgmt.selectors).
    clients = client_search_for_user(request.user, query)
    new_form = None
    if not clients or request.GET.get("new"):
        phone = phones.national_digits(query.value) if query.kind == "phone" else ""
        new_form = DoorClientForm(event=event, initial={"phone": phone, "key": new_form_key()})
    return _door_page(
        request,
        event,
        search=search,
        matches=selectors.door_matches(event, clients),
        new_form=new_form,
    )


def _back_to_door(request, event, phone=""):
    url = reverse("events:event_door", args=[event.pk])
    return redirect(address(request, url, {"phone": phone}, private=["phone"]))


@require_POST
def event_attend(request, pk):
    event = selectors.event_get_for_user(request.user, pk, door=True)
    client = client_get_for_user(request.user, request.POST.get("client"))
    try:
        _attendance, created = events.event_attend(
            event=event, client=client, by=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _back_to_door(request, event, request.POST.get("phone", "")[:30])
    if created:
        messages.success(request, _("%(name)s is in. Welcome!") % {"name": client.name})
    else:
        messages.info(request, _("%(name)s was already ticked in.") % {"name": client.name})
    return _back_to_door(request, event)


@require_POST
def event_register(request, pk):
    event = selectors.event_get_for_user(request.user, pk, door=True)
    search = DoorSearchForm({"phone": request.POST.get("phone", "")})
    form = DoorClientForm(request.POST, event=event)
    if not form.is_valid():
        return _door_page(request, event, search=search, new_form=form, status=422)
    duplicates, stop = form.check_duplicates()
    # The same form sent again (checked after the duplicates, so a first click committing in
    # between is found) skips them: its own record is one, and the service finds it.
    key = form.cleaned_data["key"]
    if client_registered_by(key):
        duplicates, stop = [], False
    if stop:
        return _door_page(
            request,
            event,
            search=search,
            new_form=form,
            duplicates=selectors.door_matches(
                event, clients_shown_for_user(request.user, duplicates)
            ),
            status=409,
        )
    try:
        attendance = events.event_register_new(
            event=event,
            data=form.service_data(),
            by=request.user,
            request=request,
            request_key=key,
            distinct=form.cleaned_data["confirm_distinct"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _door_page(request, event, search=search, new_form=form, status=422)
    messages.success(
        request,
        _("%(name)s is registered as a new client and ticked in.")
        % {"name": attendance.client.name},
    )
    return _back_to_door(request, event)
