# Views of Front desk (arrivals): decorators, an access-checked fetch, a form, one service call.
# Cards and exam orders are in card_views.py and exam_views.py, the day's figures in
# daily_views.py, voiding and importing charges in charge_views.py.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt import services as clients
from clientmgmt.search import parse_query
from clientmgmt.selectors import (
    client_get_for_user,
    client_registered_by,
    client_search,
    clients_shown_for_user,
    merge_offers,
)
from consult.selectors import booking_get_for_user
from referrals.selectors import referrals_open_by_client
from zhongdu import audit, phones
from zhongdu.forms import error_text, new_form_key
from zhongdu.private_query import search_by_post, search_params
from zhongdu.roles import user_may_open

from . import selectors, services
from .forms import (
    BoardFilterForm,
    ChargeForm,
    StatusForm,
    TriageForm,
    WalkInClientForm,
    WalkInSearchForm,
)
from .models import Visit

# The board refreshes itself this often (htmx polling), in seconds.
BOARD_REFRESH_SECONDS = 30


@search_by_post("q")
@require_GET
def today(request):
    form = BoardFilterForm(search_params(request) or None)
    filters = form.cleaned_data if form.is_valid() else {}
    board = selectors.board(
        q=filters.get("q", ""),
        department=filters.get("department"),
        state=filters.get("state", ""),
    )
    context = {
        "form": form,
        "board": board,
        "refresh": BOARD_REFRESH_SECONDS,
        "can_receive": user_may_open(request.user, "guide:check_in"),
        "can_import": user_may_open(request.user, "guide:charge_import_upload"),
        "can_see_figures": user_may_open(request.user, "guide:daily"),
        "query": request.GET.urlencode(),
    }
    template = "guide/_board.html" if request.htmx else "guide/today.html"
    return render(request, template, context)


@require_POST
def check_in(request, pk):
    booking = booking_get_for_user(request.user, pk, write=True)
    try:
        visit = services.visit_check_in(booking=booking, by=request.user, request=request)
    except services.AlreadyHere as exc:
        messages.warning(request, error_text(exc))
        return redirect(exc.visit or "guide:today")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("guide:today")
    messages.success(
        request, _("%(name)s is checked in. Confirm the triage.") % {"name": booking.client.name}
    )
    return redirect(visit)


def _walk_in_page(request, *, search, matches=(), new_form=None, duplicates=(), status=200):
    # A referred client (marketing department, partner clinic...) gets a badge: one query.
    referred = referrals_open_by_client([client.pk for client in matches])
    # Matches and duplicates as this user may see them: a VIP they do not serve shows the
    # summary (no date of birth, no ID number; the discretion rule, clientmgmt.selectors).
    shown = clients_shown_for_user(request.user, matches)
    duplicates = clients_shown_for_user(request.user, duplicates)
    offers = merge_offers(request.user, duplicates)
    context = {
        "search": search,
        "matches": [
            (
                shown_client,
                selectors.open_visit_for(client),
                selectors.todays_booking_for(client),
                referred.get(client.pk),
            )
            for client, shown_client in zip(matches, shown, strict=True)
        ],
        "new_form": new_form,
        "duplicates": duplicates,
        # Two records found may be one person: a role that merges (not the front desk) is
        # offered the side-by-side view of each pair (clientmgmt.selectors.merge_offers).
        "duplicate_rows": [(other, offers.get(other.pk, [])) for other in duplicates],
    }
    return render(request, "guide/walk_in.html", context, status=status)


@search_by_post("phone")
@require_http_methods(["GET", "POST"])
def walk_in(request):
    """Walk-ins start with a search by phone: an existing client is reused (their booking today,
    if any, is checked in), a new one is registered with the seed's fields, never twice."""
    if request.method == "POST" and request.POST.get("client"):
        client = client_get_for_user(request.user, request.POST["client"], write=True)
        return _register(request, client)
    search = WalkInSearchForm(search_params(request) or None)
    if request.method == "POST":
        search = WalkInSearchForm({"phone": request.POST.get("phone", "")})
        return _register_new(request, search)
    if not search.is_valid():
        return _walk_in_page(request, search=search)
    query = parse_query(search.cleaned_data["phone"])
    if query.kind not in ("phone", "last4", "card"):
        search.add_error("phone", _("Type the mobile number (or its last 4 digits)."))
        return _walk_in_page(request, search=search, status=422)
    matches = client_search(query)
    new_form = None
    if not matches or request.GET.get("new"):
        phone = phones.national_digits(query.value) if query.kind == "phone" else ""
        new_form = WalkInClientForm(
            initial={"phone": phone, "categories": ["is_patient"], "key": new_form_key()}
        )
        # The number is typed: the clerk goes on with the name.
        search.fields["phone"].widget.attrs.pop("autofocus", None)
        new_form.fields["name"].widget.attrs["autofocus"] = True
    return _walk_in_page(request, search=search, matches=matches, new_form=new_form)


def _register_new(request, search):
    form = WalkInClientForm(request.POST)
    if not form.is_valid():
        return _walk_in_page(request, search=search, new_form=form, status=422)
    key = form.cleaned_data["key"]
    duplicates, stop = form.check_duplicates()
    # After the duplicates: a first click committing in between is found here, not shown there.
    if registered := client_registered_by(key):
        return _register(request, registered)  # the same form sent again: on to its visit
    if stop:
        return _walk_in_page(
            request, search=search, new_form=form, duplicates=duplicates, status=409
        )
    try:
        # The client and the visit in one transaction, under the phone's lock (client_register):
        # a second click waits, then finds both.
        with transaction.atomic():
            client, _new = clients.client_register(
                data=form.service_data(),
                by=request.user,
                request=request,
                request_key=key,
                distinct=form.cleaned_data["confirm_distinct"],
            )
            visit = services.visit_register_walk_in(client=client, by=request.user, request=request)
    except services.AlreadyHere as exc:
        messages.warning(request, error_text(exc))
        return redirect(exc.visit or "guide:today")
    except ValidationError as exc:
        form.add_error(None, exc)
        return _walk_in_page(request, search=search, new_form=form, status=422)
    messages.success(request, _("%(name)s is registered. Triage them now.") % {"name": client.name})
    return redirect(visit)


