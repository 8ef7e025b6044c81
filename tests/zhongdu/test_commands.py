import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from zhongdu import roles
from zhongdu.roles import user_roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    # pytest-django runs tests with DEBUG off; the demo seeding is for development.
    settings.DEBUG = True


DEMO = {
    "admin": roles.ADMINISTRATOR,
    "frontdesk": roles.FRONT_DESK,
    "consultant": roles.CONSULTANT,
    "clientmgr": roles.CLIENT_MANAGER,
    "vipmgr": roles.VIP_MANAGER,
    "manager": roles.MANAGER,
}


def test_seed_demo_creates_one_user_per_role_with_the_password():
    call_command("seed_demo", password="winter-plum-2026")
    users = get_user_model().objects.filter(username__in=DEMO)
    assert {user.username: set(user_roles(user)) for user in users} == {
        name: {role} for name, role in DEMO.items()
    }
    assert all(user.check_password("winter-plum-2026") for user in users)
    assert [u.username for u in users if u.is_staff] == ["admin"]
    assert not any(user.is_superuser for user in users)


def test_seed_demo_is_idempotent_and_resets_the_password():
    call_command("seed_demo", password="winter-plum-2026")
    call_command("seed_demo", password="spring-lotus-2027")
    assert get_user_model().objects.filter(username__in=DEMO).count() == 6
    assert get_user_model().objects.get(username="frontdesk").check_password("spring-lotus-2027")


def test_seed_demo_dry_run_changes_nothing():
    call_command("seed_demo", password="winter-plum-2026", dry_run=True)
    assert not get_user_model().objects.filter(username__in=DEMO).exists()


@override_settings(DEBUG=False)
def test_seed_demo_refuses_in_production_unless_forced():
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", password="winter-plum-2026")
    call_command("seed_demo", password="winter-plum-2026", force=True)
    assert get_user_model().objects.filter(username__in=DEMO).count() == 6


def test_seed_demo_refuses_a_short_password():
    with pytest.raises(CommandError, match="10 characters"):
        call_command("seed_demo", password="short")


def test_demo_users_can_sign_in(client):
    call_command("seed_demo", password="winter-plum-2026")
    response = client.post(
        "/accounts/login/",
        {
            "login_view-current_step": "auth",
            "auth-username": "frontdesk",
            "auth-password": "winter-plum-2026",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_role_groups_hold_the_permissions_the_table_gives_them():
    call_command("seed_demo", password="winter-plum-2026")
    admin = get_user_model().objects.get(username="admin")
    manager = get_user_model().objects.get(username="manager")
    frontdesk = get_user_model().objects.get(username="frontdesk")
    assert admin.has_perm("auth.change_user")
    assert admin.has_perm("django_celery_beat.change_periodictask")
    assert admin.has_perm("zhongdu.view_auditevent")
    assert not admin.has_perm("zhongdu.change_auditevent")
    assert not admin.has_perm("zhongdu.delete_auditevent")
    assert manager.has_perm("zhongdu.view_auditevent")
    assert not frontdesk.has_perm("zhongdu.view_auditevent")


def test_install_schedules_is_idempotent_and_keeps_an_administrators_edit():
    call_command("install_schedules")
    task = PeriodicTask.objects.get(name="zhongdu.heartbeat")
    assert task.task == "zhongdu.tasks.heartbeat"
    assert task.interval.every == 60
    task.interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    task.save()
    call_command("install_schedules")
    assert PeriodicTask.objects.filter(name="zhongdu.heartbeat").count() == 1
    assert PeriodicTask.objects.get(name="zhongdu.heartbeat").interval.every == 5
