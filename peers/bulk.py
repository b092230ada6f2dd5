"""Plain INSERT / UPDATE / DELETE statements for rows that are already prepared: the bulk writes of
an import (``peers.services.storage``) and of its history rows (``peers.audit.record_many``).

What it buys (``bench/import.py``, ``bench/commands.py``): the values of an import are strings and
numbers the importer has already checked and converted; building a model instance for each row
and letting Django prepare every value again cost more than the whole parse (a 10,000-section
import wrote ~400,000 values). Columns that need a conversion (an encrypted secret, JSON, a UUID,
a date) are converted by the caller once per value, with the field's own method, so the stored
bytes are the ones the ORM would store. Only the service layer (and the history it writes)
calls these, inside its transaction.
"""

from __future__ import annotations

from django.db import connection


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def prep(model, name: str):
    """The field's conversion to what the database driver takes: value -> column value."""
    field = model._meta.get_field(name)

    def convert(value):
        return field.get_db_prep_save(value, connection)

    return convert


def insert_rows(model, fields: tuple[str, ...], rows: list[tuple], batch: int = 5000) -> None:
    """INSERT plain tuples (in the order of ``fields``, already converted) with executemany."""
    if not rows:
        return
    columns = ", ".join(_column(model, name) for name in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_table(model)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start : start + batch])


def update_rows(model, fields: tuple[str, ...], rows: list[tuple], batch: int = 5000) -> None:
    """UPDATE by id: each row is the values of ``fields`` (converted), then the id."""
    if not rows:
        return
    assignments = ", ".join(f"{_column(model, name)} = %s" for name in fields)
    sql = f"UPDATE {_table(model)} SET {assignments} WHERE {_column(model, 'id')} = %s"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start : start + batch])


def delete_where_in(model, field: str, ids: list[int], batch: int = 500) -> None:
    """DELETE the rows whose ``field`` is one of ``ids`` (no cascade: leaf rows first)."""
    sql = f"DELETE FROM {_table(model)} WHERE {_column(model, field)} IN "
    with connection.cursor() as cursor:
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            cursor.execute(sql + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
