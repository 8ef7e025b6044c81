# Views of the calling station (叫号) and the waiting-room display: decorators, an access-checked
# fetch, one service call. Both pages poll through zhongdu.live: one indexed query for the queue's
# version, an empty 204 when nothing changed.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhongdu import live
from zhongdu.forms import error_text, new_form_key

from . import selectors, services
from .forms import CallingForm, DisplayScreenForm

# The station remembers its department for the session (a clinician sits in one place).
STATION_SESSION_KEY = "guide_calling_station"


def _station(request):
    """The station's department and doctor: from the address, else as last used, else the
    first department."""
    data = request.GET if "department" in request.GET else request.session.get(STATION_SESSION_KEY)
    form = CallingForm(data or None)
    if form.is_valid():
        department, expert = form.cleaned_data["department"], form.cleaned_data["expert"]
        chosen = {"department": str(department.pk), "expert": str(expert.pk) if expert else ""}
        if request.session.get(STATION_SESSION_KEY) != chosen:  # no session write per poll
            request.session[STATION_SESSION_KEY] = chosen
        return form, department, expert
    department = selectors.departments_for_triage().first()
    return CallingForm(initial={"department": department}), department, None


def _station_url(department_id, expert_id=None) -> str:
    query = {"department": department_id, "expert": expert_id or ""}
    return reverse("guide:calling") + "?" + urlencode(query)


@require_GET
def calling(request):
    form, department, expert = _station(request)
    if department is None:
        return render(request, "guide/calling.html", {"form": form, "board": None})
    version = selectors.queue_version(department_id=department.pk)
    if request.htmx and live.unchanged(request, version):
        return live.no_change()
    context = {
        "form": form,
        "board": selectors.queue_board(department=department, expert=expert, reader=request.user),
        "expert": expert,
        "live": live.attrs(_station_url(department.pk, expert.pk if expert else None), version),
    }
    template = "guide/_calling_queue.html" if request.htmx else "guide/calling.html"
    return render(request, template, context)


@require_POST
def ticket_act(request, pk, action):
    ticket = selectors.ticket_get_for_user(request.user, pk)
    expert = request.POST.get("expert", "")
    back = _station_url(ticket.department_id, expert if expert.isdigit() else None)
    try:
        ticket, changed = services.ticket_act(
            ticket=ticket,
            action=action,
            by=request.user,
            seen=request.POST.get("seen", "")[:20],
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    if changed:
        messages.success(
            request,
            _("No. %(number)s %(action)s.")
            % {"number": ticket.label, "action": services.TICKET_ACTION_LABELS[action]},
        )
    else:
        messages.info(
            request,
            _("No. %(number)s had already changed (%(status)s): nothing was done again.")
            % {"number": ticket.label, "status": ticket.get_status_display()},
        )
    return redirect(back)


@require_GET
def display(request, token):
    """The waiting-room display: public, found by its screen's token only; names masked."""
    screen = selectors.display_screen_live(token)
    if screen is None:
        if request.htmx:
            # A screen whose link was revoked reloads into the "not found" page.
            response = render(request, "404.html", status=404)
            response["HX-Refresh"] = "true"
            return response
        raise Http404
    if live.unchanged(request, screen.queue_version):
        return live.no_change()
    context = {
        "screen": screen,
        "board": selectors.queue_board(department=screen.department),
        "called_limit": selectors.DISPLAY_CALLED,
        "waiting_limit": selectors.DISPLAY_WAITING,
        "live": live.attrs(reverse("guide:display", args=[token]), screen.queue_version),
    }
    template = "guide/_display_board.html" if request.htmx else "guide/display.html"
    response = render(request, template, context)
    # A screen in a public room: no copy of its names kept by the browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def display_list(request):
    """The administrators' list of waiting-room screens: make a screen's link, revoke one."""
    form = DisplayScreenForm(request.POST or None, initial={"key": new_form_key()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        screen = services.display_screen_create(
            name=data["name"],
            department=data["department"],
            by=request.user,
            request_key=data["key"],
            request=request,
        )
        messages.success(
            request, _("The link for %(name)s is ready: open it on the screen.") % {"name": screen}
        )
        return redirect("guide:display_list")
    screens = [
        (screen, request.build_absolute_uri(screen.get_absolute_url()))
        for screen in selectors.display_screens()
    ]
    status = 422 if form.is_bound else 200
    return render(
        request, "guide/display_list.html", {"form": form, "screens": screens}, status=status
    )


@require_POST
def display_revoke(request, pk):
    screen = selectors.display_screen_get_for_user(request.user, pk)
    services.display_screen_revoke(screen=screen, by=request.user, request=request)
    messages.success(request, _("The link of %(name)s no longer works.") % {"name": screen})
    return redirect("guide:display_list")
