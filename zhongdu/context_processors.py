from .navigation import menu_for, sections_for
from .roles import ROLE_LABELS, user_roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": [], "nav_menu": [], "nav_roles": []}
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    sections = sections_for(user)
    roles = [ROLE_LABELS[role] for role in sorted(user_roles(user))]
    return {
        "nav_sections": sections,
        "nav_menu": menu_for(sections, current or ""),
        "nav_roles": roles,
    }
