from django.utils.functional import SimpleLazyObject

from .models import HospitalProfile
from .navigation import menu_for_user, menu_html, sections_for
from .roles import ROLE_LABELS, user_roles
from .selectors import BADGE_LIMIT, notifications_unread_count
from .workbench import page_parts


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "nav_sections": [],
            "nav_menu": [],
            "nav_menu_html": "",
            "nav_roles": [],
            "notifications_badge": "",
            "page_parts": [],
        }
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    roles = [ROLE_LABELS[role] for role in sorted(user_roles(user))]
    return {
        "nav_sections": sections_for(user),
        "nav_menu": menu_for_user(user, current or ""),
        # Rendered (or taken from the per-process copy) only when a page shows the bar: not for
        # fragments and redirects.
        "nav_menu_html": SimpleLazyObject(lambda: menu_html(user, current or "")),
        "nav_roles": roles,
        # What the apps above put on every page (zhongdu.workbench: the call pop), worked out
        # only when a page renders it.
        "page_parts": SimpleLazyObject(lambda: page_parts(request)),
        # The user menu's badge: its count kept in the cache (selectors), else one COUNT, run
        # only when a page renders it (fragments and redirects do not), at most once per page.
        "notifications_badge": SimpleLazyObject(lambda: _badge(user)),
    }


def _badge(user) -> str:
    """Empty with nothing unread, else the count ("99+" from BADGE_LIMIT on)."""
    count = notifications_unread_count(user)
    if count >= BADGE_LIMIT:
        return f"{BADGE_LIMIT - 1}+"
    return str(count) if count else ""


def hospital(request):
    """`hospital_profile`: the hospital's profile in force (zhongdu.models.HospitalProfile), read
    only by a page that shows it (the slips, the public pages), once per page."""
    return {"hospital_profile": SimpleLazyObject(HospitalProfile.current)}
