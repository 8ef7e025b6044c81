"""Voicemail, abandoned and missed calls become owned work: one callback task per caller however
often they rang, a deadline in working minutes, round-robin to the available agents, worked in
the one list of people to call back (the no-shows' recall, generalised) with its outcome form;
and what a call leads to (an enquiry, with its duration from the call; a complaint made of a
voicemail) is linked to it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from consult.models import Enquiry, Recall
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import make_booking
from tests.fake_pbx import FakePbx
from voice.models import Agent, Call, CallQueue, Recording
from voice.services import signature
from zhongdu import roles
from zhongdu.workcalendar import WorkCalendar

URL = reverse("voice:cti_events")
CALLBACKS = reverse("voice:callbacks")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CALLER = "13812345678"


@pytest.fixture
def pbx(settings):
    fake = FakePbx(seed=11)  # not started: its events are posted through the test client
    settings.CTI_WEBHOOK_SECRET = fake.secret
    return fake


def _play(client, pbx, *calls):
    for events in calls:
        for event in events:
            body = pbx.body(event)
            answer = client.post(
                URL,
                body,
                content_type="application/json",
                headers={"X-CTI-Signature": signature(body, pbx.secret)},
            )
            assert answer.status_code == 200, answer.content


def _ago(minutes):
    # The PBX stamps its events to the second (docs/cti.md), so the moments compared with what
    # the product stored are whole seconds too.
    return (timezone.now() - datetime.timedelta(minutes=minutes)).replace(microsecond=0)


@pytest.fixture
def agents(role_user):
    """Two consultants on the hotline, available, and a client manager who is away."""
    hotline = CallQueue.objects.create(code="hotline", name="健康专线")
    made = []
    for role, extension, presence in (
        (roles.CONSULTANT, "8001", Agent.Presence.AVAILABLE),
        (roles.VIP_MANAGER, "8002", Agent.Presence.AVAILABLE),
        (roles.CLIENT_MANAGER, "8003", Agent.Presence.AWAY),
    ):
        agent = Agent.objects.create(user=role_user(role), extension=extension, presence=presence)
        agent.queues.add(hotline)
        made.append(agent)
    return made


def test_a_caller_who_rang_three_times_has_one_callback_task(client, pbx, agents, settings):
    settings.CALLBACK_DEADLINE_MINUTES = 30
    # Within the events' freshness (five minutes): rang at 4.5, 4 and 3 minutes ago.
    first = _ago(4.5)
    _play(
        client,
        pbx,
        pbx.missed(CALLER, start=first),
        pbx.abandoned_in_queue(CALLER, start=_ago(4)),
        pbx.voicemail(CALLER, start=_ago(3)),
    )
    recall = Recall.objects.get()
    assert recall.kind == Recall.Kind.CALLBACK and recall.status == Recall.Status.OPEN
    assert recall.phone == "+86" + CALLER and recall.client is None
    assert set(Call.objects.values_list("callback", flat=True)) == {recall.pk}
    assert Call.objects.count() == 3
    # The deadline counts working minutes from the first ring (the working calendar).
    assert recall.due_at == WorkCalendar.load().add_working_hours(first, 0.5)
    assert recall.assigned_to == agents[0].user
    assert recall.next_attempt_on == timezone.localdate()


def test_tasks_go_round_robin_to_available_agents(client, pbx, agents):
    callers = ["13800000001", "13800000002", "13800000003", "13800000004"]
    for number in callers:
        _play(client, pbx, pbx.missed(number))
    assigned = [Recall.objects.get(phone="+86" + number).assigned_to.username for number in callers]
    first, second = agents[0].user.username, agents[1].user.username
    assert assigned == [first, second, first, second]  # the away agent gets none
    # Nobody available: the task waits unassigned in the list for whoever takes it.
    Agent.objects.update(presence=Agent.Presence.AWAY)
    _play(client, pbx, pbx.voicemail("13800000005"))
    assert Recall.objects.get(phone="+8613800000005").assigned_to is None


def test_an_answered_call_and_outbound_calls_make_no_task(client, pbx, agents):
    _play(client, pbx, pbx.answered_call(CALLER, "8001", talk_seconds=30, recording=False))
    assert not Recall.objects.exists()


def test_a_caller_who_got_through_is_not_called_back(client, pbx, agents):
    _play(client, pbx, pbx.missed(CALLER, start=_ago(4.5)))
    recall = Recall.objects.get()
    _play(client, pbx, pbx.answered_call(CALLER, "8001", talk_seconds=30, recording=False))
    recall.refresh_from_db()
    assert recall.status == Recall.Status.CLOSED and recall.reached_at is not None
    assert "got through" in recall.notes or "接通" in recall.notes
    # A missed call from before they got through, reported late, opens nothing again.
    _play(client, pbx, pbx.abandoned_in_queue(CALLER, start=_ago(4)))
    assert Recall.objects.count() == 1
    # A new missed call afterwards does.
    _play(client, pbx, pbx.missed(CALLER, start=timezone.now()))
    assert Recall.objects.filter(status=Recall.Status.OPEN).count() == 1
    # The figures: the caller who got through by the deadline counts as called back in time;
    # the new task, not called back yet, does not (so far).
    from voice import figures

    day = timezone.localdate(recall.created_at)
    counted = figures.compute(day, day, dimensions=())
    assert counted["callbacks"][("", 0)] == 2 and counted["callbacks_in_time"][("", 0)] == 1


def test_the_callback_list_shows_the_tasks_by_deadline(client, pbx, agents, client_for):
    person = ClientFactory(name="王芳", phone="+8613900001111")
    _play(client, pbx, pbx.voicemail("13900001111"), pbx.missed("13900001111"))
    _play(client, pbx, pbx.abandoned_in_ivr("13700002222"))
    consultant = client_for(roles.CONSULTANT)
    page = consultant.get(CALLBACKS, **EN)
    html = page.content.decode()
    assert page.status_code == 200 and "Callback tasks" in html
    assert "王芳" in html and "139****1111" in html and "13900001111" not in html
    assert "A caller we do not know yet" in html and "137****2222" in html
    assert "Voicemail ×1" in html and "Missed ×1" in html
    recall = Recall.objects.get(client=person)
    assert reverse("consult:recall_detail", args=[recall.pk]) in html
    # Mine: the tasks assigned to this consultant only.
    mine = consultant.get(CALLBACKS + "?who=mine", **EN).content.decode()
    theirs = Recall.objects.exclude(assigned_to__username=agents[0].user.username)
    for other in theirs:
        assert reverse("consult:recall_detail", args=[other.pk]) not in mine
    # The same rows in the consultants' queue: one list of people to call back.
    queue = consultant.get(reverse("consult:queue"), **EN).content.decode()
    assert reverse("consult:recall_detail", args=[recall.pk]) in queue
    assert "Missed ×1 · Voicemail ×1" in queue
    # Chinese by default.
    assert "回电任务" in consultant.get(CALLBACKS).content.decode()


def test_the_callback_list_is_empty_and_guarded(client_for):
    page = client_for(roles.CONSULTANT).get(CALLBACKS, **EN)
    assert page.status_code == 200 and 'data-testid="no-recalls"' in page.content.decode()
    assert client_for(roles.MANAGER).get(CALLBACKS).status_code == 200
    assert client_for(None).get(CALLBACKS).status_code == 302


def test_a_caller_called_back_is_recorded_on_the_call_screen(client, pbx, agents, client_for):
    _play(client, pbx, pbx.voicemail(CALLER, start=_ago(4)))
    recall = Recall.objects.get()
    call = Call.objects.get()
    http = client_for(roles.CONSULTANT)
    page = http.get(recall.get_absolute_url(), **EN).content.decode()
    assert "Call back a caller" in page and "138****5678" in page and CALLER not in page
    assert 'data-testid="record-calls"' in page and "Voicemail of" in page
    # The outcome form has no no-show reason for a caller.
    assert 'name="reason"' not in page
    answer = http.post(
        reverse("consult:recall_attempt", args=[recall.pk]), {"outcome": "reached"}, **EN
    )
    recall.refresh_from_db()
    assert recall.status == Recall.Status.CLOSED and recall.reached_at is not None
    assert recall.first_attempt_at is not None and recall.attempts == 1
    # On to the call screen for the caller: the number comes from the task, not the address.
    location = answer["Location"]
    assert location == f"{reverse('consult:call')}?recall={recall.pk}" and CALLER not in location
    screen = http.get(location)
    assert screen.context["phone"] == "+86" + CALLER
    # The enquiry made from the task's call links to it.
    enquiry_link = page.split('data-testid="voicemail-enquiry"')[0].rsplit('href="', 1)[1]
    enquiry_link = enquiry_link.split('"')[0].replace("&amp;", "&")
    assert f"call={call.pk}" in enquiry_link
    form = {
        "prospect_name": "陈先生",
        "prospect_phone": CALLER,
        "contact_channel": "phone",
        "direction": "out",
        "topic": "祛痘",
        "outcome": "information",
        "key": "k-1",
    }
    made = http.post(enquiry_link, form)
    assert made.status_code == 302, made.context and made.context["form"].errors
    call.refresh_from_db()
    assert call.enquiry == Enquiry.objects.get()


def test_an_unreachable_caller_is_tried_again_within_the_working_hour(
    client, pbx, agents, client_for
):
    _play(client, pbx, pbx.missed(CALLER))
    recall = Recall.objects.get()
    http = client_for(roles.CONSULTANT)
    http.post(
        reverse("consult:recall_attempt", args=[recall.pk]),
        {"outcome": "unreachable", "note": "无人接听"},
    )
    recall.refresh_from_db()
    assert recall.status == Recall.Status.OPEN and recall.attempts == 1
    assert recall.first_attempt_at is not None
    later = WorkCalendar.load().add_working_hours(recall.first_attempt_at, 1)
    assert abs((recall.due_at - later).total_seconds()) < 5
    assert "无人接听" in recall.notes
    # The third unreachable attempt closes it, as for a no-show.
    for _n in range(2):
        http.post(reverse("consult:recall_attempt", args=[recall.pk]), {"outcome": "unreachable"})
    recall.refresh_from_db()
    assert recall.status == Recall.Status.CLOSED and recall.reached_at is None


def test_a_voicemail_becomes_a_complaint_with_its_call(client, pbx, agents, client_for):
    person = ClientFactory(name="赵敏", phone="+86" + CALLER)
    _play(client, pbx, pbx.voicemail(CALLER))
    recall = Recall.objects.get()
    assert recall.client == person
    call = Call.objects.get()
    http = client_for(roles.CLIENT_MANAGER)
    page = http.get(recall.get_absolute_url(), **EN).content.decode()
    link = page.split('data-testid="voicemail-complaint"')[0].rsplit('href="', 1)[1]
    link = link.split('"')[0].replace("&amp;", "&")
    assert f"call={call.pk}" in link and f"client={person.pk}" in link
    form = http.get(link).context["form"]
    assert form.initial["source"] == f"voice.call:{call.pk}"
    data = {
        "channel": "phone",
        "category": "attitude",
        "severity": "normal",
        "words": "留言投诉：护士态度不好",
        "source": form.initial["source"],
    }
    made = http.post(link, data)
    complaint = Complaint.objects.get()
    assert made.status_code == 302
    call.refresh_from_db()
    assert call.complaint == complaint
    # The complaint's page shows the call and its voicemail.
    shown = http.get(complaint.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="record-calls"' in shown and "Voicemail of" in shown
    # Its audio is played on the call's page, after a reason.
    assert reverse("voice:call_detail", args=[call.pk]) in shown


def test_a_stranger_cannot_claim_an_answered_call(client, pbx, agents, client_for, role_user):
    _play(client, pbx, pbx.answered_call(CALLER, "8001", talk_seconds=30, recording=False))
    call = Call.objects.get()
    # Another consultant's call screen with this call's reference: the enquiry is made, the
    # call is not linked to it (the call was neither theirs nor the enquiry's caller's).
    http = client_for(roles.FRONT_DESK)
    form = {
        "prospect_name": "某人",
        "prospect_phone": "13700000000",
        "contact_channel": "phone",
        "direction": "in",
        "outcome": "information",
        "key": "k-2",
    }
    screen = http.get(f"{reverse('consult:call')}?call={call.pk}")
    # Nothing recorded here will be the call's: the duration is typed, as without a call.
    assert "duration_seconds" in screen.context["form"].fields
    form["duration_seconds"] = 45
    made = http.post(f"{reverse('consult:call')}?call={call.pk}", form)
    assert made.status_code == 302, made.context["form"].errors
    call.refresh_from_db()
    assert call.enquiry is None and Enquiry.objects.get().duration_seconds == 45
    # A reference that is no number, or no call, is none.
    form |= {"key": "k-3"}
    assert http.post(f"{reverse('consult:call')}?call=abc", form).status_code == 302
    form |= {"key": "k-4"}
    assert http.post(f"{reverse('consult:call')}?call=99999999", form).status_code == 302


def test_a_missed_call_is_linked_only_to_a_record_of_its_own_caller(
    client, pbx, agents, client_for
):
    other = ClientFactory(name="无关客户", phone="+8613600000000")
    _play(client, pbx, pbx.voicemail(CALLER))
    call = Call.objects.get()
    http = client_for(roles.CONSULTANT)
    form = {"contact_channel": "phone", "direction": "out", "outcome": "information"}
    # Another client's call screen with this call's reference: not theirs, not linked.
    url = f"{reverse('consult:call')}?client={other.pk}&call={call.pk}"
    assert "duration_seconds" in http.get(url).context["form"].fields
    assert http.post(url, form | {"key": "a", "duration_seconds": 10}).status_code == 302
    call.refresh_from_db()
    assert call.enquiry is None and call.client is None
    # The caller's own number, as a prospect: linked.
    url = f"{reverse('consult:call')}?recall={call.callback_id}&call={call.pk}"
    prospect = {"prospect_name": "陈先生", "prospect_phone": CALLER}
    assert http.post(url, form | prospect | {"key": "b"}).status_code == 302
    call.refresh_from_db()
    assert call.enquiry.prospect_phone == "+86" + CALLER


def test_a_callback_of_a_known_client_opens_the_call_screen_as_the_record(
    client, pbx, agents, client_for
):
    person = ClientFactory(name="贵宾乙", phone="+86" + CALLER)
    _play(client, pbx, pbx.missed(CALLER))
    recall = Recall.objects.get()
    http = client_for(roles.CONSULTANT)
    answer = http.get(f"{reverse('consult:call')}?recall={recall.pk}&call=7")
    # The record is opened with the viewer's access to it (client_get_for_user), not the task.
    assert answer["Location"] == f"{reverse('consult:call')}?client={person.pk}&call=7"
    # A task long closed opens nothing: the screen is empty, no number from it.
    Recall.objects.filter(pk=recall.pk).update(client=None, status="closed")
    screen = http.get(f"{reverse('consult:call')}?recall={recall.pk}")
    assert screen.context["phone"] == ""


@pytest.mark.django_db
def test_transcription_hears_nothing_by_default_and_an_engine_is_asked_once(settings, tmp_path):
    from voice.services import recording_fetch

    with FakePbx(seed=5) as fake:
        settings.CTI_RECORDING_BASE_URL = fake.url + "/recordings/"
        settings.PRIVATE_FILES_ROOT = str(tmp_path)
        call = Call.objects.create(external_id="vm-1", outcome=Call.Outcome.VOICEMAIL)
        silent = Recording.objects.create(
            call=call, kind=Recording.Kind.VOICEMAIL, source_url=fake.recording_url("a")
        )
        assert recording_fetch(silent).status == Recording.Status.KEPT
        assert silent.transcript == ""
        settings.VOICE_TRANSCRIPTION_ENGINE = "tests.voice.test_callbacks.HeardEngine"
        heard = Recording.objects.create(
            call=call, kind=Recording.Kind.VOICEMAIL, source_url=fake.recording_url("b")
        )
        recording_fetch(heard)
        heard.refresh_from_db()
        assert heard.transcript == f"听到了 {len(fake.wav)} 字节的 audio/wav"
        settings.VOICE_TRANSCRIPTION_ENGINE = "tests.voice.test_callbacks.BrokenEngine"
        broken = Recording.objects.create(
            call=call, kind=Recording.Kind.VOICEMAIL, source_url=fake.recording_url("c")
        )
        assert recording_fetch(broken).status == Recording.Status.KEPT
        assert broken.transcript == ""


class HeardEngine:
    """An engine that reports what it was given (the interface's contract, not a speech model)."""

    def transcribe(self, audio: bytes, content_type: str) -> str:
        return f"听到了 {len(audio)} 字节的 {content_type}"


class BrokenEngine:
    def transcribe(self, audio: bytes, content_type: str) -> str:
        raise RuntimeError("the engine is down")


# --- What an answered call leads to ----------------------------------------------------------


def _answered(client, pbx, *, caller=CALLER, call_id="c-1"):
    rang = _ago(1)
    _play(
        client,
        pbx,
        [
            pbx.event("ringing", call_id, timestamp=rang, **pbx._ringing(caller, "hotline", "1")),
            pbx.event(
                "answered",
                call_id,
                timestamp=rang + datetime.timedelta(seconds=8),
                extension="8001",
            ),
        ],
    )
    return Call.objects.get(external_id=call_id)


def _pop_link(http, testid="pop-open"):
    html = http.get(reverse("voice:pop"), **EN).content.decode()
    link = html.split(f'data-testid="{testid}"')[0].rsplit('href="', 1)[1].split('"')[0]
    return html, link.replace("&amp;", "&")


def test_an_enquiry_on_the_call_takes_its_duration_from_the_call(client, pbx, agents, client_for):
    person = ClientFactory(name="刘洋", phone="+86" + CALLER)
    call = _answered(client, pbx)
    http = client_for(roles.CONSULTANT)  # agents[0]: extension 8001
    _html, link = _pop_link(http)
    assert link == f"{reverse('consult:call')}?client={person.pk}&call={call.pk}"
    screen = http.get(link)
    assert "duration_seconds" not in screen.context["form"].fields  # not typed
    form = {"contact_channel": "phone", "direction": "in", "outcome": "information", "key": "k"}
    assert http.post(link, form).status_code == 302
    enquiry = Enquiry.objects.get()
    call.refresh_from_db()
    assert call.enquiry == enquiry and enquiry.client == person
    assert enquiry.duration_seconds == 0  # the call goes on
    ended = call.answered_at + datetime.timedelta(seconds=47)
    _play(client, pbx, [pbx.event("ended", "c-1", timestamp=ended, hold_seconds=5)])
    enquiry.refresh_from_db()
    assert enquiry.duration_seconds == 42  # talk time: 47 s answered, 5 s of them on hold
    # None owed for an answered call.
    assert not Recall.objects.exists()
    # The call's page: one click to what it led to, the booking made from its enquiry included.
    booking = make_booking(client=person)
    booking.enquiry = enquiry
    booking.save(update_fields=["enquiry"])
    page = http.get(call.get_absolute_url(), **EN).content.decode()
    assert "Booking" in page and booking.get_absolute_url() in page and "祛痘" not in page


def test_the_pop_offers_a_choice_when_several_records_share_the_number(
    client, pbx, agents, client_for
):
    mother = ClientFactory(
        name="母亲", phone="+86" + CALLER, date_of_birth=datetime.date(1960, 1, 1)
    )
    son = ClientFactory(name="儿子", phone="+86" + CALLER, date_of_birth=datetime.date(1990, 1, 1))
    call = _answered(client, pbx)
    assert call.client is None  # two records: the product does not guess
    http = client_for(roles.CONSULTANT)
    html, new_caller = _pop_link(http)
    assert "Several records share this number" in html and 'data-testid="pop-choices"' in html
    for person in (mother, son):
        assert f"?client={person.pk}&amp;call={call.pk}" in html and person.name in html
    assert "None of them: a new caller" in html
    assert f"call={call.pk}" in new_caller and CALLER not in new_caller
    # Chosen: the call screen for that record, and the enquiry made there links the call.
    form = {"contact_channel": "phone", "direction": "in", "outcome": "information", "key": "k"}
    assert (
        http.post(f"{reverse('consult:call')}?client={son.pk}&call={call.pk}", form).status_code
        == 302
    )
    call.refresh_from_db()
    assert call.enquiry.client == son and call.client == son


# --- Who sees what ---------------------------------------------------------------------------


def test_a_vips_call_keeps_what_it_led_to_and_its_words_for_those_who_serve_them(
    client, pbx, agents, client_for
):
    from tests.consult.factories import make_vip

    vip = make_vip(ClientFactory(name="贵宾丙", phone="+86" + CALLER))
    _play(client, pbx, pbx.voicemail(CALLER))
    call = Call.objects.get()
    Recording.objects.filter(call=call).update(
        status=Recording.Status.KEPT, transcript="我想改约下周的专家号"
    )
    complaint_free = Enquiry.objects.create(client=vip, topic="改约专家号", outcome="information")
    Call.objects.filter(pk=call.pk).update(enquiry=complaint_free)
    recall = Recall.objects.get()
    consultant = client_for(roles.CONSULTANT)  # does not serve this VIP
    page = consultant.get(recall.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="record-calls"' in page and "我想改约下周的专家号" not in page
    call_page = consultant.get(call.get_absolute_url(), **EN).content.decode()
    assert "改约专家号" not in call_page and "Withheld" in call_page
    vip_manager = client_for(roles.VIP_MANAGER)
    assert "我想改约下周的专家号" in vip_manager.get(recall.get_absolute_url()).content.decode()
    assert "改约专家号" in vip_manager.get(call.get_absolute_url()).content.decode()


def test_the_front_desk_does_not_work_the_hotlines_callbacks(client, pbx, agents, client_for):
    _play(client, pbx, pbx.missed(CALLER))
    recall = Recall.objects.get()
    desk = client_for(roles.FRONT_DESK)
    assert desk.get(CALLBACKS).status_code == 403
    assert desk.get(recall.get_absolute_url()).status_code == 403
    attempt = reverse("consult:recall_attempt", args=[recall.pk])
    assert desk.post(attempt, {"outcome": "reached"}).status_code == 403
    queue = desk.get(reverse("consult:queue")).content.decode()
    assert recall.get_absolute_url() not in queue
    consultant = client_for(roles.CONSULTANT).get(reverse("consult:queue")).content.decode()
    assert recall.get_absolute_url() in consultant


def test_the_callback_list_keeps_its_query_count(client, pbx, agents, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = client_for(roles.CONSULTANT)
    _play(client, pbx, pbx.missed("13800000001"))
    http.get(CALLBACKS)
    with CaptureQueriesContext(connection) as one:
        http.get(CALLBACKS)
    for n in range(2, 7):
        _play(client, pbx, pbx.voicemail(f"1380000000{n}"), pbx.missed(f"1380000000{n}"))
    with CaptureQueriesContext(connection) as six:
        http.get(CALLBACKS)
    assert len(six) == len(one)


def test_the_same_outcome_sent_twice_records_one_call(client, pbx, agents, client_for):
    _play(client, pbx, pbx.missed(CALLER))
    recall = Recall.objects.get()
    http = client_for(roles.CONSULTANT)
    page = http.get(recall.get_absolute_url())
    assert 'name="seen" value="0"' in page.content.decode()
    attempt = reverse("consult:recall_attempt", args=[recall.pk])
    first = http.post(attempt, {"outcome": "unreachable", "seen": 0}, **EN)
    second = http.post(attempt, {"outcome": "unreachable", "seen": 0}, **EN, follow=True)
    recall.refresh_from_db()
    assert first.status_code == 302 and recall.attempts == 1
    assert "This call was already recorded." in second.content.decode()
    # The page shown after it counts the attempt made: the next call is recorded.
    assert http.post(attempt, {"outcome": "unreachable", "seen": 1}).status_code == 302
    recall.refresh_from_db()
    assert recall.attempts == 2


def test_a_long_list_shows_the_first_by_deadline_and_counts_them_all(client_for):
    from consult.selectors import QUEUE_LIMIT

    now = timezone.now()
    Recall.objects.bulk_create(
        Recall(
            kind=Recall.Kind.CALLBACK,
            phone=f"+86135{n:08d}",
            # The first ten are late, the others due within the coming hours.
            due_at=now + datetime.timedelta(minutes=n - 10 if n < 10 else n),
            next_attempt_on=timezone.localdate(),
        )
        for n in range(QUEUE_LIMIT + 5)
    )
    http = client_for(roles.CONSULTANT)
    page = http.get(CALLBACKS, **EN)
    assert len(page.context["rows"]) == QUEUE_LIMIT
    figures = page.content.decode().split('data-testid="callback-figures"')[1].split("</p>")[0]
    assert f"{QUEUE_LIMIT + 5} due, 10 past the deadline." in figures
    assert f"The first {QUEUE_LIMIT} by deadline are shown." in figures
    # The outcome form speaks of the caller.
    recall = Recall.objects.order_by("due_at").first()
    answer = http.post(reverse("consult:recall_attempt", args=[recall.pk]), {}, **EN)
    assert answer.status_code == 422
    assert "Say whether you reached the caller." in answer.content.decode()