def _register(request, client):
    try:
        visit = services.visit_register_walk_in(client=client, by=request.user, request=request)
    except services.AlreadyHere as exc:
        messages.warning(request, error_text(exc))
        return redirect(exc.visit or client)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        # Back to the search by the last four digits: a full number never goes into an address
        # (browser history, access logs).
        return redirect(reverse("guide:walk_in") + "?" + urlencode({"phone": client.phone[-4:]}))
    if visit.booking_id:
        messages.success(
            request,
            _("%(name)s had a booking today: it is checked in.") % {"name": client.name},
        )
    else:
        messages.success(
            request, _("%(name)s has arrived. Triage them now.") % {"name": client.name}
        )
    return redirect(visit)


# --- The visit page: triage, states, charges ------------------------------------------


def _next_states(visit):
    return [
        (state, Visit.Status(state).label)
        for state in Visit.Status.values
        if state in services.VISIT_TRANSITIONS[visit.status]
        and state != Visit.Status.WAITING  # waiting is reached through triage
    ]


def _visit_page(request, visit, *, triage_form=None, charge_form=None, status=200):
    can_write = user_may_open(request.user, "guide:visit_triage")
    charges = list(selectors.visit_charges(visit))
    triageable = visit.status in (Visit.Status.REGISTERED, Visit.Status.WAITING)
    if triage_form is None and can_write and triageable:
        triage_form = TriageForm(
            initial={
                "department": visit.department,
                "expert": visit.expert_id,
                "visit_type": visit.visit_type,
                "chief_complaint": visit.chief_complaint,
                "escort": visit.escort_id,
            },
            department=visit.department,
        )
    context = {
        "visit": visit,
        "client": visit.client,
        "history": selectors.visit_history(visit),
        "escort_label": selectors.user_label(visit.escort),
        "charges": charges,
        "charges_total": selectors.charges_total(charges),
        "can_write": can_write,
        "triage_form": triage_form if can_write and triageable else None,
        "next_states": _next_states(visit) if can_write else [],
        "charge_form": (charge_form or ChargeForm(initial={"key": new_form_key()}))
        if can_write and visit.status != Visit.Status.LEFT
        else None,
        "exam_orders": visit.exam_orders.select_related("package__price_item"),
        # Ordering from the visit charges it: only those who work the visit.
        "can_order_exam": can_write and user_may_open(request.user, "guide:exam_new"),
        "can_issue_card": user_may_open(request.user, "guide:card_new"),
        # Follow-up's care plan after the visit, by URL name (guide imports no followup).
        "can_write_plan": user_may_open(request.user, "followup:plan_new"),
        "can_print_slip": user_may_open(request.user, "followup:visit_slip"),
    }
    return render(request, "guide/visit_detail.html", context, status=status)


@require_GET
def visit_detail(request, pk):
    visit = selectors.visit_get_for_user(request.user, pk)
    audit.record(audit.Action.VIEW, obj=visit, request=request)
    return _visit_page(request, visit)


@require_POST
def visit_triage(request, pk):
    visit = selectors.visit_get_for_user(request.user, pk, write=True)
    form = TriageForm(request.POST)
    if not form.is_valid():
        return _visit_page(request, visit, triage_form=form, status=422)
    try:
        services.visit_triage(visit=visit, by=request.user, request=request, **form.triage_data())
    except ValidationError as exc:
        form.add_error(None, exc)
        return _visit_page(request, visit, triage_form=form, status=409)
    messages.success(
        request,
        _("Sent to %(department)s, %(floor)s.")
        % {"department": visit.department.name, "floor": visit.department.floor},
    )
    return redirect("guide:today")


@require_POST
def visit_status(request, pk):
    visit = selectors.visit_get_for_user(request.user, pk, write=True)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what happened."))
        return redirect(visit)
    try:
        services.visit_set_status(
            visit=visit,
            new_status=form.cleaned_data["to"],
            detail=form.cleaned_data["detail"],
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(visit)
    messages.success(
        request,
        _("%(name)s: %(status)s.")
        % {"name": visit.client.name, "status": visit.get_status_display()},
    )
    # The board's quick buttons come back to the board; the visit page's to the visit.
    return redirect("guide:today" if request.POST.get("next") == "board" else visit)


@require_POST
def charge_add(request, pk):
    visit = selectors.visit_get_for_user(request.user, pk, write=True)
    form = ChargeForm(request.POST)
    if not form.is_valid():
        return _visit_page(request, visit, charge_form=form, status=422)
    try:
        data = dict(form.cleaned_data)
        services.charge_add(visit=visit, by=request.user, request_key=data.pop("key"), **data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _visit_page(request, visit, charge_form=form, status=422)
    messages.success(request, _("Charge recorded."))
    return redirect(visit)


# --- Triage helpers (htmx fragments) --------------------------------------------------


@require_GET
def triage_doctors(request):
    """The doctor options for the chosen department, with who sits now and their queue."""
    form = TriageForm(request.GET)
    return render(request, "guide/_doctor_options.html", {"form": form})


@require_GET
def triage_suggest(request):
    """Departments whose keywords appear in the complaint typed so far."""
    suggestions = selectors.triage_suggestions(request.GET.get("chief_complaint", ""))
    return render(request, "guide/_triage_suggestions.html", {"suggestions": suggestions})
