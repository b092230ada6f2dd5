"""The host's pages stay light on big hosts: the overview is a summary (no export, the iax.conf on
demand), the findings are computed once per state of the host and kept in the database (the
metrics cache, by stamp), the findings page is paged, and the endpoint list's findings filter reads
the kept findings."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from peers import exporter, metrics, services
from peers.demo import seed_demo
from peers.security.roles import set_role
from tests.conftest import section

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache(db):
    caches[metrics.CACHE_ALIAS].clear()


@pytest.fixture
def ann(client, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    set_role(user, "admin")
    client.force_login(user)
    return client


@pytest.fixture
def exports(monkeypatch):
    """The names of the hosts exported, in order."""
    done = []
    real = exporter.export_host

    def counting(host):
        done.append(host.name)
        return real(host)

    monkeypatch.setattr(exporter, "export_host", counting)
    monkeypatch.setattr("peers.views.hosts.export_host", counting)
    return done


def _broken(host, count: int) -> None:
    """``count`` peers, each with one error (nat=, a chan_sip option), saved as an import."""
    text = "".join(f"[p{i:03d}]\ntype=peer\nhost=192.0.2.1\nnat=yes\n\n" for i in range(count))
    from peers.iaxconf.parse import parse

    services.import_document(parse(text).document, host_name=host, actor="test")


def test_the_overview_does_not_export_and_shows_the_counts_once_known(ann, exports):
    demo = seed_demo()
    html = ann.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert exports == []  # a summary: counts, status, links
    assert "Checking this configuration" in html
    summary = ann.get(reverse("peers:host-findings-summary", args=["demo"])).content.decode()
    assert exports == ["demo"] and "No findings" in summary
    html = ann.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert exports == ["demo"] and "No findings" in html  # known for this state: no export
    services.save_endpoint(
        demo, section("new-one", "type=peer\nhost=192.0.2.9\nrequirecalltoken=no"), actor="test"
    )
    html = ann.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert "Checking this configuration" in html  # the host changed: asked for again
    summary = ann.get(reverse("peers:host-findings-summary", args=["demo"])).content.decode()
    assert exports == ["demo", "demo"] and "1 warning" in summary


def test_the_overview_shows_the_iax_conf_on_demand(ann):
    seed_demo()
    response = ann.get(reverse("peers:host-conf", args=["demo"]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="host-conf">') and "<h1>" not in html  # the panel alone
    assert "[office-phone](!)" in html and "secret=********" in html
    page = ann.get(reverse("peers:host-conf", args=["demo"])).content.decode()  # without JavaScript
    assert "<h1>demo</h1>" in page and "[office-phone](!)" in page


def test_findings_are_computed_once_per_state_and_paged(ann, exports):
    _broken("big", 130)
    first = ann.get(reverse("peers:host-findings", args=["big"]))
    assert exports == ["big"]
    assert first.context["counts"] == {"errors": 130, "warnings": 0}
    assert len(first.context["rows"]) == 100 and first.context["page"].paginator.num_pages == 2
    second = ann.get(reverse("peers:host-findings", args=["big"]) + "?page=2", headers={"HX-Request": "true"})
    assert exports == ["big"]  # kept in the database for this state of the host
    html = second.content.decode()
    assert html.lstrip().startswith('<div id="findings-table">') and "page 2 of 2" in html
    assert html.count('<tr class="error">') == 30
    assert "[p129] nat" in html and "[p000]" not in html


def test_the_endpoint_list_filters_by_the_kept_findings(ann, exports):
    _broken("big", 3)
    url = reverse("peers:endpoint-list", args=["big"])
    with_errors = ann.get(url + "?findings=errors")
    assert [row["endpoint"].name for row in with_errors.context["rows"]] == ["p000", "p001", "p002"]
    none = ann.get(url + "?findings=none")
    assert none.context["rows"] == []
    assert exports == ["big"]


def test_the_findings_page_runs_a_constant_number_of_queries(ann, django_assert_max_num_queries):
    _broken("big", 130)
    ann.get(reverse("peers:host-findings", args=["big"]))  # computed and kept
    for page in (1, 2):
        with django_assert_max_num_queries(12):
            ann.get(reverse("peers:host-findings", args=["big"]) + f"?page={page}")
