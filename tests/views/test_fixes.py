"""The one-click fixes pages (peers/views/fixes.py): the choices with their alternatives, the
masked diff of what the chosen fixes change, one recorded change on apply, a stale page refused."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from peers import fixes, services
from peers.exporter import export_host
from peers.iaxconf.parse import parse
from peers.models import Change, Endpoint
from tests.services.test_fixes import IMPORTED

pytestmark = pytest.mark.django_db


@pytest.fixture
def host():
    services.import_document(parse(IMPORTED).document, host_name="pbx1", actor="import")
    return Endpoint.objects.get(name="alice").host


def _checked(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="radio" name="(c\d+)" value="([^"]*)" checked>', page))


def test_fix_everything_safe_shows_each_choice_the_defaults_and_the_masked_diff(editor, host):
    response = editor.get(reverse("peers:host-fixes", args=["pbx1"]))
    page = response.content.decode()
    rows = response.context["rows"]
    assert len(rows) == 7
    quilify = next(r for r in rows if r["choice"].finding.directive == "quilify")
    assert [f.action for f in quilify["choice"].fixes] == ["comment", "rename"]
    assert _checked(page)[quilify["group"]] == quilify["choice"].fixes[0].key  # the safe one
    assert "changes what Asterisk reads: did you mean qualify?" in page
    assert "Alice-secret-99" not in page and "Branch-Secret-9" not in page
    assert (
        '<span class="add">+; nat=yes ; iaxadmin fix: a sip.conf option, ignored by chan_iax2</span>' in page
    )
    hidden = re.findall(r'<input type="hidden" name="key" value="([^"]+)">', page)
    assert hidden == [f.key for f in response.context["preview"].outcome.applied]
    assert "Apply 7 fixes as one change" in page


def test_one_kind_and_explicit_choices(editor, host):
    url = reverse("peers:host-fixes", args=["pbx1"])
    response = editor.get(url, {"code": "foreign-directive"})
    assert [r["choice"].finding.directive for r in response.context["rows"]] == ["dtmfmode", "nat"]
    assert len(response.context["preview"].outcome.applied) == 2
    plan = fixes.plan(host)
    quilify = next(c for c in plan.choices if c.finding.directive == "quilify")
    nat = next(c for c in plan.choices if c.finding.directive == "nat")
    choices = {f"c{quilify.fixes[0].line}": quilify.fixes[1].key, f"c{nat.fixes[0].line}": ""}
    response = editor.get(url, choices)
    applied = response.context["preview"].outcome.applied
    assert [f.description for f in applied] == ["rename quilify=yes to qualify=yes in [bob]"]
    assert _checked(response.content.decode())[f"c{nat.fixes[0].line}"] == ""


def test_apply_is_one_recorded_change_and_a_stale_page_is_refused(editor, host):
    url = reverse("peers:host-fixes", args=["pbx1"])
    preview = editor.get(url, {"code": "foreign-directive"}).context["preview"]
    keys = [f.key for f in preview.outcome.applied]
    services.update_host(host, description="meanwhile", actor="someone")
    stale = editor.post(url, {"key": keys, "version": preview.version, "code": "foreign-directive"})
    assert stale.status_code == 409 and "nothing was applied" in stale.content.decode()
    assert any(f.code == "foreign-directive" for f in export_host(host).errors)

    version = stale.context["preview"].version
    response = editor.post(url, {"key": keys, "version": version, "message": "drop sip.conf options"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "peers:host-findings", args=["pbx1"]
    )
    assert not any(f.code == "foreign-directive" for f in export_host(host).errors)
    rows = Change.objects.filter(message="drop sip.conf options")
    assert (
        sorted(c.object_repr for c in rows) == ["[alice]", "[office]"] and len({c.batch for c in rows}) == 1
    )
    assert {c.actor_name for c in rows} == {"ed"}


def test_the_summary_counts_the_fixable_findings_and_links_each_kind(editor, host):
    page = editor.get(reverse("peers:host-fix-summary", args=["pbx1"])).content.decode()
    assert "<strong>7 findings</strong> have a one-click fix." in page
    assert "Fix everything safe (7)" in page
    assert f'href="{reverse("peers:host-fixes", args=["pbx1"])}?code=foreign-directive"' in page
    services.apply_fixes(host, actor="test")
    page = editor.get(reverse("peers:host-fix-summary", args=["pbx1"])).content.decode()
    assert "one-click fix" not in page
