"""The archives (客户档案, /clientmgmt/): client management's lists by archive category with
their filters, keyset pages that never count the table, and the bulk actions of the maintenance
round (mark reviewed, plan a maintenance call each, export with a reason, capped and audited).
Through the real pages; who may do what."""

import csv
import datetime
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clientmgmt import archives, registry, services
from clientmgmt.models import Client, ClientEvent
from followup.models import FollowUpCall
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.guide.factories import triaged, walk_in
from tests.zhongdu.factories import ChannelFactory, DepartmentFactory
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIST = reverse("clientmgmt:archive_list")
REVIEW = reverse("clientmgmt:archive_review")
EXPORT = reverse("clientmgmt:archive_export")
CALLS = reverse("followup:call_bulk")
READERS = sorted(roles.ARCHIVE_READERS)
NOT_READERS = sorted(roles.ALL_ROLES - roles.ARCHIVE_READERS)


def _user(role):
    return get_user_model().objects.get(username=ROLE_USERNAMES[role])


def _shown(page):
    return [client.pk for client in page.context["page"].items]


def _set(client, **fields):
    Client.objects.filter(pk=client.pk).update(**fields)
    client.refresh_from_db()
    return client


def _ago(days):
    return timezone.now() - datetime.timedelta(days=days)


# --- Access -------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_client_management_managers_and_administrators_open_the_archives(client_for, role):
    ClientFactory(name="李娜")
    page = client_for(role).get(LIST, **EN)
    assert page.status_code == 200
    assert "李娜" in page.content.decode()


@pytest.mark.parametrize("role", NOT_READERS)
def test_the_other_desks_may_not_open_the_archives(client_for, role):
    assert client_for(role).get(LIST).status_code == 403
    assert client_for(role).post(EXPORT, {"reason": "查看"}).status_code == 403


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.ARCHIVE_DESK))
def test_only_client_managers_and_administrators_mark_archives_reviewed(client_for, role):
    client = ClientFactory()
    assert client_for(role).post(REVIEW, {"client": client.pk}).status_code == 403
    client.refresh_from_db()
    assert client.archive_reviewed_at is None


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.FOLLOWUP_DESK))
def test_only_those_who_make_calls_plan_them_in_bulk(client_for, role):
    client = ClientFactory()
    page = client_for(role).post(CALLS, {"client": client.pk, "due_on": "2099-01-01"})
    assert page.status_code == 403
    assert not FollowUpCall.objects.exists()


def test_a_manager_sees_no_buttons_that_would_be_refused(manager_client):
    ClientFactory()
    body = manager_client.get(LIST, **EN).content.decode()
    assert 'data-testid="bulk-export"' in body
    assert 'data-testid="bulk-review"' not in body and 'data-testid="bulk-call"' not in body


def test_a_client_manager_has_every_bulk_action(client_manager_client):
    ClientFactory()
    body = client_manager_client.get(LIST, **EN).content.decode()
    for action in ("bulk-review", "bulk-call", "bulk-export"):
        assert f'data-testid="{action}"' in body
    assert f'formaction="{CALLS}"' in body


# --- The list and its filters -------------------------------------------------------


def test_the_list_shows_active_records_newest_first_with_numbers_masked(client_manager_client):
    old = ClientFactory(name="王芳")
    new = ClientFactory(name="赵敏")
    archived = ClientFactory(name="钱多")
    services.client_archive(client=archived, by=None)
    page = client_manager_client.get(LIST, **EN)
    assert _shown(page) == [new.pk, old.pk]
    body = page.content.decode()
    assert new.phone_masked in body and new.phone not in body
    assert "never" in body  # never reviewed


def test_the_list_filters_by_archive_category(client_manager_client):
    patient = ClientFactory(is_patient=True)
    member = ClientFactory(is_patient=False, is_member=True)
    exam = ClientFactory(is_patient=False, is_exam_client=True)

    def shown(category):
        return set(_shown(client_manager_client.get(LIST, {"category": category})))

    assert shown("patient") == {patient.pk}
    assert shown("member") == {member.pk}
    assert shown("exam_client") == {exam.pk}
    assert shown("") == {patient.pk, member.pk, exam.pk}


def test_the_list_filters_by_last_visit(client_manager_client):
    recent = _set(ClientFactory(), last_visit_at=_ago(10))
    long_ago = _set(ClientFactory(), last_visit_at=_ago(400))
    ClientFactory()  # never visited: in neither
    since = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert _shown(client_manager_client.get(LIST, {"visited_from": since})) == [recent.pk]
    assert _shown(client_manager_client.get(LIST, {"visited_before": since})) == [long_ago.pk]


