import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _credentials(username, password):
    """The first step of the sign-in wizard, as its form posts it."""
    return {
        "login_view-current_step": "auth",
        "auth-username": username,
        "auth-password": password,
    }


def _sign_in(client, username="nurse", password=TEST_PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, _credentials(username, password), REMOTE_ADDR=ip, follow=False)


def test_it_signs_in_with_username_and_password_and_records_it(client):
    user = UserFactory(username="nurse")
    response = _sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert event.actor == user
    assert event.ip_address == "10.0.0.1"


def test_it_records_a_failed_sign_in_with_the_typed_username(client):
    UserFactory(username="nurse")
    response = _sign_in(client, password="wrong-password")
    assert response.status_code == 200
    assert "username" in response.context["form"].fields
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_username == "nurse"


def test_it_locks_a_username_and_ip_pair_after_five_failures(client, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=45)
    UserFactory(username="nurse")
    for _ in range(5):
        _sign_in(client, password="wrong-password")
    response = _sign_in(client)  # even the right password is refused now
    assert response.status_code == 429
    body = response.content.decode()
    assert "45 分钟" in body and "45 minutes" in body
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_only_for_that_ip(client):
    UserFactory(username="nurse")
    for _ in range(5):
        _sign_in(client, password="wrong-password", ip="10.0.0.1")
    assert _sign_in(client, ip="10.0.0.2").status_code == 302


def test_the_lock_lifts_after_thirty_minutes(client):
    UserFactory(username="nurse")
    for _ in range(5):
        _sign_in(client, password="wrong-password")
    assert _sign_in(client).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert _sign_in(client).status_code == 302


def test_behind_a_proxy_the_lock_is_per_client_not_per_proxy(client, settings):
    settings.DJANGO_PROXY_COUNT = 1
    UserFactory(username="nurse")
    for _ in range(5):
        client.post(
            LOGIN,
            _credentials("nurse", "wrong-password"),
            REMOTE_ADDR="10.0.0.9",
            HTTP_X_FORWARDED_FOR="203.0.113.1",
        )
    other_desk = client.post(
        LOGIN,
        _credentials("nurse", TEST_PASSWORD),
        REMOTE_ADDR="10.0.0.9",
        HTTP_X_FORWARDED_FOR="203.0.113.2",
    )
    assert other_desk.status_code == 302


def test_an_absurdly_long_username_is_refused_not_crashed_on(client):
    response = client.post(LOGIN, _credentials("x" * 5000, "whatever-it-is"))
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="login-failed").actor_username == "x" * 150


def test_a_forged_forwarded_address_is_ignored(client, settings):
    settings.DJANGO_PROXY_COUNT = 1
    UserFactory(username="nurse")
    response = client.post(
        LOGIN,
        _credentials("nurse", TEST_PASSWORD),
        REMOTE_ADDR="10.0.0.9",
        HTTP_X_FORWARDED_FOR="not-an-ip",
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="login").ip_address == "10.0.0.9"


def test_sign_out_needs_a_post(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(LOGIN)


def test_there_is_no_self_registration(client):
    assert client.get("/accounts/signup/").status_code == 404
    assert client.get("/accounts/register/").status_code == 404


def _age_session(client, *, idle=0, started=0):
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED] = now - started
    session[SESSION_LAST_SEEN] = now - idle
    session.save()


def test_an_idle_session_ends_thirty_minutes_after_the_last_request(client):
    client.force_login(UserFactory())
    client.get(reverse("home"))
    # The stored last-seen time may lag the last request by up to a minute (it is written at
    # most once a minute), so the limit is checked against 31 minutes of it: never early.
    _age_session(client, idle=31 * 60 + 1, started=31 * 60 + 1)
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "Your session has expired" in page.content.decode()


def test_each_request_restarts_the_idle_clock(client):
    client.force_login(UserFactory())
    _age_session(client, idle=29 * 60, started=5 * 3600)
    assert client.get(reverse("home")).status_code == 200
    assert int(time.time()) - client.session[SESSION_LAST_SEEN] < 5
    # 29 more minutes later the user is still in: the clock counted from the last request.
    _age_session(client, idle=29 * 60, started=5 * 3600)
    assert client.get(reverse("home")).status_code == 200


class _Clock:
    """The middleware's clock (zhongdu.middleware.time), moved by hand; the sign-in's too
    (zhongdu.receivers.time), or a sign-in a second boundary after the clock was made would
    stamp the session a second ahead of it, and a test a second short of its limit."""

    def __init__(self):
        self.now = float(int(time.time()))

    def time(self):
        return self.now

    def advance(self, *, minutes=0, seconds=0):
        self.now += minutes * 60 + seconds


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr("zhongdu.middleware.time", fake)
    monkeypatch.setattr("zhongdu.receivers.time", fake)
    return fake


def _get_home(client):
    return client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")


def test_the_idle_clock_counts_from_the_last_request_even_when_its_time_was_not_written(
    client, clock
):
    client.force_login(UserFactory())
    assert _get_home(client).status_code == 200  # last seen written now
    written = client.session[SESSION_LAST_SEEN]
    clock.advance(seconds=50)
    assert _get_home(client).status_code == 200  # the last request: within the minute, not written
    assert client.session[SESSION_LAST_SEEN] == written
    # 29 min 30 s after that last request (30 min 20 s after the time written): still signed in.
    clock.advance(minutes=29, seconds=30)
    assert _get_home(client).status_code == 200
    assert client.session[SESSION_LAST_SEEN] == int(clock.now)


def test_a_request_clearly_after_the_idle_timeout_signs_out(client, clock):
    client.force_login(UserFactory())
    _get_home(client)
    clock.advance(seconds=50)
    _get_home(client)  # the last request, its time not written
    clock.advance(minutes=31)
    response = _get_home(client)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_the_idle_timeout_is_at_most_a_minute_late(client, clock):
    client.force_login(UserFactory())
    _get_home(client)  # the last request, its time written
    clock.advance(minutes=31, seconds=1)
    assert _get_home(client)["Location"].startswith(LOGIN)


def test_a_session_ends_after_twelve_hours_however_active(client):
    client.force_login(UserFactory())
    _age_session(client, idle=10, started=12 * 3600 + 1)
    response = client.get(reverse("home"))
    assert response["Location"].startswith(LOGIN)


def test_a_password_shorter_than_ten_characters_is_refused(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Short1!x", "new_password2": "Short1!x"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_a_good_new_password_is_accepted(client):
    user = UserFactory()
    client.force_login(user)
    new = "plum-blossom-winter-42"
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(new)
