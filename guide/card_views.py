# Views of the membership cards (会员卡): decorators, an access-checked fetch, a form, one service
# call, redirect or render. The services refuse what the rules forbid (a number in use, a second
# live card, an illegal status move); their messages are shown on the page, never a 500.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user
from zhongdu.forms import new_form_key
from zhongdu.pagination import keyset_page
from zhongdu.private_query import search_by_post, search_params
from zhongdu.roles import user_may_open

from . import selectors, services
from .card_forms import CardFilterForm, CardIssueForm, CardRenewForm, CardStatusForm
from .models import MembershipCard

Status = MembershipCard.Status
DEFAULT_MONTHS = 12

# The status buttons of the card page, in this order, for the moves services.CARD_TRANSITIONS
# allows from the card's status: (label, button style, confirmation asked first).
_STATUS_BUTTONS = {
    Status.ACTIVE: (pgettext_lazy("card action", "Reactivate"), "btn-outline-success", ""),
    Status.SUSPENDED: (pgettext_lazy("card action", "Suspend"), "btn-outline-warning", ""),
    Status.CANCELLED: (
        pgettext_lazy("card action", "Cancel the card"),
        "btn-outline-danger",
        gettext_lazy("Cancel this card for good? A cancelled card cannot be renewed."),
    ),
}
_STATUS_DONE = {
    Status.ACTIVE: gettext_lazy("The card is active again."),
    Status.SUSPENDED: gettext_lazy("The card is suspended."),
    Status.CANCELLED: gettext_lazy("The card is cancelled."),
}


def _conflict_or_invalid(exc) -> int:
    """409 when the card is not in a state that allows the action; 422 for bad input."""
    return 409 if isinstance(exc, services.IllegalTransition) else 422


@search_by_post("q")
@require_GET
def card_list(request):
    form = CardFilterForm(search_params(request) or None)
    filters = form.cleaned_data if form.is_valid() else {}
    expiring = filters.get("expiring", False)
    rows = selectors.card_list(
        q=filters.get("q", ""), status=filters.get("status", ""), expiring=expiring
    )
    # Cards running out are the soonest CARD_LIST_LIMIT by expiry date: one page, no keyset.
    page = keyset_page(rows, before=None if expiring else request.GET.get("before"))
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(filters.values()),
        "can_issue": user_may_open(request.user, "guide:card_new"),
    }
    return render(request, "guide/card_list.html", context)


def _new_page(request, client, form, status=200):
    context = {"client": client, "form": form}
    return render(request, "guide/card_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def card_new(request):
    if not request.GET.get("client"):
        return render(request, "guide/card_new.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    if request.method == "GET":
        live = selectors.card_live_for(client)
        if live is not None:
            messages.info(
                request,
                _("%(name)s already holds card %(number)s.")
                % {"name": client.name, "number": live.number},
            )
            return redirect(live)
        initial = {
            "number": selectors.next_card_number(),
            "level": MembershipCard.Level.STANDARD,
            "valid_from": timezone.localdate(),
            "months": DEFAULT_MONTHS,
            "fee": "0.00",
            "key": new_form_key(),
        }
        return _new_page(request, client, CardIssueForm(initial=initial))
    form = CardIssueForm(request.POST)
    if not form.is_valid():
        return _new_page(request, client, form, status=422)
    try:
        card = services.card_issue(
            client=client, by=request.user, request=request, **form.issue_kwargs()
        )
    except ValidationError as exc:
        form.add_error(None, exc)  # "this number is in use" lands on the number field
        return _new_page(request, client, form, status=422)
    messages.success(
        request,
        _("Card %(number)s issued: %(name)s is now a member.")
        % {"number": card.number, "name": client.name},
    )
    return redirect(card)


def _status_actions(card):
    allowed = services.CARD_TRANSITIONS.get(card.status, set())
    return [
        {"status": status, "label": label, "css": css, "confirm": confirm}
        for status, (label, css, confirm) in _STATUS_BUTTONS.items()
        if status in allowed
    ]


def _detail_page(request, card, *, renew_form=None, status_form=None, errors=(), status=200):
    may_write = user_may_open(request.user, "guide:card_status")
    context = {
        "card": card,
        "history": selectors.card_history(card),
        "errors": errors,
        "can_renew": may_write and card.status != Status.CANCELLED,
        "status_actions": _status_actions(card) if may_write else [],
        "renew_form": renew_form
        or CardRenewForm(initial={"months": DEFAULT_MONTHS, "fee": card.fee}),
        "status_form": status_form or CardStatusForm(),
    }
    return render(request, "guide/card_detail.html", context, status=status)


@require_GET
def card_detail(request, pk):
    card = selectors.card_get_for_user(request.user, pk)
    return _detail_page(request, card)


@require_POST
def card_renew(request, pk):
    card = selectors.card_get_for_user(request.user, pk, write=True)
    form = CardRenewForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, card, renew_form=form, status=422)
    try:
        card = services.card_renew(card=card, by=request.user, request=request, **form.cleaned_data)
    except ValidationError as exc:
        card.refresh_from_db()
        status = _conflict_or_invalid(exc)
        return _detail_page(request, card, renew_form=form, errors=exc.messages, status=status)
    messages.success(
        request,
        _("Renewed: the card is valid until %(date)s.")
        % {"date": card.valid_until.strftime("%Y-%m-%d")},
    )
    return redirect(card)


@require_POST
def card_status(request, pk):
    card = selectors.card_get_for_user(request.user, pk, write=True)
    form = CardStatusForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, card, status_form=form, status=422)
    new_status = form.cleaned_data["status"]
    try:
        services.card_set_status(
            card=card,
            new_status=new_status,
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        card.refresh_from_db()
        status = _conflict_or_invalid(exc)
        return _detail_page(request, card, status_form=form, errors=exc.messages, status=status)
    messages.success(request, _STATUS_DONE[new_status])
    return redirect(card)
