"""The send-time rules, in one place. The outbox applies them to each message as it sends it
(services.outbox_send); the confirmation pages apply them to a planned audience without
sending (selectors.audience_breakdown), so what a page promises is what the outbox then does.

A rule either blocks a message for good (a reason code below, stored in the suppressed
message's error_code) or defers it to a later time (over the day's marketing cap: the next
morning; quiet hours: the end of them). Nothing is dropped for being over the cap."""

import datetime
import re

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientmgmt.consent import MARKETING_SMS, SERVICE_SMS
from zhongdu import phones

from .models import Kind

URL = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(com|cn|net|org|io)\b", re.IGNORECASE)

# Reasons a message is not sent at all, by code (error_code of a suppressed message).
EXPIRED = "expired"
INVALID_NUMBER = "invalid_number"
OPTED_OUT = "opted_out"
REFUSED_SMS = "refused_sms"
NO_CONSENT = "no_consent"
LINK_MAINLAND = "link_mainland"
BLOCK_REASONS = {
    EXPIRED: _("Too late: the message is no longer useful."),
    INVALID_NUMBER: _("No valid mobile number."),
    OPTED_OUT: _("The number asked for no more SMS."),
    REFUSED_SMS: _("The client refused SMS."),
    NO_CONSENT: _("No consent to marketing SMS."),
    LINK_MAINLAND: _("Links may not be sent to mainland numbers through Twilio."),
}


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
    if opted_out:
        return OPTED_OUT
    if consent is not None:
        if not consent[SERVICE_SMS]:
            return REFUSED_SMS
        if kind == Kind.MARKETING and not consent[MARKETING_SMS]:
            return NO_CONSENT
    if settings.SMS_BACKEND == "twilio" and number.mainland and URL.search(body or ""):
        return LINK_MAINLAND
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
