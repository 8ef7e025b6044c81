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
