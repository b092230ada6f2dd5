"""/healthz and /readyz (iaxadmin/health.py): unauthenticated, cheap, and saying only "ok" or
"not ready"; the reason is in the server's log."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import override_settings

from iaxadmin import health
from peers import services
from peers.models import Host
from peers.security import crypto
from tests.conftest import section

PROBE = {"HTTP_HOST": "10.20.30.40:8000"}  # a load balancer asks by address, not by a name in ALLOWED_HOSTS


def test_healthz_needs_nothing_but_the_process(client):
    response = client.get("/healthz", **PROBE)  # no django_db mark: a query would fail the test
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_is_ok_with_the_database_migrations_and_key(client):
    host = Host.objects.create(name="pbx1")
    services.save_endpoint(
        host, section("alice", "type=friend\nhost=dynamic\nsecret=Al-1ce-long-Secret"), actor="test"
    )
    response = client.get("/readyz", **PROBE)
    assert (response.status_code, response.content) == (200, b"ok\n")


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_are_answered_over_plain_http_and_by_address(client):
    assert client.get("/healthz", **PROBE).status_code == 200
    assert client.get("/readyz", **PROBE).status_code == 200
    assert client.get("/login/").status_code == 301  # everything else is still redirected to HTTPS


def test_probes_only_answer_get_and_head(client):
    response = client.post("/healthz")
    assert (response.status_code, response["Allow"]) == (405, "GET, HEAD")
    assert client.head("/healthz").status_code == 200


def assert_not_ready(client, caplog, reason: str) -> None:
    response = client.get("/readyz", **PROBE)
    assert (response.status_code, response.content) == (503, b"not ready\n")
    assert response["Cache-Control"] == "no-store"
    assert reason in caplog.text  # the reason is logged on the server, never sent


@pytest.mark.django_db
def test_readyz_is_not_ready_without_the_database(client, caplog, monkeypatch):
    from django.db.backends import utils

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(utils.CursorWrapper, "execute", down)
    assert_not_ready(client, caplog, "database unreachable: OperationalError: could not connect to server")


@pytest.mark.django_db
def test_readyz_is_not_ready_with_a_migration_not_applied(client, caplog, monkeypatch):
    on_disk = health.migrations_on_disk() | {("peers", "9999_from_a_newer_release")}
    monkeypatch.setattr(health, "migrations_on_disk", lambda: on_disk)
    assert_not_ready(client, caplog, "1 migration(s) not applied, first peers.9999_from_a_newer_release")


@pytest.mark.django_db
def test_readyz_is_not_ready_with_a_key_that_does_not_decrypt_the_database(client, caplog):
    host = Host.objects.create(name="pbx1")
    services.save_endpoint(
        host, section("alice", "type=friend\nhost=dynamic\nsecret=Al-1ce-long-Secret"), actor="test"
    )
    other = crypto.generate_key()
    with override_settings(IAXADMIN_ENCRYPTION_KEY=other):
        assert_not_ready(
            client, caplog, "encryption key: EncryptionKeyError: a stored value is encrypted with key"
        )
    with override_settings(IAXADMIN_ENCRYPTION_KEY="not-a-key"):
        assert_not_ready(
            client, caplog, "encryption key: EncryptionKeyError: IAXADMIN_ENCRYPTION_KEY: key 1 is not"
        )


@pytest.mark.django_db
def test_readyz_is_not_ready_without_a_key(client, caplog):
    with override_settings(IAXADMIN_ENCRYPTION_KEY=""):
        assert_not_ready(
            client, caplog, "encryption key: EncryptionKeyError: IAXADMIN_ENCRYPTION_KEY is not set"
        )


@pytest.mark.django_db
def test_readyz_checks_are_a_few_queries(client, django_assert_max_num_queries):
    host = Host.objects.create(name="pbx1")
    services.save_endpoint(
        host, section("alice", "type=friend\nhost=dynamic\nsecret=Al-1ce-long-Secret"), actor="test"
    )
    health.migrations_on_disk()  # read once per process
    with django_assert_max_num_queries(3):  # SELECT 1, the applied migrations, one secret
        assert client.get("/readyz", **PROBE).status_code == 200
