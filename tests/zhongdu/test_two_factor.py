"""Two-factor sign-in: the roles in TWO_FACTOR_REQUIRED_ROLES enrol an authenticator app before
any page and enter its code (or a backup code) at every sign-in; other staff sign in with their
password and may enrol. Through the real stack: the sign-in wizard and the enrolment wizard as
their forms post them, codes computed from the device's secret."""

import time
from base64 import b32decode
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD, UserFactory
from tests.zhongdu.test_settings import _manage
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SETUP = "/accounts/two_factor/setup/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _user(role, username="lin"):
    roles.sync_group_permissions()
    return UserFactory(username=username, roles=[role])


def _device(user):
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def _code(device, *, drift=0):
    return f"{totp(device.bin_key, drift=drift):06d}"


def _password_step(client, username="lin", password=TEST_PASSWORD, next_url=""):
    data = {
        "login_view-current_step": "auth",
        "auth-username": username,
        "auth-password": password,
    }
    url = f"{LOGIN}?next={quote(next_url)}" if next_url else LOGIN
    return client.post(url, data, **EN)


def _code_step(client, code, next_url=""):
    data = {"login_view-current_step": "token", "token-otp_token": code}
    url = f"{LOGIN}?next={quote(next_url)}" if next_url else LOGIN
    return client.post(url, data, **EN)


def _signed_in(client):
    return "_auth_user_id" in client.session


# --- Who must use it ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.MANAGER, roles.ADMINISTRATOR, roles.VIP_MANAGER])
@pytest.mark.parametrize(
    "page", ["/", "/clients/", "/desk/", "/notifications/", "/accounts/password/", "/book/"]
)
def test_a_required_role_without_a_device_is_sent_to_set_one_up_from_any_page(client, role, page):
    client.force_login(_user(role))
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next={quote(page, safe='')}"


def test_the_password_alone_signs_a_required_user_without_a_device_in_and_sends_them_to_enrol(
    client,
):
    _user(roles.MANAGER)
    response = _password_step(client)
    assert response.status_code == 302
    assert _signed_in(client)
    home = client.get(response["Location"])
    assert home["Location"].startswith(SETUP)


def test_signing_out_switching_language_and_the_health_check_stay_open_before_enrolling(client):
    client.force_login(_user(roles.MANAGER))
    assert client.get(reverse("healthz")).status_code in (200, 503)
    switched = client.post(reverse("set_language"), {"language": "en", "next": "/clients/"})
    assert switched["Location"] == "/clients/"
    assert client.get(SETUP).status_code == 200
    assert client.post(reverse("logout"))["Location"] == LOGIN
    assert not _signed_in(client)


def test_after_setting_up_an_app_with_its_code_the_manager_reaches_the_page(client):
    user = _user(roles.MANAGER)
    client.force_login(user)
    first = client.get("/clients/")
    welcome = client.get(first["Location"], **EN)
    assert "must sign in with a code from an authenticator app" in welcome.content.decode()
    page = client.post(first["Location"], {"setup_view-current_step": "welcome"}, **EN)
    secret = page.context["secret_key"]
    assert secret in page.content.decode()
    assert client.get(page.context["QR_URL"])["Content-Type"].startswith("image/svg+xml")
    code = f"{totp(b32decode(secret)):06d}"
    done = client.post(
        first["Location"], {"setup_view-current_step": "generator", "generator-token": code}
    )
    assert done.status_code == 302
    assert done["Location"] == "/clients/"
    assert client.get("/clients/").status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.name == "default" and device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_wrong_code_while_setting_up_is_refused_and_makes_no_device(client):
    client.force_login(_user(roles.MANAGER))
    client.post(SETUP, {"setup_view-current_step": "welcome"})
    page = client.post(
        SETUP, {"setup_view-current_step": "generator", "generator-token": "000000"}, **EN
    )
    assert page.status_code == 200
    assert "That code is not right" in page.content.decode()
    assert not TOTPDevice.objects.exists()
    assert client.get("/clients/")["Location"].startswith(SETUP)


