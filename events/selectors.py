"""Reads of events (活动邀请): the event list with its figures, one event's figures, invitations
and arrivals, the door's search, and the client timeline's source. Querysets select_related what
their page shows; the lists keep a fixed number of queries."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.models import Client
from clientmgmt.registry import TimelineEntry, timeline_columns
from messaging.models import OutboxMessage
from messaging.selectors import audience_breakdown, campaign_segment, outbox_outcomes
from zhongdu import roles
from zhongdu.links import row_link

from .models import Event, EventAttendance, EventInvitation

# Who runs events, who looks at them, and who takes attendance at the door (zhongdu/roles.py).
EVENT_DESK = roles.EVENT_DESK
EVENT_READERS = roles.EVENT_READERS
EVENT_DOOR = roles.EVENT_DOOR
PAGE_SIZE = 50
UPCOMING_LIMIT = 100
ARRIVALS_SHOWN = 20
Rsvp = EventInvitation.Rsvp


def event_get_for_user(user, pk, *, write=False, door=False) -> Event:
    """The one way views fetch an event: 404 if there is none, 403 if the user may not (read:
    EVENT_READERS; write: EVENT_DESK; door: EVENT_DOOR)."""
    try:
        event = Event.objects.select_related("channel", "created_by").get(pk=pk)
    except (Event.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    allowed = EVENT_DESK if write else EVENT_DOOR if door else EVENT_READERS
    if not roles.user_roles(user) & allowed:
        raise PermissionDenied
    return event


def invitation_get_for_user(user, pk) -> EventInvitation:
    try:
        invitation = EventInvitation.objects.select_related("event", "client").get(pk=pk)
    except (EventInvitation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not roles.user_roles(user) & EVENT_DESK:
        raise PermissionDenied
    return invitation


INVITATION_TEMPLATE = "event_invitation"
# An invitation whose SMS was not sent (suppressed by a rule, failed, cancelled) invited nobody.
BLOCKED = ("suppressed", "failed", "cancelled")


def _sms_blocked():
    return Exists(
        OutboxMessage.objects.filter(idempotency_key=OuterRef("sms_key"), status__in=BLOCKED)
    )


def invitations_reaching(event_or_ref):
    """The event's invitations but those whose SMS was blocked: what "invited" counts."""
    return EventInvitation.objects.filter(event=event_or_ref).exclude(_sms_blocked())


def event_audience(event: Event):
    """The clients the event is for (messaging's campaign segment, VIPs only for a VIP event),
    with a mobile number; consent is the outbox's business when it sends."""
    return campaign_segment(event.audience).exclude(phone="")


def event_invitation_breakdown(event: Event, *, at=None) -> dict:
    """What sending the invitations now will do to those of the audience not invited yet
    (messaging.selectors.audience_breakdown: now, deferred, not sent and why)."""
    not_yet = event_audience(event).exclude(
        Exists(EventInvitation.objects.filter(event=event, client=OuterRef("pk")))
    )
    return audience_breakdown(not_yet, template_code=INVITATION_TEMPLATE, at=at)


