"""One section policy for every way of saving: the same invalid save gets the same refusal, with the
same finding codes, through the web form and through the JSON API (peers/policy.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.models import Change, Endpoint
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db

# (directive, value) a peer may not be saved with, each refused by a different rule
BAD = [
    ("port", "99999"),  # out of range
    ("qualify", "sometimes"),
    ("trunk", "maybe"),
    ("auth", "md5,sha1"),
    ("allow", "g711"),  # not a codec IAX2 carries
    ("tos", "lowdelay"),  # a pre-DSCP name
    ("transfer", "often"),
    ("inkeys", "a.pub"),  # a file name, not a key name
    ("outkey", "nokey"),  # no such key
    ("context", "a b"),
    ("defaultip", "bad host"),
    ("host", "bad host"),
    ("requirecalltoken", "perhaps"),
    ("callerid", '"Unbalanced <100>'),
    ("secret", "a;b"),
    ("language", "en\u2028tail"),  # a line separator: would hide the rest of the line
    ("mailbox", "box@@ctx"),
    ("permit", "10.0.0.0/33"),
    ("sendani", "sure"),
    ("nat", "yes"),  # a sip.conf directive
    ("insecure", "port"),
    ("notransfer", "yes"),  # removed from chan_iax2
    ("register", "me:pw@iax.example.net"),  # [general] only
    ("bindport", "4570"),  # [general] only
]


@pytest.fixture
def setup(db, django_user_model):
    host = seed_demo(actor="setup")
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    set_role(user, "editor")
    web = Client()
    web.force_login(user)
    _, token = services.create_user_token(user, "script", actor="setup")
    return host, web, token


def _codes(findings) -> set[tuple]:
    return {(f["code"], (f["directive"] or "").lower(), f["part"]) for f in findings}


@pytest.mark.parametrize(("directive", "value"), BAD, ids=[d for d, _ in BAD])
def test_the_form_and_the_api_refuse_a_save_alike(setup, directive, value):
    host, web, token = setup
    before = Change.objects.count()
    entries = [("host", "192.0.2.7")] if directive != "host" else []
    entries.append((directive, value))

    fields = web.get(reverse("peers:endpoint-create", args=[host.name, "peer"])).context["form"].fields
    form_data, other = {"name": "newpeer"}, []
    for name, val in entries:
        if name in ("allow", "permit"):  # ordered lists of name=value lines
            form_data[name] = f"{name}={val}"
        elif name in fields and name != "outkey":  # the outkey select only offers existing keys
            form_data[name] = val
        else:
            other.append(f"{name}={val}")
    if other:
        form_data["other_lines"] = "\n".join(other)
    page = web.post(reverse("peers:endpoint-create", args=[host.name, "peer"]), form_data)
    assert page.status_code == 200, "the form should have been refused"
    form_codes = {
        (f.code, (f.directive or "").lower(), f.part) for f in page.context["form"].verdict.introduced
    }

    body = {"name": "newpeer", "kind": "peer", "entries": [{"name": n, "value": v} for n, v in entries]}
    api = Client().post(
        f"/api/v1/hosts/{host.name}/endpoints",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert api.status_code == 400, api.content
    assert form_codes and form_codes == _codes(api.json()["findings"])
    assert not Endpoint.objects.filter(host=host, name="newpeer").exists()
    assert Change.objects.count() == before  # nothing written either way


def test_an_error_already_there_does_not_block_an_unrelated_save(setup):
    """The policy refuses what a save brings in, not what an imported file already had."""
    host, web, token = setup
    from tests.conftest import section, store

    broken = store(host, section("legacy", "type=peer\nhost=192.0.2.1\nnat=yes"))  # as an import keeps it
    url = f"/api/v1/hosts/{host.name}/endpoints/legacy"
    current = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
    body = {**{k: current[k] for k in ("name", "kind", "bases", "comment")}, "entries": current["entries"]}
    body["entries"].append({"name": "context", "value": "from-legacy"})
    saved = Client().put(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert saved.status_code == 200, saved.content
    broken.refresh_from_db()
    assert broken.context == "from-legacy"
