"""Least privilege in the database (zhongdu/dbroles.py): the role web, worker and beat connect as
may add to the audit trail and read it, never change, empty, alter or drop it, and works every
other table as usual. On Postgres the tests give a role of their own exactly what production's
`db_grant_app_role` gives zhongdu_app, and act as it with SET ROLE inside the test's
transaction (the role and its grants are rolled back with it)."""

# ruff: noqa: S608  (the statements name tables and roles of this file, and no input)

from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction

from clientmgmt.models import Client
from tests.clientmgmt.factories import ClientFactory
from zhongdu import audit, dbroles, services
from zhongdu.models import AppendOnlyModel, AuditEvent, AuditSeal

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles exist on Postgres only"
)

# Made and dropped inside each test's transaction: roles are cluster-wide, and this name is
# nobody's in production (docker-compose.yml's is zhongdu_app).
ROLE = "zhongdu_test_app"
# SQLSTATE insufficient_privilege: "permission denied for table" and "must be owner of table".
INSUFFICIENT_PRIVILEGE = "42501"
AUDIT_TABLE = AuditEvent._meta.db_table
SEAL_TABLE = AuditSeal._meta.db_table
ALL_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@pytest.fixture
def role():
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN"
            f" CREATE ROLE {ROLE} NOLOGIN; END IF; END $$",
            [ROLE],
        )
    return ROLE


@pytest.fixture
def app_role(role):
    """The role with the privileges production gives the application role."""
    dbroles.app_role_grant(role=role)
    return role