def _people(model, *conditions, **filters):
    """Distinct clients of the event's rows, as a subquery (0 when none)."""
    rows = (
        model.objects.filter(*conditions, event=OuterRef("pk"), **filters)
        .order_by()
        .values("event")
        .annotate(n=Count("client", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _with_counts(qs):
    return qs.select_related("channel").annotate(
        invited=_people(EventInvitation, ~_sms_blocked()),
        coming=_people(EventInvitation, rsvp=Rsvp.YES),
        came=_people(EventAttendance),
    )


@dataclass
class EventListPage:
    upcoming: list
    past: list
    next_cursor: str | None
    is_first: bool


def _parse_cursor(cursor):
    when, _sep, pk = str(cursor or "").partition("_")
    try:
        return datetime.datetime.fromisoformat(when), int(pk)
    except (TypeError, ValueError):
        return None


def event_list(*, cursor=None, now=None) -> EventListPage:
    """Events to come (soonest first) and past ones (latest first, keyset-paged on
    (starts_at, id)), each with its invited, coming and came counts. Two queries."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    after = _parse_cursor(cursor) if cursor else None
    upcoming = []
    if after is None:
        upcoming = list(
            _with_counts(Event.objects.filter(starts_at__gte=today)).order_by("starts_at", "id")[
                :UPCOMING_LIMIT
            ]
        )
    past = _with_counts(Event.objects.filter(starts_at__lt=today)).order_by("-starts_at", "-id")
    if after is not None:
        when, pk = after
        past = past.filter(Q(starts_at__lt=when) | Q(starts_at=when, id__lt=pk))
    past = list(past[: PAGE_SIZE + 1])
    more = len(past) > PAGE_SIZE
    past = past[:PAGE_SIZE]
    last = past[-1] if more else None
    return EventListPage(
        upcoming=upcoming,
        past=past,
        next_cursor=f"{last.starts_at.isoformat()}_{last.pk}" if last else None,
        is_first=after is None,
    )


@dataclass
class EventFigures:
    invited: int
    replied_yes: int
    replied_no: int
    no_reply: int
    came: int
    came_invited: int
    registered_here: int
    became_clients: int
    invited_later_visited: int
    sms: dict


def event_figures(event: Event) -> EventFigures:
    """The event's figures, counting people (distinct clients): invited, replied, came; became
    clients (records whose channel is the event's: registered at the door or later, having
    heard of the hospital there); invited clients who visited the hospital after the event.
    Four queries."""
    invitations = invitations_reaching(event)
    invited = invitations.aggregate(
        invited=Count("client", distinct=True),
        yes=Count("client", distinct=True, filter=Q(rsvp=Rsvp.YES)),
        no=Count("client", distinct=True, filter=Q(rsvp=Rsvp.NO)),
        later_visited=Count(
            "client", distinct=True, filter=Q(client__last_visit_at__gt=event.starts_at)
        ),
    )
    came = EventAttendance.objects.filter(event=event).aggregate(
        came=Count("client", distinct=True),
        invited=Count(
            "client",
            distinct=True,
            filter=Q(Exists(invitations.filter(client=OuterRef("client")))),
        ),
        here=Count("client", distinct=True, filter=Q(registered_here=True)),
    )
    became = (
        Client.objects.filter(source_channel=event.channel)
        .exclude(status=Client.Status.MERGED)
        .count()
    )
    sms = outbox_outcomes(
        OutboxMessage.objects.filter(idempotency_key__startswith=f"event:{event.pk}:invite:")
    )
    replied = invited["yes"] + invited["no"]
    return EventFigures(
        invited=invited["invited"],
        replied_yes=invited["yes"],
        replied_no=invited["no"],
        no_reply=invited["invited"] - replied,
        came=came["came"],
        came_invited=came["invited"],
        registered_here=came["here"],
        became_clients=became,
        invited_later_visited=invited["later_visited"],
        sms=sms,
    )


@dataclass
class InvitationPage:
    items: list
    next_after: int | None
    is_first: bool


def event_invitations(event: Event, *, rsvp=None, after=None, size=None) -> InvitationPage:
    """A page of the event's invitations in the order they were written, with the SMS's status
    and whether the client came. One query."""
    size = size or PAGE_SIZE
    try:
        after = int(after) if after not in (None, "") else None
    except (TypeError, ValueError):
        after = None
    qs = EventInvitation.objects.filter(event=event).select_related("client")
    if rsvp in Rsvp.values:
        qs = qs.filter(rsvp=rsvp)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    qs = qs.annotate(
        sms_status=Subquery(
            OutboxMessage.objects.filter(idempotency_key=OuterRef("sms_key")).values("status")[:1]
        ),
        came=Exists(
            EventAttendance.objects.filter(event=OuterRef("event"), client=OuterRef("client"))
        ),
    ).order_by("pk")
    items = list(qs[: size + 1])
    more = len(items) > size
    items = items[:size]
    labels = dict(OutboxMessage.Status.choices)
    for invitation in items:
        invitation.sms_label = labels.get(invitation.sms_status, "—")
    return InvitationPage(
        items=items, next_after=items[-1].pk if more else None, is_first=after is None
    )


def event_arrivals(event: Event, limit: int = ARRIVALS_SHOWN) -> list[EventAttendance]:
    """The latest arrivals at the door."""
    return list(EventAttendance.objects.filter(event=event).select_related("client", "by")[:limit])


def door_matches(event: Event, clients) -> list[dict]:
    """For the clients the door's phone search found: each one's invitation (reply) and whether
    they are already in. Two queries."""
    ids = [client.pk for client in clients]
    invited = {
        invitation.client_id: invitation
        for invitation in EventInvitation.objects.filter(event=event, client_id__in=ids)
    }
    came = set(
        EventAttendance.objects.filter(event=event, client_id__in=ids).values_list(
            "client_id", flat=True
        )
    )
    return [
        {"client": client, "invitation": invited.get(client.pk), "came": client.pk in came}
        for client in clients
    ]


def event_places_taken(event: Event) -> int:
    return EventAttendance.objects.filter(event=event).aggregate(n=Count("client", distinct=True))[
        "n"
    ]


# --- The client page's timeline -----------------------------------------------------


def event_rows(client):
    """One row per event the client was invited to or came to (clientmgmt.registry): when they
    came (else when they were invited), the title, the place, the reply."""
    invited = EventInvitation.objects.filter(event=OuterRef("pk"), client=client).order_by("pk")
    came = EventAttendance.objects.filter(event=OuterRef("pk"), client=client).order_by("pk")
    return Event.objects.filter(Q(Exists(invited)) | Q(Exists(came))).values(
        **timeline_columns(
            kind="event",
            at=Coalesce(
                Subquery(came.values("at")[:1]), Subquery(invited.values("created_at")[:1])
            ),
            status=Case(
                When(Exists(came), then=Value("attended")),
                default=Value("invited"),
                output_field=TextField(),
            ),
            first="title",
            second=Subquery(invited.values("rsvp")[:1]),
            third="place",
        )
    )


def event_entry(row) -> TimelineEntry:
    parts = [row["t_third"]]
    reply = row["t_second"]
    if reply in (Rsvp.YES, Rsvp.NO):
        parts.append(Rsvp(reply).label)
    if row["t_status"] == "attended":
        title = _("Came to the event: %(title)s") % {"title": row["t_first"]}
    else:
        title = _("Invited to the event: %(title)s") % {"title": row["t_first"]}
    return TimelineEntry(
        at=row["t_at"],
        kind="event",
        title=title,
        detail=" · ".join(str(part) for part in parts if part),
        url=row_link("events:event_detail")(row["t_number"]),
        view_name="events:event_detail",
    )
