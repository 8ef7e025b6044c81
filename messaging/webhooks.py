"""Twilio's webhooks: status callbacks (one address per message) and inbound messages.

Both check X-Twilio-Signature against the public address Twilio called (PUBLIC_BASE_URL plus the
path; behind a proxy the request's own host is not what Twilio signed) and answer 403 otherwise.
"""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from . import services
from .models import OutboxMessage

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed_by_twilio(request) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


@csrf_exempt  # the provider cannot send a CSRF token; the signature authenticates it
@require_POST
def twilio_status(request, token):
    if not _signed_by_twilio(request):
        return HttpResponseForbidden()
    try:
        message = OutboxMessage.objects.get(callback_token=token)
    except OutboxMessage.DoesNotExist:
        raise Http404 from None
    services.outbox_provider_report(
        message=message,
        provider_status=request.POST.get("MessageStatus", ""),
        provider_id=request.POST.get("MessageSid", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not _signed_by_twilio(request):
        return HttpResponseForbidden()
    services.inbound_receive(
        provider_id=request.POST.get("MessageSid", ""),
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
