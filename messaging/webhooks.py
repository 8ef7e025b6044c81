"""Twilio's webhooks: status callbacks (one address per message) and inbound messages.

Both check X-Twilio-Signature against the public address Twilio called (PUBLIC_BASE_URL plus the
path; behind a proxy the request's own host is not what Twilio signed) and answer 403 otherwise.
"""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from zhongdu.controlchars import accepts_control_characters, strip_control_characters

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


def _field(request, name, *, multiline=False) -> str:
    # What Twilio sends cannot be refused (an SMS may hold anything), and Postgres cannot hold a
    # NUL: the control characters go, after the signature was checked on the fields as sent.
    return strip_control_characters(request.POST.get(name, ""), multiline=multiline)


@csrf_exempt  # the provider cannot send a CSRF token; the signature authenticates it
@accepts_control_characters
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
        provider_status=_field(request, "MessageStatus"),
        provider_id=_field(request, "MessageSid"),
        error_code=_field(request, "ErrorCode"),
    )
    return HttpResponse(status=204)


@csrf_exempt
@accepts_control_characters
@require_POST
def twilio_inbound(request):
    if not _signed_by_twilio(request):
        return HttpResponseForbidden()
    services.inbound_receive(
        provider_id=_field(request, "MessageSid"),
        from_number=_field(request, "From"),
        body=_field(request, "Body", multiline=True),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
