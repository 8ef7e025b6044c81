"""Writes of events (活动邀请): free clinics (义诊), skin-health school lectures (皮肤健康学校)
and other events. Keyword-only functions, one transaction each, returning the model.

- An event gets a channel of its own (kind "community") when it is created: new people met there
  are registered with it as the way they heard of the hospital, which is how the figures know who
  became a client through it.
- Invitations go out in the background (event_invitations_send, from events.tasks): bounded
  batches of the audience (messaging's campaign segment; VIPs only for a VIP event) after the
  last client id done, each batch one transaction writing the outbox rows (key
  `event:<event>:invite:<client>`, so a client is invited once however often the job runs) and
  the EventInvitation rows. The outbox applies the consent rules (marketing SMS only to those who
  agreed) and the quiet hours when it sends; a message still unsent when the event starts is
  dropped (expires_at).
- Replies are recorded by staff (yes / no); attendance is taken at the door. Both respect the
  capacity, under a lock on the event row, so two clerks at the door cannot overfill the room.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt import services as client_services
from clientmgmt.models import Client
from messaging import services as messaging
from messaging.models import Purpose
from zhongdu import audit
from zhongdu.models import Channel
from zhongdu.services import create_once

from .models import Event, EventAttendance, EventInvitation
from .selectors import INVITATION_TEMPLATE, event_audience

# Invitations written per transaction, and per run of the job (then it queues itself again).
INVITE_BATCH = 500
INVITE_BATCHES_PER_RUN = 20
# A run of the job takes at most the task's time limit; one started this long ago and not done
# has stopped.
STUCK_AFTER = datetime.timedelta(minutes=30)
EVENT_FIELDS = (
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "place",
    "capacity",
    "description",
    "segment",
    "vip_only",
)
AUDIENCE_FIELDS = ("segment", "vip_only")


class EventFull(ValidationError):
    pass


def invitation_key(event_id: int, client_id: int) -> str:
    return f"event:{event_id}:invite:{client_id}"


def _segment(segment) -> dict:
    """The audience as stored: only the criteria that narrow it (an empty one is everyone)."""
    return {key: value for key, value in (segment or {}).items() if value not in (None, "", [])}


def _check_times(starts_at, ends_at) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError(_("The event must end after it starts."))


def _channel_for(title: str, starts_at: datetime.datetime) -> Channel:
    """A channel of the event's own: "2026-05-01 义诊", numbered when the name is taken."""
    base = f"{timezone.localtime(starts_at):%Y-%m-%d} {title}"[:44]
    name, n = base, 1
    while Channel.objects.filter(name=name).exists():
        n += 1
        name = f"{base} #{n}"
    return Channel.objects.create(name=name, kind=Channel.Kind.COMMUNITY)


def event_create(*, by, request=None, request_key: str = "", **fields) -> Event:
    """A new event with its own channel. The same form sent twice (`request_key`, its one-time
    key) saves one event."""
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise ValueError(f"not event fields: {sorted(unknown)}")
    _check_times(fields["starts_at"], fields.get("ends_at"))
    fields["segment"] = _segment(fields.get("segment"))

    def write():
        channel = _channel_for(fields["title"], fields["starts_at"])
        event = Event.objects.create(
            channel=channel, created_by=by, request_key=request_key, **fields
        )
        audit.record(audit.Action.CREATE, actor=by, obj=event, request=request)
        return event

    with transaction.atomic():
        return create_once(Event, request_key, write)[0]


def event_update(*, event: Event, by, request=None, **fields) -> Event:
    """Change an event. Its audience is fixed once invitations have gone out (those invited
    stay invited); the capacity cannot fall below those already in."""
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise ValueError(f"not event fields: {sorted(unknown)}")
    if "segment" in fields:
        fields["segment"] = _segment(fields["segment"])
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        if locked.invitations_started_at and set(changed) & set(AUDIENCE_FIELDS):
            raise ValidationError(_("The audience cannot change once invitations have gone out."))
        _check_times(
            fields.get("starts_at", locked.starts_at), fields.get("ends_at", locked.ends_at)
        )
        came = _people(EventAttendance.objects.filter(event=locked))
        if fields.get("capacity", locked.capacity) < came:
            raise ValidationError(
                _("%(n)s people have already come: the event needs at least that many places.")
                % {"n": came}
            )
        for name in changed:
            setattr(locked, name, fields[name])
        if changed:
            locked.save(update_fields=changed)
            audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=changed, request=request)
    event.refresh_from_db()
    return event


def _people(rows) -> int:
    """Distinct clients among rows (two merged records of one person are one person)."""
    return rows.aggregate(n=Count("client", distinct=True))["n"]


# --- Invitations ----------------------------------------------------------------------


def event_invitations_start(*, event: Event, by, request=None) -> Event:
    """Queue the invitations. Again after they are done: the clients who joined the audience
    since are invited (the others have their key already, so nobody gets a second SMS)."""
    if not messaging.template_available(INVITATION_TEMPLATE):
        raise messaging.template_missing(INVITATION_TEMPLATE)
    if event.starts_at <= timezone.now():
        raise ValidationError(_("The event has started: it is too late to invite."))
    from .tasks import event_invitations_send  # the task module imports this one

    now = timezone.now()
    with transaction.atomic():
        # A conditional UPDATE: two clicks start one job. A job started long ago and never
        # finished (its worker failed for good) may be started again.
        started = (
            Event.objects.filter(pk=event.pk)
            .exclude(invitations_started_at__gt=now - STUCK_AFTER, invitations_done_at__isnull=True)
            .update(invitations_started_at=now, invitations_done_at=None)
        )
        if not started:
            raise ValidationError(_("The invitations are already being sent."))
        Event.objects.filter(pk=event.pk).update(invitations_after=0)
        audit.record(
            audit.Action.UPDATE, actor=by, obj=event, fields=["invitations"], request=request
        )
        event_invitations_send.delay_on_commit(event.pk)
    event.refresh_from_db()
    return event


