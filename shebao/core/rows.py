"""Model instances from hand-written SQL, for the few look-ups every request makes.

Every page loads the session, the user and the operator's membership. Through the ORM each
of these look-ups spends more time building and compiling its query than the database spends
answering it; here the SQL is written once per model and the row is turned into an ordinary
model instance with ``Model.from_db`` (what the ORM itself does), so nothing downstream can
tell the difference.
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar, cast

from django.db import connections, models

M = TypeVar("M", bound=models.Model)


@cache
def columns(model: type[models.Model]) -> tuple[str, ...]:
    """The attribute names of the model's concrete fields, in table order."""
    return tuple(f.attname for f in model._meta.concrete_fields)


def select_list(model: type[models.Model], alias: str, using: str = "default") -> str:
    quote = connections[using].ops.quote_name
    # A concrete field is one with a column: its ``column`` is never None.
    return ", ".join(f"{alias}.{quote(cast(str, f.column))}" for f in model._meta.concrete_fields)


def table(model: type[models.Model], using: str = "default") -> str:
    return connections[using].ops.quote_name(model._meta.db_table)


@cache
def _converters(model: type[models.Model], using: str) -> tuple:
    """Per column, the converters the ORM's compiler would apply (backend's, then field's)."""
    connection = connections[using]
    out = []
    for field in model._meta.concrete_fields:
        col = field.get_col(model._meta.db_table)
        out.append((col, tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))))
    return tuple(out)


def instance(model: type[M], row, start: int = 0, using: str = "default") -> tuple[M, int]:
    """The instance made of ``row[start:]``; returns it and the index after its columns."""
    names = columns(model)
    end = start + len(names)
    values = list(row[start:end])
    connection = connections[using]
    for i, (col, converters) in enumerate(_converters(model, using)):
        for convert in converters:
            values[i] = convert(values[i], col, connection)
    return model.from_db(using, names, values), end