# --- Signing in with a device -------------------------------------------------------------------


def test_a_required_user_with_a_device_is_asked_for_the_code_after_the_password(client):
    device = _device(_user(roles.MANAGER))
    page = _password_step(client)
    assert page.status_code == 200
    assert "Enter the six-digit code" in page.content.decode()
    assert not _signed_in(client)  # the password alone is not enough
    assert client.get("/clients/")["Location"].startswith(LOGIN)
    response = _code_step(client, _code(device))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/clients/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN, actor=device.user).exists()


def test_the_code_step_returns_to_the_page_asked_for(client):
    device = _device(_user(roles.VIP_MANAGER))
    _password_step(client, next_url="/vip/")
    response = _code_step(client, _code(device), next_url="/vip/")
    assert response["Location"] == "/vip/"


def test_a_wrong_code_is_refused_with_a_clear_message_and_recorded(client):
    device = _device(_user(roles.ADMINISTRATOR))
    _password_step(client)
    page = _code_step(client, _code(device, drift=-10))
    assert page.status_code == 200
    assert "That code is not right" in page.content.decode()
    assert not _signed_in(client)
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert failed.actor_username == "lin"
    assert failed.reason == "wrong two-factor code"


def test_the_wrong_code_message_is_in_chinese_by_default(client):
    device = _device(_user(roles.MANAGER))
    _password_step(client)
    page = client.post(
        LOGIN,
        {"login_view-current_step": "token", "token-otp_token": _code(device, drift=-10)},
    )
    body = page.content.decode()
    assert "验证码不正确" in body
    assert "身份验证器应用中的验证码" in body  # the field's label


def test_a_code_long_after_the_password_starts_the_sign_in_again(client, monkeypatch):
    device = _device(_user(roles.MANAGER))
    _password_step(client)
    code = _code(device)
    # The wizard's clock (the library's module), five minutes and a second later.
    later = SimpleNamespace(time=lambda: time.time() + 301)
    monkeypatch.setattr("two_factor.views.core.time", later)
    page = _code_step(client, code)
    assert "sign in again" in page.content.decode()
    assert "auth-username" in page.content.decode()
    assert not _signed_in(client)


def test_a_backup_code_signs_in_once(client):
    user = _user(roles.MANAGER)
    _device(user)
    backup = StaticDevice.objects.create(user=user, name="backup")
    StaticToken.objects.create(device=backup, token="kq3v7m2x")

    def with_backup_code():
        _password_step(client)
        step = client.post(
            LOGIN, {"login_view-current_step": "token", "wizard_goto_step": "backup"}
        )
        assert "backup-otp_token" in step.content.decode()
        return client.post(
            LOGIN, {"login_view-current_step": "backup", "backup-otp_token": "kq3v7m2x"}, **EN
        )

    assert with_backup_code()["Location"] == reverse("home")
    assert client.get("/clients/").status_code == 200
    client.post(reverse("logout"))
    again = with_backup_code()
    assert again.status_code == 200
    assert "That backup code is not valid" in again.content.decode()
    assert not _signed_in(client)