@pytest.mark.parametrize("busy_from", [registry.PAGED_IN_LIMIT, 1])
def test_the_list_filters_by_the_department_visited(client_manager_client, monkeypatch, busy_from):
    # A quiet department's visitors are listed by id; a busy one's are probed record by record.
    monkeypatch.setattr(registry, "PAGED_IN_LIMIT", busy_from)
    laser = DepartmentFactory(name="激光美容科")
    went = [triaged(walk_in(), department=laser).client for _n in range(2)]
    triaged(walk_in(), department=DepartmentFactory(name="皮肤科"))
    nobody = DepartmentFactory(name="新开科室")
    shown = _shown(client_manager_client.get(LIST, {"department": laser.pk}))
    assert shown == [went[1].pk, went[0].pk]
    assert _shown(client_manager_client.get(LIST, {"department": nobody.pk})) == []


def test_the_list_filters_by_channel_and_vip(client_manager_client):
    radio = ChannelFactory(name="交通广播")
    heard = ClientFactory(source_channel=radio)
    vip = _set(ClientFactory(), is_vip=True)
    assert _shown(client_manager_client.get(LIST, {"channel": radio.pk})) == [heard.pk]
    assert _shown(client_manager_client.get(LIST, {"vip": "yes"})) == [vip.pk]
    assert vip.pk not in _shown(client_manager_client.get(LIST, {"vip": "no"}))
    assert "交通广播" in client_manager_client.get(LIST, {"channel": radio.pk}).content.decode()


def test_the_list_finds_archives_not_reviewed_for_some_months(client_manager_client):
    never = ClientFactory()
    stale = _set(ClientFactory(), archive_reviewed_at=_ago(200))
    _set(ClientFactory(), archive_reviewed_at=_ago(20))  # reviewed lately
    page = client_manager_client.get(LIST, {"not_reviewed_months": 6})
    assert _shown(page) == [stale.pk, never.pk]


def test_months_are_calendar_months():
    tz = timezone.get_current_timezone()
    march_31 = datetime.datetime(2026, 3, 31, 9, 30, tzinfo=tz)
    assert archives.months_ago(march_31, 1).date() == datetime.date(2026, 2, 28)
    assert archives.months_ago(march_31, 3).date() == datetime.date(2025, 12, 31)
    assert archives.months_ago(march_31, 14).date() == datetime.date(2025, 1, 31)


def test_the_list_pages_by_keyset_and_never_counts(client_manager_client, monkeypatch):
    monkeypatch.setattr(archives, "PAGE_SIZE", 2)
    made = [ClientFactory().pk for _n in range(5)]
    seen, before = [], None
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = client_manager_client.get(LIST, {"before": before} if before else {})
        on_clients = [q["sql"] for q in queries if '"clientmgmt_client"' in q["sql"]]
        assert on_clients and not any("COUNT(" in sql.upper() for sql in on_clients)
        seen += _shown(page)
        before = page.context["page"].next_before
        if before is None:
            break
    assert seen == sorted(made, reverse=True)


def test_the_list_keeps_a_fixed_query_count(client_for):
    http = client_for(roles.CLIENT_MANAGER)
    radio = ChannelFactory(name="电视")
    for _n in range(3):
        ClientFactory(source_channel=radio)
    http.get(LIST)  # warm the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            page = http.get(LIST)
        assert page.status_code == 200
        return len(queries), len(page.context["page"].items)

    few, rows = count()
    assert rows == 3
    # The session, the user, the roles, the filter's departments and channels, the page of
    # clients with their channels (the notification badge's count is kept since the first page).
    assert few == 6
    for n in range(27):
        ClientFactory(source_channel=ChannelFactory(name=f"渠道{n}"))
    assert count() == (few, 30)


def test_the_department_filter_reads_the_visits_in_one_more_query(client_for):
    http = client_for(roles.CLIENT_MANAGER)
    laser = DepartmentFactory(name="激光美容科")
    for _n in range(3):
        triaged(walk_in(), department=laser)
    http.get(LIST)  # warm the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            page = http.get(LIST, {"department": laser.pk})
        assert page.status_code == 200
        return len(queries), len(page.context["page"].items)

    few, rows = count()
    assert rows == 3
    # The list's six (test_the_list_keeps_a_fixed_query_count), the chosen department, and
    # its visitors: the front desk's visits are the one record of who visited where.
    assert few == 8
    for _n in range(7):
        triaged(walk_in(), department=laser)
    assert count() == (few, 10)