@contextmanager
def acting_as(role):
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _refused(sql, params=None):
    """Run sql in a savepoint (the test's transaction stays usable) and return its SQLSTATE."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    cause = refusal.value.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _table_privileges(role, table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege FROM unnest(%s::text[]) AS privilege"
            " WHERE has_table_privilege(%s, %s, privilege)",
            [list(ALL_TABLE_PRIVILEGES), role, table],
        )
        return {row[0] for row in cursor.fetchall()}


@on_postgres
def test_the_app_role_adds_to_the_audit_trail_and_reads_it(app_role):
    with acting_as(app_role):
        event = audit.record(audit.Action.VIEW, object_type="client", object_id="7")
        assert AuditEvent.objects.filter(pk=event.pk, action="view").exists()


@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {AUDIT_TABLE} SET action = 'delete'",
        f"DELETE FROM {AUDIT_TABLE}",
        f"TRUNCATE {AUDIT_TABLE}",
        f"TRUNCATE {AUDIT_TABLE} CASCADE",
        f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER ALL",
        f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER zhongdu_auditevent_append_only",
        f"DROP TRIGGER zhongdu_auditevent_append_only ON {AUDIT_TABLE}",
        f"DROP TABLE {AUDIT_TABLE}",
        f"DROP TABLE {AUDIT_TABLE} CASCADE",
        f"ALTER TABLE {AUDIT_TABLE} RENAME TO audit_old",
        "CREATE TABLE zhongdu_auditevent_copy (id bigint)",
        # Rewinding the ids under the rows already written.
        f"SELECT setval(pg_get_serial_sequence('{AUDIT_TABLE}', 'id'), 1)",
    ],
)
def test_the_app_role_cannot_change_empty_alter_or_drop_the_audit_trail(app_role, sql):
    audit.record(audit.Action.VIEW, object_type="client", object_id="7")
    with acting_as(app_role):
        assert _refused(sql) == INSUFFICIENT_PRIVILEGE
    assert AuditEvent.objects.filter(action="view", object_id="7").count() == 1


@on_postgres
def test_the_app_role_seals_the_audit_trail_but_cannot_change_or_empty_the_seals(
    app_role, settings
):
    settings.AUDIT_SEAL_LAG_SECONDS = 0
    audit.record(audit.Action.VIEW, object_type="client", object_id="7")
    with acting_as(app_role):
        # The beat job runs as the application role: reading the rows, an advisory lock, an
        # INSERT of the block.
        block = services.audit_seal()
        assert block is not None and block.row_count >= 1
        for sql in (
            f"UPDATE {SEAL_TABLE} SET digest = ''",
            f"DELETE FROM {SEAL_TABLE}",
            f"TRUNCATE {SEAL_TABLE}",
            f"ALTER TABLE {SEAL_TABLE} DISABLE TRIGGER ALL",
        ):
            assert _refused(sql) == INSUFFICIENT_PRIVILEGE, sql
    assert AuditSeal.objects.filter(pk=block.pk).exists()
    assert _table_privileges(app_role, SEAL_TABLE) == {"SELECT", "INSERT"}


@on_postgres
def test_the_app_role_cannot_give_itself_back_what_was_taken(app_role):
    with acting_as(app_role), connection.cursor() as cursor:
        # Postgres only warns ("no privileges were granted"): it holds no grant option.
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} TO {app_role}")
    assert _table_privileges(app_role, AUDIT_TABLE) == {"SELECT", "INSERT"}


@on_postgres
def test_the_app_role_works_the_ordinary_tables_as_usual(app_role):
    with acting_as(app_role):
        client = ClientFactory(name="王芳")
        Client.objects.filter(pk=client.pk).update(name="王芳芳")
        assert Client.objects.get(pk=client.pk).name == "王芳芳"
        # A client's own history goes with it: only the audit trail is protected in the database.
        Client.objects.get(pk=client.pk).delete()
        assert not Client.objects.filter(pk=client.pk).exists()


@on_postgres
def test_every_table_gets_exactly_the_application_privileges(app_role):
    tables = connection.introspection.django_table_names(only_existing=True)
    protected = {model._meta.db_table for model in dbroles.append_only_models()}
    assert {AUDIT_TABLE, SEAL_TABLE} <= protected <= set(tables)
    for table in tables:
        expected = {"SELECT", "INSERT"} if table in protected else set(dbroles.TABLE_PRIVILEGES)
        assert _table_privileges(app_role, table) == expected, table


@on_postgres
def test_granting_again_takes_back_what_was_granted_by_hand(app_role):
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT ALL ON {AUDIT_TABLE}, {Client._meta.db_table} TO {app_role}")
    assert _table_privileges(app_role, AUDIT_TABLE) == set(ALL_TABLE_PRIVILEGES)
    call_command("db_grant_app_role", app_role)
    assert _table_privileges(app_role, AUDIT_TABLE) == {"SELECT", "INSERT"}
    assert _table_privileges(app_role, Client._meta.db_table) == set(dbroles.TABLE_PRIVILEGES)


@on_postgres
def test_the_dry_run_prints_the_statements_and_grants_nothing(role, capsys):
    call_command("db_grant_app_role", role, dry_run=True)
    printed = capsys.readouterr().out
    assert f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(AUDIT_TABLE)}" in printed
    assert _table_privileges(role, AUDIT_TABLE) == set()


@on_postgres
@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("zhongdu_nobody_by_this_name", "does not exist"),
        ("postgres", "superuser"),
        ("Robert'); DROP TABLE clients;--", "not a plain lower-case role name"),
    ],
)
def test_the_command_refuses_a_role_privileges_would_not_bind(name, why):
    with pytest.raises(CommandError, match=why):
        call_command("db_grant_app_role", name)


@on_postgres
def test_the_command_refuses_the_owner_of_the_tables(role):
    # Connected as the owner (here a role the test connection may become), granting to itself.
    with acting_as(role), pytest.raises(CommandError, match="owner of the tables"):
        call_command("db_grant_app_role", role)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal of other databases")
def test_the_command_refuses_a_database_without_roles():
    with pytest.raises(CommandError, match="Postgres only"):
        call_command("db_grant_app_role", "zhongdu_app")


def test_the_protected_tables_are_append_only_and_no_cascade_writes_them():
    # The application role may not UPDATE or DELETE these rows, so nothing the product does may
    # ask it to: deleting a row they point at must be refused, not cascaded or nulled.
    for model in dbroles.append_only_models():
        assert issubclass(model, AppendOnlyModel), model
        for field in model._meta.get_fields():
            if (field.many_to_one or field.one_to_one) and field.concrete:
                on_delete = field.remote_field.on_delete
                assert on_delete in (models.PROTECT, models.RESTRICT), (model, field.name)
    assert AuditEvent in dbroles.append_only_models()
