"""Events (活动邀请: free clinics 义诊, skin-health school lectures 皮肤健康学校) through their
pages: creating one with its audience and channel, invitations written by the real task code
and sent through the outbox with the memory SMS backend (each client once, consent applied),
replies and attendance at the door within the capacity, VIP-only events, new people registered
with the event's channel, the figures on a constructed dataset, the timeline; who may do what."""

import datetime
import html

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt import services as client_services
from clientmgmt.models import Client, ConsentEvent
from events import selectors as event_selectors
from events import services as events
from events import tasks
from events.models import Event, EventAttendance, EventInvitation
from messaging import rules
from messaging import services as messaging_services
from messaging import tasks as messaging_tasks
from messaging.models import Kind, OutboxMessage, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory, grant
from tests.conftest import ROLE_USERNAMES
from tests.factories import UserFactory
from zhongdu import roles, sms
from zhongdu.models import AuditEvent, Channel

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIST = reverse("events:event_list")
NEW = reverse("events:event_new")


@pytest.fixture(autouse=True)
def _memory_sms(memory_sms):
    """Every test here: tests/conftest.py memory_sms."""


@pytest.fixture
def invitation_template(db):
    return SmsTemplate.objects.create(
        code="event_invitation",
        purpose=Purpose.EVENT_INVITATION,
        kind=Kind.MARKETING,
        body="【{hospital}】{name}您好，{date} {time}举办{text}，欢迎参加。回复TD退订",
    )


def _at(days, hour=9):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def make_event(**fields):
    values = {
        "title": "社区皮肤健康义诊",
        "kind": Event.Kind.FREE_CLINIC,
        "starts_at": _at(7),
        "ends_at": _at(7, 12),
        "place": "文化路社区服务中心",
        "capacity": 30,
        "description": "",
        "segment": {},
        "vip_only": False,
    }
    values.update(fields)
    return events.event_create(by=None, **values)


def opted_in(**kwargs):
    """A client who agreed to marketing SMS (invitations are marketing)."""
    client = ClientFactory(**kwargs)
    grant(client, "marketing_sms")
    return client


def vip(client):
    Client.objects.filter(pk=client.pk).update(is_vip=True)
    client.refresh_from_db()
    return client


def send_invitations(event):
    """What the worker does: the job until it is done, then each message's send."""
    while not tasks.event_invitations_send.apply(args=[event.pk]).get():
        pass
    for message in OutboxMessage.objects.filter(idempotency_key__startswith=f"event:{event.pk}:"):
        messaging_tasks.outbox_send.apply(args=[message.pk])


def _user(role):
    return get_user_model().objects.get(username=ROLE_USERNAMES[role])


def _body(page):
    return html.unescape(page.content.decode())


def _door(event):
    return reverse("events:event_door", args=[event.pk])


def _attend(event):
    return reverse("events:event_attend", args=[event.pk])


def _register(event):
    return reverse("events:event_register", args=[event.pk])


# --- Access ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_who_opens_which_event_page(client_for, role):
    event = make_event()
    http = client_for(role)
    pages = {
        LIST: roles.EVENT_DOOR | {roles.MANAGER},
        NEW: roles.EVENT_DESK,
        event.get_absolute_url(): roles.EVENT_READERS,
        reverse("events:event_edit", args=[event.pk]): roles.EVENT_DESK,
        _door(event): roles.EVENT_DOOR,
    }
    for url, allowed in pages.items():
        expected = 200 if role in allowed else 403
        assert http.get(url).status_code == expected, url


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.EVENT_DOOR))
def test_those_not_at_the_door_tick_nobody_in(client_for, role):
    event = make_event()
    client = ClientFactory()
    assert client_for(role).post(_attend(event), {"client": client.pk}).status_code == 403
    assert not EventAttendance.objects.exists()


def test_the_front_desk_finds_the_event_and_goes_to_the_door(front_desk_client):
    event = make_event()
    body = _body(front_desk_client.get(LIST, **EN))
    assert _door(event) in body
    assert f'href="{event.get_absolute_url()}"' not in body  # the figures are not theirs


# --- Creating one ---------------------------------------------------------------------


