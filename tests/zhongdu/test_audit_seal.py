"""The audit trail's seal: beat's job seals old rows into chained HMAC blocks, and
`manage.py audit_verify` finds a row changed, removed or slipped in behind the application's
back (raw SQL, with the append-only trigger switched off inside the test's transaction)."""

import datetime
import io
import json

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.test import RequestFactory
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from tests.factories import UserFactory
from tests.zhongdu.test_settings import PRODUCTION, _manage
from zhongdu import audit, auditseal, services, tasks
from zhongdu.models import AuditEvent, AuditSeal

pytestmark = pytest.mark.django_db

KEY_A = "a" * 64
KEY_B = "b" * 64
AN_HOUR_AGO = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _seal_settings(settings):
    settings.AUDIT_SEAL_KEYS = [KEY_A]
    settings.AUDIT_SEAL_BATCH_SIZE = 3
    settings.AUDIT_SEAL_LAG_SECONDS = 300
    return settings


def _old_rows(count, *, ago=AN_HOUR_AGO):
    """Rows written through the application, dated old enough to be sealed."""
    return [
        AuditEvent.objects.create(
            action=AuditEvent.Action.VIEW,
            object_type="clientmgmt.client",
            object_id=str(n),
            occurred_at=timezone.now() - ago,
        )
        for n in range(count)
    ]


def _seal():
    """Beat's job, as the worker runs it."""
    tasks.audit_seal.apply()


