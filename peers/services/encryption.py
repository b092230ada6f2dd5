"""Rotation of the encryption key at rest: every value encrypted with an old key (or none) is
encrypted again with the current one (``IAXADMIN_ENCRYPTION_KEY``'s first key). The configuration
does not change; one history row says the rotation happened and how many values it rewrote."""

from __future__ import annotations

from collections import Counter

from django.apps import apps
from django.db import connection, transaction

from .. import audit
from ..models import Change
from ..security import crypto
from ..security.fields import EncryptedTextField

BATCH = 1000


def encrypted_columns():
    """(model, field) for every encrypted field of every installed model (concrete, not proxies)."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def _rows(model, field, after):
    """(pk, stored value) of rows with a non-empty value, raw (no decryption), by pk, after the
    pk ``after`` (None: from the first; primary keys are numbers or UUIDs)."""
    quote = connection.ops.quote_name
    table, column, pk = (
        quote(model._meta.db_table),
        quote(field.column),
        quote(model._meta.pk.column),
    )
    where = f"{column} IS NOT NULL AND {column} <> ''" + (f" AND {pk} > %s" if after is not None else "")
    sql = f"SELECT {pk}, {column} FROM {table} WHERE {where} ORDER BY {pk} LIMIT {BATCH}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [after] if after is not None else [])
        return cursor.fetchall()


def census() -> dict[str, Counter]:
    """'model.field' -> Counter of key ids (and "clear" for values stored unencrypted)."""
    found = {}
    for model, field in encrypted_columns():
        counts = Counter()
        after = None
        while rows := _rows(model, field, after):
            for _, value in rows:
                counts[crypto.token_key_id(value) or "clear"] += 1
            after = rows[-1][0]
        found[f"{model._meta.label}.{field.name}"] = counts
    return found


def rotate(*, actor) -> dict[str, int]:
    """Re-encrypt with the current key every value that uses another key or none, and record it,
    in one transaction (a failure leaves every value as it was). Returns 'model.field' -> number
    of values rewritten."""
    current = crypto.current_key_id()
    decrypt = crypto.decryptor()
    quote = connection.ops.quote_name
    rewritten = {}
    with transaction.atomic():
        for model, field in encrypted_columns():
            sql = (
                f"UPDATE {quote(model._meta.db_table)} SET {quote(field.column)} = %s"
                f" WHERE {quote(model._meta.pk.column)} = %s"
            )
            count = 0
            after = None
            while rows := _rows(model, field, after):
                after = rows[-1][0]
                updates = [
                    (crypto.encrypt(decrypt(value)), pk)
                    for pk, value in rows
                    if crypto.token_key_id(value) != current
                ]
                if updates:
                    with connection.cursor() as cursor:
                        cursor.executemany(sql, updates)
                count += len(updates)
            rewritten[f"{model._meta.label}.{field.name}"] = count
        state = {"key": current, "rewritten": sum(rewritten.values())}
        about = audit.ObjectState("encryption", None, "encryption at rest", state)
        audit.record(
            actor=actor,
            action=Change.Action.UPDATE,
            about=about,
            host=None,
            before=None,
            after=state,
            message=f"encryption key rotated to {current}: {state['rewritten']} value(s) re-encrypted",
        )
    return rewritten
