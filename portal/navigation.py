"""The portal's sections in its bottom bar: each part adds (URL name, label) to SECTIONS."""

from django.urls import reverse

SECTIONS: list[tuple[str, str]] = []


def portal_links(request) -> dict:
    """Context processor: the sections' links, on the portal's pages only."""
    if not request.path_info.startswith("/my/"):
        return {}
    return {"portal_links": [{"url": reverse(name), "label": label} for name, label in SECTIONS]}
