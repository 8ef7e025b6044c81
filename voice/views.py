"""The CTI events webhook (docs/cti.md), the PBX's one door into the product; agents' presence."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from clientmgmt.selectors import client_shown_for_user, clients_shown_for_user
from consult.models import Recall
from consult.selectors import QUEUE_LIMIT, callers_by_phone, recall_rows, recalls_due
from zhongdu import live
from zhongdu.forms import error_text
from zhongdu.private_query import address
from zhongdu.roles import user_may_open

from . import selectors, services

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-CTI-Signature"


@csrf_exempt  # signed by the PBX instead (HMAC over the body)
@require_POST
def cti_events(request):
    try:
        services.cti_event_take(request.body, request.headers.get(SIGNATURE_HEADER, ""))
    except services.Refused as refused:
        logger.warning(
            "CTI event refused (%s) from %s", refused.reason, request.META.get("REMOTE_ADDR")
        )
        return JsonResponse({"error": refused.reason}, status=refused.status)
    return JsonResponse({"ok": True})


@require_POST
def presence(request):
    """An agent sets their presence from the workbench, and is sent back to the page they were
    on. A user who answers no calls has no presence to set (404)."""
    agent = selectors.agent_for(request.user)
    if agent is None:
        raise Http404
    try:
        services.agent_set_presence(agent, request.POST.get("presence", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "home"
    return redirect(back)


@require_GET
def pop(request):
    """The agent's call pop (zhongdu.live): nothing new, an empty 204; else the call this agent
    answered and is on, with its caller as this user may see them (the discretion rule) and the
    way to the call screen; or an empty pop once the call ended."""
    agent = selectors.agent_for(request.user)
    if agent is None:
        raise Http404
    version = selectors.pop_version(agent)
    if live.unchanged(request, version):
        return live.no_change()
    call = selectors.call_in_progress(agent) if version != "0" else None
    caller, call_screen, context, choices = None, "", None, []
    if call is not None:
        # The call screen remembers the call (?call=): what is recorded there links to it, and
        # an enquiry takes its duration from it.
        url = reverse("consult:call")
        if call.client_id:
            caller = client_shown_for_user(request.user, call.client)
            call_screen = f"{url}?{urlencode({'client': call.client_id, 'call': call.pk})}"
            if caller.whole:  # a VIP this user does not serve: the summary only (discretion)
                context = selectors.caller_context(call.client)
        else:
            query = {"phone": call.number, "call": call.pk}
            call_screen = address(request, url, query, private=["phone"])
            # Several records share the number: the consultant chooses whose call it is.
            matches = callers_by_phone(call.number) if call.number else []
            if len(matches) > 1:
                choices = [
                    (shown, f"{url}?{urlencode({'client': shown.pk, 'call': call.pk})}")
                    for shown in clients_shown_for_user(request.user, matches)
                ]
    context = {
        "call": call,
        "caller": caller,
        "choices": choices,
        "call_screen": call_screen,
        "context": context,
        "live": live.attrs(reverse("voice:pop"), version, every=selectors.POP_SECONDS),
    }
    return render(request, "voice/_pop.html", context)


@require_GET
def callbacks(request):
    """The hotline's callback tasks due (the one list of people to call back, for this kind):
    all of them, or those assigned to the user, by deadline."""
    mine = request.GET.get("who") == "mine"
    recalls = list(
        recalls_due(kind=Recall.Kind.CALLBACK, assigned_to=request.user if mine else None)
    )
    rows = recall_rows(recalls, details=selectors.callback_details(recalls))
    context = {
        "rows": rows,
        "mine": mine,
        "overdue": sum(row.overdue for row in rows),
        "limited": len(rows) >= QUEUE_LIMIT,
        "limit": QUEUE_LIMIT,
        "deadline_minutes": settings.CALLBACK_DEADLINE_MINUTES,
        "can_call": user_may_open(request.user, "consult:recall_attempt"),
    }
    return render(request, "voice/callbacks.html", context)
