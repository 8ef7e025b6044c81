"""My data on the home page (a card of the person's requests) and in the bottom bar."""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .home import CARDS
from .models import DataRequest
from .navigation import SECTIONS

# A decided request stays on the home page this long, so the person sees the answer.
ANSWERED_SHOWN = datetime.timedelta(days=30)


def data_card(patient):
    """The person's open requests and those answered lately (one query), or None."""
    since = timezone.now() - ANSWERED_SHOWN
    rows = list(
        DataRequest.objects.filter(client=patient.subject)
        .filter(Q(status=DataRequest.Status.OPEN) | Q(decided_at__gte=since))
        .order_by("-created_at", "-pk")[:3]
    )
    if not rows:
        return None
    return {"template": "portal/_home_data.html", "requests": rows}


if data_card not in CARDS:
    CARDS.append(data_card)
if ("portal:my_data", _("My data")) not in SECTIONS:
    SECTIONS.append(("portal:my_data", _("My data")))
