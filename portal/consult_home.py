"""The online consultation's home-page card (answers the person has not read) and its section
in the bottom bar; imported by PortalConfig.ready()."""

from django.utils.translation import pgettext_lazy

from . import home, navigation
from .consult_selectors import unread_answers


def consult_card(patient) -> dict | None:
    """One indexed count: the answers waiting to be read (none: no card)."""
    unread = unread_answers(patient.subject)
    if not unread:
        return None
    return {"template": "portal/_home_consult.html", "unread": unread}


if consult_card not in home.CARDS:
    home.CARDS.append(consult_card)
SECTION = ("portal:consult_list", pgettext_lazy("portal section", "Ask us"))
if SECTION not in navigation.SECTIONS:
    navigation.SECTIONS.append(SECTION)
