import datetime
import zoneinfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory
from zhongdu import audit, roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_record_writes_who_did_what_to_which_record_from_where():
    user = UserFactory(username="clerk")
    target = UserFactory(username="patient-record")
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Firefox")
    request.user = user
    event = audit.record(audit.Action.UPDATE, obj=target, fields=["phone", "name"], request=request)
    event.refresh_from_db()
    assert event.actor == user
    assert event.actor_username == "clerk"
    assert event.object_type == "auth.user"
    assert event.object_id == str(target.pk)
    assert event.object_repr == "patient-record"
    assert event.changed_fields == ["name", "phone"]
    assert event.ip_address == "192.0.2.7"
    assert event.user_agent == "Firefox"


def test_an_event_cannot_be_changed_or_deleted_through_the_application():
    event = audit.record(audit.Action.VIEW, object_type="x", object_id="1")
    event.action = audit.Action.DELETE
    with pytest.raises(AuditEvent.Immutable):
        event.save()
    with pytest.raises(AuditEvent.Immutable):
        event.delete()
    with pytest.raises(AuditEvent.Immutable):
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(AuditEvent.Immutable):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on Postgres")
def test_postgres_refuses_update_and_delete_even_in_raw_sql():
    event = audit.record(audit.Action.VIEW, object_type="x", object_id="1")
    for sql in (
        "UPDATE zhongdu_auditevent SET action = 'delete' WHERE id = %s",
        "DELETE FROM zhongdu_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="view").exists()


def test_the_database_refuses_an_unknown_action():
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.create(action="teleport")


def test_a_refused_page_is_recorded_as_denied(front_desk_client):
    response = front_desk_client.get(reverse("audit_event_list"))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=AuditEvent.Action.DENIED)
    assert event.actor_username == "t_frontdesk"
    assert event.object_id == "audit_event_list"


def test_managers_read_the_trail_newest_first(manager_client):
    audit.record(audit.Action.VIEW, object_type="clientmgmt.client", object_id="7")
    audit.record(audit.Action.EXPORT, object_type="clientmgmt.client", object_id="8")
    response = manager_client.get(reverse("audit_event_list"))
    assert response.status_code == 200
    ids = [event.object_id for event in response.context["page"].items]
    assert ids[:2] == ["8", "7"]


def test_the_trail_filters_by_action_and_record(admin_client_):
    audit.record(audit.Action.VIEW, object_type="clientmgmt.client", object_id="7")
    audit.record(audit.Action.EXPORT, object_type="clientmgmt.client", object_id="7")
    audit.record(audit.Action.VIEW, object_type="clientmgmt.client", object_id="9")
    response = admin_client_.get(
        reverse("audit_event_list"),
        {"action": "view", "object_type": "clientmgmt.client", "object_id": "7"},
    )
    items = response.context["page"].items
    assert [(e.action, e.object_id) for e in items] == [("view", "7")]


def test_a_reversed_date_range_is_explained_not_crashed_on(manager_client):
    response = manager_client.get(
        reverse("audit_event_list"),
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "The start date must not be after the end date." in response.content.decode()
    assert response.context["page"].items == []


def test_a_malformed_date_or_cursor_gets_a_message_not_a_500(manager_client):
    response = manager_client.get(
        reverse("audit_event_list"), {"date_from": "yesterday", "before": "abc"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date_from"]


def test_the_trail_pages_by_cursor_without_counting(manager_client):
    for n in range(120):
        audit.record(audit.Action.VIEW, object_type="x", object_id=str(n))
    first = manager_client.get(reverse("audit_event_list")).context["page"]
    assert len(first.items) == 50
    assert first.items[0].object_id == "119"
    second = manager_client.get(reverse("audit_event_list"), {"before": first.next_before}).context[
        "page"
    ]
    assert second.items[0].object_id == "69"
    assert not second.is_first


def test_the_trail_page_runs_a_fixed_number_of_queries(
    manager_client, django_assert_max_num_queries
):
    for n in range(60):
        audit.record(audit.Action.VIEW, actor=UserFactory(), object_type="x", object_id=str(n))
    manager_client.get(reverse("audit_event_list"))  # warm the session
    # Session, user, roles, the events with their actors joined, the user menu's count of unread
    # notifications: whatever the number of rows.
    with django_assert_max_num_queries(5):
        response = manager_client.get(reverse("audit_event_list"))
    assert len(response.context["page"].items) == 50


def test_the_trail_is_refused_to_roles_that_do_not_audit(client_for):
    for role in (roles.FRONT_DESK, roles.CONSULTANT, roles.CLIENT_MANAGER, roles.VIP_MANAGER):
        assert client_for(role).get(reverse("audit_event_list")).status_code == 403


def test_behind_a_proxy_the_client_address_comes_from_the_trusted_forwarded_entry(settings):
    settings.DJANGO_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4"
    )
    # 6.6.6.6 is what the client claimed; 198.51.100.4 is what our proxy saw.
    assert audit.client_ip(request) == "198.51.100.4"
    settings.DJANGO_PROXY_COUNT = 0
    assert audit.client_ip(request) == "10.0.0.2"


def test_the_date_filter_counts_whole_days_in_the_hospitals_time_zone(manager_client):
    # 23:30 on 1 May in Shanghai is 15:30 UTC: it belongs to 1 May, not 2 May.
    late = datetime.datetime(2026, 5, 1, 23, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    AuditEvent.objects.create(action="view", object_type="x", object_id="late", occurred_at=late)
    first = manager_client.get(
        reverse("audit_event_list"), {"date_from": "2026-05-01", "date_to": "2026-05-01"}
    )
    second = manager_client.get(reverse("audit_event_list"), {"date_from": "2026-05-02"})
    assert [e.object_id for e in first.context["page"].items] == ["late"]
    assert "late" not in [e.object_id for e in second.context["page"].items]
