"""Events' demo data (seed_demo): a free clinic two weeks ago, with its invitations, replies and
the people who came (two of them new, registered at the door with the event's channel), and a
VIP-only lecture of the skin-health school to come, its invitations not yet sent (the button is
for the demo). Made through the real services where they allow it; idempotent by title."""

import datetime

from django.db import transaction
from django.utils import timezone

from clientmgmt.models import Client
from events import services as events
from events.models import Event, EventInvitation

PAST_TITLE = "社区皮肤健康义诊"
UPCOMING_TITLE = "皮肤健康学校：换季护肤讲座（VIP专场）"
# New people met at the past free clinic, registered at the door (clients with its channel).
NEW_PEOPLE = [("周晓梅", "13703710001"), ("吴建国", "13703710002")]


def _at(days: int, hour: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@transaction.atomic
def seed_events(*, by) -> dict:
    made = {"events": 0, "invited": 0, "came": 0}
    if not Event.objects.filter(title=PAST_TITLE).exists():
        past = events.event_create(
            by=by,
            title=PAST_TITLE,
            kind=Event.Kind.FREE_CLINIC,
            starts_at=_at(-14, 9),
            ends_at=_at(-14, 12),
            place="金水区文化路社区服务中心",
            capacity=40,
            description="皮肤科、激光美容科专家现场义诊，免费皮肤检测。",
            segment={"categories": ["is_patient"]},
            vip_only=False,
        )
        clients = list(
            Client.objects.filter(status=Client.Status.ACTIVE, is_vip=False)
            .exclude(phone="")
            .order_by("pk")[40:55]
        )
        # The past event's invitations as the job would have written them (its SMS went out
        # then; the demo does not send old messages again).
        EventInvitation.objects.bulk_create(
            [
                EventInvitation(
                    event=past,
                    client=client,
                    sms_key=events.invitation_key(past.pk, client.pk),
                    created_at=_at(-21, 10),
                    rsvp=("yes" if n % 3 != 2 else "no") if n < 10 else "",
                    rsvp_at=_at(-18, 15) if n < 10 else None,
                    rsvp_by=by if n < 10 else None,
                )
                for n, client in enumerate(clients)
            ]
        )
        Event.objects.filter(pk=past.pk).update(
            invitations_started_at=_at(-21, 10), invitations_done_at=_at(-21, 10)
        )
        for client in clients[:7]:
            events.event_attend(event=past, client=client, by=by)
        for name, phone in NEW_PEOPLE:
            if not Client.objects.filter(phone=f"+86{phone}").exists():
                events.event_register_new(
                    event=past, data={"name": name, "phone": phone, "is_patient": False}, by=by
                )
        made["events"] += 1
        made["invited"] += len(clients)
        made["came"] += past.attendances.count()
    if not Event.objects.filter(title=UPCOMING_TITLE).exists():
        events.event_create(
            by=by,
            title=UPCOMING_TITLE,
            kind=Event.Kind.LECTURE,
            starts_at=_at(10, 14),
            ends_at=_at(10, 16),
            place="本院三楼多功能厅",
            capacity=20,
            description="主任医师讲解换季皮肤屏障修护与日常防晒，会后一对一答疑。",
            segment={},
            vip_only=True,
        )
        made["events"] += 1
    return made