def _behind_the_applications_back(sql, params=()):
    """Raw SQL as someone with database access would run it: on Postgres the append-only
    triggers are switched off for it (replica mode fires no ordinary trigger; SET LOCAL ends
    with the test's transaction at the latest). ALTER TABLE ... DISABLE TRIGGER would be
    refused here: the test's transaction holds deferred foreign-key checks on the table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def _raw_insert(pk, *, at=None):
    _behind_the_applications_back(
        "INSERT INTO zhongdu_auditevent (id, occurred_at, actor_username, action, object_type,"
        " object_id, object_repr, changed_fields, reason, user_agent)"
        " VALUES (%s, %s, '', 'view', 'clientmgmt.client', %s, '', '[]', '', '')",
        [pk, at or timezone.now() - AN_HOUR_AGO, str(pk)],
    )


def _verify():
    """(exit status, what it printed) of `manage.py audit_verify`."""
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue().strip()


def test_a_clean_chain_verifies_after_several_seals(settings):
    user = UserFactory(username="clerk")
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8::7", HTTP_USER_AGENT="Firefox 测试")
    request.user = user
    settings.AUDIT_SEAL_LAG_SECONDS = 0  # rows written just now count as old enough here
    for n in range(4):
        audit.record(audit.Action.UPDATE, obj=user, fields=["phone", f"名字{n}"], request=request)
    audit.record(audit.Action.LOGIN_FAILED, username="nobody")  # no actor, no address
    _seal()
    _old_rows(3)
    _seal()
    _seal()
    blocks = list(AuditSeal.objects.all())
    assert [b.row_count for b in blocks] == [3, 2, 3]
    assert blocks[0].previous_digest == ""
    assert [b.previous_digest for b in blocks[1:]] == [b.digest for b in blocks[:-1]]
    assert {b.key_id for b in blocks} == {auditseal.key_id(KEY_A)}
    last = AuditEvent.objects.order_by("-id").first()
    assert _verify() == (
        0,
        f"Audit trail intact: 3 blocks, 8 rows verified, up to audit id {last.pk} (sealed "
        f"{blocks[-1].sealed_at:%Y-%m-%d %H:%M:%S} UTC); 0 newer rows not sealed yet.",
    )


def test_the_command_exits_0_when_the_chain_holds_and_1_when_it_does_not(monkeypatch, capsys):
    # As the shell sees it: run_from_argv turns the command's error into the exit status (and
    # would close the test's connection afterwards, which is kept open here).
    monkeypatch.setattr(connections, "close_all", lambda: None)
    rows = _old_rows(2)
    _seal()
    ManagementUtility(["manage.py", "audit_verify"]).execute()  # returns: status 0
    assert "Audit trail intact: 1 block, 2 rows verified" in capsys.readouterr().out
    _behind_the_applications_back(
        "UPDATE zhongdu_auditevent SET object_id = 'x' WHERE id = %s", [rows[1].pk]
    )
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "audit_verify"]).execute()
    assert exited.value.code == 1
    assert f"row {rows[1].pk} was changed" in capsys.readouterr().err


def test_a_row_changed_behind_the_applications_back_is_named_with_its_block():
    rows = _old_rows(7)
    _seal()
    blocks = list(AuditSeal.objects.all())
    _behind_the_applications_back(
        "UPDATE zhongdu_auditevent SET reason = 'nothing to see' WHERE id = %s", [rows[4].pk]
    )
    status, message = _verify()
    assert status == 1
    assert message == (
        f"Audit trail NOT intact: block {blocks[1].pk} (audit ids {rows[3].pk}-{rows[5].pk}, "
        f"sealed {blocks[1].sealed_at:%Y-%m-%d %H:%M:%S} UTC): row {rows[4].pk} was changed "
        "after it was sealed."
    )


def test_a_change_to_any_column_breaks_the_seal():
    row = _old_rows(1)[0]
    _seal()
    for column, value in [("occurred_at", timezone.now()), ("changed_fields", '["name"]')]:
        with transaction.atomic():
            _behind_the_applications_back(
                f"UPDATE zhongdu_auditevent SET {column} = %s WHERE id = %s",  # noqa: S608  (our column names)
                [value, row.pk],
            )
            assert _verify()[0] == 1
            transaction.set_rollback(True)
    assert _verify()[0] == 0


def test_a_deleted_row_is_found():
    rows = _old_rows(5)
    _seal()
    _behind_the_applications_back("DELETE FROM zhongdu_auditevent WHERE id = %s", [rows[2].pk])
    status, message = _verify()
    assert status == 1
    assert f"row {rows[2].pk} was sealed and is missing (deleted)" in message


def test_the_last_row_of_a_block_deleted_is_found():
    rows = _old_rows(3)
    _seal()
    _behind_the_applications_back("DELETE FROM zhongdu_auditevent WHERE id = %s", [rows[2].pk])
    assert f"row {rows[2].pk} was sealed and is missing" in _verify()[1]


def _sealed_rows_with_gaps():
    """Rows at ids base+10, base+12 ... base+20 (inserted with their ids), sealed in two
    blocks: the gaps are ids a rolled-back transaction could have used."""
    base = (AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    for pk in range(base + 10, base + 21, 2):
        _raw_insert(pk)
    _seal()
    assert AuditSeal.objects.count() == 2
    return base


def test_a_row_inserted_inside_a_sealed_range_is_found():
    base = _sealed_rows_with_gaps()
    _raw_insert(base + 13)
    status, message = _verify()
    assert status == 1
    block = AuditSeal.objects.get(first_audit_id=base + 10)
    assert message.startswith(f"Audit trail NOT intact: block {block.pk} ")
    assert f"row {base + 13} lies inside the block but was not sealed: it was inserted" in message


def test_a_row_inserted_below_the_sealed_range_is_found():
    base = _sealed_rows_with_gaps()
    _raw_insert(base + 5)
    status, message = _verify()
    assert status == 1
    assert f"row {base + 5} is older than this block but in no block: it was inserted" in message


def test_a_row_inserted_between_two_blocks_is_found():
    base = _sealed_rows_with_gaps()
    first, second = AuditSeal.objects.all()
    assert (first.last_audit_id, second.first_audit_id) == (base + 14, base + 16)
    _raw_insert(base + 15)
    status, message = _verify()
    assert status == 1
    assert f"block {second.pk} " in message
    assert f"row {base + 15} is older than this block but in no block" in message


def test_a_changed_block_digest_is_found():
    _old_rows(7)
    _seal()
    second = AuditSeal.objects.all()[1]
    _behind_the_applications_back(
        "UPDATE zhongdu_auditseal SET digest = %s WHERE id = %s", ["0" * 64, second.pk]
    )
    status, message = _verify()
    assert status == 1
    assert f"block {second.pk} " in message
    assert "its digest does not match its rows: the block was changed" in message


def test_a_removed_block_breaks_the_chain():
    _old_rows(7)
    _seal()
    first, second, third = AuditSeal.objects.all()
    _behind_the_applications_back("DELETE FROM zhongdu_auditseal WHERE id = %s", [second.pk])
    status, message = _verify()
    assert status == 1
    assert f"block {third.pk} " in message
    assert f"it does not follow block {first.pk}" in message


def test_two_sealing_runs_back_to_back_write_no_second_block_for_the_same_rows():
    _old_rows(3)
    _seal()
    _seal()
    assert AuditSeal.objects.count() == 1
    assert services.audit_seal() is None
    block = AuditSeal.objects.get()
    duplicate = {
        f.attname: getattr(block, f.attname)
        for f in AuditSeal._meta.concrete_fields
        if f.name != "id"
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditSeal.objects.create(**duplicate)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditSeal.objects.create(**duplicate | {"first_audit_id": block.first_audit_id + 1})
    assert _verify()[0] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the advisory lock is Postgres's")
def test_a_second_sealer_gives_way_while_the_first_holds_the_lock():
    _old_rows(2)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [services.AUDIT_SEAL_LOCK])
        assert services.audit_seal() is None
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [services.AUDIT_SEAL_LOCK])
        assert services.audit_seal() is not None
    finally:
        other.close()


def test_the_sealer_leaves_rows_younger_than_the_lag_for_the_next_run(settings):
    old = _old_rows(2)
    fresh = audit.record(audit.Action.VIEW, object_type="x", object_id="fresh")
    # Dated old but written after the fresh row: it waits behind it (ids are sealed in order).
    behind = _old_rows(1)[0]
    _seal()
    block = AuditSeal.objects.get()
    assert (block.first_audit_id, block.last_audit_id) == (old[0].pk, old[1].pk)
    assert _verify() == (
        0,
        f"Audit trail intact: 1 block, 2 rows verified, up to audit id {old[1].pk} (sealed "
        f"{block.sealed_at:%Y-%m-%d %H:%M:%S} UTC); 2 newer rows not sealed yet.",
    )
    settings.AUDIT_SEAL_LAG_SECONDS = 0  # the next run, once the lag has passed
    _seal()
    latest = AuditSeal.objects.order_by("-first_audit_id").first()
    assert (latest.first_audit_id, latest.last_audit_id) == (fresh.pk, behind.pk)
    assert _verify()[0] == 0


def test_an_empty_trail_verifies_with_nothing_sealed():
    _seal()
    assert AuditSeal.objects.count() == 0
    assert _verify() == (
        0,
        "Audit trail intact: 0 blocks, 0 rows verified, nothing sealed yet; "
        "0 newer rows not sealed yet.",
    )


def test_blocks_sealed_with_an_old_key_verify_while_it_is_listed_after_the_new_one(settings):
    _old_rows(2)
    _seal()
    settings.AUDIT_SEAL_KEYS = [KEY_B, KEY_A]  # rotated: B seals from now on
    _old_rows(2)
    _seal()
    assert [b.key_id for b in AuditSeal.objects.all()] == [
        auditseal.key_id(KEY_A),
        auditseal.key_id(KEY_B),
    ]
    assert _verify()[0] == 0
    settings.AUDIT_SEAL_KEYS = [KEY_B]  # the old key dropped too early
    status, message = _verify()
    assert status == 1
    first = AuditSeal.objects.first()
    assert message.startswith(f"Audit trail NOT intact: block {first.pk} ")
    assert f"it was sealed with key {auditseal.key_id(KEY_A)}, which is not in AUDIT_SEAL_KEYS" in (
        message
    )


def test_a_different_key_does_not_verify_the_chain(settings):
    _old_rows(2)
    _seal()
    settings.AUDIT_SEAL_KEYS = [KEY_B]
    assert _verify()[0] == 1


def test_a_block_records_the_keys_fingerprint_never_the_key():
    _old_rows(1)
    _seal()
    block = AuditSeal.objects.get()
    assert block.key_id == auditseal.key_id(KEY_A)
    assert KEY_A not in json.dumps([str(getattr(block, f.attname)) for f in block._meta.fields])


def test_the_seal_covers_every_column_of_the_audit_trail():
    # A new column must be added to COLUMNS (and the seal's version changed), or it would be
    # changeable without breaking the seal.
    assert set(auditseal.COLUMNS) == {f.attname for f in AuditEvent._meta.concrete_fields}


def test_the_canonical_form_of_a_row_is_pinned():
    at = datetime.datetime(
        2026, 5, 1, 23, 30, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )
    values = (7, at, None, "张三", "view", "x", "1", "", {"b": 1, "a": [2]}, "", None, "")
    assert (
        auditseal.canonical_row(values)
        == (
            '{"action":"view","actor_id":null,"actor_username":"张三","changed_fields":{"a":[2],'
            '"b":1},"id":7,"ip_address":null,"object_id":"1","object_repr":"","object_type":"x",'
            '"occurred_at":"2026-05-01T15:30:00.000005Z","reason":"","user_agent":""}'
        ).encode()
    )


def test_beat_seals_the_trail_every_minute():
    assert ("zhongdu.audit_seal", "zhongdu.tasks.audit_seal", 60) in (
        django_settings.ZHONGDU_DEFAULT_SCHEDULES
    )
    assert "zhongdu.tasks.audit_seal" in celery_app.tasks
    call_command("install_schedules", verbosity=0)
    job = PeriodicTask.objects.get(name="zhongdu.audit_seal")
    assert (job.task, job.interval.every) == ("zhongdu.tasks.audit_seal", 60)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on Postgres")
def test_postgres_refuses_update_and_delete_of_a_seal_even_in_raw_sql():
    _old_rows(1)
    _seal()
    block = AuditSeal.objects.get()
    for sql in (
        "UPDATE zhongdu_auditseal SET digest = '' WHERE id = %s",
        "DELETE FROM zhongdu_auditseal WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="zhongdu_auditseal is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [block.pk])
    assert AuditSeal.objects.filter(pk=block.pk, digest=block.digest).exists()


def test_a_seal_cannot_be_changed_through_the_application():
    _old_rows(1)
    _seal()
    block = AuditSeal.objects.get()
    with pytest.raises(AuditSeal.Immutable):
        block.save()
    with pytest.raises(AuditSeal.Immutable):
        AuditSeal.objects.all().delete()


def test_the_seals_are_shown_read_only_in_the_admin(admin_client, settings):
    settings.AUDIT_SEAL_LAG_SECONDS = 0  # the sign-in just recorded is sealed too
    _old_rows(1)
    _seal()
    block = AuditSeal.objects.get()
    assert admin_client.get("/admin/zhongdu/auditseal/").status_code == 200
    page = admin_client.get(f"/admin/zhongdu/auditseal/{block.pk}/change/")
    assert page.status_code == 200
    assert block.digest in page.content.decode()
    assert admin_client.get("/admin/zhongdu/auditseal/add/").status_code == 403


def test_production_refuses_to_start_without_a_sealing_key():
    result = _manage("check", **dict(PRODUCTION, AUDIT_SEAL_KEYS=""))
    assert result.returncode != 0
    assert "AUDIT_SEAL_KEYS must be set when DJANGO_DEBUG is false." in result.stderr
