"""Migration 0004 encrypts what is already stored and moves secret option rows into extra_secrets."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from peers.models import Endpoint, EndpointOption, Key, Registration, Revision
from peers.security import crypto

BEFORE = [("peers", "0003_hosttoken_usertoken_deployment")]
AFTER = [("peers", "0004_encrypt_secrets")]
PEM = "-----BEGIN PRIVATE KEY-----\nTUlHRXBhcmVudGx5LWEta2V5LWJvZHk=\n-----END PRIVATE KEY-----\n"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _raw(table: str, column: str) -> list:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_migration_encrypts_existing_values_and_back():
    old = _migrate(BEFORE)
    try:
        host = old.get_model("peers", "Host").objects.create(name="pbx")
        endpoint = old.get_model("peers", "Endpoint").objects.create(
            host=host, name="alice", kind="friend", secret="Mig-s3cret-1", column_comments={}
        )
        old.get_model("peers", "Endpoint").objects.create(
            host=host, name="nosecret", kind="user", position=1, column_comments={}
        )
        option = old.get_model("peers", "EndpointOption")
        option.objects.create(endpoint=endpoint, position=0, name="allow", value="ulaw")
        option.objects.create(
            endpoint=endpoint, position=1, name="secret", value="Mig-s3cret-2", comment=" two"
        )
        option.objects.create(endpoint=endpoint, position=2, name="Secret", value="Mig-s3cret-3")
        old.get_model("peers", "Registration").objects.create(
            host=host, username="u", secret="Reg-s3cret", remote_host="example.net"
        )
        old.get_model("peers", "Key").objects.create(name="k", public_pem="", private_pem=PEM)
        old.get_model("peers", "Revision").objects.create(
            host=host,
            number=1,
            author_name="system",
            conf_text="secret=Mig-s3cret-1\n",
            sha256="0" * 64,
            snapshot={"version": 1, "endpoints": [{"secret": "Mig-s3cret-1"}]},
        )

        _migrate(AFTER)
        for table, column in (
            ("peers_endpoint", "secret"),
            ("peers_endpoint", "extra_secrets"),
            ("peers_registration", "secret"),
            ("peers_key", "private_pem"),
            ("peers_revision", "conf_text"),
            ("peers_revision", "snapshot"),
        ):
            values = [v for v in _raw(table, column) if v is not None]
            assert values and all(crypto.is_encrypted(v) for v in values), (table, column, values)
        assert _raw("peers_endpointoption", "name") == ["allow"]

        alice = Endpoint.objects.get(name="alice")
        assert (alice.secret, alice.extra_secrets) == ("Mig-s3cret-1", "Mig-s3cret-2\nMig-s3cret-3")
        assert alice.column_comments == {"secret#1": " two"}
        assert Endpoint.objects.get(name="nosecret").secret is None
        assert Registration.objects.get().secret == "Reg-s3cret"
        assert Key.objects.get().private_pem == PEM
        revision = Revision.objects.get()
        assert revision.conf_text == "secret=Mig-s3cret-1\n"
        assert revision.snapshot == {"version": 1, "endpoints": [{"secret": "Mig-s3cret-1"}]}
        assert EndpointOption.objects.count() == 1

        _migrate(BEFORE)  # and back: clear text again, the extra lines as option rows
        assert _raw("peers_endpoint", "secret") == ["Mig-s3cret-1", None]
        assert _raw("peers_registration", "secret") == ["Reg-s3cret"]
        assert _raw("peers_key", "private_pem") == [PEM]
        assert _raw("peers_revision", "conf_text") == ["secret=Mig-s3cret-1\n"]
        snapshot = _raw("peers_revision", "snapshot")[0]
        assert (json.loads(snapshot) if isinstance(snapshot, str) else snapshot)["version"] == 1
        assert sorted(_raw("peers_endpointoption", "value")) == ["Mig-s3cret-2", "Mig-s3cret-3", "ulaw"]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
