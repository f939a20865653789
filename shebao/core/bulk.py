"""Bulk writes of plain rows: COPY on PostgreSQL, the ORM's bulk_create elsewhere.

A batch of 100,000 enrolments writes over a million register rows. Building a model
instance per row and letting the ORM prepare every value cost more than the database's
own work, so on PostgreSQL the rows go in as tuples through COPY (or one INSERT … SELECT
FROM unnest(…) for an upsert). SQLite, the embedded default, takes the portable path:
the same tuples become model instances for bulk_create. Both paths write the same values;
the caller supplies every column, including created_at/updated_at (the ORM path sets
auto_now fields itself, to the same "now").

Everything runs on the caller's connection and inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection


def use_copy() -> bool:
    """The PostgreSQL fast path (a function, so a test can run the portable path on PostgreSQL)."""
    return connection.vendor == "postgresql"


def _columns(model, fields: Sequence[str]) -> list:
    return [model._meta.get_field(name) for name in fields]


def insert_rows(model, fields: Sequence[str], rows: Iterable[Sequence], *, batch_size: int = 1000) -> int:
    """INSERT rows (tuples of values in the order of `fields`, attnames such as "person_id")."""
    rows = list(rows)
    if not rows:
        return 0
    if not use_copy():
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=batch_size)
        return len(rows)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in _columns(model, fields))
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def upsert_rows(
    model,
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    batch_size: int = 1000,
) -> int:
    """INSERT … ON CONFLICT (unique_fields) DO UPDATE SET update_fields = the new values."""
    rows = list(rows)
    if not rows:
        return 0
    if not use_copy():
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows],
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=[_name(model, f) for f in unique_fields],
            update_fields=[_name(model, f) for f in update_fields],
        )
        return len(rows)
    qn = connection.ops.quote_name
    columns = _columns(model, fields)
    names = ", ".join(qn(f.column) for f in columns)
    arrays = ", ".join(f"%s::{_array_type(f)}" for f in columns)
    conflict = ", ".join(qn(model._meta.get_field(f).column) for f in unique_fields)
    sets = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in (model._meta.get_field(f).column for f in update_fields))
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({names}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            part = rows[start : start + batch_size]
            cursor.execute(sql, [[row[i] for row in part] for i in range(len(columns))])
    return len(rows)


def update_rows(model, fields: Sequence[str], rows: Iterable[Sequence], *, batch_size: int = 2000) -> int:
    """UPDATE existing rows by primary key: tuples of (pk, *values in the order of `fields`).

    On PostgreSQL one UPDATE … FROM unnest(…) per batch (bulk_update's CASE WHEN id = … per
    row costs the database a comparison per row and case: quadratic in the batch); elsewhere
    bulk_update."""
    rows = list(rows)
    if not rows:
        return 0
    if not use_copy():
        objs = []
        for pk, *values in rows:
            obj = model(pk=pk)
            for name, value in zip(fields, values, strict=True):
                setattr(obj, name, value)
            objs.append(obj)
        model.objects.bulk_update(objs, [_name(model, f) for f in fields], batch_size=batch_size)
        return len(rows)
    qn = connection.ops.quote_name
    pk = model._meta.pk
    columns = _columns(model, fields)
    arrays = ", ".join(f"%s::{_array_type(f)}" for f in [pk, *columns])
    names = ", ".join(["pk", *(f"c{n}" for n in range(len(columns)))])
    sets = ", ".join(f"{qn(c.column)} = v.c{n}" for n, c in enumerate(columns))
    table = qn(model._meta.db_table)
    sql = f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) WHERE {table}.{qn(pk.column)} = v.pk"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            part = rows[start : start + batch_size]
            params = []
            for i, field in enumerate([pk, *columns]):
                values = [row[i] for row in part]
                if field.get_internal_type() == "JSONField":
                    values = [field.get_db_prep_value(v, connection) for v in values]
                params.append(values)
            cursor.execute(sql, params)
    return len(rows)


def _name(model, attname: str) -> str:
    """bulk_create wants field names ("person"), the rows carry attnames ("person_id")."""
    return model._meta.get_field(attname).name


def _array_type(field) -> str:
    """The column's type as an array cast, e.g. numeric(12, 2)[] (a foreign key: its target's)."""
    return f"{field.db_type(connection)}[]"


# After a bulk change of at least this many rows, and at least this share of the table,
# the table's planner statistics are refreshed at once (autovacuum's analyze rule, without
# its delay, and it may be switched off altogether).
ANALYZE_MIN_ROWS = 1000
ANALYZE_SHARE = 0.1


def refresh_statistics(model, changed: int) -> bool:
    """ANALYZE the model's table after a bulk change that autovacuum would analyze anyway,
    but only later (or never, where it is off). The pages read right after a big batch then
    get plans for the rows now there: with statistics of a table still thought empty, the
    first page of a 100,000-row import screen sorted every row of the batch.

    PostgreSQL only (SQLite plans these pages from the indexes alone). Bounded cost: ANALYZE
    reads a fixed-size sample. Without the table's ownership PostgreSQL skips it with a
    warning. Runs in the caller's transaction when there is one.
    """
    if connection.vendor != "postgresql" or changed < ANALYZE_MIN_ROWS:
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
        known = row[0] if row else -1
        if known >= 0 and changed < ANALYZE_SHARE * known:
            return False
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True
