"""Secrets, private keys and published revisions are encrypted at rest (peers.security.crypto, peers.security.fields)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from peers import services
from peers.demo import seed_demo
from peers.exporter import build_document, endpoint_section, export_host
from peers.iaxconf import Entry, render
from peers.iaxconf.parse import parse
from peers.models import Endpoint, EndpointOption, Key, Registration, Revision
from peers.security import crypto
from peers.services import import_document, publish, revert_host, storage
from tests.conftest import section

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
KEY_A = "qUq8cG9iV3lN0mJ6b2xSg1dA1mYHf0n2s3yQw1cJm4o="
KEY_B = "lP7z9iNw2r-4e2E3yM1qv7b6kS8jX0aL4cT5uH9dF2g="
TOKEN = re.compile(r"^enc1:[0-9a-f]{8}:[A-Za-z0-9_=-]+$")


# ---------------------------------------------------------------------------------------------
# peers.security.crypto


def test_round_trip_and_format():
    token = crypto.encrypt("Sup3r-secret ünïcode")
    assert TOKEN.match(token)
    assert crypto.is_encrypted(token) and not crypto.is_encrypted("plain")
    assert crypto.token_key_id(token) == crypto.current_key_id()
    assert crypto.decrypt(token) == "Sup3r-secret ünïcode"
    assert crypto.encrypt("same") != crypto.encrypt("same")  # a fresh nonce every time


def test_none_and_empty_stay_as_they_are():
    assert crypto.encrypt(None) is None and crypto.decrypt(None) is None
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_generated_keys_are_accepted_and_distinct():
    a, b = crypto.generate_key(), crypto.generate_key()
    assert a != b
    assert len(crypto.parse_keys(f"{a},{b}")) == 2


@pytest.mark.parametrize("value", ["", " , ", "not-base64!!", "c2hvcnQ="])
def test_missing_or_malformed_keys_are_refused_naming_the_variable(value):
    with pytest.raises(crypto.EncryptionKeyError, match="IAXADMIN_ENCRYPTION_KEY"):
        crypto.parse_keys(value)


def test_a_value_from_another_key_fails_naming_that_key():
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_A):
        token = crypto.encrypt("Sup3r-secret")
        id_a = crypto.current_key_id()
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_B):
        with pytest.raises(crypto.EncryptionKeyError, match=id_a):
            crypto.decrypt(token)


def test_a_tampered_value_fails_instead_of_decrypting_to_garbage():
    token = crypto.encrypt("Sup3r-secret")
    head, body = token.rsplit(":", 1)
    flipped = body[:-6] + ("A" if body[-6] != "A" else "B") + body[-5:]
    with pytest.raises(crypto.DecryptionError, match=crypto.token_key_id(token)):
        crypto.decrypt(f"{head}:{flipped}")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token[:-8])  # truncated


def test_reading_a_row_with_an_unknown_key_is_a_clear_error(host):
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_A):
        services.save_endpoint(
            host, section("alice", "type=friend\nhost=dynamic\nsecret=Sup3r-secret"), actor="test"
        )
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_B):
        with pytest.raises(crypto.EncryptionKeyError, match="not in IAXADMIN_ENCRYPTION_KEY"):
            Endpoint.objects.get(name="alice")
        with pytest.raises(crypto.EncryptionKeyError):
            export_host(host)


# ---------------------------------------------------------------------------------------------
# A database dump


def _dump() -> str:
    """Every row of every table, read with a raw cursor: what pg_dump or a copy of the file shows."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def _pem_body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and ":" not in line]


def _stored(model, field: str) -> list[str]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(field)} FROM {quote(model._meta.db_table)}")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_database_dump_reveals_no_secret_and_no_private_key():
    host = seed_demo()
    services.save_endpoint(
        host,
        section("multi", "type=user\nsecret=First-s3cret-A\nsecret=Second-s3cret-B\nsecret=Third-s3cret-C"),
        actor="test",
    )
    revision = publish(host, message="first", actor="test")
    secrets = [s for s in Endpoint.objects.values_list("secret", flat=True) if s]
    secrets += [s for s in Registration.objects.values_list("secret", flat=True) if s]
    secrets += ["Second-s3cret-B", "Third-s3cret-C"]
    pems = [k.private_pem for k in Key.objects.all() if k.private_pem]
    assert len(secrets) >= 5 and pems
    assert all(s in revision.conf_text for s in secrets)  # the ORM reads them back

    dump = _dump()
    for secret in secrets:
        assert secret not in dump
    for pem in pems:
        assert "PRIVATE KEY" not in dump
        for line in _pem_body_lines(pem):
            assert line not in dump
    assert not EndpointOption.objects.filter(name__iexact="secret").exists()
    for model, field in ((Endpoint, "secret"), (Registration, "secret"), (Key, "private_pem")):
        assert all(v in (None, "") or TOKEN.match(v) for v in _stored(model, field))
    for field in ("conf_text", "snapshot"):
        assert all(TOKEN.match(v) for v in _stored(Revision, field))