def event_invitations_send(
    *, event_id: int, batch: int = INVITE_BATCH, batches: int = INVITE_BATCHES_PER_RUN
) -> bool:
    """Write up to `batches` batches of invitations; True when the audience is done. Safe to
    run again or twice at once: each batch starts after the last client id committed, and the
    outbox and invitation keys are unique."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.invitations_started_at is None or event.invitations_done_at:
        return True  # not asked for, or finished: nothing to do
    audience = event_audience(event).only("pk", "name", "phone").order_by("pk")
    local = timezone.localtime(event.starts_at)
    values = {
        "date": f"{local:%Y-%m-%d}",
        "time": f"{local:%H:%M}",
        "text": f"{event.title}（{event.place}）",
    }
    after = event.invitations_after
    hospital_values = messaging.hospital_placeholder_values()
    for _n in range(batches):
        clients = list(audience.filter(pk__gt=after)[:batch])
        if not clients:
            Event.objects.filter(pk=event.pk, invitations_done_at__isnull=True).update(
                invitations_done_at=timezone.now()
            )
            return True
        with transaction.atomic():
            for client in clients:
                key = invitation_key(event.pk, client.pk)
                messaging.outbox_enqueue(
                    idempotency_key=key,
                    purpose=Purpose.EVENT_INVITATION,
                    client=client,
                    template_code=INVITATION_TEMPLATE,
                    values={"name": client.name, **values},
                    expires_at=event.starts_at,
                    hospital_values=hospital_values,
                )
            EventInvitation.objects.bulk_create(
                [
                    EventInvitation(
                        event=event, client=client, sms_key=invitation_key(event.pk, client.pk)
                    )
                    for client in clients
                ],
                ignore_conflicts=True,
            )
            after = clients[-1].pk
            Event.objects.filter(pk=event.pk).update(invitations_after=after)
    return False


def event_rsvp(*, invitation: EventInvitation, answer: str, by, request=None) -> EventInvitation:
    """Record the client's reply (staff heard it on the phone or in person)."""
    if answer not in EventInvitation.Rsvp.values:
        raise ValidationError(_("Choose the client's reply."))
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=invitation.event_id)
        locked = EventInvitation.objects.select_for_update().get(pk=invitation.pk)
        if answer == EventInvitation.Rsvp.YES and locked.rsvp != answer:
            coming = _people(
                EventInvitation.objects.filter(event=event, rsvp=EventInvitation.Rsvp.YES)
            )
            if coming >= event.capacity:
                raise EventFull(
                    _("The event is full: all %(n)s places are promised.") % {"n": event.capacity}
                )
        locked.rsvp = answer
        locked.rsvp_at = timezone.now() if answer else None
        locked.rsvp_by = by if answer else None
        locked.save(update_fields=["rsvp", "rsvp_at", "rsvp_by"])
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["rsvp"], request=request)
    invitation.refresh_from_db()
    return invitation


# --- At the door ----------------------------------------------------------------------


def _room_left(event: Event, client: Client | None) -> None:
    """Refuse when the event is full or closed to this person. Call with the event row locked."""
    if event.vip_only and (client is None or not client.is_vip):
        raise ValidationError(_("This event is for VIP clients only."))
    came = _people(EventAttendance.objects.filter(event=event))
    if came >= event.capacity:
        raise EventFull(_("The event is full: all %(n)s places are taken.") % {"n": event.capacity})


def event_attend(*, event: Event, client: Client, by, request=None) -> tuple[EventAttendance, bool]:
    """Tick a known client in at the door: (attendance, whether it is new). Once per person."""
    if client.status == Client.Status.MERGED:
        raise ValidationError(
            _("This record was merged into another one; use the surviving record.")
        )
    with transaction.atomic():
        # The event row's lock makes the door's ticks one at a time: the count of people in
        # and the "already in" check below stay true until this one is written.
        locked = Event.objects.select_for_update().get(pk=event.pk)
        existing = EventAttendance.objects.filter(event=locked, client=client).first()
        if existing is not None:
            return existing, False
        _room_left(locked, client)
        attendance = EventAttendance.objects.create(event=locked, client=client, by=by)
        audit.record(audit.Action.CREATE, actor=by, obj=attendance, request=request)
    return attendance, True


def event_register_new(
    *, event: Event, data: dict, by, request=None, request_key: str = "", distinct: bool = False
) -> EventAttendance:
    """Someone new at the door: a client record (clientmgmt's rules: name, phone, ID card) with
    the event's channel as the way they heard of the hospital, ticked in at once. The same form
    sent twice (`request_key`, its one-time key), or a person already on file, is ticked in once
    (clientmgmt.services.client_register)."""
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        client, new = client_services.client_register(
            data={**data, "source_channel": locked.channel},
            by=by,
            request=request,
            request_key=request_key,
            distinct=distinct,
        )
        if not new and (found := EventAttendance.objects.filter(event=locked, client=client)):
            return found.first()
        # Full: nothing is written (the new record rolls back with this transaction).
        _room_left(locked, None if new else client)
        attendance = EventAttendance.objects.create(
            event=locked, client=client, by=by, registered_here=new
        )
        audit.record(audit.Action.CREATE, actor=by, obj=attendance, request=request)
    return attendance
