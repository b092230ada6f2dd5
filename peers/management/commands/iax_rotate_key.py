"""Re-encrypt every value encrypted at rest with the first IAXADMIN_ENCRYPTION_KEY.

Rotation: put the new key first in IAXADMIN_ENCRYPTION_KEY (new,old), restart, run this command,
then drop the old key (``--check`` says when nothing uses it any more).
"""

from collections import Counter

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from peers.security import crypto
from peers.security.fields import EncryptedTextField

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
    """(pk, stored value) of rows with a non-empty value, raw (no decryption), by pk."""
    quote = connection.ops.quote_name
    table, column, pk = (
        quote(model._meta.db_table),
        quote(field.column),
        quote(model._meta.pk.column),
    )
    sql = (
        f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"
        f" AND {pk} > %s ORDER BY {pk} LIMIT {BATCH}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [after])
        return cursor.fetchall()


def census() -> dict[str, Counter]:
    """'model.field' -> Counter of key ids (and "clear" for values stored unencrypted)."""
    found = {}
    for model, field in encrypted_columns():
        counts = Counter()
        after = -1
        while rows := _rows(model, field, after):
            for _, value in rows:
                counts[crypto.token_key_id(value) or "clear"] += 1
            after = rows[-1][0]
        found[f"{model._meta.label}.{field.name}"] = counts
    return found


def rotate(stdout=None) -> dict[str, int]:
    """Re-encrypt with the current key every value that uses another key or none; one transaction
    per model. Returns 'model.field' -> number of values rewritten."""
    current = crypto.current_key_id()
    decrypt = crypto.decryptor()
    quote = connection.ops.quote_name
    rewritten = {}
    by_model = {}
    for model, field in encrypted_columns():
        by_model.setdefault(model, []).append(field)
    for model, fields in by_model.items():
        with transaction.atomic():
            for field in fields:
                sql = (
                    f"UPDATE {quote(model._meta.db_table)} SET {quote(field.column)} = %s"
                    f" WHERE {quote(model._meta.pk.column)} = %s"
                )
                count = 0
                after = -1
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
    return rewritten


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret, private key and revision with the first key of "
        "IAXADMIN_ENCRYPTION_KEY (after prepending a new key); --check only counts the values "
        "that still use an old key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="count values encrypted with an old key (or not at all); exit 1 if there are any",
        )

    def handle(self, *args, **options):
        current = crypto.current_key_id()
        if options["check"]:
            old = 0
            for name, counts in census().items():
                stale = sum(n for kid, n in counts.items() if kid != current)
                old += stale
                detail = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items())) or "none"
                self.stdout.write(f"{name}: {sum(counts.values())} value(s) ({detail})")
            self.stdout.write(f"{old} value(s) use an old key or none (current key {current})")
            if old:
                raise CommandError(f"{old} value(s) are not encrypted with the current key {current}")
            return
        total = 0
        for name, count in rotate().items():
            total += count
            self.stdout.write(f"{name}: {count} value(s) re-encrypted")
        self.stdout.write(f"{total} value(s) re-encrypted with key {current}")