def test_a_client_manager_creates_an_event_with_its_audience_and_a_channel_of_its_own(
    client_manager_client,
):
    page = client_manager_client.post(
        NEW,
        {
            "title": "皮肤健康学校：春季过敏",
            "kind": "lecture",
            "starts_at": _at(10, 14).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": _at(10, 16).strftime("%Y-%m-%dT%H:%M"),
            "place": "三楼多功能厅",
            "capacity": "50",
            "categories": ["is_patient", "is_member"],
            "visited_within_days": "365",
        },
        follow=True,
        **EN,
    )
    event = Event.objects.get()
    assert page.redirect_chain == [(event.get_absolute_url(), 302)]
    assert event.kind == "lecture" and event.capacity == 50 and not event.vip_only
    assert event.segment == {"categories": ["is_patient", "is_member"], "visited_within_days": 365}
    assert event.channel.kind == Channel.Kind.COMMUNITY
    assert event.channel.name == f"{_at(10):%Y-%m-%d} 皮肤健康学校：春季过敏"
    assert event.created_by == _user(roles.CLIENT_MANAGER)
    assert AuditEvent.objects.filter(action="create", object_id=str(event.pk)).exists()


def test_two_events_of_one_day_and_title_get_two_channels():
    first, second = make_event(), make_event()
    assert first.channel != second.channel
    assert second.channel.name.endswith("#2")


@pytest.mark.parametrize(
    "change",
    [
        {"ends_at": _at(7, 8).strftime("%Y-%m-%dT%H:%M")},
        {"capacity": "0"},
        {"starts_at": "tomorrow"},
        {"kind": "party"},
        {"title": ""},
        {"department": "999999"},
    ],
)
def test_a_bad_event_is_refused_on_the_page(client_manager_client, change):
    data = {
        "title": "义诊",
        "kind": "free_clinic",
        "starts_at": _at(7).strftime("%Y-%m-%dT%H:%M"),
        "place": "社区",
        "capacity": "10",
        **change,
    }
    assert client_manager_client.post(NEW, data).status_code == 422
    assert not Event.objects.exists()


def test_the_audience_is_fixed_once_invitations_went_out(client_manager_client):
    event = make_event(segment={"categories": ["is_patient"]})
    Event.objects.filter(pk=event.pk).update(invitations_started_at=timezone.now())
    edit = reverse("events:event_edit", args=[event.pk])
    page = client_manager_client.post(
        edit,
        {
            "title": "社区皮肤健康义诊（改期）",
            "kind": "free_clinic",
            "starts_at": _at(8).strftime("%Y-%m-%dT%H:%M"),
            "place": "文化路社区服务中心",
            "capacity": "30",
            "vip_only": "on",
            "categories": ["is_member"],
        },
    )
    assert page.status_code == 302
    event.refresh_from_db()
    assert event.title == "社区皮肤健康义诊（改期）"
    assert event.segment["categories"] == ["is_patient"] and not event.vip_only
    event.refresh_from_db()
    with pytest.raises(events.ValidationError):
        events.event_update(event=event, by=None, vip_only=True)


def test_the_capacity_cannot_fall_below_those_already_in(client_manager_client):
    event = make_event(capacity=5)
    for _n in range(3):
        events.event_attend(event=event, client=ClientFactory(), by=None)
    with pytest.raises(events.ValidationError, match="3 people have already come"):
        events.event_update(event=event, by=None, capacity=2)


# --- Invitations ----------------------------------------------------------------------


