"""The VIP rules at their boundaries: exactly at the threshold, one yuan under, the grace period,
the window, candidates and approvals, enterprises, nominations by two people."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from clientmgmt.models import Client
from consult.models import BookingPolicy
from tests.factories import UserFactory
from tests.vip.factories import client, enterprise, policy, spend
from vip import services
from vip.models import EnterpriseMember, VipCandidate, VipEvent, VipPolicy, VipStanding
from zhongdu import roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def vip_managers(db):
    roles.sync_group_permissions()
    return [UserFactory(username=f"vm{n}", roles=[roles.VIP_MANAGER]) for n in range(2)]


def _is_vip(person):
    return Client.objects.get(pk=person.pk).is_vip


def test_exactly_at_the_threshold_qualifies_one_yuan_under_does_not():
    policy(auto_grant=True)
    at, under = client(name="刚好"), client(name="差一元")
    spend(at, "50000.00")
    spend(under, "49999.00")
    counts = services.qualification_run()
    assert counts["granted"] == 1
    assert _is_vip(at) and not _is_vip(under)
    standing = VipStanding.objects.get(client=at)
    assert standing.kind == VipStanding.Kind.PERSONAL and standing.spend == Decimal("50000.00")
    assert VipEvent.objects.get(client=at).by_rule


def test_spend_outside_the_window_does_not_count():
    policy(auto_grant=True)
    person = client()
    spend(person, "30000", days_ago=10)
    spend(person, "30000", days_ago=400)
    services.qualification_run()
    assert not _is_vip(person)
    policy(auto_grant=True, personal_annual_spend=Decimal("30000"))
    services.qualification_run()
    assert _is_vip(person)


def test_crossing_the_threshold_makes_a_candidate_when_the_policy_wants_approval(vip_managers):
    policy(auto_grant=False)
    person = client()
    spend(person, "60000")
    assert services.qualification_run()["candidates"] == 1
    assert services.qualification_run()["candidates"] == 0  # once, however often the job runs
    candidate = VipCandidate.objects.get(client=person)
    assert not _is_vip(person)
    with pytest.raises(ValidationError, match="reason"):
        services.candidate_decide(candidate=candidate, by=vip_managers[0], approve=False)
    services.candidate_decide(candidate=candidate, by=vip_managers[0], approve=True)
    assert _is_vip(person)
    assert VipStanding.objects.get(client=person).policy == VipPolicy.current()


def test_a_vip_below_the_threshold_lapses_only_after_the_grace_period():
    policy(auto_grant=True, grace_days=30)
    person = client()
    charge = spend(person, "60000", days_ago=300)
    today = timezone.localdate()
    services.qualification_run(today=today)
    standing = VipStanding.objects.get(client=person)
    assert standing.valid_until == today + datetime.timedelta(days=30)
    # The spend leaves the window; the standing holds through the grace period...
    type(charge).objects.filter(pk=charge.pk).update(
        charged_at=timezone.now() - datetime.timedelta(days=400)
    )
    services.qualification_run(today=today + datetime.timedelta(days=30))
    assert _is_vip(person)
    # ...and lapses the day after it, with a notice.
    notices = []
    counts = services.qualification_run(
        today=today + datetime.timedelta(days=31), notify=notices.append
    )
    assert counts["lapsed"] == 1 and not _is_vip(person)
    assert VipStanding.objects.get(client=person).status == VipStanding.Status.LAPSED
    assert notices and "1" in notices[0]
    assert VipEvent.objects.filter(client=person, action="lapsed", by_rule=True).exists()


def test_a_qualifying_vip_is_renewed_and_moves_up_a_tier():
    policy(auto_grant=True)
    person = client()
    spend(person, "60000")
    services.qualification_run()
    assert VipStanding.objects.get(client=person).tier == "standard"
    spend(person, "50000")
    counts = services.qualification_run(today=timezone.localdate() + datetime.timedelta(days=1))
    assert counts["renewed"] == 1
    assert VipStanding.objects.get(client=person).tier == "gold"
    assert VipEvent.objects.filter(client=person, action="tier").count() == 1


def test_the_job_run_twice_changes_nothing_more():
    policy(auto_grant=True)
    person = client()
    spend(person, "60000")
    services.qualification_run()
    events = VipEvent.objects.count()
    counts = services.qualification_run()
    assert counts == {"granted": 0, "renewed": 0, "candidates": 0, "lapsed": 0, "enterprises": 0}
    assert VipEvent.objects.count() == events


def test_an_enterprise_qualifies_by_agreement_spend_and_size_and_its_employees_follow(
    vip_managers,
):
    policy(auto_grant=False, enterprise_annual_spend=Decimal("100000"))
    firm = enterprise(employee_count=500)
    small = enterprise(name="小公司", employee_count=5)
    people = [client(name=f"员工{n}") for n in range(3)]
    for person in people:
        EnterpriseMember.objects.create(enterprise=firm, client=person)
        spend(person, "40000")
    other = client(name="小公司员工")
    EnterpriseMember.objects.create(enterprise=small, client=other)
    spend(other, "200000")
    services.qualification_run()
    candidate = VipCandidate.objects.get(enterprise=firm)
    assert candidate.spend == Decimal("120000.00")
    # The small firm has the spend but neither the staff nor the revenue.
    assert not VipCandidate.objects.filter(enterprise=small).exists()
    services.candidate_decide(candidate=candidate, by=vip_managers[0], approve=True)
    assert all(_is_vip(person) for person in people)
    assert {s.kind for s in VipStanding.objects.filter(client__in=people)} == {"enterprise"}


def test_an_enterprise_without_an_agreement_in_force_does_not_qualify():
    policy(auto_grant=True, enterprise_annual_spend=Decimal("1000"))
    today = timezone.localdate()
    expired = enterprise(agreement_end=today - datetime.timedelta(days=1))
    person = client()
    EnterpriseMember.objects.create(enterprise=expired, client=person)
    spend(person, "5000")
    assert services.qualification_run()["enterprises"] == 0


def test_a_nomination_needs_a_reason_and_a_second_person(vip_managers):
    person = client()
    first, second = vip_managers
    with pytest.raises(ValidationError, match="why"):
        services.nominate(client=person, by=first, reason="")
    candidate = services.nominate(client=person, by=first, reason="长期客户，口碑推荐多位亲友")
    with pytest.raises(ValidationError, match="second person"):
        services.candidate_decide(candidate=candidate, by=first, approve=True)
    services.candidate_decide(candidate=candidate, by=second, approve=True)
    standing = VipStanding.objects.get(client=person)
    assert standing.kind == VipStanding.Kind.NOMINATED
    assert standing.valid_until == timezone.localdate() + datetime.timedelta(days=365)


def test_policy_versions_are_kept_and_the_held_share_reaches_the_booking_rules():
    first = policy(vip_share_percent=10)
    second = policy(vip_share_percent=20)
    assert second.pk > first.pk and VipPolicy.current() == second
    assert BookingPolicy.current().vip_share_percent == 20
    with pytest.raises(ValidationError):
        second.note = "edited"
        second.save()
    with pytest.raises(ValidationError, match="tiers"):
        policy(gold_spend=Decimal("1"))


def test_a_revoked_vip_loses_the_badge_with_the_reason_kept(vip_managers):
    policy(auto_grant=True)
    person = client()
    spend(person, "60000")
    services.qualification_run()
    standing = VipStanding.objects.get(client=person)
    services.revoke(standing=standing, by=vip_managers[0], reason="客户要求取消")
    assert not _is_vip(person)
    event = VipEvent.objects.get(client=person, action="revoked")
    assert event.detail == "客户要求取消" and not event.by_rule
