"""The send-time rules, in one place. The outbox applies them to each message as it sends it
(services.outbox_send); the confirmation pages apply them to a planned audience without
sending (selectors.audience_breakdown), so what a page promises is what the outbox then does.

A rule either blocks a message for good (a reason code below, stored in the suppressed
message's error_code) or defers it to a later time (over the day's marketing cap: the next
morning; quiet hours: the end of them). Nothing is dropped for being over the cap."""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientmgmt.consent import MARKETING_SMS, SERVICE_SMS
from zhongdu import phones, sms, vms

from .models import Kind

URL = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(com|cn|net|org|io)\b", re.IGNORECASE)

# Reasons a message is not sent at all, by code (error_code of a suppressed message).
EXPIRED = "expired"
INVALID_NUMBER = "invalid_number"
OPTED_OUT = "opted_out"
REFUSED_SMS = "refused_sms"
NO_CONSENT = "no_consent"
LINK_MAINLAND = "link_mainland"
NO_ROUTE = "no_route"
CROSS_BORDER = "cross_border"
NOT_APPROVED = "not_approved"
FREE_TEXT = "free_text"
PLACEHOLDER_EMPTY = "placeholder_empty"
BLOCK_REASONS = {
    EXPIRED: _("Too late: the message is no longer useful."),
    INVALID_NUMBER: _("No valid mobile number."),
    OPTED_OUT: _("The number asked for no more SMS."),
    REFUSED_SMS: _("The client refused SMS."),
    NO_CONSENT: _("No consent to marketing SMS."),
    LINK_MAINLAND: _("Links may not be sent to mainland numbers through Twilio."),
    NO_ROUTE: _("Held: no SMS provider is configured for this number."),
    CROSS_BORDER: _(
        "Held: mainland numbers go through the domestic SMS provider; Twilio only when an "
        "administrator enabled that cross-border route with its legal basis."
    ),
    NOT_APPROVED: _("The template is not approved by the domestic SMS provider."),
    FREE_TEXT: _("The domestic SMS provider sends only approved templates, not free text."),
    PLACEHOLDER_EMPTY: _("Held: a placeholder of the template has no value."),
}

# --- Voice (语音通知): what its calls refuse and how they end ------------------------------

REFUSED_VOICE = "refused_voice"
NO_VOICE_CHOICE = "no_voice_choice"
BLOCK_REASONS[REFUSED_VOICE] = _("The client asked for no voice calls.")
BLOCK_REASONS[NO_VOICE_CHOICE] = _(
    "The client did not choose voice calls and has a mobile for SMS."
)
# The same rules said of a call where the SMS wording would mislead (error_explanation).
VOICE_REASONS = {
    NO_ROUTE: _("Held: the voice service calls mainland numbers only."),
    NOT_APPROVED: _(
        "The voice template is not approved by the voice provider (or has no TTS code): the "
        "reminder goes by SMS or as a call for staff instead."
    ),
    FREE_TEXT: _("The voice provider reads only approved templates, not free text."),
    INVALID_NUMBER: _("No valid number to call."),
}
# How a call ended (voice.receipts.OUTCOMES), said for staff: the error code of a failed call.
VOICE_OUTCOMES = {
    "busy": _("Busy: the line was engaged."),
    "no_answer": _("No answer: it rang out."),
    "powered_off": _("The phone was switched off."),
    "unreachable": _("Unreachable: out of service or out of coverage."),
    "invalid_number": _("The number does not exist."),
    "failed": _("The call failed at the provider."),
}
VOICE_REASONS.update(VOICE_OUTCOMES)
# Outcomes worth another call later (settings.VOICE_RETRY_ATTEMPTS, VOICE_RETRY_MINUTES); the
# others end the message (an invalid number for good).
VOICE_RETRIED = {"busy", "no_answer"}

# The reasons that hold a message as it is written; once the cause is fixed (the hospital's
# profile, a template's approval, the routes) staff may check it again and release it.
HELD = {PLACEHOLDER_EMPTY, NO_ROUTE, CROSS_BORDER, NOT_APPROVED, FREE_TEXT, LINK_MAINLAND}


