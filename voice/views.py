"""The CTI events webhook (docs/cti.md), the PBX's one door into the product; agents' presence;
the call pop; the callback tasks; a call's page, and its recordings played through the
application after a reason; the wallboard; the call button of the worklists and the state of a
call it placed (docs/calling-out.md)."""

import logging
import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from clientmgmt.registry import may_see_whole_record
from clientmgmt.selectors import client_shown_for_user, clients_shown_for_user
from consult.models import Recall
from consult.selectors import (
    QUEUE_LIMIT,
    callers_by_phone,
    recall_rows,
    recalls_due,
    recalls_due_counts,
)
from zhongdu import audit, live
from zhongdu.forms import error_text
from zhongdu.private_query import address
from zhongdu.roles import user_may_open

from . import outbound, selectors, services
from .forms import DialForm, ListenForm
from .models import Recording

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
    which = {"kind": Recall.Kind.CALLBACK, "assigned_to": request.user if mine else None}
    rows = recall_rows(recalls_due(**which))
    counts = recalls_due_counts(**which)
    context = {
        "rows": rows,
        "mine": mine,
        "due": counts["total"],
        "overdue": counts["overdue"],
        "limited": counts["total"] > len(rows),
        "limit": QUEUE_LIMIT,
        "deadline_minutes": settings.CALLBACK_DEADLINE_MINUTES,
        "can_call": user_may_open(request.user, "consult:recall_attempt"),
    }
    return render(request, "voice/callbacks.html", context)


@require_GET
def call_detail(request, pk):
    call = selectors.call_get_for_user(request.user, pk)
    audit.record(audit.Action.VIEW, obj=call, request=request)
    return _call_page(request, call)


@require_POST
def recording_listen(request, pk):
    """Listen to a recording: the reason is audited, then the page shows a player whose address
    is the application's (with a grant for this user), never the PBX's."""
    recording = selectors.recording_get_for_user(request.user, pk)
    call = selectors.call_get_for_user(request.user, recording.call_id)
    form = ListenForm(request.POST, auto_id=f"id_%s_{recording.pk}")
    if not form.is_valid():
        return _call_page(request, call, posted=(recording.pk, form), status=422)
    try:
        grant = services.recording_listen(
            recording=recording,
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
        return _call_page(request, call, posted=(recording.pk, form), status=409)
    audio = reverse("voice:recording_audio", args=[recording.pk])
    audio = f"{audio}?{urlencode({'grant': grant})}"
    return _call_page(request, call, playing=(recording.pk, audio))


def _call_page(request, call, *, posted=None, playing=None, status=200):
    """The call's page; `posted`: (recording id, its listen form with errors); `playing`:
    (recording id, the player's address)."""
    context = selectors.call_page(request.user, call)
    rows = []
    for recording in context.pop("recordings"):
        form = posted[1] if posted and posted[0] == recording.pk else None
        rows.append(
            {
                "recording": recording,
                "kept": recording.status == Recording.Status.KEPT,
                "form": form or ListenForm(auto_id=f"id_%s_{recording.pk}"),
                "audio_url": playing[1] if playing and playing[0] == recording.pk else "",
            }
        )
    context["recordings"] = rows
    return render(request, "voice/call_detail.html", context, status=status)


@require_GET
def recording_audio(request, pk):
    """The recording's audio, decrypted and streamed with its type, for the holder of a grant
    given to this user for it within GRANT_SECONDS (recording_listen); 403 otherwise."""
    recording = selectors.recording_get_for_user(request.user, pk)
    grant = request.GET.get("grant", "")
    if not services.recording_grant_valid(grant, user=request.user, recording=recording):
        raise PermissionDenied
    data = selectors.recording_audio(recording)
    if data is None:
        raise Http404
    return _audio_response(request, data, recording.content_type)


# At most 15 digits a side: a longer number is no byte of any recording (and no 500).
_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")


def _audio_response(request, data: bytes, content_type: str) -> HttpResponse:
    """The audio, whole or the one byte range asked for (a player seeks with ranges, and
    Safari plays nothing from a server that does not answer them)."""
    size, start, end, status = len(data), 0, len(data) - 1, 200
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # "bytes=-N": the last N bytes
            start = max(0, size - int(match[2]))
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        status = 206
    response = HttpResponse(data[start : end + 1], content_type=content_type, status=status)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    # A call's words stay out of every cache, the browser's included.
    response["Cache-Control"] = "private, no-store"
    return response


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


# --- Calling out (voice.outbound, docs/calling-out.md) -----------------------------------------


@require_POST
def dial(request):
    """The call button: the agent's line rings, then the client of the task named (never a
    number). htmx puts the call's state in the button's place; a plain post leads to its page."""
    form = DialForm(request.POST)
    try:
        if not form.is_valid():
            raise outbound.CannotDial(_("This list has no call button."))
        data = form.cleaned_data
        call = services.dial(user=request.user, worklist=data["worklist"], task_id=data["task"])
    except outbound.CannotDial as refused:
        return _dial_refused(request, refused)
    if request.htmx:
        context = selectors.dial_state(request, call, again=call.again)
        return render(request, "voice/_dial.html", context)
    return redirect("voice:dial_status", call.pk)


def _dial_refused(request, refused):
    """Why no call was placed; for a number off the voice route, the client page's reveal
    (a reason, audited) to dial it by hand. htmx swaps only a 200: it gets one."""
    client = refused.client
    context = {
        "refused": refused,
        "client": client,
        "can_reveal": refused.manual
        and client is not None
        and bool(client.phone)
        and request.user.has_perm("clientmgmt.reveal_client_contact")
        and may_see_whole_record(request.user, client),
    }
    if request.htmx:
        return render(request, "voice/_dial_refused.html", context)
    return render(request, "voice/dial.html", context, status=409)


@require_GET
def dial_status(request, pk):
    """A call the user placed, as it goes (zhongdu.live: an empty 204 while nothing changed)."""
    call = outbound.call_of_agent(request.user, pk)
    if call is None:
        raise Http404
    if request.htmx and live.unchanged(request, selectors.dial_version(call)):
        return live.no_change()
    context = selectors.dial_state(request, call)
    return render(request, "voice/_dial.html" if request.htmx else "voice/dial.html", context)
