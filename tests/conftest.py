"""Shared fixtures: one signed-in client per role, plus an anonymous one."""

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from zhongdu import roles
from zhongdu.backends import forget_group_permissions
from zhongdu.roles import two_factor_required

ROLE_USERNAMES = {
    roles.FRONT_DESK: "t_frontdesk",
    roles.CONSULTANT: "t_consultant",
    roles.CLIENT_MANAGER: "t_clientmgr",
    roles.VIP_MANAGER: "t_vipmgr",
    roles.MANAGER: "t_manager",
    roles.ADMINISTRATOR: "t_admin",
    roles.CLINICIAN: "t_clinician",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: a count kept by an earlier test (whose rows were
    rolled back, and whose ids SQLite gives out again) must not show in this one, nor groups'
    permissions that an earlier test changed."""
    cache.clear()
    forget_group_permissions()


@pytest.fixture
def role_user(db):
    """role_user("front_desk") -> a user holding exactly that role."""

    def make(role):
        roles.sync_group_permissions()
        return UserFactory(
            username=ROLE_USERNAMES[role],
            roles=[role],
            is_staff=role == roles.ADMINISTRATOR,
        )

    return make


def verify_session(client, user):
    """Give a signed-in test client's session what a sign-in with an authenticator app's code
    leaves: the user's device (made once, named "default" as the enrolment names it) recorded
    as the one that verified this session (django_otp's OTPMiddleware reads it)."""
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def client_for(role_user):
    """client_for("consultant") -> a test client signed in as that role; None -> anonymous.
    The roles that must sign in with two factors get a device and a session verified by it."""

    def make(role):
        client = Client()
        if role is not None:
            user = role_user(role)
            client.force_login(user)
            if two_factor_required(user):
                verify_session(client, user)
        return client

    return make


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's superuser client, verified as a sign-in with a code: a superuser holds
    every role, so must use two-factor sign-in."""
    client.force_login(admin_user)
    verify_session(client, admin_user)
    return client


@pytest.fixture
def memory_sms(settings):
    """SMS kept in memory (zhongdu.sms) and no quiet hours unless a test sets them: the suite may
    run at any hour."""
    from zhongdu import sms

    settings.SMS_BACKEND = "memory"
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0
    sms.clear()
    yield
    sms.clear()


@pytest.fixture
def mainland_via_twilio(settings, db):
    """Every number through Twilio, mainland ones on the cross-border route an administrator
    enabled with its legal basis (messaging.rules.route_refusal)."""
    from messaging.models import SmsRoutePolicy

    settings.SMS_BACKEND = "twilio"
    settings.SMS_ROUTES = {"cn": "twilio", "other": "twilio"}
    return SmsRoutePolicy.objects.create(
        mainland_via_twilio=True, legal_basis="Separate consent; standard contract filed."
    )


@pytest.fixture
def front_desk_client(client_for):
    return client_for(roles.FRONT_DESK)


@pytest.fixture
def consultant_client(client_for):
    return client_for(roles.CONSULTANT)


@pytest.fixture
def client_manager_client(client_for):
    return client_for(roles.CLIENT_MANAGER)


@pytest.fixture
def vip_manager_client(client_for):
    return client_for(roles.VIP_MANAGER)


@pytest.fixture
def manager_client(client_for):
    return client_for(roles.MANAGER)


@pytest.fixture
def clinician_client(client_for):
    return client_for(roles.CLINICIAN)


@pytest.fixture
def admin_client_(client_for):
    """The administrator role (pytest-django's own admin_client is a superuser, not a role)."""
    return client_for(roles.ADMINISTRATOR)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so the browser fixture can tell a failure.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser(request, live_server):
    """A headless Chromium on the live server; screenshots itself when the test fails."""
    from tests.browser import browser_available, make_driver, save_screenshot

    if not browser_available:
        pytest.skip("needs Debian's chromium and chromium-driver (CI installs them)")
    driver = make_driver()
    driver.live_url = live_server.url
    yield driver
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(driver, request.node.name)
    driver.quit()
