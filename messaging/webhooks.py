"""The providers' pushes.

Twilio: status callbacks (one address per message) and inbound messages. Both check
X-Twilio-Signature against the public address Twilio called (PUBLIC_BASE_URL plus the path;
behind a proxy the request's own host is not what Twilio signed) and answer 403 otherwise.

Alibaba Cloud SMS: delivery reports and replies (upstream messages), pushed as JSON arrays to
the two addresses set in its console. They carry no signature, so the address carries a long
secret (ALIYUN_PUSH_SECRET; a wrong one, or none set, is a 404 like any unknown address),
optionally only from the addresses in ALIYUN_PUSH_ALLOWED_IPS (403 from any other). The
provider pushes again until it is answered {"code": 0}, so each element is applied once:
reports are forward-only, replies are kept once per sequence id.
"""

import hmac
import ipaddress
import json
import logging

from django.conf import settings
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    JsonResponse,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from zhongdu import phones
from zhongdu.audit import client_ip
from zhongdu.controlchars import (
    accepts_control_characters,
    has_control_characters,
    strip_control_characters,
)

from . import services
from .models import OutboxMessage

logger = logging.getLogger(__name__)

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
        extra_stop_words=services.TWILIO_STOP_WORDS,
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


# --- Alibaba Cloud SMS -------------------------------------------------------------

# What the provider expects for "received, do not push again".
ALIYUN_RECEIVED = {"code": 0, "msg": "接收成功"}


class BadPush(ValueError):
    """A push that is not what the provider sends: answered 400, nothing applied."""


def aliyun_push(view, *, key_setting="ALIYUN_PUSH_SECRET"):
    """The checks every Alibaba Cloud push shares (SMS reports and replies here, the voice
    service's call receipts in voice.webhooks): the secret in the address (the setting named
    `key_setting`), then the sender's address; the body a JSON array of objects, handed to
    `view(request, items)`, which raises BadPush for an element it cannot read."""

    def wrapped(request, secret):
        expected = getattr(settings, key_setting, "")
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise Http404
        if not _allowed_sender(request):
            return HttpResponseForbidden()
        try:
            items = _json_array(request.body)
            view(request, items)
        except BadPush as exc:
            logger.warning("Alibaba Cloud push refused: %s", exc)
            return HttpResponseBadRequest()
        return JsonResponse(ALIYUN_RECEIVED, json_dumps_params={"ensure_ascii": False})

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    # The provider cannot send a CSRF token; the secret address authenticates it. The body is
    # JSON, checked here, not form fields.
    return csrf_exempt(accepts_control_characters(require_POST(wrapped)))


def _allowed_sender(request) -> bool:
    allowed = [entry.strip() for entry in settings.ALIYUN_PUSH_ALLOWED_IPS if entry.strip()]
    if not allowed:
        return True
    address = client_ip(request)
    if address is None:
        return False
    address = ipaddress.ip_address(address)
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            logger.warning("ALIYUN_PUSH_ALLOWED_IPS: %r is not an address or network", entry)
    return False


def _json_array(body: bytes) -> list[dict]:
    try:
        items = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # also raw control characters in a string
        raise BadPush("not JSON") from exc
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadPush("not an array of objects")
    return items


def push_text(item: dict, name: str, *, required=True) -> str:
    """A field that names something (a number, an id, a code): text or a number, no control
    characters."""
    value = item.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadPush(f"{name} missing or not text")
    value = str(value).strip()
    if has_control_characters(value) or len(value) > 200:
        raise BadPush(f"{name} holds control characters or is too long")
    return value


def _success(item: dict) -> bool:
    value = item.get("success")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadPush("success is not true or false")


@aliyun_push
def aliyun_report(request, items):
    """Delivery reports (SmsReport): each moves its message to delivered or failed."""
    reports = [
        {
            "out_id": push_text(item, "out_id", required=False),
            "biz_id": push_text(item, "biz_id"),
            "phone": push_text(item, "phone_number"),
            "success": _success(item),
            "err_code": push_text(item, "err_code", required=False),
            "err_msg": strip_control_characters(str(item.get("err_msg") or ""))[:300],
        }
        for item in items
    ]  # all checked before any is applied
    for report in reports:
        services.aliyun_report_receive(**report)


@aliyun_push
def aliyun_up(request, items):
    """Replies (SmsUp): each kept once; an opt-out word opts the number out."""
    replies = []
    for item in items:
        content = item.get("content")
        if not isinstance(content, str):
            raise BadPush("content missing or not text")
        phone = push_text(item, "phone_number")
        replies.append(
            {
                "provider_id": f"aliyun-up-{push_text(item, 'sequence_id')}",
                # The provider gives the national number; stored, like every number, in E.164.
                "from_number": phones.e164(phone) or phone,
                # What a person sent cannot be refused, and Postgres cannot hold a NUL.
                "body": strip_control_characters(content, multiline=True),
            }
        )
    for reply in replies:
        services.inbound_receive(**reply)
