"""After the exam's demo data: exam rounds with results, some abnormal, one critical, one
enterprise round with last year's to compare, made through the real services, once."""

import pytest
from django.core.management import call_command

from clientmgmt import consent
from clientmgmt.models import ClientConsent
from exams.models import ExamResult, ExamRound, ResultRelease
from guide.models import ExamOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    settings.DEBUG = True


def test_seed_demo_adds_results_some_abnormal_one_critical_and_an_enterprise_round():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    released = ExamResult.objects.filter(order__release__isnull=False)
    assert released.filter(flag="critical").count() == 1
    assert released.filter(flag="abnormal").count() > 10
    assert released.filter(flag="normal").count() > 100
    # One order waits for the doctor's release, one for its results.
    waiting = ExamOrder.objects.filter(release__isnull=True)
    assert waiting.filter(results__isnull=False).distinct().count() == 1
    assert waiting.filter(results__isnull=True).count() >= 1
    rounds = list(ExamRound.objects.order_by("starts_on"))
    assert len(rounds) == 2 and rounds[0].enterprise == rounds[1].enterprise
    members = rounds[1].enterprise.members.values("client")
    agreed = ClientConsent.objects.filter(
        client__in=members, purpose=consent.EMPLOYER_AGGREGATE, granted=True
    )
    assert agreed.count() == 34
    counts = (ResultRelease.objects.count(), ExamResult.objects.count(), ExamRound.objects.count())
    call_command("seed_demo", password="winter-plum-2026", days=0)
    again = (ResultRelease.objects.count(), ExamResult.objects.count(), ExamRound.objects.count())
    assert again == counts
