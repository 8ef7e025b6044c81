"""VIP's demo data (seed_demo): made through the real services, once; and the periodic jobs."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from config.schedules import DEFAULT_SCHEDULES
from demo import exams as demo_exams
from demo.vips import POLICY
from guide.models import Charge
from tests.factories import UserFactory
from tests.vip.factories import client, policy, spend
from vip import tasks
from vip.models import Enterprise, VipCandidate, VipPolicy, VipStanding
from zhongdu import roles
from zhongdu.models import ClinicSession, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    # pytest-django runs tests with DEBUG off; the demo seeding is for development.
    settings.DEBUG = True


def _counts():
    return (
        VipPolicy.objects.count(),
        Enterprise.objects.count(),
        VipStanding.objects.count(),
        VipCandidate.objects.count(),
        Charge.objects.count(),
    )


def test_seed_demo_makes_vips_of_every_kind_enterprises_and_candidates(client_for):
    call_command("seed_demo", password="winter-plum-2026", days=0)
    current = VipPolicy.current()
    assert current.personal_annual_spend == POLICY["personal_annual_spend"] == Decimal("50000")
    assert current.created_by.get_username() == "vipmgr"
    active = VipStanding.objects.filter(status="active")
    assert {s.kind for s in active} == {"personal", "enterprise"}
    assert {s.tier for s in active.filter(kind="personal")} == {"standard", "gold", "platinum"}
    assert active.filter(escort__isnull=False).count() == 3
    # The VIP demo's two enterprises (the post-exam demo adds a third, for its exam rounds).
    firms = Enterprise.objects.exclude(name=demo_exams.ROUND_ENTERPRISE["name"]).order_by("pk")
    assert [f.is_vip for f in firms] == [True, False]
    assert firms[0].members.count() == 5 and firms[1].members.count() == 3
    pending = VipCandidate.objects.filter(status="pending")
    assert sorted(pending.values_list("kind", flat=True)) == ["nomination", "personal"]
    nomination = pending.get(kind="nomination")
    assert nomination.nominated_by.get_username() == "vipmgr"  # a second person decides
    # The pages open on it: the roster, a VIP's costs, the candidates.
    http = client_for(roles.MANAGER)
    assert http.get(reverse("vip:roster")).context["counts"]["total"] == active.count()
    platinum = active.get(tier="platinum")
    costs = http.get(reverse("vip:vip_costs", args=[platinum.client_id])).context["summary"]
    assert costs["spend"] == platinum.spend and costs["discount"] > 0
    assert len(http.get(reverse("vip:candidate_list")).context["candidates"]) == 2


def test_seed_demo_makes_the_vip_data_once():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    counts = _counts()
    call_command("seed_demo", password="winter-plum-2026", days=0)
    assert _counts() == counts


# --- The periodic jobs --------------------------------------------------------------------


def test_the_vip_jobs_are_in_the_default_schedules():
    jobs = {name: (task, every) for name, task, every in DEFAULT_SCHEDULES}
    assert jobs["vip.qualification_run"] == ("vip.tasks.vip_qualification_run", 86400)
    assert jobs["vip.care_calls_plan"] == ("vip.tasks.vip_care_calls_plan", 86400)


def test_the_nightly_job_tells_the_vip_managers_of_lapses():
    import datetime

    from django.utils import timezone

    from guide.models import Charge as ChargeModel

    roles.sync_group_permissions()
    manager = UserFactory(username="vm_on_duty", roles=[roles.VIP_MANAGER])
    policy(auto_grant=True, grace_days=0)
    person = client()
    charge = spend(person, "60000")
    tasks.vip_qualification_run()
    ChargeModel.objects.filter(pk=charge.pk).update(
        charged_at=timezone.now() - datetime.timedelta(days=400)
    )
    VipStanding.objects.filter(client=person).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    counts = tasks.vip_qualification_run()
    assert counts["lapsed"] == 1
    notice = Notification.objects.get(recipient=manager)
    assert "1" in notice.text and notice.url == "/vip/"


def test_seed_demo_puts_the_escorted_vips_on_todays_board(client_for):
    # A few days of history too: its bookings for today must not put a VIP on the board
    # without the priority mark and an escort.
    call_command("seed_demo", password="winter-plum-2026", days=3)
    if not ClinicSession.objects.filter(date=timezone.localdate()).exists():
        pytest.skip("no clinic sessions today (a day the demo hospital is closed)")
    board = client_for(roles.FRONT_DESK).get(reverse("guide:today")).context["board"]
    vips = [row for row in board.rows if row.vip]
    assert board.vips == len(vips) >= 1
    assert all(row.priority and (row.escort or row.named_escort) for row in vips)
