"""The VIP pages, through their forms: the roster and its filters, a VIP's page with the escort
(and its effect at the front desk) and the revocation, the costs and their audited export, who
opened the record, candidates with the two-person rule, nominations from the client page, and
the policy's versions; who may open what."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clientmgmt.models import Client
from guide import services as guide_services
from guide.models import Charge, Visit
from tests.conftest import ROLE_USERNAMES
from tests.factories import UserFactory
from tests.guide.factories import booked_today, price
from tests.vip.factories import client, enterprise, policy, spend, vip
from vip import services
from vip.models import VipCandidate, VipEvent, VipPolicy, VipStanding
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ROSTER = reverse("vip:roster")
CANDIDATES = reverse("vip:candidate_list")
ROLES = sorted(roles.ALL_ROLES)


def _body(response):
    return response.content.decode()


def _url(name, person):
    return reverse(name, args=[person.pk])


@pytest.fixture
def person():
    policy()
    return client(name="贵宾甲", phone="+8613812345678")


@pytest.fixture
def standing(person):
    return vip(person)


# --- Who may open what ----------------------------------------------------------------


READ_PAGES = ["vip:vip_detail", "vip:vip_costs", "vip:vip_access"]


@pytest.mark.parametrize("role", ROLES)
def test_the_vip_pages_open_for_their_roles_only(client_for, role, standing):
    http = client_for(role)
    allowed = role in roles.VIP_READERS
    for url in (
        ROSTER,
        CANDIDATES,
        reverse("vip:policy_history"),
        *(reverse(name, args=[standing.client_id]) for name in READ_PAGES),
    ):
        assert http.get(url).status_code == (200 if allowed else 403), url
    nominate = http.get(reverse("vip:nominate") + f"?client={standing.client_id}")
    assert nominate.status_code == (
        200 if role in roles.VIP_DESK | {roles.CLIENT_MANAGER, roles.MANAGER} else 403
    )


def test_anonymous_visitors_are_sent_to_sign_in(client, standing):
    response = client.get(_url("vip:vip_detail", standing.client))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_client_who_never_was_a_vip_has_no_vip_page(vip_manager_client):
    policy()
    assert vip_manager_client.get(_url("vip:vip_detail", client())).status_code == 404
    assert vip_manager_client.get(reverse("vip:vip_detail", args=[999999])).status_code == 404


# --- The roster -----------------------------------------------------------------------


def _standings(n, **kwargs):
    return [vip(client(name=f"客户{k}"), **kwargs) for k in range(n)]


def test_the_roster_lists_active_vips_with_masked_phones_and_links(vip_manager_client, standing):
    other = vip(client(name="企业员工"), kind="enterprise", enterprise=enterprise())
    page = vip_manager_client.get(ROSTER, **EN)
    html = _body(page)
    assert page.status_code == 200
    assert _url("vip:vip_detail", standing.client) in html
    assert "138****5678" in html and "13812345678" not in html
    assert "郑州重工集团" in html and other.client.name in html
    counts = page.context["counts"]
    assert (counts["total"], counts["personal"], counts["enterprise"]) == (2, 1, 1)


def test_the_roster_filters_by_kind_tier_status_since_expiry_and_spend(vip_manager_client):
    policy()
    gold = vip(client(name="金卡"), amount="150000")
    plain = vip(client(name="普通"), amount="60000")
    nominated = vip(client(name="提名"), kind="nominated")
    revoked = vip(client(name="已撤销"))
    services.revoke(standing=revoked, by=None, reason="客户要求")
    VipStanding.objects.filter(pk=plain.pk).update(
        since=timezone.localdate() - datetime.timedelta(days=100),
        valid_until=timezone.localdate() + datetime.timedelta(days=5),
    )

    def names(**filters):
        page = vip_manager_client.get(ROSTER, filters)
        assert page.status_code == 200
        return {s.client.name for s in page.context["page"].items}

    assert names() == {"金卡", "普通", "提名"}
    assert names(kind="nominated") == {"提名"}
    assert names(tier="gold") == {"金卡"}
    assert names(status="revoked") == {"已撤销"}
    assert names(status="all") == {"金卡", "普通", "提名", "已撤销"}
    assert names(since=timezone.localdate().isoformat()) == {"金卡", "提名"}
    assert names(expiring="30") == {"普通"}
    assert names(min_spend="100000") == {"金卡"}
    assert gold.tier == "gold" and nominated.kind == "nominated"


def test_an_ending_standing_is_highlighted(vip_manager_client, standing):
    VipStanding.objects.filter(pk=standing.pk).update(
        valid_until=timezone.localdate() + datetime.timedelta(days=3)
    )
    assert 'data-testid="expiring"' in _body(vip_manager_client.get(ROSTER))


@pytest.mark.parametrize(
    "filters",
    [
        {"since": "2026-02-30"},
        {"expiring": "soon"},
        {"expiring": "-1"},
        {"min_spend": "lots"},
        {"min_spend": "1" * 40},
        {"kind": "royal"},
        {"before": "x"},
    ],
)
def test_anything_typed_into_the_roster_filters_shows_the_page(vip_manager_client, filters):
    policy()
    assert vip_manager_client.get(ROSTER, filters).status_code == 200


def test_the_roster_pages_by_keyset(vip_manager_client):
    policy()
    _standings(55)
    first = vip_manager_client.get(ROSTER)
    assert len(first.context["page"].items) == 50
    older = vip_manager_client.get(ROSTER, {"before": first.context["page"].next_before})
    assert len(older.context["page"].items) == 5
    shown = {s.pk for s in first.context["page"].items} | {
        s.pk for s in older.context["page"].items
    }
    assert len(shown) == 55


def test_the_roster_takes_the_same_queries_for_3_vips_as_for_30(vip_manager_client, role_user):
    policy()
    escort = role_user(roles.FRONT_DESK)
    firm = enterprise()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert vip_manager_client.get(ROSTER).status_code == 200
        return len(queries)

    for standing in _standings(3) + _standings(3, kind="enterprise", enterprise=firm):
        VipStanding.objects.filter(pk=standing.pk).update(escort=escort)
    vip_manager_client.get(ROSTER)  # warm: the session, the badge's kept count
    few = count()
    for standing in _standings(30) + _standings(5, kind="enterprise", enterprise=firm):
        VipStanding.objects.filter(pk=standing.pk).update(escort=escort)
    assert count() == few
    # The session, the user, the user's roles, the counts, one page of VIPs with their records,
    # enterprises and escorts (the user menu's count of unread notifications is kept).
    assert few == 5


# --- A VIP's page ---------------------------------------------------------------------


def test_the_vip_page_shows_the_standing_its_policy_version_and_history(
    vip_manager_client, person, role_user
):
    manager = role_user(roles.MANAGER)
    standing = vip(person, by=manager)
    page = vip_manager_client.get(_url("vip:vip_detail", person), **EN)
    html = _body(page)
    assert f"Version {standing.policy_id}" in html
    assert reverse("vip:policy_history") + f"#v{standing.policy_id}" in html
    assert "Granted" in html and manager.get_full_name() in html
    assert person.get_absolute_url() in html
    assert _url("vip:vip_costs", person) in html and _url("vip:vip_access", person) in html
    assert "138****5678" in html and "13812345678" not in html


def test_a_renewal_by_rule_shows_as_by_rule(vip_manager_client, person):
    policy(auto_grant=True)
    spend(person, "60000")
    services.qualification_run()
    html = _body(vip_manager_client.get(_url("vip:vip_detail", person), **EN))
    assert "by rule" in html


def test_the_vip_manager_names_an_escort(vip_manager_client, standing, role_user):
    escort = role_user(roles.FRONT_DESK)
    page = vip_manager_client.post(
        _url("vip:vip_escort", standing.client), {"escort": escort.pk}, follow=True, **EN
    )
    assert "will escort" in _body(page)
    standing.refresh_from_db()
    assert standing.escort == escort
    event = VipEvent.objects.get(client=standing.client, action="escort")
    assert event.actor.get_username() == ROLE_USERNAMES[roles.VIP_MANAGER]


def test_the_escort_can_be_cleared(vip_manager_client, standing, role_user):
    VipStanding.objects.filter(pk=standing.pk).update(escort=role_user(roles.FRONT_DESK))
    vip_manager_client.post(_url("vip:vip_escort", standing.client), {"escort": ""})
    standing.refresh_from_db()
    assert standing.escort is None


@pytest.mark.parametrize("role", [roles.CONSULTANT, roles.CLIENT_MANAGER, roles.MANAGER])
def test_an_escort_is_someone_of_the_front_desk_or_a_vip_manager(
    vip_manager_client, standing, role_user, role
):
    other = role_user(role)
    page = vip_manager_client.post(
        _url("vip:vip_escort", standing.client), {"escort": other.pk}, **EN
    )
    assert page.status_code == 422
    assert "Choose someone of the front desk or a VIP manager." in _body(page)
    standing.refresh_from_db()
    assert standing.escort is None


def test_an_inactive_user_cannot_be_named_escort(vip_manager_client, standing):
    roles.sync_group_permissions()
    gone = UserFactory(username="left_us", roles=[roles.FRONT_DESK], is_active=False)
    page = vip_manager_client.post(_url("vip:vip_escort", standing.client), {"escort": gone.pk})
    assert page.status_code == 422


def test_only_the_vip_desk_names_escorts(manager_client, standing, role_user):
    escort = role_user(roles.FRONT_DESK)
    response = manager_client.post(_url("vip:vip_escort", standing.client), {"escort": escort.pk})
    assert response.status_code == 403


# --- The escort at the front desk ---------------------------------------------------------


def test_a_vip_who_checks_in_gets_their_named_escort(front_desk_client, standing, role_user):
    escort = role_user(roles.VIP_MANAGER)
    VipStanding.objects.filter(pk=standing.pk).update(escort=escort)
    booking = booked_today(client=Client.objects.get(pk=standing.client_id))
    response = front_desk_client.post(reverse("guide:check_in", args=[booking.pk]))
    assert response.status_code == 302
    visit = Visit.objects.get(booking=booking)
    assert visit.escort == escort and visit.priority
    # The triage form starts from that escort; the desk may choose someone else there.
    page = front_desk_client.get(visit.get_absolute_url())
    assert page.context["triage_form"].initial["escort"] == escort.pk


def _second_front_desk():
    roles.sync_group_permissions()
    return UserFactory(username="second_desk", roles=[roles.FRONT_DESK])


def test_a_vip_who_walks_in_gets_their_named_escort(front_desk_client, standing):
    escort = _second_front_desk()
    VipStanding.objects.filter(pk=standing.pk).update(escort=escort)
    front_desk_client.post(reverse("guide:walk_in"), {"client": standing.client_id})
    assert Visit.objects.get(client_id=standing.client_id).escort == escort


def test_no_escort_for_a_lapsed_vip_an_ordinary_client_or_an_escort_who_left(
    front_desk_client, standing
):
    escort = _second_front_desk()
    ordinary = client(name="普通客户")
    front_desk_client.post(reverse("guide:walk_in"), {"client": ordinary.pk})
    assert Visit.objects.get(client=ordinary).escort is None
    gone = UserFactory(username="left_us", roles=[roles.FRONT_DESK], is_active=False)
    VipStanding.objects.filter(pk=standing.pk).update(escort=gone)
    front_desk_client.post(reverse("guide:walk_in"), {"client": standing.client_id})
    assert Visit.objects.get(client_id=standing.client_id).escort is None
    lapsed = vip(client(name="过期贵宾"))
    VipStanding.objects.filter(pk=lapsed.pk).update(escort=escort)
    services.revoke(standing=lapsed, by=None, reason="到期")
    front_desk_client.post(reverse("guide:walk_in"), {"client": lapsed.client_id})
    assert Visit.objects.get(client_id=lapsed.client_id).escort is None


# --- Revoking -------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.VIP_DECIDERS))
def test_deciders_revoke_a_vip_with_a_reason(client_for, standing, role):
    page = client_for(role).post(
        _url("vip:vip_revoke", standing.client), {"reason": "客户要求取消"}, follow=True, **EN
    )
    assert "is no longer a VIP" in _body(page)
    standing.refresh_from_db()
    assert standing.status == "revoked"
    assert not Client.objects.get(pk=standing.client_id).is_vip
    assert VipEvent.objects.get(client_id=standing.client_id, action="revoked").detail == (
        "客户要求取消"
    )


def test_revoking_needs_a_reason(vip_manager_client, standing):
    page = vip_manager_client.post(_url("vip:vip_revoke", standing.client), {"reason": "  "}, **EN)
    assert page.status_code == 422 and "Give the reason." in _body(page)
    standing.refresh_from_db()
    assert standing.status == "active"


def test_a_revoked_standing_cannot_be_revoked_again(vip_manager_client, standing):
    services.revoke(standing=standing, by=None, reason="一次")
    url = _url("vip:vip_revoke", standing.client)
    page = vip_manager_client.post(url, {"reason": "两次"}, **EN)
    assert page.status_code == 409
    assert "This client is not an active VIP." in _body(page)


def test_the_revoke_form_asks_for_confirmation(vip_manager_client, standing):
    html = _body(vip_manager_client.get(_url("vip:vip_detail", standing.client)))
    assert 'data-testid="revoke-form"' in html and "data-confirm=" in html


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CONSULTANT, roles.CLIENT_MANAGER])
def test_others_cannot_revoke(client_for, standing, role):
    response = client_for(role).post(_url("vip:vip_revoke", standing.client), {"reason": "x"})
    assert response.status_code == 403


# --- Costs ----------------------------------------------------------------------------


@pytest.fixture
def costs(person):
    """Three charges this year (one at a discount, one voided), one two years ago."""
    recent = spend(person, "30000.00", days_ago=40)
    discounted = spend(person, "20000.00", days_ago=10)
    Charge.objects.filter(pk=discounted.pk).update(amount=Decimal("18000.00"))
    voided = spend(person, "5000.00", days_ago=5)
    Charge.objects.filter(pk=voided.pk).update(voided_at=timezone.now(), void_reason="录入错误")
    old = spend(person, "7000.00", days_ago=700)
    standing = vip(person)
    return {"standing": standing, "recent": recent, "voided": voided, "old": old}


def test_the_cost_page_shows_the_policys_window_by_default(vip_manager_client, person, costs):
    page = vip_manager_client.get(_url("vip:vip_costs", person), **EN)
    summary = page.context["summary"]
    assert summary["spend"] == Decimal("48000.00")
    assert summary["listed"] == Decimal("50000.00")
    assert summary["discount"] == Decimal("2000.00")
    assert sum(row["total"] for row in summary["by_month"]) == Decimal("48000.00")
    assert len(summary["by_item"]) == 2
    html = _body(page)
    assert 'data-testid="voided"' in html  # struck through, shown
    window = VipPolicy.current().window_start(timezone.localdate()).date()
    assert page.context["first"] == window and page.context["last"] == timezone.localdate()
    assert len(page.context["lines"].object_list) == 3  # the old line is outside the window


def test_the_cost_page_takes_a_period(vip_manager_client, person, costs):
    today = timezone.localdate()
    page = vip_manager_client.get(
        _url("vip:vip_costs", person),
        {"date_from": (today - datetime.timedelta(days=800)).isoformat(), "date_to": ""},
    )
    assert page.context["summary"]["spend"] == Decimal("55000.00")
    page = vip_manager_client.get(
        _url("vip:vip_costs", person),
        {"date_from": (today - datetime.timedelta(days=20)).isoformat()},
    )
    assert page.context["summary"]["spend"] == Decimal("18000.00")


@pytest.mark.parametrize(
    "period",
    [
        {"date_from": "2026-02-30"},
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
        {"date_to": "yesterday"},
        {"page": "9999"},
    ],
)
def test_a_wrong_period_shows_the_page_with_the_window(vip_manager_client, person, costs, period):
    page = vip_manager_client.get(_url("vip:vip_costs", person), period)
    assert page.status_code == 200
    assert page.context["summary"]["spend"] == Decimal("48000.00")


def test_the_export_needs_a_reason_and_exports_nothing_without(vip_manager_client, person, costs):
    page = vip_manager_client.post(_url("vip:vip_costs_export", person), {"reason": ""}, **EN)
    assert page.status_code == 422
    assert "Say why you export these costs." in _body(page)
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_export_is_a_workbook_and_is_audited_with_its_reason(vip_manager_client, person, costs):
    response = vip_manager_client.post(
        _url("vip:vip_costs_export", person), {"reason": "财务核对季度账单"}, **EN
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"vip-costs-{person.pk}-" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Costs", "Lines"]
    summary = {row[0]: row[1] for row in workbook["Costs"].iter_rows(values_only=True) if row}
    assert summary["Spend (yuan)"] == 48000 and summary["Discount (yuan)"] == 2000
    lines = list(workbook["Lines"].iter_rows(values_only=True))
    assert len(lines) == 4  # the header and three lines
    assert any(row[-1] == "录入错误" for row in lines)
    event = AuditEvent.objects.get(action="export")
    assert (event.object_type, event.object_id) == ("vip.costs", str(person.pk))
    assert event.reason == "财务核对季度账单"
    assert event.actor_username == ROLE_USERNAMES[roles.VIP_MANAGER]


def test_the_export_keeps_the_period_asked_for(vip_manager_client, person, costs):
    today = timezone.localdate()
    response = vip_manager_client.post(
        _url("vip:vip_costs_export", person),
        {
            "reason": "核对近期消费",
            "date_from": (today - datetime.timedelta(days=20)).isoformat(),
            "date_to": today.isoformat(),
        },
        **EN,
    )
    lines = list(load_workbook(io.BytesIO(response.content))["Lines"].iter_rows(values_only=True))
    assert len(lines) == 3  # the header, the discounted and the voided lines


def test_an_item_named_like_a_formula_is_exported_as_text(vip_manager_client, person, costs):
    costs["recent"].price_item.__class__.objects.filter(pk=costs["recent"].price_item_id).update(
        name="=HYPERLINK(1)"
    )
    response = vip_manager_client.post(
        _url("vip:vip_costs_export", person), {"reason": "核对账单"}, **EN
    )
    sheet = load_workbook(io.BytesIO(response.content))["Lines"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"


# --- Who opened the record --------------------------------------------------------------


def test_the_access_log_shows_a_front_desk_summary_visit_and_the_export(client_for, person, costs):
    front_desk = client_for(roles.FRONT_DESK)
    assert 'data-testid="discretion"' in _body(front_desk.get(person.get_absolute_url()))
    vip_manager = client_for(roles.VIP_MANAGER)
    vip_manager.post(_url("vip:vip_costs_export", person), {"reason": "财务核对"})
    page = vip_manager.get(_url("vip:vip_access", person), **EN)
    events = list(page.context["events"])
    assert [e.action for e in events][:2] == ["export", "view"]  # newest first
    assert events[1].actor_username == ROLE_USERNAMES[roles.FRONT_DESK]
    assert events[1].reason == "summary"
    html = _body(page)
    assert ROLE_USERNAMES[roles.FRONT_DESK] in html and "summary" in html
    assert "VIP costs" in html and "财务核对" in html


# --- Candidates -----------------------------------------------------------------------


@pytest.fixture
def deciders(vip_manager_client):
    """The VIP manager signed in on `vip_manager_client`, and a second one."""
    from django.contrib.auth import get_user_model

    first = get_user_model().objects.get(username=ROLE_USERNAMES[roles.VIP_MANAGER])
    return [first, UserFactory(username="second_vm", roles=[roles.VIP_MANAGER])]


def _candidate(amount="60000"):
    person = client(name=f"候选{VipCandidate.objects.count()}")
    spend(person, amount)
    services.qualification_run()
    return VipCandidate.objects.get(client=person)


def _decide(http, candidate, decision, reason="", **extra):
    url = reverse("vip:candidate_decide", args=[candidate.pk])
    return http.post(url, {"decision": decision, "reason": reason}, **EN, **extra)


def test_the_candidates_page_lists_those_waiting(vip_manager_client, person):
    policy(auto_grant=False)
    candidate = _candidate("61000")
    page = vip_manager_client.get(CANDIDATES, **EN)
    html = _body(page)
    assert candidate.client.name in html and "61000.00" in html
    assert f"Version {candidate.policy_id}" in html
    assert "Personal spend" in html


def test_approving_a_candidate_through_the_page_makes_a_vip(vip_manager_client, person):
    policy(auto_grant=False)
    candidate = _candidate()
    page = _decide(vip_manager_client, candidate, "approve", follow=True)
    assert "is a VIP now" in _body(page)
    assert Client.objects.get(pk=candidate.client_id).is_vip
    candidate.refresh_from_db()
    assert candidate.status == "approved"
    assert candidate.decided_by.get_username() == ROLE_USERNAMES[roles.VIP_MANAGER]


def test_a_rejection_needs_a_reason(vip_manager_client, person):
    policy(auto_grant=False)
    candidate = _candidate()
    page = _decide(vip_manager_client, candidate, "reject")
    assert page.status_code == 422
    assert "Give the reason for the rejection." in _body(page)
    page = _decide(vip_manager_client, candidate, "reject", "消费为代付，非本人", follow=True)
    assert "Rejected" in _body(page)
    candidate.refresh_from_db()
    assert candidate.status == "rejected" and candidate.decision_reason == "消费为代付，非本人"
    assert not Client.objects.get(pk=candidate.client_id).is_vip


def test_a_decided_candidate_cannot_be_decided_again(vip_manager_client, person):
    policy(auto_grant=False)
    candidate = _candidate()
    _decide(vip_manager_client, candidate, "approve")
    page = _decide(vip_manager_client, candidate, "reject", "改主意")
    assert page.status_code == 409
    assert "This candidate has already been decided." in _body(page)


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_a_decision_must_be_approve_or_reject(vip_manager_client, person, decision):
    policy(auto_grant=False)
    candidate = _candidate()
    page = _decide(vip_manager_client, candidate, decision)
    assert page.status_code == 422 and "Approve or reject." in _body(page)


def test_a_nomination_needs_a_second_person_on_the_page(client_for, deciders, person):
    first = client_for(roles.VIP_MANAGER)
    candidate = services.nominate(client=person, by=deciders[0], reason="知名企业家，长期客户")
    page = first.get(CANDIDATES, **EN)
    assert 'data-testid="own-nomination"' in _body(page)
    assert "a second person decides" in _body(page)
    refused = _decide(first, candidate, "approve")
    assert refused.status_code == 422
    assert "A nomination is approved by a second person." in _body(refused)
    candidate.refresh_from_db()
    assert candidate.status == "pending"
    second = client_for(roles.MANAGER)
    assert 'data-testid="own-nomination"' not in _body(second.get(CANDIDATES))
    _decide(second, candidate, "approve")
    standing = VipStanding.objects.get(client=person)
    assert standing.kind == "nominated" and standing.status == "active"


def test_an_enterprise_candidate_is_approved_with_its_employees(vip_manager_client):
    from vip.models import EnterpriseMember

    policy(auto_grant=False, enterprise_annual_spend=Decimal("100000"))
    firm = enterprise()
    people = [client(name=f"员工{n}") for n in range(3)]
    for member in people:
        EnterpriseMember.objects.create(enterprise=firm, client=member)
        spend(member, "40000")
    services.qualification_run()
    candidate = VipCandidate.objects.get(enterprise=firm)
    assert firm.name in _body(vip_manager_client.get(CANDIDATES))
    page = _decide(vip_manager_client, candidate, "approve", follow=True)
    assert "郑州重工集团 is a VIP now" in _body(page)
    assert all(Client.objects.get(pk=p.pk).is_vip for p in people)


def test_the_candidates_page_takes_the_same_queries_for_3_as_for_30(vip_manager_client, deciders):
    policy(auto_grant=False)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert vip_manager_client.get(CANDIDATES).status_code == 200
        return len(queries)

    def nominations(n):
        for k in range(n):
            services.nominate(client=client(name=f"提名{k}"), by=deciders[1], reason="长期忠实客户")

    nominations(3)
    vip_manager_client.get(CANDIDATES)  # warm: the session, the badge's kept count
    few = count()
    nominations(27)
    firm = enterprise(name="另一企业")
    services._list_candidate(kind="enterprise", enterprise=firm, spend=Decimal(1), policy=policy())
    assert count() == few
    # The session, the user, the user's roles, the candidates with their clients, enterprises,
    # policies and nominators (the user menu's count of unread notifications is kept).
    assert few == 4


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CONSULTANT, roles.CLIENT_MANAGER])
def test_others_cannot_decide(client_for, person, role):
    policy(auto_grant=False)
    candidate = _candidate()
    assert _decide(client_for(role), candidate, "approve").status_code == 403


# --- Nominations ----------------------------------------------------------------------

NOMINATORS = sorted(roles.VIP_DESK | {roles.CLIENT_MANAGER, roles.MANAGER})


@pytest.mark.parametrize("role", ROLES)
def test_the_client_page_offers_a_nomination_to_those_who_may_nominate(client_for, role, person):
    html = _body(client_for(role).get(person.get_absolute_url()))
    button = reverse("vip:nominate") + f"?client={person.pk}"
    assert (button in html) == (role in NOMINATORS)


def test_no_nomination_button_for_a_vip_or_an_archived_record(client_manager_client, person):
    archived = client(name="已归档")
    Client.objects.filter(pk=archived.pk).update(status="archived")
    assert 'data-testid="nominate-vip"' not in _body(
        client_manager_client.get(archived.get_absolute_url())
    )
    vip(person)
    # The VIP manager sees the VIP's record (and a link to the standing), not the nomination.
    roles.sync_group_permissions()
    html = _body(client_manager_client.get(person.get_absolute_url()))
    assert 'data-testid="nominate-vip"' not in html


def test_the_vip_manager_opens_the_standing_from_the_client_page(vip_manager_client, standing):
    html = _body(vip_manager_client.get(standing.client.get_absolute_url()))
    assert _url("vip:vip_detail", standing.client) in html


def test_a_client_manager_nominates_a_client_with_a_reason(client_manager_client, person):
    url = reverse("vip:nominate") + f"?client={person.pk}"
    assert "贵宾甲" in _body(client_manager_client.get(url))
    page = client_manager_client.post(url, {"reason": "市政协委员，十年老客户"}, follow=True, **EN)
    assert page.redirect_chain[-1][0] == person.get_absolute_url()
    assert "is nominated" in _body(page)
    candidate = VipCandidate.objects.get(client=person)
    assert (candidate.kind, candidate.status) == ("nomination", "pending")
    assert candidate.nominated_by.get_username() == ROLE_USERNAMES[roles.CLIENT_MANAGER]


@pytest.mark.parametrize(
    "reason,message", [("", "Say why this client should be a VIP."), ("好", "Say why")]
)
def test_a_nomination_needs_a_reason(client_manager_client, person, reason, message):
    url = reverse("vip:nominate") + f"?client={person.pk}"
    page = client_manager_client.post(url, {"reason": reason}, **EN)
    assert page.status_code == 422 and message in _body(page)
    assert not VipCandidate.objects.exists()


def test_a_client_is_nominated_once_at_a_time(client_manager_client, person):
    url = reverse("vip:nominate") + f"?client={person.pk}"
    client_manager_client.post(url, {"reason": "长期忠实客户"})
    page = client_manager_client.post(url, {"reason": "再提名一次"}, **EN)
    assert page.status_code == 422
    assert "already waiting for a decision" in _body(page)
    assert VipCandidate.objects.count() == 1


def test_a_vip_cannot_be_nominated(vip_manager_client, standing):
    url = reverse("vip:nominate") + f"?client={standing.client_id}"
    assert 'data-testid="nominate-refused"' in _body(vip_manager_client.get(url))
    page = vip_manager_client.post(url, {"reason": "长期忠实客户"}, **EN)
    assert page.status_code == 422 and "already a VIP" in _body(page)


def test_the_nominate_page_without_a_client_sends_to_the_search(vip_manager_client):
    page = vip_manager_client.get(reverse("vip:nominate"))
    assert page.status_code == 200 and reverse("clientmgmt:client_list") in _body(page)
    assert vip_manager_client.get(reverse("vip:nominate") + "?client=x").status_code == 404


# --- The policy's versions --------------------------------------------------------------


def test_the_policy_page_lists_every_version_with_its_values(client_for, role_user):
    admin = role_user(roles.ADMINISTRATOR)
    services.policy_add(by=admin, note="first", personal_annual_spend=Decimal("40000"))
    services.policy_add(by=admin, note="raised", personal_annual_spend=Decimal("60000"))
    page = client_for(roles.MANAGER).get(reverse("vip:policy_history"), **EN)
    html = _body(page)
    assert "first" in html and "raised" in html
    assert "40000.00" in html and "60000.00" in html
    assert admin.get_full_name() in html
    assert 'data-testid="policy-add"' not in html
    admin_page = client_for(roles.ADMINISTRATOR).get(reverse("vip:policy_history"))
    assert reverse("admin:vip_vippolicy_add") in _body(admin_page)


def test_a_charge_at_the_desk_is_on_the_cost_page(vip_manager_client, front_desk_client, person):
    standing = vip(person)
    front_desk_client.post(reverse("guide:walk_in"), {"client": person.pk})
    visit = Visit.objects.get(client=person)
    item = price(code="ZZ001", amount="880.00")
    guide_services.charge_add(visit=visit, price_item=item, by=None)
    page = vip_manager_client.get(_url("vip:vip_costs", standing.client))
    assert page.context["summary"]["spend"] == Decimal("880.00")


def test_opening_a_vips_page_and_costs_is_in_the_access_log(client_for):
    from tests.vip.factories import vip as make_vip
    from zhongdu.models import AuditEvent

    client_id = make_vip().client_id
    manager = client_for(roles.MANAGER)
    manager.get(reverse("vip:vip_detail", args=[client_id]))
    manager.get(reverse("vip:vip_costs", args=[client_id]))
    reasons = set(
        AuditEvent.objects.filter(object_id=str(client_id), action="view").values_list(
            "reason", flat=True
        )
    )
    assert {"vip", "vip costs"} <= reasons
    log = manager.get(reverse("vip:vip_access", args=[client_id]))
    assert "vip costs" in log.content.decode()
