"""Discretion (seed 保密原则): a VIP's record in full only to the VIP managers, managers,
administrators and the staff assigned to the client; everyone else gets the masked summary, and
every access is audited."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from clientmgmt.selectors import has_consent
from followup import services as followup
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.factories import UserFactory
from tests.followup.factories import make_plan
from tests.surveys.factories import answered
from vip.models import VipStanding
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

FULL = {roles.VIP_MANAGER, roles.MANAGER, roles.ADMINISTRATOR}


def make_vip(**kwargs):
    person = ClientFactory(name="贵宾甲", notes="只给VIP经理看的备注", **kwargs)
    Client.objects.filter(pk=person.pk).update(is_vip=True)
    VipStanding.objects.create(client=person, kind="personal", since="2026-01-01")
    person.refresh_from_db()
    return person


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_a_vips_record_is_whole_only_for_those_who_serve_them(client_for, role):
    person = make_vip()
    page = client_for(role).get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    if role in FULL:
        assert "只给VIP经理看的备注" in html and 'data-testid="timeline"' in html
    else:
        assert 'data-testid="discretion"' in html
        assert "只给VIP经理看的备注" not in html and 'data-testid="timeline"' not in html
        assert person.phone not in html and person.phone_masked in html
    event = AuditEvent.objects.get(object_id=str(person.pk), action="view")
    assert event.actor_username == ROLE_USERNAMES[role]
    assert event.reason == ("" if role in FULL else "summary")


def test_an_ordinary_record_is_whole_for_everyone(front_desk_client):
    person = ClientFactory(notes="普通备注")
    assert "普通备注" in front_desk_client.get(person.get_absolute_url()).content.decode()


def test_the_vips_escort_and_the_handler_of_their_call_see_the_whole_record(client_for, role_user):
    person = make_vip()
    escort = role_user(roles.FRONT_DESK)
    VipStanding.objects.filter(client=person).update(escort=escort)
    page = client_for(roles.FRONT_DESK).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" in page.content.decode()
    roles.sync_group_permissions()
    handler = UserFactory(username="t_clientmgr", roles=[roles.CLIENT_MANAGER])
    manager_page = client_for(roles.CLIENT_MANAGER).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" not in manager_page.content.decode()
    followup.call_create(client=person, due_on=person.created_at.date(), assigned_to=handler)
    manager_page = client_for(roles.CLIENT_MANAGER).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" in manager_page.content.decode()


def test_others_can_neither_reveal_nor_edit_a_vips_record(client_for):
    person = make_vip()
    consultant = client_for(roles.CONSULTANT)
    reveal = consultant.post(
        reverse("clientmgmt:client_reveal", args=[person.pk]),
        {"field": "phone", "reason": "回电"},
    )
    assert reveal.status_code == 403
    assert consultant.get(reverse("clientmgmt:client_edit", args=[person.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()
    vip_manager = client_for(roles.VIP_MANAGER)
    assert vip_manager.get(reverse("clientmgmt:client_edit", args=[person.pk])).status_code == 200


def test_nobody_can_hand_themselves_a_vips_call_to_see_the_record(client_for):
    """A client manager naming themselves on a new call, or claiming a VIP's call from the pool,
    would become "assigned to the VIP": both are refused; the VIP managers give such calls out."""
    from followup.models import FollowUpCall

    person = make_vip()
    manager = client_for(roles.CLIENT_MANAGER)
    me = get_user_model().objects.get(username=ROLE_USERNAMES[roles.CLIENT_MANAGER])
    due = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(followup.ValidationError, match="VIP managers"):
        followup.call_create(client=person, due_on=due, assigned_to=me, by=me)
    pool_call = followup.call_create(client=person, due_on=due, by=None)
    FollowUpCall.objects.filter(pk=pool_call.pk).update(assigned_to=None)
    claim = manager.post(reverse("followup:call_claim", args=[pool_call.pk]), follow=True)
    assert FollowUpCall.objects.get(pk=pool_call.pk).assigned_to is None
    assert claim.status_code in (200, 403)
    page = manager.get(person.get_absolute_url())
    assert "只给VIP经理看的备注" not in page.content.decode()


def test_a_call_far_in_the_future_opens_nothing_today(client_for):
    person = make_vip()
    roles.sync_group_permissions()
    handler = UserFactory(username="t_clientmgr", roles=[roles.CLIENT_MANAGER])
    later = timezone.localdate() + datetime.timedelta(days=60)
    followup.call_create(client=person, due_on=later, assigned_to=handler)
    page = client_for(roles.CLIENT_MANAGER).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" not in page.content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("clientmgmt:client_consent", {"purpose": "service_sms", "answer": "withdraw"}),
        ("clientmgmt:client_archive", {}),
    ],
)
def test_others_cannot_change_a_vips_record(client_for, name, data):
    person = make_vip()
    for role in (roles.FRONT_DESK, roles.CLIENT_MANAGER):
        response = client_for(role).post(reverse(name, args=[person.pk]), data)
        assert response.status_code == 403
    person.refresh_from_db()
    assert has_consent(person, "service_sms") and person.status == Client.Status.ACTIVE
    allowed = client_for(roles.ADMINISTRATOR).post(reverse(name, args=[person.pk]), data)
    assert allowed.status_code == 302


def test_others_cannot_merge_a_vips_record(client_for):
    person = make_vip()
    other = ClientFactory(name="贵宾甲")
    response = client_for(roles.CLIENT_MANAGER).post(
        reverse("clientmgmt:merge_select"), {"survivor": other.pk, "merged": person.pk}
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.status == Client.Status.ACTIVE


def test_a_vips_call_and_plan_pages_are_for_those_who_serve_them(client_for):
    person = make_vip()
    roles.sync_group_permissions()
    colleague = UserFactory(username="colleague", roles=[roles.CLIENT_MANAGER])
    call = followup.call_create(
        client=person, due_on=timezone.localdate() + datetime.timedelta(days=1),
        assigned_to=colleague,
    )  # fmt: skip
    plan = make_plan(client=person)
    manager = client_for(roles.CLIENT_MANAGER)
    assert manager.get(reverse("followup:call_detail", args=[call.pk])).status_code == 403
    assert manager.get(reverse("followup:plan_detail", args=[plan.pk])).status_code == 403
    vip_manager = client_for(roles.VIP_MANAGER)
    assert vip_manager.get(reverse("followup:call_detail", args=[call.pk])).status_code == 200
    assert vip_manager.get(reverse("followup:plan_detail", args=[plan.pk])).status_code == 200


def test_survey_answers_do_not_name_a_vip_to_others(client_for):
    person = make_vip()
    answered(client=person, score=4, comment="服务很好")
    manager = client_for(roles.CLIENT_MANAGER)
    page = manager.get(reverse("surveys:response_list")).content.decode()
    assert "服务很好" in page and 'data-testid="vip-hidden"' in page
    assert "贵宾甲" not in page
    weekly = manager.get(reverse("surveys:weekly")).content.decode()
    assert "服务很好" in weekly and f"/clients/{person.pk}/" not in weekly
    officer = client_for(roles.MANAGER).get(reverse("surveys:response_list")).content.decode()
    assert "贵宾甲" in officer


def test_exports_keep_a_vips_birthday_and_id_number_to_those_who_serve_them(client_for):
    import csv
    import io

    person = make_vip(date_of_birth=datetime.date(1990, 3, 7), id_number="110101199003074514")

    def search_export(role):
        response = client_for(role).get(reverse("clientmgmt:client_export"), {"q": "贵宾甲"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        return next(row for row in rows if row[0] == str(person.pk))

    row = search_export(roles.CLIENT_MANAGER)
    assert row[3] == "" and row[5] == ""
    officer = search_export(roles.ADMINISTRATOR)
    assert officer[3] == "1990-03-07" and officer[5] == person.id_number_masked != ""


def test_the_access_log_lists_who_opened_a_vips_call_plan_complaint_and_visit(client_for):
    """Every access is audited (seed 保密原则): the pages about a VIP's call, care plan, complaint
    and visit are in the VIP manager's log of the record, not only the record itself."""
    from complaints import services as complaints
    from tests.guide.factories import walk_in

    person = make_vip()
    stranger = ClientFactory(name="路人")
    call = followup.call_create(client=person, due_on=timezone.localdate())
    plan = make_plan(client=person)
    complaint = complaints.complaint_create(client=person, by=None, words="等候太久")
    visit = walk_in(client=person)
    other_call = followup.call_create(client=stranger, due_on=timezone.localdate())
    vip_manager = client_for(roles.VIP_MANAGER)
    for page in (
        reverse("followup:call_detail", args=[call.pk]),
        reverse("followup:plan_detail", args=[plan.pk]),
        reverse("followup:call_detail", args=[other_call.pk]),
    ):
        assert vip_manager.get(page).status_code == 200
    boss = client_for(roles.MANAGER)  # complaints are their handlers' and managers' pages
    assert boss.get(reverse("complaints:complaint_detail", args=[complaint.pk])).status_code == 200
    front_desk = client_for(roles.FRONT_DESK)
    assert front_desk.get(reverse("guide:visit_detail", args=[visit.pk])).status_code == 200

    log = vip_manager.get(reverse("vip:vip_access", args=[person.pk]), HTTP_ACCEPT_LANGUAGE="en")
    seen = {(event.actor_username, event.what) for event in log.context["events"]}
    vm, fd = ROLE_USERNAMES[roles.VIP_MANAGER], ROLE_USERNAMES[roles.FRONT_DESK]
    assert {
        (vm, f"Return-visit call #{call.pk}"),
        (vm, f"Care plan #{plan.pk}"),
        (ROLE_USERNAMES[roles.MANAGER], f"Complaint #{complaint.pk}"),
        (fd, f"Visit #{visit.pk}"),
    } <= seen
    assert (vm, f"Return-visit call #{other_call.pk}") not in seen  # another client's call
    html = log.content.decode()
    assert f"Complaint #{complaint.pk}" in html and f"Visit #{visit.pk}" in html


