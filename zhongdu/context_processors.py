from .navigation import sections_for
from .roles import ROLE_LABELS, user_roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": [], "nav_roles": []}
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    sections = [dict(s, active=s["url_name"] == current) for s in sections_for(user)]
    roles = [ROLE_LABELS[role] for role in sorted(user_roles(user))]
    return {"nav_sections": sections, "nav_roles": roles}