def test_invitations_reach_the_audience_once_each_through_the_outbox(
    client_manager_client, invitation_template, django_capture_on_commit_callbacks
):
    agreed = opted_in(name="李娜")
    no_consent = ClientFactory(name="王芳")
    opted_in(name="张会员", is_patient=False, is_member=True)  # not in the audience
    no_phone = opted_in(name="无号码")
    Client.objects.filter(pk=no_phone.pk).update(phone="")
    event = make_event(segment={"categories": ["is_patient"]})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client_manager_client.post(
            reverse("events:event_invite", args=[event.pk]), follow=True, **EN
        )
    assert "The invitations are being written in the background" in _body(page)
    assert len(callbacks) == 1  # the job is queued when the click commits
    send_invitations(event)
    invited = EventInvitation.objects.filter(event=event)
    assert {i.client_id for i in invited} == {agreed.pk, no_consent.pk}
    assert {i.sms_key for i in invited} == {
        f"event:{event.pk}:invite:{agreed.pk}",
        f"event:{event.pk}:invite:{no_consent.pk}",
    }
    messages = {m.client_id: m for m in OutboxMessage.objects.all()}
    assert messages[agreed.pk].status == OutboxMessage.Status.SENT
    assert messages[agreed.pk].purpose == Purpose.EVENT_INVITATION
    assert messages[agreed.pk].expires_at == event.starts_at
    # The outbox applies the consent rules: no marketing SMS without an opt-in.
    assert messages[no_consent.pk].status == OutboxMessage.Status.SUPPRESSED
    assert [m.to for m in sms.outbox] == [agreed.phone]
    assert "社区皮肤健康义诊（文化路社区服务中心）" in sms.outbox[0].body
    assert "李娜" in sms.outbox[0].body
    event.refresh_from_db()
    assert event.invitations_done_at is not None
    # Again (a redelivered job, a second click later): nobody is invited twice.
    assert tasks.event_invitations_send.apply(args=[event.pk]).get() is True
    events.event_invitations_start(event=event, by=None)
    send_invitations(event)
    assert invited.count() == 2 and OutboxMessage.objects.count() == 2 and len(sms.outbox) == 1
    figures = client_manager_client.get(event.get_absolute_url()).context["figures"]
    # "Invited" counts no blocked message (issue 16): the one without consent invited nobody.
    assert (figures.invited, figures.sms["sent"], figures.sms["suppressed"]) == (1, 1, 1)


def _mixed_audience():
    """One client for each thing the rules can do to a marketing SMS."""
    now = opted_in(name="可发")
    no_consent = ClientFactory(name="未同意")
    opted_out = opted_in(name="退订")
    messaging_services.phone_opt_out(phone=opted_out.phone, source="sms")
    bad_number = opted_in(name="错号")
    Client.objects.filter(pk=bad_number.pk).update(phone="12345")
    over_cap = opted_in(name="今日已发")
    OutboxMessage.objects.create(
        idempotency_key="earlier-today",
        client=over_cap,
        to=over_cap.phone,
        body="earlier",
        purpose=Purpose.HEALTH_TIP,
        kind=Kind.MARKETING,
        status=OutboxMessage.Status.SENT,
        claimed_at=timezone.now(),
    )
    return now, no_consent, opted_out, bad_number, over_cap


def _breakdown_shown(page):
    body = _body(page)
    keys = ("now", "deferred_cap", "deferred_quiet", "no_consent", "opted_out", "invalid_number")
    return {key: int(body.split(f'data-count="{key}">')[1].split("<")[0]) for key in keys}


def test_the_confirmation_says_what_the_outbox_then_does(
    client_manager_client, invitation_template, settings
):
    settings.SMS_MARKETING_DAILY_CAP = 1
    now, no_consent, opted_out, bad_number, over_cap = _mixed_audience()
    event = make_event()
    url = reverse("events:event_invite", args=[event.pk])
    page = client_manager_client.get(url, **EN)
    assert page.status_code == 200
    assert "Deferred to the next allowed day (over today's marketing SMS cap)" in _body(page)
    promised = _breakdown_shown(page)
    assert promised == {
        "now": 1,
        "deferred_cap": 1,
        "deferred_quiet": 0,
        "no_consent": 1,
        "opted_out": 1,
        "invalid_number": 1,
    }
    assert page.context["breakdown"]["total"] == 5
    assert "今日已发" not in _body(page)  # counts, not names
    client_manager_client.post(url)
    send_invitations(event)
    messages = {
        m.client_id: m for m in OutboxMessage.objects.filter(idempotency_key__startswith="event:")
    }
    Status = OutboxMessage.Status
    done = {
        "now": messages[now.pk].status == Status.SENT,
        "no_consent": (messages[no_consent.pk].status, messages[no_consent.pk].error_code)
        == (Status.SUPPRESSED, "no_consent"),
        "opted_out": messages[opted_out.pk].status == Status.SUPPRESSED,
        "invalid_number": messages[bad_number.pk].error_code == "invalid_number",
        # Over the cap: deferred to the next allowed day, not dropped.
        "deferred_cap": messages[over_cap.pk].status == Status.PENDING
        and messages[over_cap.pk].send_after == rules.next_allowed_day(timezone.now()),
    }
    assert done == dict.fromkeys(done, True)
    assert [m.to for m in sms.outbox] == [now.phone]
    # Afterwards the page counts outcomes, and "invited" counts no blocked message.
    page = client_manager_client.get(event.get_absolute_url(), **EN)
    figures = page.context["figures"]
    assert figures.invited == 2  # the one sent and the one deferred to tomorrow
    assert (figures.sms["sent"], figures.sms["waiting"], figures.sms["suppressed"]) == (1, 1, 3)
    assert dict(figures.sms["suppressed_by_reason"]) == {
        "No consent to marketing SMS.": 1,
        "The number asked for no more SMS.": 1,
        "No valid mobile number.": 1,
    }
    assert 'data-figure="invited">2<' in _body(page)
    assert "No valid mobile number.: 1" in _body(page)
    # Nobody is left to invite: the confirmation says so.
    assert client_manager_client.get(url).context["breakdown"]["total"] == 0


