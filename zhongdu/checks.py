"""System checks of the project's own settings (manage.py check, and every start)."""

import ipaddress

from django.conf import settings
from django.core.checks import Error, Warning

from .roles import ALL_ROLES


def check_two_factor_roles(app_configs, **kwargs):
    # A mistyped role ("managers") would silently let that role sign in with a password alone.
    unknown = sorted(set(settings.TWO_FACTOR_REQUIRED_ROLES) - ALL_ROLES)
    if not unknown:
        return []
    return [
        Error(
            f"TWO_FACTOR_REQUIRED_ROLES names roles that do not exist: {', '.join(unknown)}.",
            hint=f"Roles are: {', '.join(sorted(ALL_ROLES))}.",
            id="zhongdu.E001",
        )
    ]


def check_sms_routes(app_configs, **kwargs):
    # A mistyped route ("cn=alyun") would hold every mainland message.
    from . import sms

    errors = []
    for key, backend in settings.SMS_ROUTES.items():
        if key not in ("cn", "other"):
            errors.append(
                Error(
                    f"SMS_ROUTES names the destination {key!r}.",
                    hint="Destinations are cn (mainland mobiles) and other.",
                    id="zhongdu.E002",
                )
            )
        if backend not in sms.BACKENDS:
            errors.append(
                Error(
                    f"SMS_ROUTES sends {key} through {backend!r}, which is no SMS backend.",
                    hint=f"Backends are: {', '.join(sms.BACKENDS)}.",
                    id="zhongdu.E003",
                )
            )
    return errors


# Alibaba Cloud's pushes carry no signature: the secret address is their only key.
PUSH_SECRET_MIN_LENGTH = 32


def check_aliyun_push(app_configs, **kwargs):
    messages = []
    for name, harm in (
        ("ALIYUN_PUSH_SECRET", "report messages delivered or opt numbers out"),
        ("ALIYUN_VOICE_RECEIPT_SECRET", "report calls answered or press keys for a client"),
    ):
        secret = getattr(settings, name, "")
        if secret and (len(secret) < PUSH_SECRET_MIN_LENGTH or "/" in secret):
            messages.append(
                Warning(
                    f"{name} is shorter than {PUSH_SECRET_MIN_LENGTH} characters or holds a "
                    f"slash: anyone who guesses it can {harm}.",
                    hint='python -c "import secrets; print(secrets.token_urlsafe(32))"',
                    id="zhongdu.W001",
                )
            )
    for entry in settings.ALIYUN_PUSH_ALLOWED_IPS:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            # A mistyped entry would refuse the provider's every push.
            messages.append(
                Error(
                    f"ALIYUN_PUSH_ALLOWED_IPS holds {entry!r}, which is no address or network.",
                    hint="Comma-separated addresses or networks, e.g. 106.11.0.0/16.",
                    id="zhongdu.E004",
                )
            )
    return messages


def check_critical_escalation_phones(app_configs, **kwargs):
    # A critical exam value missed at night is escalated in the application only: nobody on
    # duty is signed in to read it.
    if settings.DEBUG or not settings.EXAM_CRITICAL_ESCALATION_SMS:
        return []
    if any(str(phone).strip() for phone in settings.COMPLAINT_ESCALATION_PHONES):
        return []
    return [
        Warning(
            "No COMPLAINT_ESCALATION_PHONES: a critical exam value missed at night reaches no"
            " manager on duty by SMS.",
            hint="Set COMPLAINT_ESCALATION_PHONES to the duty managers' mobile numbers, or"
            " EXAM_CRITICAL_ESCALATION_SMS=false to rely on the application alone.",
            id="zhongdu.W002",
        )
    ]