@pytest.mark.parametrize(
    "query",
    [
        {"before": "x"},
        {"before": "-1"},
        {"visited_from": "yesterday"},
        {"visited_before": "2026-13-45"},
        {"department": "999999"},
        {"channel": "abc"},
        {"vip": "maybe"},
        {"category": "ghost"},
        {"not_reviewed_months": "-3"},
        {"not_reviewed_months": "99999999999999999999"},
    ],
)
def test_bad_filters_never_give_a_server_error(client_manager_client, query):
    ClientFactory()
    assert client_manager_client.get(LIST, query).status_code == 200


# --- Mark reviewed ------------------------------------------------------------------


def test_marking_the_ticked_archives_reviewed(client_manager_client):
    ticked = [ClientFactory(), ClientFactory()]
    other = ClientFactory()
    query = "category=patient&vip="
    page = client_manager_client.post(
        REVIEW, {"client": [c.pk for c in ticked], "query": query}, follow=True, **EN
    )
    assert page.redirect_chain == [(f"{LIST}?category=patient", 302)]
    assert "2 archives marked as reviewed today." in page.content.decode()
    me = _user(roles.CLIENT_MANAGER)
    for client in ticked:
        client.refresh_from_db()
        assert client.archive_reviewed_by == me
        assert client.archive_reviewed_at.date() == timezone.now().date()
        assert ClientEvent.objects.filter(client=client, kind="reviewed", actor=me).exists()
        assert AuditEvent.objects.filter(
            action="update", object_id=str(client.pk), changed_fields=["archive_reviewed_at"]
        ).exists()
    other.refresh_from_db()
    assert other.archive_reviewed_at is None
    # The record's history says so.
    body = client_manager_client.get(ticked[0].get_absolute_url(), **EN).content.decode()
    assert "Archive reviewed" in body


def test_marking_nothing_or_too_much_is_refused_with_a_message(client_manager_client):
    page = client_manager_client.post(REVIEW, {"client": ["abc", ""]}, follow=True, **EN)
    assert "Tick the clients first." in page.content.decode()
    many = [str(n) for n in range(1, services.BULK_LIMIT + 3)]
    page = client_manager_client.post(REVIEW, {"client": many}, follow=True, **EN)
    assert "At most 500 clients at a time." in page.content.decode()
    assert not ClientEvent.objects.filter(kind="reviewed").exists()


def test_a_merged_record_is_not_marked(client_manager_client):
    survivor, merged = ClientFactory(), ClientFactory()
    services.client_merge(survivor=survivor, merged=merged, by=_a_user())
    client_manager_client.post(REVIEW, {"client": [merged.pk]})
    merged.refresh_from_db()
    assert merged.archive_reviewed_at is None


def _a_user():
    roles.sync_group_permissions()
    from tests.factories import UserFactory

    return UserFactory(username="merger")


# --- A maintenance call each --------------------------------------------------------


def test_planning_a_maintenance_call_for_each_ticked_client_once(client_manager_client):
    ticked = [ClientFactory(name="孙丽"), ClientFactory(name="周强")]
    due = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    data = {"client": [c.pk for c in ticked], "due_on": due, "title": "年度档案维护"}
    page = client_manager_client.post(CALLS, {**data, "query": "vip=no"}, follow=True, **EN)
    assert page.redirect_chain == [(f"{LIST}?vip=no", 302)]
    assert f"2 maintenance calls planned for {due}." in page.content.decode()
    calls = FollowUpCall.objects.order_by("client_id")
    assert [call.client_id for call in calls] == sorted(c.pk for c in ticked)
    for call in calls:
        assert call.reason == FollowUpCall.Reason.MAINTENANCE
        assert call.title == "年度档案维护"
        assert call.due_on.isoformat() == due
        assert call.source == f"archive:{call.client_id}:{due}"
        assert call.assigned_to == _user(roles.CLIENT_MANAGER)  # the only client manager
    page = client_manager_client.post(CALLS, data, follow=True, **EN)
    assert "0 maintenance calls planned" in page.content.decode()
    assert "2 were planned already." in page.content.decode()
    assert FollowUpCall.objects.count() == 2