def test_lists_and_exports_ask_the_discretion_rule_once_whatever_the_number_of_vips(client_for):
    """The search export and the survey responses name a VIP only to those who serve them, in
    the same number of queries for 3 VIPs as for 13 (the rule is asked for the whole list)."""
    import csv
    import io

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    handler = client_for(roles.CLIENT_MANAGER)
    me = get_user_model().objects.get(username=ROLE_USERNAMES[roles.CLIENT_MANAGER])
    served = make_vip(date_of_birth=datetime.date(1990, 3, 7))
    followup.call_create(client=served, due_on=timezone.localdate(), assigned_to=me)
    answered(client=served, score=5, comment="很满意")

    def add_vips(n):
        for _ in range(n):
            other = make_vip(date_of_birth=datetime.date(1985, 1, 2))
            answered(client=other, score=4, comment="还行")

    def measured(url, params=None):
        with CaptureQueriesContext(connection) as queries:
            response = handler.get(url, params or {})
        assert response.status_code == 200
        return response, len(queries)

    def export():
        response, count = measured(reverse("clientmgmt:client_export"), {"q": "贵宾甲"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
        return {row[0]: row[3] for row in rows}, count

    def responses():
        response, count = measured(reverse("surveys:response_list"))
        return {r.client_id: r.client_shown for r in response.context["page"].items}, count

    add_vips(2)
    handler.get(reverse("surveys:response_list"))  # warm: the session, the badge's kept count
    few_rows, few_export = export()
    few_shown, few_list = responses()
    assert len(few_rows) == len(few_shown) == 3
    add_vips(10)
    rows, many_export = export()
    shown, many_list = responses()
    assert (many_export, many_list) == (few_export, few_list)
    assert len(rows) == 13 and rows.pop(str(served.pk)) == "1990-03-07"
    assert set(rows.values()) == {""}  # the VIPs this client manager does not serve
    assert len(shown) == 13 and shown.pop(served.pk) is True and not any(shown.values())