def test_over_the_cap_the_invitation_goes_the_next_day(invitation_template, settings):
    settings.SMS_MARKETING_DAILY_CAP = 1
    *_others, over_cap = _mixed_audience()
    event = make_event()
    events.event_invitations_start(event=event, by=None)
    send_invitations(event)
    message = OutboxMessage.objects.get(
        idempotency_key=events.invitation_key(event.pk, over_cap.pk)
    )
    assert message.status == OutboxMessage.Status.PENDING
    assert message.events.last().detail == (
        "The client had today's marketing SMS: waits for the next day."
    )
    # The next day the sweep sends it: deferred, never dropped.
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    OutboxMessage.objects.filter(idempotency_key="earlier-today").update(
        claimed_at=timezone.now() - datetime.timedelta(days=1)
    )
    messaging_tasks.outbox_send.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert over_cap.phone in [m.to for m in sms.outbox]


def test_in_quiet_hours_the_confirmation_counts_the_morning(
    client_manager_client, invitation_template, settings
):
    hour = timezone.localtime().hour
    settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR = hour, (hour + 2) % 24
    _mixed_audience()
    event = make_event()
    url = reverse("events:event_invite", args=[event.pk])
    promised = _breakdown_shown(client_manager_client.get(url, **EN))
    assert (promised["now"], promised["deferred_quiet"], promised["deferred_cap"]) == (0, 1, 1)
    client_manager_client.post(url)
    send_invitations(event)
    waiting = OutboxMessage.objects.filter(
        idempotency_key__startswith=f"event:{event.pk}:", status=OutboxMessage.Status.PENDING
    )
    assert waiting.count() == 2 and sms.outbox == []


def test_the_job_works_in_bounded_batches_and_queues_itself_again(
    invitation_template, django_capture_on_commit_callbacks
):
    clients = [opted_in() for _n in range(5)]
    event = make_event()
    Event.objects.filter(pk=event.pk).update(invitations_started_at=timezone.now())
    assert events.event_invitations_send(event_id=event.pk, batch=2, batches=1) is False
    assert EventInvitation.objects.count() == 2
    event.refresh_from_db()
    assert event.invitations_after == clients[1].pk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.event_invitations_send.apply(args=[event.pk]).get() is True
    # Done: it does not queue itself again (what is queued is the messages' sends).
    assert all("outbox_send" in repr(callback) for callback in callbacks)
    assert EventInvitation.objects.count() == 5


def test_a_second_click_while_the_job_runs_starts_nothing(
    client_manager_client, invitation_template
):
    event = make_event()
    url = reverse("events:event_invite", args=[event.pk])
    client_manager_client.post(url)
    page = client_manager_client.post(url, follow=True, **EN)
    assert "The invitations are already being sent." in _body(page)


def test_no_invitations_without_the_template_or_after_the_start(client_manager_client):
    event = make_event()
    url = reverse("events:event_invite", args=[event.pk])
    page = client_manager_client.post(url, follow=True, **EN)
    assert (
        "There is no active SMS template “Event invitation”: an administrator adds it under SMS "
        "templates." in _body(page)
    )
    assert "event_invitation" not in _body(page)  # the senders' key, not a word for staff
    SmsTemplate.objects.create(
        code="event_invitation", purpose="event_invitation", kind="marketing", body="{name}"
    )
    Event.objects.filter(pk=event.pk).update(starts_at=_at(-1), ends_at=_at(-1, 12))
    page = client_manager_client.post(url, follow=True, **EN)
    assert "The event has started: it is too late to invite." in _body(page)
    assert Event.objects.get(pk=event.pk).invitations_started_at is None


