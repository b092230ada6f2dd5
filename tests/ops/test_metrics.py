"""GET /metrics (peers/metrics.py): who may read it, what it says per host, and the findings
counts kept in the database cache by stamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import caches
from django.test import override_settings

from peers import exporter, metrics, services
from peers.iaxconf.parse import parse
from peers.models import Change, Deployment, Host
from peers.services import import_document
from tests.conftest import section, store

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-only-0123456789"
NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
REGISTRY = """\
Host                 dnsmgr  Username  Perceived        Refresh  State
192.0.2.10:4569      Y       pbx1      203.0.113.5:4569      60  Registered
198.51.100.7:4569    Y       trunk     <Unregistered>        60  Rejected
2 IAX2 registrations.
"""


@pytest.fixture(autouse=True)
def _empty_cache(db):
    caches[metrics.CACHE_ALIAS].clear()


def samples(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def scrape(client, **headers):
    return client.get("/metrics", headers=headers)


# ---------------------------------------------------------------------------------------------
# Access


def test_metrics_are_off_without_a_token_or_an_allow_list(client):
    response = scrape(client, authorization=f"Bearer {TOKEN}")
    assert (response.status_code, response.content) == (403, b"forbidden\n")


@override_settings(IAXADMIN_METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", f"Bearer {TOKEN}x", f"bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN]
)
def test_a_missing_or_wrong_token_gets_401_and_nothing_else(client, authorization):
    Host.objects.create(name="secretive")
    response = scrape(client, **({"authorization": authorization} if authorization else {}))
    assert response.status_code == 401
    assert response.content == b"unauthorized\n"
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


@override_settings(IAXADMIN_METRICS_TOKEN=TOKEN)
def test_the_token_reads_the_metrics(client):
    Host.objects.create(name="pbx1")
    response = scrape(client, authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert 'iaxadmin_host_latest_revision{host="pbx1"} 0.0' in samples(response.content.decode())


@pytest.mark.parametrize(
    ("allow", "token", "authorization", "status"),
    [
        (["10.0.0.0/8"], "", None, 403),
        (["127.0.0.1"], "", None, 200),
        (["10.0.0.0/8", "127.0.0.0/8"], "", None, 200),
        (["127.0.0.0/8"], TOKEN, None, 401),  # both set: both must pass
        (["127.0.0.0/8"], TOKEN, f"Bearer {TOKEN}", 200),
        (["10.0.0.0/8"], TOKEN, f"Bearer {TOKEN}", 403),
        (["not-an-address"], "", None, 403),  # a broken allow-list lets nobody in
    ],
)
def test_the_allow_list_matches_the_client_address(client, allow, token, authorization, status):
    headers = {"authorization": authorization} if authorization else {}
    with override_settings(IAXADMIN_METRICS_ALLOW=allow, IAXADMIN_METRICS_TOKEN=token):
        assert scrape(client, **headers).status_code == status  # the test client is 127.0.0.1


@override_settings(IAXADMIN_METRICS_TOKEN=TOKEN)
def test_openmetrics_when_asked_for(client):
    Host.objects.create(name="pbx1")
    response = scrape(
        client, authorization=f"Bearer {TOKEN}", accept="application/openmetrics-text; version=1.0.0"
    )
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content.decode().endswith("# EOF\n")


# ---------------------------------------------------------------------------------------------
# What is measured


def test_every_metric_of_a_published_deployed_host_and_of_a_new_one(make_key):
    host = Host.objects.create(name="pbx1")
    services.save_endpoint(
        host,
        section("alice", "type=friend\nhost=dynamic\nsecret=Al-1ce-long-Secret\ncontext=x"),
        actor="test",
    )
    store(host, section("bad", "type=friend\nhost=dynamic\nsecret=Xy7-long-Secret\ncontext=x\nallow=g711"))
    services.delete_endpoint(host.endpoints.get(name="bad"), actor="test")
    first = services.publish(host, message="one", actor="test")
    services.publish(host, message="two", actor="test")
    row, _ = services.create_host_token(host, "agent", actor="test")
    type(row).objects.filter(pk=row.pk).update(last_used_at=NOW - timedelta(seconds=90))
    Deployment.objects.create(
        host=host,
        revision=first,
        revision_number=1,
        ok=True,
        registry=REGISTRY,
        reported_at=NOW - timedelta(hours=2),
    )
    Deployment.objects.create(
        host=host, revision_number=2, ok=False, error="reload failed", reported_at=NOW - timedelta(hours=1)
    )
    broken = Host.objects.create(name="pbx2")
    store(broken, section("bad", "type=friend\nhost=dynamic\nsecret=Xy7-long-Secret\ncontext=x\nallow=g711"))

    body, content_type = metrics.exposition(now=NOW)

    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert samples(body.decode()) == [
        'iaxadmin_host_revisions_published_total{host="pbx1"} 2.0',
        'iaxadmin_host_revisions_published_total{host="pbx2"} 0.0',
        'iaxadmin_host_latest_revision{host="pbx1"} 2.0',
        'iaxadmin_host_latest_revision{host="pbx2"} 0.0',
        'iaxadmin_host_applied_revision{host="pbx1"} 1.0',  # the failed report of r2 does not count
        'iaxadmin_host_applied_revision{host="pbx2"} 0.0',
        'iaxadmin_host_behind{host="pbx1"} 1.0',
        'iaxadmin_host_behind{host="pbx2"} 0.0',  # never published: nothing to be behind on
        'iaxadmin_host_last_contact_age_seconds{host="pbx1"} 90.0',  # the token's use, after the last report
        'iaxadmin_host_last_contact_age_seconds{host="pbx2"} +Inf',
        'iaxadmin_host_last_deployment_ok{host="pbx1"} 0.0',
        'iaxadmin_host_failing_registrations{host="pbx1"} 0.0',  # the last report has no registry output
        'iaxadmin_host_failing_registrations{host="pbx2"} 0.0',
        'iaxadmin_host_findings{host="pbx1",severity="error"} 0.0',
        'iaxadmin_host_findings{host="pbx1",severity="warning"} 0.0',
        'iaxadmin_host_findings{host="pbx2",severity="error"} 1.0',
        'iaxadmin_host_findings{host="pbx2",severity="warning"} 0.0',
    ]


def test_failing_registrations_come_from_the_last_report():
    host = Host.objects.create(name="pbx1")
    Deployment.objects.create(host=host, revision_number=1, ok=True, registry=REGISTRY, reported_at=NOW)
    (row,) = metrics.host_metrics(now=NOW + timedelta(seconds=5))
    assert (row.failing_registrations, row.last_deployment_ok, row.applied_revision) == (1, True, 1)
    assert row.last_contact_age == 5.0


def test_a_host_that_cannot_be_exported_loses_only_its_findings(monkeypatch, caplog):
    Host.objects.create(name="pbx1")
    Host.objects.create(name="pbx2")
    real = metrics.compute_findings

    def compute(host):
        if host.name == "pbx1":
            raise RuntimeError("a stored value does not decrypt")
        return real(host)

    monkeypatch.setattr(metrics, "compute_findings", compute)
    lines = samples(metrics.exposition(now=NOW)[0].decode())
    assert [line for line in lines if line.startswith("iaxadmin_host_findings")] == [
        'iaxadmin_host_findings{host="pbx2",severity="error"} 0.0',
        'iaxadmin_host_findings{host="pbx2",severity="warning"} 0.0',
    ]
    assert 'iaxadmin_host_latest_revision{host="pbx1"} 0.0' in lines
    assert "findings of host pbx1 could not be counted" in caplog.text


# ---------------------------------------------------------------------------------------------
# The findings cache


@pytest.fixture
def exports(monkeypatch):
    """The names of the hosts exported, in order."""
    done = []
    real = exporter.export_host

    def counting(host):
        done.append(host.name)
        return real(host)

    monkeypatch.setattr(exporter, "export_host", counting)
    return done


def errors_of(name: str) -> int:
    return next(row.findings["error"] for row in metrics.host_metrics(now=NOW) if row.host == name)


def test_findings_are_counted_once_per_change_of_the_host(exports):
    one = Host.objects.create(name="one")
    Host.objects.create(name="two")
    metrics.host_metrics(now=NOW)
    assert exports == ["one", "two"]
    metrics.host_metrics(now=NOW)
    assert exports == ["one", "two"]  # nothing changed: nothing exported

    bad = "[bad]\ntype=friend\nhost=dynamic\nsecret=Xy7-long-Secret\ncontext=x\nallow=g711\n"
    import_document(parse(bad).document, host_name="one", replace=True, actor="test")  # recorded
    assert errors_of("one") == 1
    assert exports == ["one", "two", "one"]  # only the changed host
    cached = caches[metrics.CACHE_ALIAS].get(f"findings:{one.pk}")  # in the database, not in this process
    assert cached["counts"] == {"error": 1, "warning": 0}


def test_a_key_change_recounts_the_hosts_that_may_use_it(exports, make_key, key_material):
    key = make_key("trunk", private=False)
    host = Host.objects.create(name="pbx1")
    store(host, section("up", "type=peer\nhost=192.0.2.1\nauth=rsa\noutkey=trunk"))
    assert errors_of("pbx1") == 1  # missing-private-key
    services.store_key("trunk", key_material, key=key, actor="test")  # a Change without a host
    assert errors_of("pbx1") == 0
    assert exports == ["pbx1", "pbx1"]


def test_a_change_committed_late_with_a_lower_id_still_recounts(exports):
    host = Host.objects.create(name="pbx1")
    friend = "type=friend\nhost=dynamic\nsecret=Al-1ce-long-Secret\ncontext=x"
    services.save_endpoint(host, section("alice", friend), actor="test")
    bob = services.save_endpoint(host, section("bob", friend), actor="test")
    # bob's Change row stands for one whose id was handed out early but whose transaction commits
    # only after the scrape below
    late = Change.objects.filter(object_id=bob.pk, object_type="endpoint").values()[0]
    Change.objects.filter(pk=late["id"]).delete()
    services.save_endpoint(host, section("carol", friend), actor="test")
    assert errors_of("pbx1") == 0
    assert exports == ["pbx1"]

    Change.objects.create(**late)  # the late commit: a lower id than the highest already seen
    host.endpoints.filter(name="bob").update(qualify="sometimes")  # what it changed: an error
    assert errors_of("pbx1") == 1
    assert exports == ["pbx1", "pbx1"]


def test_a_new_validator_recounts_every_host(exports, monkeypatch):
    Host.objects.create(name="pbx1")
    metrics.host_metrics(now=NOW)
    monkeypatch.setattr(metrics, "code_stamp", lambda: "another-release")
    metrics.host_metrics(now=NOW)
    assert exports == ["pbx1", "pbx1"]


def test_without_the_cache_table_the_counts_are_computed_anyway(exports, monkeypatch, caplog):
    from django.db import connection

    Host.objects.create(name="pbx1")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE iaxadmin_cache")  # rolled back with the test's transaction
    assert errors_of("pbx1") == 0
    assert errors_of("pbx1") == 0
    assert exports == ["pbx1", "pbx1"]
    assert "run manage.py createcachetable" in caplog.text


def test_the_code_stamp_covers_the_validator():
    from pathlib import Path

    from peers import iaxconf

    assert len(metrics.code_stamp()) == 16
    assert (Path(iaxconf.__file__).parent / "validate.py").exists()  # a file the stamp reads
