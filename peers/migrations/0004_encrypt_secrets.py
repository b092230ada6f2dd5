# Written by hand: secrets, private keys and published revisions encrypted at rest (peers.security.crypto).
#
# Schema first (the secret columns become text: ciphertext is longer than 79 characters; the
# snapshot becomes encrypted JSON text; Endpoint gets extra_secrets), then the data: every stored
# value is encrypted with the first IAXADMIN_ENCRYPTION_KEY, and the "secret" option rows (a
# second or later secret= line, stored in clear until now) move into extra_secrets. The data step
# needs the key only when there is something to encrypt. Reversing decrypts everything again.

import json

import django.core.serializers.json
from django.db import migrations, models

import peers.security.fields

BATCH = 1000

# (model, fields) holding encrypted values after this migration
ENCRYPTED = (
    ("Endpoint", ("secret", "extra_secrets")),
    ("Registration", ("secret",)),
    ("Key", ("private_pem",)),
    ("Revision", ("conf_text", "snapshot")),
)


def _move_secret_options(apps):
    """Option rows named secret -> Endpoint.secret (if unset) / extra_secrets, in order; their
    comment lines -> column_comments ("secret", "secret#n")."""
    Endpoint = apps.get_model("peers", "Endpoint")
    EndpointOption = apps.get_model("peers", "EndpointOption")
    rows = (
        EndpointOption.objects.annotate(lowered=models.functions.Lower("name"))
        .filter(lowered="secret")
        .order_by("endpoint_id", "position")
    )
    by_endpoint = {}
    for row in rows:
        by_endpoint.setdefault(row.endpoint_id, []).append(row)
    if not by_endpoint:
        return
    changed = []
    for endpoint in Endpoint.objects.filter(pk__in=list(by_endpoint)):
        lines = endpoint.extra_secrets.split("\n") if endpoint.extra_secrets is not None else []
        notes = dict(endpoint.column_comments or {})
        for row in by_endpoint[endpoint.pk]:
            value = row.value.replace("\r", " ").replace("\n", " ")
            if endpoint.secret is None:
                endpoint.secret = value
                if row.comment:
                    notes["secret"] = row.comment
                continue
            lines.append(value)
            if row.comment:
                notes[f"secret#{len(lines)}"] = row.comment
        endpoint.extra_secrets = "\n".join(lines) if lines else None
        endpoint.column_comments = notes
        changed.append(endpoint)
    Endpoint.objects.bulk_update(changed, ["secret", "extra_secrets", "column_comments"], batch_size=BATCH)
    EndpointOption.objects.filter(pk__in=[r.pk for rows in by_endpoint.values() for r in rows]).delete()


def _check_constraints_now(schema_editor):
    """PostgreSQL: run the deferred foreign-key checks of the rows just written, so that a schema
    change after this step in the same transaction does not meet "pending trigger events"."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def encrypt_existing(apps, schema_editor):
    # Reading through the historical models decrypts (values without the enc1: prefix are read as
    # they are); writing encrypts. So one read and one write per row encrypts whatever is there.
    for model_name, fields in ENCRYPTED:
        model = apps.get_model("peers", model_name)
        query = models.Q()
        for name in fields:
            query |= models.Q(**{f"{name}__isnull": False})
        batch = []
        for obj in model.objects.filter(query).only("pk", *fields).order_by("pk").iterator(chunk_size=BATCH):
            batch.append(obj)
            if len(batch) >= BATCH:
                model.objects.bulk_update(batch, fields)
                batch = []
        if batch:
            model.objects.bulk_update(batch, fields)
    _move_secret_options(apps)
    _check_constraints_now(schema_editor)


def decrypt_existing(apps, schema_editor):
    """Back to clear text (needs the key): extra_secrets lines become option rows again."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    Endpoint = apps.get_model("peers", "Endpoint")
    EndpointOption = apps.get_model("peers", "EndpointOption")
    options = []
    for endpoint in Endpoint.objects.exclude(extra_secrets=None).exclude(extra_secrets=""):
        last = EndpointOption.objects.filter(endpoint_id=endpoint.pk).aggregate(m=models.Max("position"))["m"]
        start = -1 if last is None else last
        notes = endpoint.column_comments or {}
        for i, line in enumerate(endpoint.extra_secrets.split("\n"), start=1):
            options.append(
                EndpointOption(
                    endpoint_id=endpoint.pk,
                    position=start + i,
                    name="secret",
                    value=line,
                    comment=notes.get(f"secret#{i}", ""),
                )
            )
    for model_name, fields in ENCRYPTED:
        model = apps.get_model("peers", model_name)
        table = quote(model._meta.db_table)
        for name in fields:
            if name == "extra_secrets":
                continue
            column = quote(model._meta.get_field(name).column)
            rows = []
            for pk, value in model.objects.exclude(**{name: None}).values_list("pk", name).iterator():
                if name == "snapshot":
                    value = json.dumps(value, cls=django.core.serializers.json.DjangoJSONEncoder)
                rows.append((value, pk))
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", rows)
    # plain rows (the option value is a CharField of the historical model: written in clear)
    EndpointOption.objects.bulk_create(options, batch_size=BATCH)
    _check_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("peers", "0003_hosttoken_usertoken_deployment"),
    ]

    operations = [
        migrations.AlterField(
            model_name="endpoint",
            name="secret",
            field=peers.security.fields.EncryptedTextField(
                blank=True, help_text="Encrypted at rest.", max_length=79, null=True
            ),
        ),
        migrations.AddField(
            model_name="endpoint",
            name="extra_secrets",
            field=peers.security.fields.EncryptedTextField(
                blank=True,
                editable=False,
                help_text="The second and later secret= lines, one per line in order (encrypted at rest).",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="secret",
            field=peers.security.fields.EncryptedTextField(blank=True, help_text="Encrypted at rest.", max_length=79),
        ),
        migrations.AlterField(
            model_name="key",
            name="private_pem",
            field=peers.security.fields.EncryptedTextField(
                blank=True,
                help_text="PEM private key, written as <name>.key (mode 0600). Encrypted at rest.",
            ),
        ),
        migrations.AlterField(
            model_name="revision",
            name="conf_text",
            field=peers.security.fields.EncryptedTextField(
                help_text="The rendered iax.conf exactly as published (encrypted at rest)."
            ),
        ),
        migrations.AlterField(
            model_name="revision",
            name="snapshot",
            field=peers.security.fields.EncryptedJSONField(
                help_text="Complete model state of the host, including the key material (needed to "
                "re-export); JSON, encrypted at rest.",
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
