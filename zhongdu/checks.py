"""System checks of the project's own settings (manage.py check, and every start)."""

from django.conf import settings
from django.core.checks import Error

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
