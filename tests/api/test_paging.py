"""The JSON API's lists are paged (limit/offset, X-Total-Count, Link) and read a page with a
constant number of queries whatever the host's size: each item is built from rows fetched for the
page, never with a document build of its own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peers import services
from peers.iaxconf.parse import parse
from peers.models import Endpoint
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client, django_user_model):
    user = django_user_model.objects.create_user("ops")
    set_role(user, "viewer")
    _, token = services.create_user_token(user, "reader", actor="test")

    def get(path: str):
        return client.get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


def _host(name: str, count: int) -> None:
    """A host of ``count`` endpoints (half from a template, some with keys) and two templates."""
    lines = [
        "[general]",
        "bindport=4569",
        "register => me:[signer]@iax.example.net",
        "",
        "[phones](!)",
        "type=friend",
        "host=dynamic",
        "context=from-phones",
        "",
        "[trunks](!)",
        "type=peer",
        "qualify=yes",
        "",
    ]
    for i in range(count):
        base = "(phones)" if i % 2 else "(trunks)"
        lines += [f"[ext{i:04d}]{base}", f"secret=Long-secret-{i:04d}", "allow=ulaw", f"callerid=Ext {i}"]
        if i % 5 == 0:
            lines += ["auth=rsa", "inkeys=office", "host=192.0.2.1"]
        lines.append("")
    services.import_document(parse("\n".join(lines) + "\n").document, host_name=name, actor="test")


def test_a_page_of_endpoints_is_the_same_whatever_the_host_size_and_costs_the_same(get):
    _host("small", 12)
    _host("large", 260)
    get("/hosts")  # the token's last use is written once a minute: not part of what is counted
    counts = {}
    for name in ("small", "large"):
        with CaptureQueriesContext(connection) as queries:
            response = get(f"/hosts/{name}/endpoints?limit=10&offset=2")
        assert response.status_code == 200
        counts[name] = len(queries)
        page = response.json()
        assert [e["name"] for e in page] == [f"ext{i:04d}" for i in range(2, 12)]
    assert counts["small"] == counts["large"]
    assert page[0] == {
        "name": "ext0002",
        "kind": "peer",
        "is_template": False,
        "position": 4,
        "bases": ["trunks"],
        "entries": [{"name": "allow", "value": "ulaw"}, {"name": "callerid", "value": "Ext 2"}],
        "comment": "",
        "secret_set": True,
        "version": services.version_of(Endpoint.objects.get(name="ext0002", host__name="large")),
    }


def test_each_item_of_a_page_is_what_the_single_read_gives(get):
    _host("pbx", 30)
    page = get("/hosts/pbx/endpoints?limit=30").json()
    assert [get(f"/hosts/pbx/endpoints/{e['name']}").json() for e in page] == page
    templates = get("/hosts/pbx/templates").json()
    assert [t["name"] for t in templates] == ["phones", "trunks"]
    assert templates == [get(f"/hosts/pbx/templates/{t['name']}").json() for t in templates]


def test_pages_say_how_many_there_are_and_link_to_the_next(get):
    _host("pbx", 25)
    first = get("/hosts/pbx/endpoints?limit=10")
    assert first["X-Total-Count"] == "25"
    assert first["Link"] == '<http://testserver/api/v1/hosts/pbx/endpoints?limit=10&offset=10>; rel="next"'
    last = get("/hosts/pbx/endpoints?limit=10&offset=20")
    assert len(last.json()) == 5
    assert last["Link"] == '<http://testserver/api/v1/hosts/pbx/endpoints?limit=10&offset=10>; rel="prev"'
    names = []
    offset = 0
    while True:
        response = get(f"/hosts/pbx/endpoints?limit=7&offset={offset}")
        names += [e["name"] for e in response.json()]
        if 'rel="next"' not in response.get("Link", ""):
            break
        offset += 7
    assert names == [f"ext{i:04d}" for i in range(25)]


def test_the_default_page_and_the_maximum(get):
    _host("pbx", 120)
    assert len(get("/hosts/pbx/endpoints").json()) == 100
    too_many = get("/hosts/pbx/endpoints?limit=1001")
    assert too_many.status_code == 422
    assert get("/hosts/pbx/endpoints?offset=-1").status_code == 422
    assert get("/hosts/pbx/endpoints?offset=500").json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/hosts",
        "/keys",
        "/hosts/{host}/registrations",
        "/hosts/{host}/callnumberlimits",
        "/hosts/{host}/templates",
    ],
)
def test_every_list_is_paged_with_a_constant_number_of_queries(get, path):
    _host("small", 3)
    _host("large", 3)
    for name, count in (("small", 1), ("large", 8)):  # a page of one, a page of five
        for i in range(count):
            services.save_registration(
                services_host(name),
                registration=None,
                username=f"u{i}",
                secret=f"Rg7-long-pw-{i}",
                key=None,
                remote_host="192.0.2.7",
                remote_port=None,
                position=None,
                actor="test",
            )
            services.save_callnumber_limit(
                services_host(name),
                limit=None,
                network=f"198.51.100.{i}",
                value=10,
                position=None,
                actor="test",
            )
    for i in range(6):
        services.create_host(f"extra{i}", actor="test")
    get("/hosts")  # the token's last use is written once a minute: not part of what is counted
    counts = []
    for name in ("small", "large"):
        with CaptureQueriesContext(connection) as queries:
            response = get(path.format(host=name) + "?limit=5")
        assert response.status_code == 200 and len(response.json()) <= 5
        assert int(response["X-Total-Count"]) >= len(response.json())
        counts.append(len(queries))
    assert counts[0] == counts[1]


def services_host(name):
    from peers.models import Host

    return Host.objects.get(name=name)