# --- Routes: which provider a number goes through, and what each refuses ---------------


@dataclass(frozen=True)
class Route:
    """What a provider allows: `domestic` keeps mainland data in the country; `templates_only`
    sends only templates approved in the provider's console (code and parameters); a route
    without `links_to_mainland` refuses links in messages to mainland numbers (Twilio's China
    rules), so senders leave them out (links_allowed: the survey's reply-by-SMS fallback)."""

    domestic: bool
    templates_only: bool = False
    links_to_mainland: bool = True


# The one table of the routes' rules, enforced at enqueue (services.outbox_enqueue), shown on
# every confirmation (selectors.audience_breakdown) and in the README's SMS section.
ROUTES = {
    "console": Route(domestic=True),
    "memory": Route(domestic=True),
    "aliyun": Route(domestic=True, templates_only=True),
    "twilio": Route(domestic=False, links_to_mainland=False),
}


ROUTE_LABELS = {
    "console": _("Console (development: printed, not sent)"),
    "memory": _("Memory (tests: not sent)"),
    "aliyun": _("Alibaba Cloud SMS (domestic)"),
    "twilio": _("Twilio (outside the mainland)"),
    "voice": _("Voice service (domestic)"),
}


def route_for(number: phones.Classified) -> str:
    """The backend that serves this number ("" when none does)."""
    return sms.routes().get("cn" if number.mainland else "other", "")


def cross_border_allowed() -> bool:
    """Has an administrator enabled mainland numbers through Twilio, with its legal basis?"""
    from .models import SmsRoutePolicy

    policy = SmsRoutePolicy.current()
    return policy.mainland_via_twilio and bool(policy.legal_basis.strip())


def route_refusal(*, number, route: str, body: str, template=None, cross_border=None) -> str:
    """The code of the route rule that holds this message, or "". `template` None means a free
    text; `cross_border` (whether the cross-border route is enabled) is read when needed and
    not given."""
    if not route:
        return NO_ROUTE
    rules = ROUTES.get(route, Route(domestic=False))
    if number.mainland and not rules.domestic:
        allowed = cross_border_allowed() if cross_border is None else cross_border
        if not allowed:
            return CROSS_BORDER
    if rules.templates_only:
        if template is None:
            return FREE_TEXT
        if not template.approved:
            return NOT_APPROVED
    if number.mainland and not rules.links_to_mainland and URL.search(body or ""):
        return LINK_MAINLAND
    return ""


def route_check(to: str, *, body: str, template=None) -> tuple[str, str]:
    """(route, refusal) for a message to `to` now: the backend that serves the number and the
    code of the route rule that holds the message ("" for none). An invalid number has neither:
    the send-time rules say so."""
    number = phones.classify(to)
    if not number.valid:
        return "", ""
    route = route_for(number)
    return route, route_refusal(number=number, route=route, body=body, template=template)


def links_allowed(phone: str) -> bool:
    """May a message with a link reach this number? Not when no route serves the number, nor
    through a route that refuses links to mainland numbers (Twilio's China rules): senders
    then leave the SMS out (the survey's QR code on the slip is the way in)."""
    number = phones.classify(phone)
    route = route_for(number) if number.valid else ""
    if not route:
        return False
    return ROUTES[route].links_to_mainland or not number.mainland


def reason_text(code: str, channel: str = "sms") -> str:
    """Why a rule held or blocked a message, said for staff, in the words of its channel."""
    if channel == "voice" and code in VOICE_REASONS:
        return str(VOICE_REASONS[code])
    return str(BLOCK_REASONS[code])


def voice_route_refusal(*, to: str, template) -> str:
    """The code of the rule that holds a voice message as it is written, or "": the voice
    service calls mainland numbers only, and reads approved TTS templates only."""
    if not vms.serves(to):
        return NO_ROUTE
    if template is None:
        return FREE_TEXT
    if not template.approved:
        return NOT_APPROVED
    return ""


