import io
import re
from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

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
    "doctor": roles.CLINICIAN,
}


def test_seed_demo_creates_one_user_per_role_with_the_password():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    users = get_user_model().objects.filter(username__in=DEMO)
    assert {user.username: set(user_roles(user)) for user in users} == {
        name: {role} for name, role in DEMO.items()
    }
    assert all(user.check_password("winter-plum-2026") for user in users)
    assert [u.username for u in users if u.is_staff] == ["admin"]
    assert not any(user.is_superuser for user in users)


def test_seed_demo_is_idempotent_and_resets_the_password():
    call_command("seed_demo", password="winter-plum-2026", days=0)
    call_command("seed_demo", password="spring-lotus-2027", days=0)
    assert get_user_model().objects.filter(username__in=DEMO).count() == len(DEMO)
    assert get_user_model().objects.get(username="frontdesk").check_password("spring-lotus-2027")
    # The hotline's demo agents, whom the scripted PBX rings (scripts/fake_pbx.py).
    from voice.models import Agent

    agents = Agent.objects.order_by("extension")
    assert [(a.extension, a.user.username) for a in agents] == [
        ("8001", "consultant"),
        ("8002", "clientmgr"),
        ("8003", "vipmgr"),
    ]
    assert [q.code for q in agents[2].queues.order_by("code")] == ["hotline", "vip"]


def test_seed_demo_dry_run_changes_nothing():
    call_command("seed_demo", password="winter-plum-2026", days=0, dry_run=True)
    assert not get_user_model().objects.filter(username__in=DEMO).exists()


@override_settings(DEBUG=False)
def test_seed_demo_refuses_in_production_unless_forced():
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", password="winter-plum-2026", days=0)
    call_command("seed_demo", password="winter-plum-2026", days=0, force=True)
    assert get_user_model().objects.filter(username__in=DEMO).count() == len(DEMO)


def test_seed_demo_refuses_a_short_password():
    with pytest.raises(CommandError, match="10 characters"):
        call_command("seed_demo", password="short", days=0)


def test_demo_users_can_sign_in(client):
    call_command("seed_demo", password="winter-plum-2026", days=0)
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


DEMO_PASSWORD = "winter-plum-2026"


def _seed(password=DEMO_PASSWORD):
    out = io.StringIO()
    call_command("seed_demo", password=password, days=0, stdout=out)
    return out.getvalue()


def _printed(output, username):
    """(secret, backup codes) printed for a demo user."""
    match = re.search(rf"^  {username}: secret (\w+)[^;]*; backup codes ([\w ]+)$", output, re.M)
    return match.group(1), match.group(2).split()


def test_seed_demo_gives_the_users_who_need_a_code_a_secret_and_backup_codes():
    output = _seed()
    with_devices = set(TOTPDevice.objects.values_list("user__username", flat=True))
    assert with_devices == {"admin", "manager", "vipmgr"}
    for username in with_devices:
        secret, codes = _printed(output, username)
        device = TOTPDevice.objects.get(user__username=username)
        assert b32decode(secret) == device.bin_key
        assert device.name == "default" and device.confirmed
        assert len(codes) == 5
    assert "frontdesk: secret" not in output


def test_seed_demo_again_keeps_the_secrets_and_makes_no_more_devices():
    first = _seed()
    second = _seed(password="spring-lotus-2027")
    assert TOTPDevice.objects.count() == 3
    assert StaticDevice.objects.count() == 3
    for username in ("admin", "manager", "vipmgr"):
        assert _printed(first, username) == _printed(second, username)
    assert "(new secret)" in first and "(new secret)" not in second


def test_a_demo_manager_signs_in_with_the_printed_secret(client):
    secret, _codes = _printed(_seed(), "manager")
    login = "/accounts/login/"
    client.post(
        login,
        {
            "login_view-current_step": "auth",
            "auth-username": "manager",
            "auth-password": "winter-plum-2026",
        },
    )
    code = f"{totp(b32decode(secret)):06d}"
    response = client.post(login, {"login_view-current_step": "token", "token-otp_token": code})
    assert response["Location"] == "/"
    assert client.get("/reports/").status_code == 200


def test_the_role_groups_hold_the_permissions_the_table_gives_them():
    call_command("seed_demo", password="winter-plum-2026", days=0)
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
