"""The front desk's demo data: made through the real services, once."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from consult.models import Booking
from guide.models import DisplayScreen, ExamPackage, TriageKeyword, Visit
from zhongdu import roles
from zhongdu.models import ClinicSession
from zhongdu.roles import two_factor_required, user_roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    # pytest-django runs tests with DEBUG off; the demo seeding is for development.
    settings.DEBUG = True


def test_seed_demo_opens_the_day_on_a_board_with_arrivals_at_every_step(front_desk_client):
    call_command("seed_demo", password="winter-plum-2026", days=0)
    assert TriageKeyword.objects.filter(keyword="荨麻疹").exists()
    assert ExamPackage.objects.count() == 4
    assert ExamPackage.objects.get(price_item__code="TC001").items.count() == 4
    today = timezone.localdate()
    if not ClinicSession.objects.filter(date=today).exists():
        pytest.skip("no demo expert sits on this weekday")
    if not ClinicSession.objects.filter(date=today, start_time__lte=timezone.localtime()).exists():
        pytest.skip("no session has begun yet today: nobody has arrived (tests/demo)")
    assert Booking.objects.filter(session__date=today).count() > 10
    states = set(Visit.objects.filter(day=today).values_list("status", flat=True))
    assert {"waiting", "with_doctor"} <= states
    response = front_desk_client.get(reverse("guide:today"))
    assert response.context["board"].total > 10


def test_seed_demo_makes_the_front_desk_data_once():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    counts = (TriageKeyword.objects.count(), Booking.objects.count(), Visit.objects.count())
    call_command("seed_demo", password="winter-plum-2026", days=0)
    assert (TriageKeyword.objects.count(), Booking.objects.count(), Visit.objects.count()) == counts


def test_seed_demo_gives_the_doctor_the_calling_station_and_one_waiting_room_screen(client):
    call_command("seed_demo", password="winter-plum-2026", days=0)
    call_command("seed_demo", password="winter-plum-2026", days=0)
    screen = DisplayScreen.objects.get()
    assert client.get(screen.get_absolute_url()).status_code == 200
    doctor = get_user_model().objects.get(username="doctor")
    assert user_roles(doctor) == {roles.CLINICIAN}
    assert not two_factor_required(doctor)
    client.force_login(doctor)
    station = client.get(reverse("guide:calling"))
    assert station.status_code == 200
    assert station.context["board"].department == screen.department
