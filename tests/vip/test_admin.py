"""The VIP admin: policy versions are only added (prefilled from the one in force, saved through
the service so the booking rules follow), enterprises' basics are edited with the pages' checks,
standings, candidates and history are read-only; phones are masked in the lists."""

from decimal import Decimal

import pytest
from django.urls import reverse

from consult.models import BookingPolicy
from tests.conftest import ROLE_USERNAMES
from tests.vip.factories import client, enterprise, policy, vip
from vip import services
from vip.models import Enterprise, VipCandidate, VipPolicy
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
POLICY_ADD = reverse("admin:vip_vippolicy_add")


def _body(response):
    return response.content.decode()


def _policy_form(current: VipPolicy, **overrides):
    form = {
        "personal_annual_spend": current.personal_annual_spend,
        "gold_spend": current.gold_spend,
        "platinum_spend": current.platinum_spend,
        "enterprise_annual_spend": current.enterprise_annual_spend,
        "enterprise_min_employees": current.enterprise_min_employees,
        "enterprise_min_revenue": current.enterprise_min_revenue,
        "window": current.window,
        "grace_days": current.grace_days,
        "vip_share_percent": current.vip_share_percent,
        "followup_interval_days": current.followup_interval_days,
        "note": "",
    }
    if current.auto_grant:
        form["auto_grant"] = "on"
    return form | overrides


def test_the_add_form_starts_from_the_version_in_force(admin_client_):
    policy(personal_annual_spend=Decimal("45000"), grace_days=60)
    form = admin_client_.get(POLICY_ADD).context["adminform"].form
    assert form.initial["personal_annual_spend"] == Decimal("45000.00")
    assert form.initial["grace_days"] == 60


def test_adding_a_policy_makes_a_new_version_and_moves_the_booking_share(admin_client_):
    first = policy(vip_share_percent=10)
    response = admin_client_.post(
        POLICY_ADD, _policy_form(first, vip_share_percent=25, note="旺季多留号"), **EN
    )
    assert response.status_code == 302
    second = VipPolicy.current()
    assert second.pk > first.pk
    assert (second.vip_share_percent, second.note) == (25, "旺季多留号")
    assert second.created_by.get_username() == ROLE_USERNAMES[roles.ADMINISTRATOR]
    assert BookingPolicy.current().vip_share_percent == 25
    first.refresh_from_db()
    assert first.vip_share_percent == 10  # the old version is kept as it was
    assert AuditEvent.objects.filter(action="create", object_type="vip.vippolicy").count() == 2


def test_tiers_that_do_not_rise_are_refused_on_the_form(admin_client_):
    current = policy()
    versions = VipPolicy.objects.count()
    page = admin_client_.post(POLICY_ADD, _policy_form(current, gold_spend="1000"), **EN)
    assert page.status_code == 200
    assert "The tiers must rise" in _body(page)
    assert VipPolicy.objects.count() == versions


@pytest.mark.parametrize(
    "field,value", [("vip_share_percent", "101"), ("grace_days", "-1"), ("window", "weekly")]
)
def test_a_wrong_value_is_refused_on_the_form(admin_client_, field, value):
    current = policy()
    versions = VipPolicy.objects.count()
    page = admin_client_.post(POLICY_ADD, _policy_form(current, **{field: value}), **EN)
    assert page.status_code == 200 and page.context["adminform"].form.errors[field]
    assert VipPolicy.objects.count() == versions


def test_a_version_is_neither_changed_nor_deleted(admin_client_):
    current = policy()
    versions = VipPolicy.objects.count()
    change = reverse("admin:vip_vippolicy_change", args=[current.pk])
    assert admin_client_.get(change).status_code == 200  # looked at
    admin_client_.post(change, _policy_form(current, grace_days=1))
    current.refresh_from_db()
    assert current.grace_days == 90
    delete = reverse("admin:vip_vippolicy_delete", args=[current.pk])
    assert admin_client_.get(delete).status_code == 403
    assert VipPolicy.objects.count() == versions


