"""Host tokens (peers/views/tokens.py): created by an admin, shown once, audited; a revoked token's
export is refused."""

from __future__ import annotations

import re

import pytest

from peers import services
from peers.demo import seed_demo
from peers.models import Change
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_host_token_shown_once_and_audited(client, django_user_model):
    from peers.models import HostToken
    from peers.security import tokens
    from peers.security.roles import set_role

    host = seed_demo()
    admin = django_user_model.objects.create_user("root2", password="pw-for-tests-only")
    set_role(admin, "admin")
    client.force_login(admin)
    response = client.post(f"/hosts/{host.name}/tokens/", {"name": "pbx-agent"})
    html = response.content.decode()
    row = HostToken.objects.get(host=host)
    token = re.search(rf"iaxh_{row.prefix}_[A-Za-z0-9_-]{{20,}}", html).group(0)
    assert "no-store" in response["Cache-Control"]
    assert tokens.verify(token, tokens.HOST_KIND).pk == row.pk  # the token shown is the real one
    change = Change.objects.get(object_type="hosttoken")
    assert (change.after["name"], change.after["prefix"], change.action) == (
        "pbx-agent",
        row.prefix,
        "create",
    )
    assert row.hash not in html
    again = client.get(f"/hosts/{host.name}/tokens/").content.decode()
    assert f"iaxh_{row.prefix}_…" in again and token not in again


def test_revoking_a_host_token_turns_its_export_into_401(client, django_user_model):
    from peers.services import publish

    host = seed_demo()
    publish(host, message="first", actor="test")
    row, token = services.create_host_token(host, "agent", actor="test")
    admin = django_user_model.objects.create_user("root3", password="pw-for-tests-only")
    set_role(admin, "admin")
    client.force_login(admin)
    assert (
        client.get(f"/api/v1/hosts/{host.name}/iax.conf", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 200
    )
    client.post(f"/hosts/{host.name}/tokens/{row.pk}/revoke/")
    assert (
        client.get(f"/api/v1/hosts/{host.name}/iax.conf", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 401
    )
