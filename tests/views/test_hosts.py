"""The host pages (peers/views/hosts.py): the host list, the overview, the iax.conf download, the
findings. They stay light on big hosts: the overview is a summary (no export, the iax.conf on
demand), the findings are computed once per state of the host and kept in the database (the
metrics cache, by stamp), the findings page is paged, and the endpoint list's findings filter reads
the kept findings."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from peers import exporter, metrics, services
from peers.demo import seed_demo
from peers.models import Change
from peers.security.roles import set_role
from tests.conftest import section, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_logged_in(client, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    # the download holds secrets: editor (tests/security/test_roles.py covers the roles)
    set_role(user, "editor")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url", ["/", "/hosts/demo/", "/hosts/demo/iax.conf"], ids=["host-list", "host-detail", "host-export"]
)
def test_pages_send_anonymous_users_to_login(client, url):
    seed_demo()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_host_list_shows_hosts_with_counts(client_logged_in):
    seed_demo()
    response = client_logged_in.get(reverse("peers:host-list"))
    assert response.status_code == 200
    assert "peers/host_list.html" in [t.name for t in response.templates]
    demo = next(h for h in response.context["hosts"] if h.name == "demo")
    assert (demo.peers, demo.users, demo.templates) == (4, 3, 1)


def test_host_detail_shows_findings_and_the_rendered_config(client_logged_in):
    seed_demo()
    response = client_logged_in.get(reverse("peers:host-detail", args=["demo"]))
    html = response.content.decode()
    assert response.status_code == 200
    # a summary: the findings counts are asked for on demand until they are known, the iax.conf too
    assert reverse("peers:host-findings-summary", args=["demo"]) in html
    assert reverse("peers:host-conf", args=["demo"]) in html and "[office-phone](!)" not in html
    summary = client_logged_in.get(reverse("peers:host-findings-summary", args=["demo"])).content.decode()
    assert "No findings" in summary
    again = client_logged_in.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert "No findings" in again  # known for this state of the host now: shown at once
    conf = client_logged_in.get(reverse("peers:host-conf", args=["demo"])).content.decode()
    assert "[office-phone](!)" in conf and "secret=********" in conf
    assert "Vq8-mU2x" not in conf


def test_host_export_get_serves_the_masked_text(client_logged_in):
    seed_demo()
    response = client_logged_in.get(reverse("peers:host-export", args=["demo"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert body.startswith(";iaxadmin: iax.conf for host demo")
    assert "sha256 of the configuration below: ********" in body
    assert "secret=********" in body and "Vq8-mU2x" not in body


def test_host_export_post_serves_the_clear_text_recorded_and_never_cached(client_logged_in):
    seed_demo()
    response = client_logged_in.post(reverse("peers:host-export", args=["demo"]))
    assert response.status_code == 200 and "Vq8-mU2x" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    change = Change.objects.get(action="reveal")
    assert (change.actor_name, change.object_type, change.message) == (
        "ann",
        "host",
        "iax.conf with its secrets downloaded",
    )


def test_host_export_with_errors_is_409_with_the_findings(client_logged_in, host):
    store(host, section("p", "type=peer\nhost=192.0.2.1\ntos=ef"))
    response = client_logged_in.post(reverse("peers:host-export", args=["pbx1"]))
    assert response.status_code == 409
    assert "error: [p] tos: tos is not read in type=peer sections" in response.content.decode()


def test_unknown_host_is_404(client_logged_in):
    assert client_logged_in.get(reverse("peers:host-detail", args=["nope"])).status_code == 404


@pytest.fixture(autouse=True)
def _empty_cache(db):
    caches[metrics.CACHE_ALIAS].clear()


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


def test_host_page_shows_the_deployment_status(client, django_user_model):
    from peers.demo import seed_demo
    from peers.models import Deployment
    from peers.security.roles import set_role
    from peers.services import publish

    host = seed_demo()
    first = publish(host, message="first", actor="test")
    Deployment.objects.create(
        host=host,
        revision=first,
        revision_number=first.number,
        sha256=first.sha256,
        ok=True,
        registry="Host  dnsmgr  Username  Perceived  Refresh  State\n"
        "203.0.113.5:4569  Y  demo-pbx  <Unregistered>  60  Rejected\n1 IAX2 registrations.\n",
    )
    viewer = django_user_model.objects.create_user("watcher", password="pw-for-tests-only")
    set_role(viewer, "viewer")
    client.force_login(viewer)
    html = client.get(f"/hosts/{host.name}/").content.decode()
    assert "· up to date" in html
    assert "demo-pbx@203.0.113.5:4569: Rejected" in html


def test_host_page_counts_in_the_singular_and_the_plural(ann, demo):
    html = ann.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert "<strong>1</strong> user</a>" in html and "<strong>2</strong> friends</a>" in html
    assert "1 users" not in html.replace("<strong>", "").replace("</strong>", "")


def test_findings_link_to_the_field_that_causes_them(ann, demo):
    broken = store(demo, section("broken", "type=user\nauth=md5\npermit=192.0.2.1"))
    response = ann.get(reverse("peers:host-findings", args=["demo"]))
    html = response.content.decode()
    edit = reverse("peers:endpoint-edit", args=["demo", broken.pk])
    assert f'href="{edit}#row-auth"' in html
    assert response.context["counts"]["errors"] == 1
