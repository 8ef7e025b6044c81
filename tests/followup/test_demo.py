"""Follow-up's demo data: the care-plan templates and a workbench that is not empty for
clientmgr, made through the real services, once."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demo import exams as demo_exams
from followup.models import CarePlan, CarePlanTemplate, FollowUpCall
from messaging.models import OutboxMessage
from surveys.models import SurveyResponse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    # pytest-django runs tests with DEBUG off; the demo seeding is for development.
    settings.DEBUG = True


def test_seed_demo_gives_clientmgr_calls_due_today_and_one_overdue():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    # Follow-up's five, and one health plan template per finding of the post-exam demo.
    assert CarePlanTemplate.objects.count() == 5 + len(demo_exams.FINDINGS)
    laser = CarePlanTemplate.objects.get(name="激光术后护理")
    assert [step.day_offset for step in laser.steps.all()] == [1, 3, 7, 30]
    assert laser.steps.get(day_offset=7).sms_template.code == "followup_reminder"
    assert CarePlanTemplate.objects.get(name="体检后健康管理").kind == "health"
    assert CarePlan.objects.count() == 5
    assert SurveyResponse.objects.filter(source="call").exists()  # earlier timepoints answered
    assert OutboxMessage.objects.filter(idempotency_key__startswith="careplan-step:").exists()
    http = Client()
    http.force_login(get_user_model().objects.get(username="clientmgr"))
    page = http.get(reverse("followup:call_list"))
    assert page.status_code == 200
    calls = list(page.context["calls"])
    assert len(calls) >= 5
    assert any(call.attempts == 0 and call.due_on < page.context["today"] for call in calls)
    assert page.context["counts"]["pool"] == 1


def test_seed_demo_makes_the_follow_up_data_once():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    counts = (
        CarePlanTemplate.objects.count(),
        CarePlan.objects.count(),
        FollowUpCall.objects.count(),
    )
    call_command("seed_demo", password="winter-plum-2026", days=0)
    assert (
        CarePlanTemplate.objects.count(),
        CarePlan.objects.count(),
        FollowUpCall.objects.count(),
    ) == counts
