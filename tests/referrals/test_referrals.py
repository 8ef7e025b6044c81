"""Referrals (转诊, seed: 协助安排好市场部转诊病人的就诊工作): recorded from the client page, moved
along their map, listed for client management (open ones first), and seen where they matter: the
client page, the consultation desk's queue, the front desk's walk-in search, the timeline. A visit
marks them arrived; a merge takes them along."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt import services
from referrals import selectors as referral_selectors
from referrals import services as referrals
from referrals.models import Referral, ReferralEvent
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.factories import UserFactory
from tests.guide.factories import walk_in
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NEW = reverse("referrals:referral_new")
LIST = reverse("referrals:referral_list")
QUEUE = reverse("consult:queue")
WALK_IN = reverse("guide:walk_in")
Status = Referral.Status


def _status_url(referral):
    return reverse("referrals:referral_status", args=[referral.pk])


def refer(client=None, *, by=None, source="marketing", referrer="市场部 王经理", note="面部色斑"):
    return referrals.referral_create(
        client=client or ClientFactory(), by=by, source=source, referrer=referrer, note=note
    )


def _user(role):
    return get_user_model().objects.get(username=ROLE_USERNAMES[role])


# --- Recording one --------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.CLIENT_EDITORS))
def test_every_desk_that_edits_clients_records_a_referral(client_for, role):
    client = ClientFactory(name="刘洋")
    http = client_for(role)
    assert http.get(NEW, {"client": client.pk}, **EN).status_code == 200
    page = http.post(
        f"{NEW}?client={client.pk}",
        {"source": "clinic", "referrer": "康宁诊所", "note": "痤疮转诊"},
        follow=True,
        **EN,
    )
    assert page.redirect_chain == [(client.get_absolute_url(), 302)]
    assert "Referral recorded: the consultation desk will call 刘洋." in page.content.decode()
    referral = Referral.objects.get()
    assert (referral.client, referral.source, referral.referrer, referral.status) == (
        client,
        "clinic",
        "康宁诊所",
        Status.NEW,
    )
    assert referral.created_by == _user(role)
    assert ReferralEvent.objects.get(referral=referral).to_status == Status.NEW
    assert AuditEvent.objects.filter(action="create", object_id=str(referral.pk)).exists()


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.CLIENT_EDITORS))
def test_those_who_only_read_clients_record_no_referral(client_for, role):
    client = ClientFactory()
    assert client_for(role).get(NEW, {"client": client.pk}).status_code == 403
    assert client_for(role).post(f"{NEW}?client={client.pk}", {"referrer": "x"}).status_code == 403


def test_a_referral_names_who_referred(consultant_client):
    client = ClientFactory()
    page = consultant_client.post(
        f"{NEW}?client={client.pk}", {"source": "marketing", "referrer": " "}, **EN
    )
    assert page.status_code == 422
    page = consultant_client.post(
        f"{NEW}?client={client.pk}", {"source": "aliens", "referrer": "某人"}, **EN
    )
    assert page.status_code == 422
    assert not Referral.objects.exists()


@pytest.mark.parametrize("query", ["", "?client=abc", "?client=999999", "?client=1.5"])
def test_a_bad_client_never_gives_a_server_error(consultant_client, query):
    assert consultant_client.get(NEW + query).status_code in (200, 404)


# --- Moving it along ------------------------------------------------------------------


def test_the_desk_moves_a_referral_along_and_each_step_is_recorded(consultant_client):
    referral = refer()
    back = referral.client.get_absolute_url()
    for status in (Status.CONTACTED, Status.BOOKED, Status.ARRIVED):
        page = consultant_client.post(
            _status_url(referral), {"status": status, "next": back}, follow=True, **EN
        )
        assert page.redirect_chain == [(back, 302)]
        referral.refresh_from_db()
        assert referral.status == status
    steps = list(ReferralEvent.objects.filter(referral=referral).values_list("to_status"))
    assert steps == [("new",), ("contacted",), ("booked",), ("arrived",)]
    assert referral.events.last().actor == _user(roles.CONSULTANT)


def test_closing_needs_a_note_and_is_final(consultant_client):
    referral = refer()
    page = consultant_client.post(_status_url(referral), {"status": "closed"}, follow=True, **EN)
    assert "Say why the referral is closed." in page.content.decode()
    consultant_client.post(_status_url(referral), {"status": "closed", "note": "已在别院治疗"})
    referral.refresh_from_db()
    assert referral.status == Status.CLOSED
    page = consultant_client.post(_status_url(referral), {"status": "contacted"}, follow=True, **EN)
    assert "A referral cannot go from Closed to Contacted." in page.content.decode()
    referral.refresh_from_db()
    assert referral.status == Status.CLOSED


def test_moving_never_sends_anyone_elsewhere_and_bad_input_is_no_server_error(consultant_client):
    referral = refer()
    page = consultant_client.post(
        _status_url(referral), {"status": "contacted", "next": "https://evil.example/"}
    )
    assert page["Location"] == referral.client.get_absolute_url()
    page = consultant_client.post(_status_url(referral), {"status": "flying"})
    assert page.status_code == 302
    assert consultant_client.post("/clientmgmt/referrals/999999/status/").status_code == 404


def test_a_manager_may_not_move_a_referral(manager_client):
    referral = refer()
    assert manager_client.post(_status_url(referral), {"status": "contacted"}).status_code == 403


def test_a_visit_marks_the_open_referral_arrived():
    referral = refer()
    walk_in(client=referral.client)
    referral.refresh_from_db()
    assert referral.status == Status.ARRIVED
    assert referral.events.last().actor is None


# --- Where it is seen -----------------------------------------------------------------


def test_the_client_page_shows_the_open_referral_with_its_buttons(front_desk_client):
    referral = refer(referrer="市场部 张经理", note="想做激光祛斑")
    body = front_desk_client.get(referral.client.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="open-referral"' in body
    assert "市场部 张经理" in body and "想做激光祛斑" in body
    assert _status_url(referral) in body
    assert f"{NEW}?client={referral.client.pk}" in body
    referrals.referral_set_status(referral=referral, new_status="closed", by=None, note="无需")
    body = front_desk_client.get(referral.client.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="open-referral"' not in body


def test_the_consultation_desk_sees_referred_clients_to_call(consultant_client):
    waiting = refer(ClientFactory(name="吴敏"), referrer="市场部 周专员")
    called = refer(ClientFactory(name="郑涛"))
    referrals.referral_set_status(referral=called, new_status="contacted", by=None)
    page = consultant_client.get(QUEUE, **EN)
    body = page.content.decode()
    assert "Referred clients to call" in body
    assert [r.pk for r in page.context["referrals"]] == [waiting.pk]
    assert "吴敏" in body and "市场部 周专员" in body and "郑涛" not in body
    assert waiting.client.phone_masked in body
    # The full number is nowhere in the page, not even in the "Call" link's address (browser
    # history, access logs): the call screen takes it from the record.
    assert waiting.client.phone not in body
    call = consultant_client.get(reverse("consult:call"), {"client": waiting.client_id})
    assert call.status_code == 200 and call.context["client"] == waiting.client
    assert _status_url(waiting) in body
    # Marked contacted from the queue, it leaves the queue.
    consultant_client.post(_status_url(waiting), {"status": "contacted", "next": QUEUE})
    assert consultant_client.get(QUEUE).context["referrals"] == []


def test_each_referral_row_links_the_client_and_calls_them_by_record(consultant_client):
    vip = ClientFactory(name="钱多", phone="+8613912340000")
    type(vip).objects.filter(pk=vip.pk).update(is_vip=True)
    referral = refer(vip, source="clinic", referrer="仁心诊所", note="想做" + "光子嫩肤" * 30)
    body = consultant_client.get(QUEUE, **EN).content.decode()
    row = body.split('data-testid="referral-to-call"')[1].split("</tr>")[0]
    client_url = reverse("clientmgmt:client_detail", args=[vip.pk])
    assert f'<a href="{client_url}">钱多</a> <span class="badge text-bg-warning">VIP</span>' in row
    assert f'href="{reverse("consult:call")}?client={vip.pk}"' in row
    assert f'action="{_status_url(referral)}"' in row
    assert "Partner clinic: 仁心诊所" in row
    assert f"{timezone.localtime(referral.created_at):%Y-%m-%d}" in row
    assert "想做" + "光子嫩肤" * 19 + "光…" in row  # the note cut at 80 characters
    assert "139****0000" in row and "13912340000" not in row


def test_the_front_desk_sees_a_referred_client_at_the_walk_in_search(front_desk_client):
    client = ClientFactory(phone="+8613912345678")
    other = ClientFactory(phone="+8613912345678", name="李四")
    refer(client, referrer="市场部 王经理")
    page = front_desk_client.get(WALK_IN, {"phone": "13912345678"}, **EN)
    body = page.content.decode()
    assert body.count('data-testid="referred"') == 1
    assert "Referred by Marketing department: 市场部 王经理" in body
    matches = {match[0].pk: match[3] for match in page.context["matches"]}
    assert matches[other.pk] is None and matches[client.pk].referrer == "市场部 王经理"


def test_the_timeline_shows_every_step_of_a_referral(front_desk_client):
    referral = refer(referrer="康宁诊所", source="clinic")
    referrals.referral_set_status(referral=referral, new_status="contacted", by=None)
    page = front_desk_client.get(referral.client.get_absolute_url(), {"timeline": "referral"}, **EN)
    titles = [entry.title for entry in page.context["timeline"]]
    assert titles == [
        "Referral (Partner clinic, 康宁诊所): Contacted",
        "Referred by Partner clinic: 康宁诊所",
    ]
    assert ("referral", "Referrals") in [(k, str(v)) for k, v in page.context["timeline_kinds"]]


def test_a_merge_takes_the_referral_to_the_surviving_record():
    survivor, merged = ClientFactory(), ClientFactory()
    referral = refer(merged)
    services.client_merge(survivor=survivor, merged=merged, by=UserFactory(username="merger"))
    referral.refresh_from_db()
    assert referral.client == survivor


# --- The list -------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ARCHIVE_READERS))
def test_client_management_and_the_managers_keep_the_list(client_for, role):
    refer(ClientFactory(name="马丽"))
    page = client_for(role).get(LIST, **EN)
    assert page.status_code == 200
    assert "马丽" in page.content.decode()


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.ARCHIVE_READERS))
def test_the_other_desks_see_referrals_where_they_work_not_in_the_list(client_for, role):
    assert client_for(role).get(LIST).status_code == 403


def test_the_list_shows_open_referrals_first_oldest_first_then_the_rest(
    client_manager_client, monkeypatch
):
    monkeypatch.setattr(referral_selectors, "PAGE_SIZE", 2)
    first = refer()
    done_early = refer()
    second = refer()
    done_late = refer()
    for referral in (done_early, done_late):
        referrals.referral_set_status(referral=referral, new_status="closed", by=None, note="x")
    booked = refer()
    referrals.referral_set_status(referral=booked, new_status="booked", by=None)
    seen, cursor = [], None
    while True:
        page = client_manager_client.get(LIST, {"after": cursor} if cursor else {})
        seen += [r.pk for r in page.context["page"].items]
        cursor = page.context["page"].next_cursor
        if cursor is None:
            break
    assert seen == [first.pk, second.pk, booked.pk, done_late.pk, done_early.pk]
    open_only = client_manager_client.get(LIST, {"status": "open"}).context["page"].items
    assert {r.pk for r in open_only} == {first.pk, second.pk}  # the first page of two


def test_the_list_filters_by_source(client_manager_client):
    clinic = refer(source="clinic")
    refer(source="marketing")
    items = client_manager_client.get(LIST, {"source": "clinic"}).context["page"].items
    assert [r.pk for r in items] == [clinic.pk]


@pytest.mark.parametrize(
    "query",
    [{"status": "zzz"}, {"source": "x"}, {"after": "x"}, {"after": "1.2.3"}, {"after": "a.b"}],
)
def test_bad_list_filters_never_give_a_server_error(client_manager_client, query):
    refer()
    assert client_manager_client.get(LIST, query).status_code == 200


def test_the_list_keeps_a_fixed_query_count(client_manager_client):
    for _n in range(3):
        refer()
    client_manager_client.get(LIST)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client_manager_client.get(LIST).status_code == 200
        return len(queries)

    few = count()
    for n in range(27):
        refer(by=UserFactory(username=f"desk{n}"))
    assert count() == few
