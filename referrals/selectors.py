"""Reads of referrals (转诊): the referral list (open ones first), what the client page, the
consultation desk's queue and the front desk's walk-in screen show of them, and their timeline
source. Querysets select_related what their page shows."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name
from zhongdu import roles
from zhongdu.links import row_link
from zhongdu.roles import user_may_open

from .models import Referral, ReferralEvent
from .services import OPEN_STATUSES, REFERRAL_TRANSITIONS

Status = Referral.Status
PAGE_SIZE = 50
# The consultation desk's queue shows at most this many referred clients to call.
TO_CALL_LIMIT = 50

# The buttons that move a referral, in this order (closing asks for a note).
_ACTION_LABELS = {
    Status.CONTACTED: pgettext_lazy("referral action", "Contacted"),
    Status.BOOKED: pgettext_lazy("referral action", "Booked"),
    Status.ARRIVED: pgettext_lazy("referral action", "Arrived"),
    Status.CLOSED: pgettext_lazy("referral action", "Close"),
}


def referral_actions(referral: Referral) -> list[dict]:
    """The moves REFERRAL_TRANSITIONS allows from the referral's status, as buttons."""
    allowed = REFERRAL_TRANSITIONS.get(referral.status, set())
    return [
        {"status": status, "label": label}
        for status, label in _ACTION_LABELS.items()
        if status in allowed
    ]


def _with_actions(referrals):
    """Each referral with its buttons (`actions`) and the address they post to (`status_url`,
    the pattern reversed once: zhongdu.links.row_link), for referrals/_referral_actions.html."""
    status_url = row_link("referrals:referral_status")
    for referral in referrals:
        referral.actions = referral_actions(referral)
        referral.status_url = status_url(referral.pk)
    return referrals


def referral_get_for_user(user, pk, *, write=False) -> Referral:
    """The one way views fetch a referral: 404 if there is none, 403 if the user may not."""
    try:
        referral = Referral.objects.select_related("client").get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not (roles.user_roles(user) & roles.CLIENT_EDITORS):
        raise PermissionDenied
    return referral


@dataclass
class ReferralPage:
    items: list
    next_cursor: str | None
    is_first: bool


def _parse_cursor(cursor):
    try:
        rank, sort = (int(part) for part in str(cursor).split("."))
    except (TypeError, ValueError):
        return None
    return rank, sort


def referral_list(*, filters: dict, cursor=None, size: int | None = None) -> ReferralPage:
    """Referrals, open ones first (oldest first: they have waited longest), then the others
    (newest first); keyset-paged on (open or not, signed id). One query."""
    size = size or PAGE_SIZE
    qs = Referral.objects.select_related("client", "created_by")
    status = filters.get("status") or ""
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status in Status.values:
        qs = qs.filter(status=status)
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    is_open = Q(status__in=OPEN_STATUSES)
    qs = qs.annotate(
        rank=Case(When(is_open, then=Value(0)), default=Value(1), output_field=IntegerField()),
        sort=Case(When(is_open, then=F("id")), default=-F("id"), output_field=IntegerField()),
    ).order_by("rank", "sort")
    after = _parse_cursor(cursor) if cursor else None
    if after is not None:
        rank, sort = after
        qs = qs.filter(Q(rank__gt=rank) | Q(rank=rank, sort__gt=sort))
    items = list(qs[: size + 1])
    more = len(items) > size
    items = _with_actions(items[:size])
    return ReferralPage(
        items=items,
        next_cursor=f"{items[-1].rank}.{items[-1].sort}" if more else None,
        is_first=after is None,
    )


def referrals_open_for_client(client) -> list[Referral]:
    """The client's open referrals, newest first (the client page's card)."""
    return _with_actions(
        list(
            Referral.objects.filter(client=client, status__in=OPEN_STATUSES)
            .select_related("created_by")
            .order_by("-created_at")[:5]
        )
    )


def referral_panel(user, client):
    """The client page's card (clientmgmt.registry.register_record_panel): the client's open
    referrals, or None when there are none."""
    referrals = referrals_open_for_client(client)
    if not referrals:
        return None
    return "referrals/_client_panel.html", {
        "referrals": referrals,
        "can_move": user_may_open(user, "referrals:referral_status"),
    }


def referrals_open_by_client(client_ids) -> dict[int, Referral]:
    """{client id: their latest open referral} for a few clients (walk-in matches): one query."""
    found: dict[int, Referral] = {}
    if not client_ids:
        return found
    rows = Referral.objects.filter(client_id__in=client_ids, status__in=OPEN_STATUSES).order_by(
        "-created_at"
    )
    for referral in rows:
        found.setdefault(referral.client_id, referral)
    return found


def referrals_to_call(limit: int = TO_CALL_LIMIT) -> list[Referral]:
    """Referred clients nobody has called yet, oldest first (the consultation desk's queue)."""
    return _with_actions(
        list(
            Referral.objects.filter(status=Status.NEW)
            .select_related("client", "created_by")
            .order_by("created_at", "pk")[:limit]
        )
    )


# --- The client page's timeline -----------------------------------------------------------


def referral_rows(client):
    """Every step of the client's referrals (clientmgmt.registry)."""
    return ReferralEvent.objects.filter(referral__client=client).values(
        **timeline_columns(
            kind="referral",
            at="at",
            number="referral_id",
            status="to_status",
            first="referral__source",
            second="referral__referrer",
            third="note",
            actor=user_name("actor"),
        )
    )


def referral_entry(row) -> TimelineEntry:
    status = row["t_status"]
    source = Referral.Source(row["t_first"]).label
    if status == Status.NEW:
        title = _("Referred by %(source)s: %(referrer)s") % {
            "source": source,
            "referrer": row["t_second"],
        }
    else:
        title = _("Referral (%(source)s, %(referrer)s): %(status)s") % {
            "source": source,
            "referrer": row["t_second"],
            "status": Status(status).label,
        }
    return TimelineEntry(
        at=row["t_at"],
        kind="referral",
        title=title,
        detail=row["t_third"],
        actor=row["t_actor"],
    )
