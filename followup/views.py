"""The visit slip, printed by the front desk at the end of a visit: the visit, the survey's QR
code (the survey engine makes the link, once per visit) and the client's next planned follow-up.

Access (zhongdu/roles.py PAGE_ACCESS): the front desk's and client management's.
"""

import segno
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from guide.selectors import visit_get_for_user
from surveys import services as surveys

from . import selectors


def qr_svg(link: str) -> str:
    """The link as a QR code, inline SVG markup (no image request, nothing the CSP refuses);
    sized by CSS through its viewBox."""
    code = segno.make(link, error="m")
    return code.svg_inline(scale=4, omitsize=True, svgclass="survey-qr", title=link)


@require_GET
def visit_slip(request, pk):
    visit = visit_get_for_user(request.user, pk)
    # Printing the slip makes the visit's survey link, once: a second print (or a second clerk)
    # gets the same link (a unique index per visit and template), so this GET is idempotent.
    try:
        invitation = surveys.invitation_for_visit(visit=visit)
    except ValidationError:
        invitation = None  # no default survey set up: the slip prints without the code
    link = surveys.survey_link(invitation) if invitation else ""
    context = {
        "visit": visit,
        "client": visit.client,
        "invitation": invitation,
        "link": link,
        # segno's markup: paths and the link in an escaped <title>, nothing from the request.
        "qr": mark_safe(qr_svg(link)) if link else "",  # noqa: S308
        "next_followup": selectors.client_next_followup(visit.client),
    }
    return render(request, "followup/visit_slip.html", context)