def test_a_session_that_never_entered_the_code_is_signed_out_and_asked_for_it(client):
    # A session signed in some other way (before the role was given, before enrolling elsewhere).
    user = _user(roles.MANAGER)
    _device(user)
    client.force_login(user)
    response = client.get("/clients/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/clients/"
    assert not _signed_in(client)


def test_a_removed_device_stops_verifying_its_sessions_within_a_minute(client, monkeypatch):
    user = _user(roles.MANAGER)
    device = _device(user)
    _password_step(client)
    _code_step(client, _code(device))
    assert client.get("/clients/").status_code == 200
    device.delete()
    # The middleware's clock, a minute and a second later.
    later = SimpleNamespace(time=lambda: time.time() + 61)
    monkeypatch.setattr("zhongdu.middleware.time", later)
    response = client.get("/clients/")
    assert response["Location"].startswith(SETUP)


def test_the_admins_own_sign_in_page_is_the_two_factor_sign_in(client_for):
    administrator = client_for(roles.ADMINISTRATOR)
    # Signed in and verified: on to the admin, as Django's own admin sign-in does.
    going_on = administrator.get("/admin/login/?next=/admin/auth/")
    assert going_on["Location"] == "/admin/auth/"
    # A password posted to the admin's form signs nobody in: it is not a sign-in form.
    administrator.post(reverse("logout"))
    _user(roles.FRONT_DESK)
    posted = administrator.post(
        "/admin/login/", {"username": "lin", "password": TEST_PASSWORD}, follow=False
    )
    assert posted["Location"].startswith(LOGIN)
    assert not _signed_in(administrator)


# --- Other staff --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [roles.FRONT_DESK, roles.CONSULTANT, roles.CLIENT_MANAGER], ids=str
)
def test_other_roles_sign_in_with_the_password_alone(client, role):
    _user(role)
    response = _password_step(client)
    assert response["Location"] == reverse("home")
    assert client.get("/clients/").status_code == 200


def test_other_staff_may_enrol_and_are_then_asked_for_the_code(client):
    user = _user(roles.FRONT_DESK)
    client.force_login(user)
    profile = client.get(reverse("two_factor:profile"), **EN)
    assert "Two-factor sign-in is off" in profile.content.decode()
    secret = client.post(SETUP, {"setup_view-current_step": "welcome"}).context["secret_key"]
    client.post(
        SETUP,
        {
            "setup_view-current_step": "generator",
            "generator-token": f"{totp(b32decode(secret)):06d}",
        },
    )
    client.post(reverse("logout"))
    assert _password_step(client).status_code == 200  # the code step
    assert not _signed_in(client)


def test_other_staff_may_turn_it_off_and_required_roles_may_not(client, client_for):
    voluntary = _user(roles.FRONT_DESK)
    device = _device(voluntary)
    _password_step(client)
    _code_step(client, _code(device))
    response = client.post(reverse("two_factor:disable"), {"understand": "on"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=voluntary).exists()

    manager = client_for(roles.MANAGER)
    refused = manager.post(reverse("two_factor:disable"), {"understand": "on"}, follow=True, **EN)
    assert "cannot be turned off" in refused.content.decode()
    assert TOTPDevice.objects.filter(user__username="t_manager").exists()


def test_backup_codes_are_made_and_shown_on_their_page(client_for):
    manager = client_for(roles.MANAGER)
    manager.post(reverse("two_factor:backup_tokens"))
    page = manager.get(reverse("two_factor:backup_tokens"))
    tokens = StaticToken.objects.filter(device__user__username="t_manager")
    assert tokens.count() == 10
    assert all(token.token in page.content.decode() for token in tokens)


# --- The setting --------------------------------------------------------------------------------


def test_the_setting_decides_who_must_use_it(client, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = [roles.FRONT_DESK]
    desk = _user(roles.FRONT_DESK, username="desk")
    manager = _user(roles.MANAGER, username="boss")
    client.force_login(desk)
    assert client.get("/clients/")["Location"].startswith(SETUP)
    client.force_login(manager)
    assert client.get("/clients/").status_code == 200


def test_the_setting_is_read_from_the_environment():
    shown = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.TWO_FACTOR_REQUIRED_ROLES)",
        TWO_FACTOR_REQUIRED_ROLES="front_desk,consultant",
    )
    assert shown.stdout.splitlines()[-1] == "['front_desk', 'consultant']"


def test_a_mistyped_role_in_the_setting_fails_loudly():
    result = _manage("check", TWO_FACTOR_REQUIRED_ROLES="administrator,managers")
    assert result.returncode != 0
    assert "TWO_FACTOR_REQUIRED_ROLES names roles that do not exist: managers" in result.stderr


def test_the_role_fixtures_are_verified_sessions(client_for):
    for role in (roles.MANAGER, roles.ADMINISTRATOR, roles.VIP_MANAGER, roles.FRONT_DESK):
        assert client_for(role).get("/clients/").status_code == 200