def test_a_vip_only_event_invites_only_vips(invitation_template):
    star = vip(opted_in(name="贵宾"))
    opted_in(name="普通")
    event = make_event(vip_only=True)
    events.event_invitations_start(event=event, by=None)
    send_invitations(event)
    assert list(EventInvitation.objects.values_list("client_id", flat=True)) == [star.pk]
    assert [m.to for m in sms.outbox] == [star.phone]


# --- Replies --------------------------------------------------------------------------


def _invite(event, *clients):
    EventInvitation.objects.bulk_create(
        [
            EventInvitation(
                event=event, client=client, sms_key=events.invitation_key(event.pk, client.pk)
            )
            for client in clients
        ]
    )
    return list(EventInvitation.objects.filter(event=event).order_by("pk"))


def _rsvp(http, invitation, answer):
    url = reverse("events:event_rsvp", args=[invitation.pk])
    return http.post(
        url, {"answer": answer, "next": invitation.event.get_absolute_url()}, follow=True, **EN
    )


def test_staff_record_replies_within_the_capacity(client_manager_client):
    event = make_event(capacity=2)
    first, second, third = _invite(event, *(ClientFactory() for _n in range(3)))
    for invitation in (first, second):
        page = _rsvp(client_manager_client, invitation, "yes")
        assert page.redirect_chain == [(event.get_absolute_url(), 302)]
    page = _rsvp(client_manager_client, third, "yes")
    assert "The event is full: all 2 places are promised." in _body(page)
    third.refresh_from_db()
    assert third.rsvp == ""
    _rsvp(client_manager_client, first, "no")  # a place freed
    _rsvp(client_manager_client, third, "yes")
    rows = dict(EventInvitation.objects.values_list("pk", "rsvp"))
    assert rows == {first.pk: "no", second.pk: "yes", third.pk: "yes"}
    third.refresh_from_db()
    assert third.rsvp_by == _user(roles.CLIENT_MANAGER) and third.rsvp_at is not None


@pytest.mark.parametrize("answer", ["maybe", "YES"])
def test_a_bad_reply_is_a_message_not_a_server_error(client_manager_client, answer):
    event = make_event()
    (invitation,) = _invite(event, ClientFactory())
    page = _rsvp(client_manager_client, invitation, answer)
    assert "Choose the client's reply." in _body(page)


def test_the_front_desk_records_no_reply(front_desk_client):
    event = make_event()
    (invitation,) = _invite(event, ClientFactory())
    url = reverse("events:event_rsvp", args=[invitation.pk])
    assert front_desk_client.post(url, {"answer": "yes"}).status_code == 403


# --- At the door ----------------------------------------------------------------------


def test_an_invited_client_found_by_phone_is_ticked_in_once(front_desk_client):
    event = make_event()
    guest = ClientFactory(name="周敏", phone="+8613911112222")
    _invite(event, guest)
    page = front_desk_client.get(_door(event), {"phone": "13911112222"}, **EN)
    assert [m["client"] for m in page.context["matches"]] == [guest]
    assert "Invited" in _body(page) and 'data-testid="tick-in"' in _body(page)
    assert guest.phone not in _body(page) and guest.phone_masked in _body(page)
    page = front_desk_client.post(_attend(event), {"client": guest.pk}, follow=True, **EN)
    assert "周敏 is in. Welcome!" in _body(page)
    attendance = EventAttendance.objects.get()
    assert (attendance.client, attendance.by, attendance.registered_here) == (
        guest,
        _user(roles.FRONT_DESK),
        False,
    )
    page = front_desk_client.post(_attend(event), {"client": guest.pk}, follow=True, **EN)
    assert "周敏 was already ticked in." in _body(page)
    assert EventAttendance.objects.count() == 1
    page = front_desk_client.get(_door(event), {"phone": "2222"}, **EN)
    assert 'data-testid="already-in"' in _body(page)


def test_someone_new_is_registered_with_the_events_channel_and_ticked_in(front_desk_client):
    event = make_event()
    page = front_desk_client.get(_door(event), {"phone": "13755556666"}, **EN)
    assert page.context["new_form"].initial["phone"] == "13755556666"
    assert page.context["new_form"].fields["source_channel"].disabled
    page = front_desk_client.post(
        _register(event),
        {
            "name": "郭新",
            "sex": "female",
            "phone": "13755556666",
            "service_sms": "on",
            "source_channel": "",  # disabled: whatever is posted, the event's channel
        },
        follow=True,
        **EN,
    )
    assert "郭新 is registered as a new client and ticked in." in _body(page)
    person = Client.objects.get(name="郭新")
    assert person.source_channel == event.channel
    assert person.phone == "+8613755556666"
    attendance = EventAttendance.objects.get()
    assert attendance.client == person and attendance.registered_here
    # The consent given at the door is recorded as given there (issue 16).
    given = ConsentEvent.objects.get(client=person)
    assert (given.purpose, given.granted, given.channel) == ("service_sms", True, "event_door")


