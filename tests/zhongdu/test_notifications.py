"""In-app notifications: written by services, listed newest first on /notifications/, marked
read one by one (following their link) or all at once, and counted in the user menu's badge with
one query when something changed, none while nothing did."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from zhongdu import roles
from zhongdu.models import Notification
from zhongdu.services import notifications_mark_read, notify

pytestmark = pytest.mark.django_db

PAGE = reverse("notifications")
READ = reverse("notifications_read")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def me(role_user):
    return role_user(roles.CONSULTANT)


@pytest.fixture
def http(client, me):
    client.force_login(me)
    return client


def _body(response):
    return response.content.decode()


def test_notify_writes_one_row_for_an_active_user(me):
    note = notify(me, "投诉 #3 已分配给您", "/clientmgmt/complaints/3/")
    assert (note.recipient, note.url, note.read_at) == (me, "/clientmgmt/complaints/3/", None)
    assert notify(None, "nobody") is None
    assert notify(UserFactory(is_active=False), "gone") is None
    assert Notification.objects.count() == 1


def test_the_page_lists_my_notifications_newest_first(http, me):
    notify(me, "first")
    notify(me, "second")
    notify(UserFactory(), "someone else's")
    page = http.get(PAGE, **EN)
    assert page.status_code == 200
    assert [n.text for n in page.context["page"].items] == ["second", "first"]
    assert "someone else's" not in _body(page)


def test_the_page_pages_by_keyset(http, me):
    for n in range(55):
        notify(me, f"n{n}")
    first = http.get(PAGE).context["page"]
    assert len(first.items) == 50 and first.next_before
    second = http.get(PAGE, {"before": first.next_before}).context["page"]
    assert [n.text for n in second.items] == ["n4", "n3", "n2", "n1", "n0"]
    assert http.get(PAGE, {"before": "x"}).status_code == 200


def test_opening_a_notification_marks_it_read_and_follows_its_link(http, me):
    note = notify(me, "投诉 #3", "/clientmgmt/complaints/3/")
    other = notify(me, "still unread")
    response = http.post(READ, {"pk": note.pk})
    assert response.status_code == 302 and response["Location"] == "/clientmgmt/complaints/3/"
    note.refresh_from_db()
    other.refresh_from_db()
    assert note.read_at is not None and other.read_at is None


def test_a_link_to_another_site_is_not_followed(http, me):
    note = notify(me, "odd", "https://evil.example/")
    response = http.post(READ, {"pk": note.pk})
    assert response["Location"] == PAGE


def test_mark_all_read(http, me):
    for n in range(3):
        notify(me, f"n{n}")
    theirs = notify(UserFactory(), "theirs")
    assert http.post(READ).status_code == 302
    assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notifications_mark_read(user=me) == 0  # read twice changes nothing


@pytest.mark.parametrize("pk", ["abc", "999999", ""])
def test_a_bad_or_foreign_notification_changes_nothing(http, me, pk):
    note = notify(me, "mine")
    assert http.post(READ, {"pk": pk})["Location"] == PAGE
    theirs = notify(UserFactory(), "theirs")
    assert http.post(READ, {"pk": theirs.pk})["Location"] == PAGE
    note.refresh_from_db()
    theirs.refresh_from_db()
    assert note.read_at is None and theirs.read_at is None


def test_reading_is_a_post(http):
    assert http.get(READ).status_code == 405


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_every_signed_in_user_has_notifications(client_for, role):
    assert client_for(role).get(PAGE).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get(PAGE), client.post(READ)):
        assert response.status_code == 302 and reverse("login") in response["Location"]


# --- The badge ------------------------------------------------------------------------------


def test_the_badge_shows_the_unread_count(http, me):
    page = http.get(reverse("home"))
    assert 'data-testid="notifications-badge"' not in _body(page)
    assert 'data-testid="notifications-link"' in _body(page)
    notify(me, "one")
    notify(me, "two")
    read = notify(me, "read")
    notifications_mark_read(user=me, pk=read.pk)
    body = _body(http.get(reverse("home")))
    assert (
        '<span class="badge rounded-pill text-bg-danger" data-testid="notifications-badge">2'
        in body
    )


def test_the_badge_stops_counting_at_99_plus(http, me):
    Notification.objects.bulk_create(Notification(recipient=me, text=f"n{n}") for n in range(150))
    assert 'data-testid="notifications-badge">99+' in _body(http.get(reverse("home")))


def test_the_badge_costs_one_query_per_page(http, me):
    notify(me, "one")
    with CaptureQueriesContext(connection) as queries:
        http.get(reverse("home"))
    on_notifications = [q["sql"] for q in queries if "zhongdu_notification" in q["sql"]]
    assert len(on_notifications) == 1 and "COUNT" in on_notifications[0].upper()


def _badge_queries(http, url=None):
    with CaptureQueriesContext(connection) as queries:
        body = _body(http.get(url or reverse("home")))
    return [q["sql"] for q in queries if "zhongdu_notification" in q["sql"]], body


def test_the_badge_costs_no_query_while_nothing_changed(http, me):
    notify(me, "one")
    counted, body = _badge_queries(http)
    assert len(counted) == 1 and 'data-testid="notifications-badge">1' in body
    counted, body = _badge_queries(http)
    assert counted == [] and 'data-testid="notifications-badge">1' in body
    # A new notification is counted on the next page.
    notify(me, "two")
    counted, body = _badge_queries(http)
    assert len(counted) == 1 and 'data-testid="notifications-badge">2' in body
    # So is one read (here: all of them, from the notifications page).
    http.post(READ)
    counted, body = _badge_queries(http)
    assert len(counted) == 1 and 'data-testid="notifications-badge"' not in body
    assert _badge_queries(http)[0] == []


def test_the_kept_count_is_each_users_own(client, http, me, role_user):
    other = role_user(roles.CLIENT_MANAGER)
    notify(other, "for the other one")
    _badge_queries(http)  # mine, kept: none unread
    client.force_login(other)
    assert 'data-testid="notifications-badge">1' in _badge_queries(client)[1]


def test_a_count_is_forgotten_when_the_write_commits(me, django_capture_on_commit_callbacks):
    """A page that counted while the notification's transaction was still open kept the old
    count: the commit forgets it again."""
    from django.core.cache import cache

    from zhongdu.selectors import badge_cache_key, notifications_unread_count

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(me, "one")
        cache.set(badge_cache_key(me.pk), 0)  # what a page counting before the commit kept
    assert notifications_unread_count(me) == 0
    for callback in callbacks:
        callback()
    assert notifications_unread_count(me) == 1


def test_a_cache_out_of_service_costs_a_count_not_a_page(http, me, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    notify(me, "one")
    counted, body = _badge_queries(http)
    assert len(counted) == 1 and 'data-testid="notifications-badge">1' in body
    assert "The cache did not answer" in caplog.text


def test_pages_without_the_menu_do_not_count(client, http):
    with CaptureQueriesContext(connection) as queries:
        http.post(READ)  # a redirect renders no menu
    counts = [q for q in queries if "COUNT" in q["sql"].upper() and "notification" in q["sql"]]
    assert counts == []
    with CaptureQueriesContext(connection) as queries:
        client.logout()
        client.get(reverse("login"))
    assert not [q for q in queries if "zhongdu_notification" in q["sql"]]
