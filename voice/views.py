"""The CTI events webhook (docs/cti.md), the PBX's one door into the product; agents' presence;
the call pop; the wallboard."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from clientmgmt.selectors import client_shown_for_user
from zhongdu import live
from zhongdu.forms import error_text
from zhongdu.private_query import address

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
    caller, call_screen, context = None, "", None
    if call is not None:
        url = reverse("consult:call")
        if call.client_id:
            caller = client_shown_for_user(request.user, call.client)
            call_screen = f"{url}?client={call.client_id}"
            if caller.whole:  # a VIP this user does not serve: the summary only (discretion)
                context = selectors.caller_context(call.client)
        else:
            call_screen = address(request, url, {"phone": call.number}, private=["phone"])
    context = {
        "call": call,
        "caller": caller,
        "call_screen": call_screen,
        "context": context,
        "live": live.attrs(reverse("voice:pop"), version, every=selectors.POP_SECONDS),
    }
    return render(request, "voice/_pop.html", context)


@require_GET
def wallboard(request):
    """Today's hotline on a big screen (voice.figures): it asks again every few seconds
    (zhongdu.live) and is drawn anew only when something changed (an empty 204 otherwise)."""
    now = timezone.now()
    version = selectors.wallboard_version(now)
    if request.htmx and live.unchanged(request, version):
        return live.no_change()
    context = {
        "board": selectors.wallboard(now),
        "live": live.attrs(reverse("voice:wallboard"), version, every=selectors.WALLBOARD_SECONDS),
    }
    template = "voice/_wallboard.html" if request.htmx else "voice/wallboard.html"
    return render(request, template, context)