def test_someone_new_who_may_already_be_a_client_is_shown_the_record_first(front_desk_client):
    event = make_event()
    known = ClientFactory(name="郭新", phone="+8613755556666")
    page = front_desk_client.post(
        _register(event),
        {"name": "郭新", "sex": "female", "phone": "13755556666", "service_sms": "on"},
        **EN,
    )
    assert page.status_code == 409
    assert [m["client"] for m in page.context["duplicates"]] == [known]
    assert 'data-testid="duplicates"' in _body(page)
    assert Client.objects.count() == 1 and not EventAttendance.objects.exists()
    # "This is the person": the known record is ticked in.
    front_desk_client.post(_attend(event), {"client": known.pk})
    assert EventAttendance.objects.get().client == known


def test_a_full_event_says_so_and_lets_nobody_more_in(front_desk_client):
    event = make_event(capacity=2)
    for _n in range(2):
        front_desk_client.post(_attend(event), {"client": ClientFactory().pk})
    late = ClientFactory(name="迟到者")
    page = front_desk_client.post(_attend(event), {"client": late.pk}, follow=True, **EN)
    assert "The event is full: all 2 places are taken." in _body(page)
    assert "Full: all 2 places are taken." in _body(page)
    page = front_desk_client.post(
        _register(event),
        {"name": "新人", "sex": "male", "phone": "13755550000", "service_sms": "on"},
        **EN,
    )
    assert page.status_code == 422
    assert "The event is full" in _body(page)
    assert EventAttendance.objects.count() == 2
    assert not Client.objects.filter(name="新人").exists()


def test_a_vip_only_event_lets_only_vips_in(front_desk_client):
    event = make_event(vip_only=True)
    star, plain = vip(ClientFactory(name="贵宾")), ClientFactory(name="普通")
    page = front_desk_client.post(_attend(event), {"client": plain.pk}, follow=True, **EN)
    assert "This event is for VIP clients only." in _body(page)
    front_desk_client.post(_attend(event), {"client": star.pk})
    assert list(EventAttendance.objects.values_list("client_id", flat=True)) == [star.pk]
    page = front_desk_client.post(
        _register(event), {"name": "新人", "sex": "male", "phone": "13755550001"}, **EN
    )
    assert page.status_code == 422 and "This event is for VIP clients only." in _body(page)


@pytest.mark.parametrize(
    "method,path,data",
    [
        ("get", "door", {"phone": "abc"}),
        ("get", "door", {"phone": "张三"}),
        ("get", "door", {"phone": ""}),
        ("post", "attend", {"client": "abc"}),
        ("post", "attend", {}),
        ("post", "register", {"name": "", "phone": "12"}),
    ],
)
def test_bad_door_input_never_gives_a_server_error(front_desk_client, method, path, data):
    event = make_event()
    url = {"door": _door(event), "attend": _attend(event), "register": _register(event)}[path]
    status = getattr(front_desk_client, method)(url, data).status_code
    assert status in (200, 404, 422)


def test_unknown_events_are_not_found(client_manager_client):
    for url in ("/followup/events/999999/", "/followup/events/999999/door/"):
        assert client_manager_client.get(url).status_code == 404
    assert client_manager_client.get(LIST, {"before": "not-a-date_x"}).status_code == 200


# --- Figures --------------------------------------------------------------------------