@pytest.mark.django_db
def test_the_demo_export_is_unchanged_by_encryption():
    host = seed_demo()
    export = export_host(host)
    assert export.text == (GOLDEN / "demo.conf").read_text(encoding="utf-8")
    revision = publish(host, actor="test")
    fresh = Revision.objects.get(pk=revision.pk)
    assert fresh.conf_text == export.text
    assert isinstance(fresh.snapshot, dict) and fresh.snapshot["host"]["name"] == "demo"


@pytest.mark.django_db
def test_revert_restores_secrets_from_the_encrypted_snapshot():
    host = seed_demo()
    zed = services.save_endpoint(
        host, section("zed", "type=friend\nhost=dynamic\nsecret=Old-s3cret\nsecret=Old-two"), actor="test"
    )
    revision = publish(host, actor="test")
    services.save_endpoint(
        host,
        section("zed", "type=friend\nhost=dynamic\nsecret=New-s3cret"),
        endpoint=zed,
        position=zed.position,
        actor="test",
    )
    revert_host(host, Revision.objects.get(pk=revision.pk), actor="test")
    zed = Endpoint.objects.get(pk=zed.pk)
    assert (zed.secret, zed.extra_secrets) == ("Old-s3cret", "Old-two")


# ---------------------------------------------------------------------------------------------
# Extra secret lines


def _lines(text: str, name: str = "secret") -> list[str]:
    return [line for line in text.splitlines() if line.split("=", 1)[0].strip() == name]


def test_extra_secrets_round_trip_through_save_export_and_import(host):
    source = section(
        "trunk",
        "type=peer\nhost=192.0.2.1\nsecret=One-1111\ncontext=from-trunk\nsecret=Two-2222\n"
        "allow=ulaw\nsecret=Three-3333",
    )
    source.entries[4].comments = [" the second secret"]
    endpoint = services.save_endpoint(host, source, actor="test")
    assert endpoint.secret == "One-1111"
    assert Endpoint.objects.get(pk=endpoint.pk).extra_secrets == "Two-2222\nThree-3333"
    assert list(EndpointOption.objects.filter(endpoint=endpoint).values_list("name", flat=True)) == ["allow"]

    text = render(build_document(host)[0])
    assert _lines(text) == ["secret=One-1111", "secret=Two-2222", "secret=Three-3333"]
    assert "; the second secret\nsecret=Two-2222" in text
    # the form and the API read an endpoint as a Section: every secret line, in order
    assert [e.value for e in endpoint_section(endpoint).entries if e.name == "secret"] == [
        "One-1111",
        "Two-2222",
        "Three-3333",
    ]

    import_document(parse(text).document, host_name="copy", actor="test")
    copy = Endpoint.objects.get(host__name="copy", name="trunk")
    assert (copy.secret, copy.extra_secrets) == ("One-1111", "Two-2222\nThree-3333")
    assert render(build_document(copy.host)[0]) == text
    dump = _dump()
    assert not any(s in dump for s in ("One-1111", "Two-2222", "Three-3333"))


def test_a_secret_appended_with_plus_equals_joins_the_previous_line():
    data = storage.split_entries([Entry("secret", "abc"), Entry("secret", "xyz", operator="+=")])
    assert data.columns["secret"] == "abcxyz" and "extra_secrets" not in data.columns
    assert data.options == []


def test_removing_the_extra_secrets_clears_the_column(host):
    endpoint = services.save_endpoint(host, section("bob", "type=user\nsecret=a-1\nsecret=b-2"), actor="test")
    services.save_endpoint(
        host, section("bob", "type=user\nsecret=a-1"), endpoint=endpoint, position=0, actor="test"
    )
    assert Endpoint.objects.get(pk=endpoint.pk).extra_secrets is None


def test_over_long_secret_is_encrypted_and_reported_not_kept_in_clear(host):
    long_secret = "L" * 100
    import_document(
        parse(f"[bob]\ntype=user\nsecret={long_secret}\n").document,
        host_name="pbx1",
        replace=True,
        actor="test",
    )
    assert long_secret not in _dump()
    export = export_host(host)
    assert any(f.directive == "secret" for f in export.errors)