def voice_route_check(to: str, *, template) -> tuple[str, str]:
    """(route, refusal) for a voice message to `to`: the voice route, and the code of the rule
    that holds it ("" for none). An invalid number has neither: the send-time rules say so."""
    if not phones.classify(to).valid:
        return "", ""
    return "voice", voice_route_refusal(to=to, template=template)


def voice_block_reason(*, to, recorded, expires_at=None, now) -> str:
    """The code of the rule that blocks a voice message for good, or "". `recorded` is the
    client's recorded answer on voice notifications (True, False, None for nothing recorded;
    clientmgmt.selectors.consent_recorded), or "no client" for a message to no client. Voice
    goes to those who chose it, or who have no mobile to text (a landline), unless refused:
    SMS's opt-outs are SMS's."""
    if expires_at and expires_at <= now:
        return EXPIRED
    number = phones.classify(to)
    if not number.valid:
        return INVALID_NUMBER
    if recorded is False:
        return REFUSED_VOICE
    if recorded is None and number.mobile:
        return NO_VOICE_CHOICE
    return ""


def voice_cap_until(call_times, now: datetime.datetime) -> datetime.datetime | None:
    """When the next call to a number may start under the caps (settings.VOICE_CAP_PER_MINUTE,
    _PER_HOUR, _PER_DAY: at most so many calls in any such window, as the provider and the
    carriers apply flow control), given the times of its calls in the last day; None when it
    may start now."""
    times = sorted(call_times)
    until = None
    for window, cap in (
        (datetime.timedelta(minutes=1), settings.VOICE_CAP_PER_MINUTE),
        (datetime.timedelta(hours=1), settings.VOICE_CAP_PER_HOUR),
        (datetime.timedelta(days=1), settings.VOICE_CAP_PER_DAY),
    ):
        recent = [at for at in times if at > now - window]
        if cap > 0 and len(recent) >= cap:
            # The window is free again once the cap-th latest call falls out of it.
            free = recent[-cap] + window
            until = free if until is None else max(until, free)
    return until


def block_reason(*, to, consent, kind, body, opted_out, expires_at=None, now) -> str:
    """The code of the rule that blocks this message for good, or "" when none does. `consent`
    is the client's consent in force, {purpose: bool} (clientmgmt.selectors.consent_from_row),
    or None for a message to no client; `opted_out` is whether the number asked for no more
    SMS."""
    if expires_at and expires_at <= now:
        return EXPIRED
    number = phones.classify(to)  # the one parse of the number on its way out
    if not number.valid:
        return INVALID_NUMBER
    if kind == Kind.VERIFICATION:
        return ""  # asked for by the person a moment ago: opt-outs and consents are for notices
    if opted_out:
        return OPTED_OUT
    if consent is not None:
        if not consent[SERVICE_SMS]:
            return REFUSED_SMS
        if kind == Kind.MARKETING and not consent[MARKETING_SMS]:
            return NO_CONSENT
    return ""


def over_cap(*, kind, has_client: bool, sent_today: int) -> bool:
    """A marketing message to a client who already had the day's allowance of them."""
    return kind == Kind.MARKETING and has_client and sent_today >= settings.SMS_MARKETING_DAILY_CAP


def day_start(now: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def next_allowed_day(now: datetime.datetime) -> datetime.datetime:
    """The first time tomorrow a marketing message may go: the end of the quiet hours (or
    midnight when there are none)."""
    start, end = settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR
    tomorrow = day_start(now) + datetime.timedelta(days=1)
    tomorrow = timezone.localtime(tomorrow).replace(hour=0)  # across a DST change
    return tomorrow.replace(hour=end) if start != end else tomorrow


def quiet_hours_end(now: datetime.datetime) -> datetime.datetime | None:
    """The end of the quiet hours (the next morning) if `now` falls in them, else None."""
    local = timezone.localtime(now)
    start, end = settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR
    if start == end:
        return None
    in_quiet = (
        (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    )
    if not in_quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if local.hour >= end:
        morning += datetime.timedelta(days=1)
    return morning