def test_the_policy_list_shows_who_when_and_the_thresholds(admin_client_):
    services.policy_add(by=None, note="门槛上调")
    html = _body(admin_client_.get(reverse("admin:vip_vippolicy_changelist")))
    assert "门槛上调" in html and "50000" in html


def test_an_enterprise_is_edited_in_the_admin_through_the_service(admin_client_):
    policy()
    firm = enterprise(contact_phone="+8613903710001")
    page = admin_client_.get(reverse("admin:vip_enterprise_changelist"))
    assert "139****0001" in _body(page) and "13903710001" not in _body(page)
    change = reverse("admin:vip_enterprise_change", args=[firm.pk])
    form = admin_client_.get(change).context["adminform"].form
    assert "is_vip" not in form.fields  # read-only: the qualification decides
    data = {
        "name": firm.name,
        "agreement_number": "NEW-1",
        "agreement_start": firm.agreement_start.isoformat(),
        "agreement_end": firm.agreement_end.isoformat(),
        "terms": "",
        "employee_count": "800",
        "annual_revenue": "0",
        "contact_name": "",
        "contact_phone": "139 0371 0002",
        "active": "on",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "0",
    }
    response = admin_client_.post(change, data)
    assert response.status_code == 302
    firm.refresh_from_db()
    assert (firm.agreement_number, firm.employee_count) == ("NEW-1", 800)
    assert firm.contact_phone == "+8613903710002"
    assert AuditEvent.objects.filter(action="update", object_type="vip.enterprise").exists()


def test_the_admin_refuses_a_duplicate_enterprise_name_in_words(admin_client_):
    policy()
    firm = enterprise()
    data = {
        "name": firm.name,
        "employee_count": "1",
        "annual_revenue": "0",
        "active": "on",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "0",
    }
    page = admin_client_.post(reverse("admin:vip_enterprise_add"), data, **EN)
    assert page.status_code == 200
    assert "An enterprise with this name already exists." in _body(page)
    assert Enterprise.objects.count() == 1


@pytest.mark.parametrize("model", ["vipstanding", "vipcandidate", "vipevent"])
def test_standings_candidates_and_history_are_read_only_lists(admin_client_, model):
    policy()
    standing = vip(client(phone="+8613812345678"))
    nominee = client(name="提名", phone="+8613812345679")
    services.nominate(client=nominee, by=None, reason="长期客户")
    changelist = admin_client_.get(reverse(f"admin:vip_{model}_changelist"))
    assert changelist.status_code == 200
    html = _body(changelist)
    assert "13812345678" not in html and "13812345679" not in html
    assert "138****" in html
    assert admin_client_.get(reverse(f"admin:vip_{model}_add")).status_code == 403
    objects = {
        "vipstanding": standing.pk,
        "vipcandidate": VipCandidate.objects.get().pk,
        "vipevent": standing.client.vip_events.first().pk,
    }
    change = reverse(f"admin:vip_{model}_change", args=[objects[model]])
    assert admin_client_.get(change).status_code == 200
    delete = reverse(f"admin:vip_{model}_delete", args=[objects[model]])
    assert admin_client_.get(delete).status_code == 403


def test_the_lists_filter(admin_client_):
    policy()
    vip(client())
    for model, query in (
        ("vipstanding", {"status__exact": "active", "kind__exact": "personal"}),
        ("vipevent", {"action__exact": "granted"}),
        ("vipcandidate", {"status__exact": "pending"}),
    ):
        assert admin_client_.get(reverse(f"admin:vip_{model}_changelist"), query).status_code == 200


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - {roles.ADMINISTRATOR}))
def test_only_administrators_open_the_vip_admin(client_for, role):
    assert client_for(role).get(POLICY_ADD).status_code in (302, 403)