def test_a_maintenance_call_needs_a_date_not_past(client_manager_client):
    client = ClientFactory()
    page = client_manager_client.post(CALLS, {"client": client.pk, "due_on": ""}, follow=True, **EN)
    assert "Enter a date." in page.content.decode()
    page = client_manager_client.post(
        CALLS, {"client": client.pk, "due_on": "2000-01-01"}, follow=True, **EN
    )
    assert "A new call cannot be due in the past." in page.content.decode()
    page = client_manager_client.post(CALLS, {"due_on": "2099-01-01"}, follow=True, **EN)
    assert "Tick the clients first." in page.content.decode()
    assert not FollowUpCall.objects.exists()


def test_a_call_without_a_subject_is_titled_archive_maintenance(client_manager_client):
    client = ClientFactory()
    client_manager_client.post(CALLS, {"client": client.pk, "due_on": "2099-01-01"}, **EN)
    assert FollowUpCall.objects.get().title == "Archive maintenance"


# --- Export -------------------------------------------------------------------------


def _csv_rows(response):
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


def test_exporting_the_ticked_rows_masks_numbers_and_records_the_reason(client_manager_client):
    ticked = ClientFactory(name="李娜", id_number="110101199003074514")
    ClientFactory(name="不导出")
    response = client_manager_client.post(
        EXPORT,
        {"client": [ticked.pk], "scope": "selected", "format": "csv", "reason": "本月回访名单"},
        **EN,
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    rows = _csv_rows(response)
    assert rows[0][:5] == ["Id", "Name", "Sex", "Date of birth", "Phone"]
    assert len(rows) == 2
    assert rows[1][1] == "李娜"
    assert rows[1][4] == ticked.phone_masked and ticked.phone[-8:] not in rows[1][4][:-4]
    assert rows[1][5] == "110***********4514"
    audit = AuditEvent.objects.get(action="export")
    assert audit.reason == "本月回访名单"
    # Stored as data (the kind of export and the count), said in the reader's language by the
    # audit trail (tests/zhongdu/test_staff_words.py).
    assert json.loads(audit.object_repr) == {
        "note": "clientmgmt.archives",
        "scope": "selected",
        "rows": 1,
    }
    assert audit.actor_username == ROLE_USERNAMES[roles.CLIENT_MANAGER]


def test_exporting_every_row_of_the_filters_as_a_workbook(manager_client):
    radio = ChannelFactory(name="交通广播")
    heard = [ClientFactory(source_channel=radio, name=f"听众{n}") for n in range(3)]
    ClientFactory(name="别的渠道")
    response = manager_client.post(
        EXPORT,
        {
            "scope": "filtered",
            "format": "xlsx",
            "reason": "渠道分析",
            "query": f"channel={radio.pk}",
        },
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == sorted((c.pk for c in heard), reverse=True)
    assert all(row[8] == "交通广播" for row in rows[1:])
    assert AuditEvent.objects.get(action="export").reason == "渠道分析"


def test_an_export_stops_at_the_cap_and_says_so(client_manager_client, monkeypatch):
    monkeypatch.setattr(archives, "EXPORT_CAP", 3)
    for _n in range(5):
        ClientFactory()
    response = client_manager_client.post(
        EXPORT, {"scope": "filtered", "format": "csv", "reason": "全部"}, **EN
    )
    rows = _csv_rows(response)
    assert len(rows) == 1 + 3 + 1
    assert rows[-1] == [
        "Only the first 3 rows were exported: narrow the filters to export the rest."
    ]
    assert response["X-Export-Capped"] == "3"
    note = json.loads(AuditEvent.objects.get(action="export").object_repr)
    assert (note["note"], note["scope"], note["rows"], note["capped"]) == (
        "clientmgmt.archives",
        "filtered",
        3,
        3,
    )


def test_an_export_without_a_reason_is_refused_and_not_recorded(client_manager_client):
    client = ClientFactory()
    page = client_manager_client.post(
        EXPORT,
        {"client": [client.pk], "scope": "selected", "format": "csv", "reason": " ", "query": ""},
        follow=True,
        **EN,
    )
    assert page.redirect_chain == [(LIST, 302)]
    assert "This field is required." in page.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"scope": "selected", "format": "csv", "reason": "无勾选"},
        {"scope": "all", "format": "csv", "reason": "错的范围"},
        {"scope": "filtered", "format": "pdf", "reason": "错的格式"},
        {"scope": "filtered", "format": "csv", "reason": "坏查询", "query": "channel=x&vip=%ZZ"},
    ],
)
def test_a_bad_export_request_never_gives_a_server_error(client_manager_client, data):
    ClientFactory()
    assert client_manager_client.post(EXPORT, data).status_code in (200, 302)
