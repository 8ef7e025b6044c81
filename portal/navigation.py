"""The portal's sections in its bottom bar: each part adds (URL name, label) to SECTIONS."""

from django.urls import reverse

SECTIONS: list[tuple[str, str]] = []
# The bar's order, whatever order the parts registered in.
ORDER = ["portal:bookings", "portal:consult_list", "portal:results", "portal:my_data"]


def _position(section):
    name = section[0]
    return ORDER.index(name) if name in ORDER else len(ORDER)


def portal_links(request) -> dict:
    """Context processor: the sections' links, on the portal's pages only."""
    if not request.path_info.startswith("/my/"):
        return {}
    return {
        "portal_links": [
            {"url": reverse(name), "label": label}
            for name, label in sorted(SECTIONS, key=_position)
        ]
    }