# ---------------------------------------------------------------------------------------------
# Rotation


def _check() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("iax_rotate_key", "--check", stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


@pytest.mark.django_db
def test_rotation_to_a_new_key():
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_A):
        host = seed_demo()
        services.save_endpoint(host, section("multi", "type=user\nsecret=m-1\nsecret=m-2"), actor="test")
        publish(host, actor="test")
        before = export_host(host).text
        ok, _ = _check()
        assert ok
    with override_settings(IAXADMIN_ENCRYPTION_KEY=f"{KEY_B},{KEY_A}"):
        ok, report = _check()
        assert not ok and "use an old key" in report
        out = StringIO()
        call_command("iax_rotate_key", stdout=out)
        assert re.search(r"[1-9]\d* value\(s\) re-encrypted with key", out.getvalue())
        ok, report = _check()
        assert ok and "0 value(s) use an old key" in report
        call_command("iax_rotate_key", stdout=(out := StringIO()))
        assert "0 value(s) re-encrypted" in out.getvalue()  # nothing left to do
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_B):
        assert export_host(host).text == before
        revision = Revision.objects.get(host=host)
        assert revision.conf_text.split("\n\n", 1)[1] == before.split("\n\n", 1)[1]
        assert Key.objects.get(name="demo-pbx").private_pem.startswith("-----BEGIN")
    with override_settings(IAXADMIN_ENCRYPTION_KEY=KEY_A):
        with pytest.raises(crypto.EncryptionKeyError):
            export_host(host)


@pytest.mark.django_db
def test_rotation_encrypts_values_stored_in_clear():
    seed_demo()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Endpoint._meta.db_table)} SET {quote('secret')} = %s WHERE {quote('name')} = %s",
            ["Clear-s3cret", "alice"],
        )
    assert Endpoint.objects.get(name="alice").secret == "Clear-s3cret"  # readable meanwhile
    assert not _check()[0]
    call_command("iax_rotate_key", stdout=StringIO())
    assert _check()[0]
    assert "Clear-s3cret" not in _dump()
    assert Endpoint.objects.get(name="alice").secret == "Clear-s3cret"


# ---------------------------------------------------------------------------------------------
# Settings


def _start(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith("IAXADMIN_ENCRYPTION_KEY")
    }
    clean.update(env)
    code = "import iaxadmin.wsgi; print('ok')"  # what gunicorn does: load the WSGI application
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_production_refuses_to_start_without_the_encryption_key():
    result = _start({"DEBUG": "no", "SECRET_KEY": secrets.token_urlsafe(50)})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "IAXADMIN_ENCRYPTION_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_a_malformed_key():
    result = _start(
        {"DEBUG": "no", "SECRET_KEY": secrets.token_urlsafe(50), "IAXADMIN_ENCRYPTION_KEY": "too-short"}
    )
    assert result.returncode != 0
    assert "IAXADMIN_ENCRYPTION_KEY: key 1 is not" in result.stderr
    assert "too-short" not in result.stderr


def test_production_starts_with_the_key_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY_A + "\n")
    result = _start(
        {
            "DEBUG": "no",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "IAXADMIN_ENCRYPTION_KEY_FILE": str(key_file),
        }
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# The exporter's decryptor (its speed is measured by bench/export.py, not here)


def test_the_bulk_decryptor_reads_what_decrypt_reads():
    tokens = [crypto.encrypt(f"secret-{i:05d}") for i in range(50)]
    decrypt = crypto.decryptor()
    assert [decrypt(t) for t in tokens] == [crypto.decrypt(t) for t in tokens]
    assert decrypt(tokens[12]) == "secret-00012"
    plain = (None, "", "stored-before-encryption")
    assert [decrypt(v) for v in plain] == list(plain)


@pytest.mark.parametrize("damage", ["non-ascii", "truncated", "no-body"])
def test_the_bulk_decryptor_refuses_a_damaged_value(damage):
    token = crypto.encrypt("Sup3r-secret")
    head, body = token.rsplit(":", 1)
    damaged = {
        "non-ascii": f"{head}:{body[:10]}\u00e9{body[11:]}",
        "truncated": f"{head}:{body[:-8]}",
        "no-body": f"{head}:",
    }[damage]
    with pytest.raises(crypto.DecryptionError, match=crypto.token_key_id(token)):
        crypto.decryptor()(damaged)
