# Views of referrals (转诊): decorators, an access-checked fetch, a form, one service call,
# redirect or render. The service refuses illegal moves and a close without a note; its messages
# are shown on the page, never a 500.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.models import Client
from clientmgmt.selectors import client_get_for_user
from zhongdu.forms import error_text, new_form_key
from zhongdu.roles import user_may_open

from . import selectors
from . import services as referrals
from .forms import ReferralFilterForm, ReferralForm, ReferralStatusForm
from .models import Referral


@require_GET
def referral_list(request):
    form = ReferralFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.referral_list(filters=filters, cursor=request.GET.get("after"))
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_move": user_may_open(request.user, "referrals:referral_status"),
        "next": request.get_full_path(),
    }
    return render(request, "referrals/referral_list.html", context)


def _new_page(request, client, form, status=200):
    context = {"client": client, "form": form}
    return render(request, "referrals/referral_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def referral_new(request):
    """Record a referral for a client (`?client=`), from the client page."""
    if not request.GET.get("client"):
        return render(request, "referrals/referral_new.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    if client.status == Client.Status.MERGED and client.merged_into_id:
        return redirect(f"{request.path}?client={client.merged_into_id}")
    if request.method == "GET":
        initial = {"source": Referral.Source.MARKETING, "key": new_form_key()}
        return _new_page(request, client, ReferralForm(initial=initial))
    form = ReferralForm(request.POST)
    if not form.is_valid():
        return _new_page(request, client, form, status=422)
    try:
        referrals.referral_create(
            client=client, by=request.user, request=request, **form.create_kwargs()
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _new_page(request, client, form, status=422)
    messages.success(
        request,
        _("Referral recorded: the consultation desk will call %(name)s.") % {"name": client.name},
    )
    return redirect(client)


def _back(request, referral):
    """Back where the button was pressed (the queue, the list, the client page)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(referral)


@require_POST
def referral_status(request, pk):
    referral = selectors.referral_get_for_user(request.user, pk, write=True)
    form = ReferralStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what happened."))
        return _back(request, referral)
    try:
        referrals.referral_set_status(
            referral=referral,
            new_status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _back(request, referral)
    messages.success(
        request,
        _("The referral of %(name)s is now: %(status)s.")
        % {"name": referral.client.name, "status": referral.get_status_display()},
    )
    return _back(request, referral)
