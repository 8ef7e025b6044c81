"""The CTI events webhook (docs/cti.md): the PBX's one door into the product."""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services

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
