"""Writing many rows fast, for seeding and benchmarks: COPY on Postgres (about six times the
rate of bulk_create, CONVENTIONS.md), bulk_create elsewhere.

    with transaction.atomic(), connection.cursor() as cursor:
        ids = take_ids(cursor, Visit, len(rows))     # Postgres: ids first, so others can point
        copy_rows(cursor, Visit, rows, with_id=True)

Rows are dicts keyed by the model's attnames (client_id, not client); missing ones take the
field's default.
"""

import contextlib
import csv
import io
import json

from django.db import connection, models
from django.utils import timezone


def _converter(field):
    """How COPY (CSV, NULL written as \\N) spells a value of this field."""
    if isinstance(field, models.BooleanField):
        return lambda value: "t" if value else "f"
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value, ensure_ascii=False)
    if isinstance(field, models.DateField):  # and DateTimeField
        return lambda value: r"\N" if value is None else value.isoformat()
    return lambda value: r"\N" if value is None else str(value)


def columns(model, *, with_id: bool):
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    return [(f.attname, f.column, _converter(f), f.get_default()) for f in fields]


def copy(cursor, table: str, cols, rows) -> None:
    """COPY rows (dicts) into `table`'s columns `cols` (from columns())."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    specs = [(attname, convert, default) for attname, _column, convert, default in cols]
    writer.writerows(
        [convert(row.get(attname, default)) for attname, convert, default in specs] for row in rows
    )
    buffer.seek(0)
    names = ", ".join(connection.ops.quote_name(column) for _a, column, _c, _d in cols)
    sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    raw = cursor.cursor
    if hasattr(raw, "copy_expert"):  # psycopg2
        raw.copy_expert(sql, buffer)
    else:  # psycopg 3
        with raw.copy(sql) as stream:
            stream.write(buffer.getvalue())


def copy_rows(cursor, model, rows, *, with_id: bool = False) -> None:
    copy(cursor, model._meta.db_table, columns(model, with_id=with_id), rows)


def take_ids(cursor, model, n: int) -> list[int]:
    """n ids from the model's sequence (Postgres), for rows that others will point at."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [model._meta.db_table, n],
    )
    return [pk for (pk,) in cursor.fetchall()]


def write(model, rows, *, with_id: bool = False) -> None:
    """COPY on Postgres, bulk_create elsewhere (rows with ids keep them)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_rows(cursor, model, rows, with_id=with_id)
        return
    attnames = [f.attname for f in model._meta.concrete_fields if with_id or not f.primary_key]
    model.objects.bulk_create(
        [model(**{name: row[name] for name in attnames if name in row}) for row in rows],
        batch_size=1000,
    )


@contextlib.contextmanager
def given_times(model):
    """bulk_create keeps the times the rows give: auto_now / auto_now_add are off meanwhile (a
    seeded history's rows were made on their own day, not now). Not thread-safe: for seeding."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def insert(model, rows, *, batch_size: int = 1000) -> None:
    """Write rows (dicts, as for write()) and set each row's "id", so that other rows can point
    at it: ids taken from the sequence then COPY on Postgres; on SQLite in a transaction one
    prepared INSERT for all rows (_sqlite_insert); bulk_create elsewhere (which reads the new ids
    back). Times the rows give are kept."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for row, pk in zip(rows, take_ids(cursor, model, len(rows)), strict=True):
                row["id"] = pk
            copy_rows(cursor, model, rows, with_id=True)
        return
    if connection.vendor == "sqlite" and connection.in_atomic_block:
        _sqlite_insert(model, rows)
        return
    attnames = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    objects = [model(**{name: row[name] for name in attnames if name in row}) for row in rows]
    with given_times(model):
        model.objects.bulk_create(objects, batch_size=batch_size)
    for row, obj in zip(rows, objects, strict=True):
        row["id"] = obj.pk


def _sqlite_insert(model, rows) -> None:
    """SQLite: one prepared INSERT run for every row (executemany, about four times the rate of
    bulk_create, which SQLite's 999 variables limit to ~50 rows a statement), ids numbered from
    the table's largest. Call inside a transaction: the first statement is a write, so SQLite's
    write lock is held before the largest id is read and no other writer can take the next ids."""
    meta = model._meta
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {pk} = {pk} WHERE 0")  # noqa: S608 (model's own table)
        cursor.execute(f"SELECT MAX({pk}) FROM {table}")  # noqa: S608
        (top,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
        sequence = cursor.fetchone()
        start = max(top or 0, sequence[0] if sequence else 0) + 1
        values = []
        for n, row in enumerate(rows):
            row["id"] = start + n
            line = [row["id"]]
            for f in fields:
                if f.attname in row:
                    value = row[f.attname]
                elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    value = now
                else:
                    value = f.get_default()
                line.append(f.get_db_prep_save(value, connection))
            values.append(line)
        names = ", ".join([pk, *(connection.ops.quote_name(f.column) for f in fields)])
        marks = ", ".join(["%s"] * (len(fields) + 1))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608