def test_the_figures_count_people_exactly(client_manager_client, front_desk_client):
    event = make_event(starts_at=_at(-3), ends_at=_at(-3, 12), capacity=50)
    invited = [ClientFactory(name=f"受邀{n}") for n in range(5)]
    first, second, third, *_rest = _invite(event, *invited)
    for invitation, answer in ((first, "yes"), (second, "yes"), (third, "no")):
        events.event_rsvp(invitation=invitation, answer=answer, by=None)
    walk_up = ClientFactory(name="路过")  # came without an invitation
    for client in (invited[0], invited[3], walk_up):
        events.event_attend(event=event, client=client, by=None)
    events.event_register_new(
        event=event, data={"name": "现场新人", "phone": "13700001111"}, by=None
    )
    # Someone who heard of us there and registered later, at the front desk.
    later = client_services.client_create(
        data={"name": "后来的人", "phone": "13700002222", "source_channel": event.channel},
        by=None,
    )
    # Invited clients who visited the hospital after the event, and one who came before it.
    Client.objects.filter(pk__in=[invited[1].pk, invited[4].pk]).update(last_visit_at=_at(-1))
    Client.objects.filter(pk=invited[2].pk).update(last_visit_at=_at(-10))
    # Two records of one invited person merged: still one person.
    twin = ClientFactory(name="受邀0")
    _invite(event, twin)
    client_services.client_merge(
        survivor=invited[0], merged=twin, by=UserFactory(username="merger")
    )
    figures = client_manager_client.get(event.get_absolute_url()).context["figures"]
    assert (figures.invited, figures.replied_yes, figures.replied_no, figures.no_reply) == (
        5,
        2,
        1,
        2,
    )
    assert (figures.came, figures.came_invited, figures.registered_here) == (4, 2, 1)
    assert figures.became_clients == 2
    assert figures.invited_later_visited == 2
    assert later.source_channel == event.channel
    body = _body(client_manager_client.get(event.get_absolute_url(), **EN))
    assert 'data-figure="came">4<' in body and 'data-figure="became_clients">2<' in body


def test_the_event_list_keeps_a_fixed_query_count(client_manager_client):
    def add(n, days):
        for i in range(n):
            event = make_event(title=f"活动{days}-{i}", starts_at=_at(days + i), ends_at=None)
            _invite(event, ClientFactory())
            events.event_attend(event=event, client=ClientFactory(), by=None)

    add(2, 5)
    add(1, -20)
    client_manager_client.get(LIST)

    def count():
        with CaptureQueriesContext(connection) as queries:
            page = client_manager_client.get(LIST)
        rows = len(page.context["page"].upcoming) + len(page.context["page"].past)
        return len(queries), rows

    few, rows = count()
    assert rows == 3
    # The session, the user, the roles, the events to come and the past ones (each with their
    # counts); the notification badge's count is kept since the first page.
    assert few == 5
    add(15, 40)
    add(12, -100)
    assert count() == (few, 30)
    page = client_manager_client.get(LIST)
    first = page.context["page"].upcoming[0]
    assert (first.invited, first.coming, first.came) == (1, 0, 1)


def test_past_events_page_by_keyset(client_manager_client, monkeypatch):
    monkeypatch.setattr(event_selectors, "PAGE_SIZE", 2)
    made = [make_event(title=f"往期{n}", starts_at=_at(-n - 1), ends_at=None) for n in range(5)]
    seen, cursor = [], None
    while True:
        page = client_manager_client.get(LIST, {"before": cursor} if cursor else {})
        seen += [event.pk for event in page.context["page"].past]
        cursor = page.context["page"].next_cursor
        if cursor is None:
            break
    assert seen == [event.pk for event in made]


# --- The client's timeline, merges --------------------------------------------------


def test_the_client_timeline_shows_the_events_invited_to_and_came_to(client_manager_client):
    guest = ClientFactory()
    came = make_event(title="义诊A")
    invited_only = make_event(title="讲座B")
    _invite(came, guest)
    _invite(invited_only, guest)
    events.event_rsvp(
        invitation=EventInvitation.objects.get(event=invited_only), answer="no", by=None
    )
    events.event_attend(event=came, client=guest, by=None)
    page = client_manager_client.get(guest.get_absolute_url(), {"timeline": "event"}, **EN)
    entries = {entry.title: entry for entry in page.context["timeline"]}
    assert set(entries) == {"Came to the event: 义诊A", "Invited to the event: 讲座B"}
    assert entries["Invited to the event: 讲座B"].detail == "文化路社区服务中心 · Not coming"
    assert entries["Came to the event: 义诊A"].url == came.get_absolute_url()


def test_a_merge_takes_invitations_and_attendance_to_the_surviving_record():
    survivor, merged = ClientFactory(), ClientFactory()
    event = make_event()
    _invite(event, merged)
    events.event_attend(event=event, client=merged, by=None)
    client_services.client_merge(survivor=survivor, merged=merged, by=UserFactory(username="m"))
    assert EventInvitation.objects.get().client == survivor
    assert EventAttendance.objects.get().client == survivor
