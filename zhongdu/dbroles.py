"""Least privilege in the database: what the application's Postgres role may do, in one place.

Production (docker-compose.yml) uses two roles, both made by scripts/postgres-init-roles.sh when
the database is created:

- the owner, which owns the database and every table and runs `migrate`;
- the application role, which web, worker and beat connect as: neither owner nor superuser, so
  it cannot alter, disable the triggers of, or drop any table.

The script gives the application role the owner's default privileges, so a table a later
migration creates is readable and writable at once. After every `migrate` the owner runs
`manage.py db_grant_app_role <role>` (app_role_grant below), which brings every table and
sequence to exactly these privileges and takes UPDATE, DELETE and TRUNCATE on the append-only
tables back: the application may add to the audit trail and read it, never change or empty it.
The tests apply the same function to a role of their own.
"""

import re

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction

SCHEMA = "public"
# Every table the application role works with, and their sequences (the ids).
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
# Taken back on the append-only tables, which keep SELECT and INSERT. TRUNCATE is never granted;
# it is named anyway, so that the statement says everything that is refused. UPDATE on their id
# sequences (setval) would let the role rewind the ids under the rows already written.
APPEND_ONLY_REFUSED = ("UPDATE", "DELETE", "TRUNCATE")
APPEND_ONLY_SEQUENCE_REFUSED = ("UPDATE",)

# The tables whose rows the product itself never updates or deletes, by model label. Not every
# AppendOnlyModel: a client merge re-points ClientEvent and its siblings through _base_manager
# (clientmgmt.services), the demo backdates events, and deleting an owner (a client, a visit)
# cascades to its history; on those tables the model is the guard, not the database. A model
# listed here must have no foreign key that cascades or nulls (tests/zhongdu/test_dbroles.py).
# The application may not lock their rows either: SELECT ... FOR UPDATE or FOR SHARE and LOCK
# TABLE in SHARE mode or stronger need UPDATE. Code that must serialise over them (a job sealing
# the audit trail) takes an advisory lock, or locks a row of an ordinary table.
APPEND_ONLY_MODELS = ("zhongdu.AuditEvent", "zhongdu.AuditSeal")

# Unquoted Postgres identifiers only: the role name is written into the SQL (GRANT takes no
# parameters), so anything else is refused rather than quoted.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class AppRoleError(ValueError):
    """The role cannot be the application role (unknown, the owner, a superuser, a bad name)."""


def append_only_models() -> list:
    return [apps.get_model(label) for label in APPEND_ONLY_MODELS]


def app_role_grant_statements(*, role: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The statements app_role_grant runs, in order (`db_grant_app_role --dry-run` prints them).

    Reads the catalogue: refuses a role that does not exist, or that privileges would not bind:
    a superuser, a role that may create roles, the connected role (the owner) or a member of
    it."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise AppRoleError("database roles exist on Postgres only")
    if not _ROLE_NAME.fullmatch(role):
        raise AppRoleError(f"{role!r} is not a plain lower-case role name")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, pg_has_role(rolname, current_user, 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found is None:
            raise AppRoleError(f"role {role} does not exist (scripts/postgres-init-roles.sh)")
        superuser, createrole, owner = found
        if superuser:
            raise AppRoleError(f"role {role} is a superuser: no privilege binds it")
        if createrole:
            # Before Postgres 16 it could make itself a member of the owner.
            raise AppRoleError(f"role {role} may create roles")
        if owner:
            raise AppRoleError(f"role {role} is (or is a member of) the owner of the tables")
        sequences = []
        for model in append_only_models():
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)",
                [model._meta.db_table, model._meta.pk.column],
            )
            sequences.append(cursor.fetchone()[0])  # already quoted where it needs to be

    quote = connection.ops.quote_name
    tables = ", ".join(quote(model._meta.db_table) for model in append_only_models())
    # Start from nothing, so that a privilege granted by hand (or by an older version of these
    # lists) does not survive; app_role_grant runs them in one transaction, so the role never
    # sees the tables without their privileges.
    return [
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {SCHEMA} FROM {role}",
        f"GRANT {', '.join(TABLE_PRIVILEGES)} ON ALL TABLES IN SCHEMA {SCHEMA} TO {role}",
        f"GRANT {', '.join(SEQUENCE_PRIVILEGES)} ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {role}",
        f"REVOKE {', '.join(APPEND_ONLY_REFUSED)} ON {tables} FROM {role}",
        *(
            f"REVOKE {', '.join(APPEND_ONLY_SEQUENCE_REFUSED)} ON SEQUENCE {sequence} FROM {role}"
            for sequence in sequences
            if sequence
        ),
    ]


def app_role_grant(*, role: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Give `role` exactly the application's privileges on every table and sequence; return the
    statements run. Run it connected as the owner of the tables (or a superuser), after
    `migrate`. Idempotent."""
    statements = app_role_grant_statements(role=role, using=using)
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements
