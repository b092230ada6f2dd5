"""``manage.py iax_check`` end to end against the built Asterisk 22.10.1, and the comparison it
prints (peers.asterisk.check)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from peers import services
from peers.asterisk import check as checking
from peers.asterisk import locate
from peers.asterisk.check import CLEAN, COMPLAINED, UNAVAILABLE, check_config, expected_sections
from peers.asterisk.sandbox import LogLine
from peers.demo import seed_demo
from peers.iaxconf import Entry, Section
from peers.iaxconf.parse import parse
from peers.models import Endpoint
from tests.conftest import store, store_general

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("iax_check", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_demo_host_is_clean(asterisk_bin):
    seed_demo()
    code, out = run("--host", "demo")
    assert code == 0
    assert out.startswith("iax_check demo (current configuration)\nChecked in Asterisk 22.10.1 (")
    assert "  alice                     yes              yes\n" in out
    assert "  hq-rsa                    yes              yes\n" in out
    assert "  branch-bac                yes              yes\n" in out  # iax2 show registry cuts at 10
    assert (
        "  demo-pbx PRIVATE          yes              yes   (needs its passphrase: run 'keys init' on" in out
    )
    assert "iaxadmin's validator predicted 0 error(s) and 0 warning(s):" in out
    assert "Asterisk logged 0 WARNING/ERROR line(s)" in out
    assert "  WARNING acl.c: Unable to lookup 'iax.example.net'" in out.split("Set aside")[1]
    assert out.endswith("Result: clean: Asterisk loaded what iaxadmin expects, without a warning.\n")
    for secret in ("Vq8-mU2x!rT4pz", "b0b-Kp9#wq3LxE", "Br4nch-7yHq2mZ", "Rg7-tw2PqLx9"):
        assert secret not in out


def test_a_host_asterisk_complains_about_exits_1(asterisk_bin):
    host = services.create_host("pbx", actor="test")  # the broken rows as an import keeps them
    store_general(host, [Entry("tos", "lowdelay"), Entry("bandwidth", "huge")])
    store(host, Section("nt", [Entry("host", "dynamic"), Entry("secret", "Ab3-very-long")]))
    code, out = run("--host", "pbx")
    assert code == 1
    predicted = out.split("iaxadmin's validator predicted")[1].split("Asterisk logged")[0]
    logged = out.split("Asterisk logged")[1].split("Result:")[0]
    assert "(invalid-value)" in predicted and "tos='lowdelay'" in predicted and "(missing-type)" in predicted
    assert "WARNING chan_iax2.c: Invalid tos value at line" in logged
    assert "WARNING chan_iax2.c: bandwidth must be either low, medium, or high" in logged
    assert "WARNING chan_iax2.c: Section 'nt' lacks type" in logged
    assert out.endswith("Result: Asterisk complained (see above).\n")


def test_a_published_revision_is_checked_as_published(asterisk_bin):
    host = seed_demo()
    call_command("iax_publish", "--host", "demo", "-m", "first", stdout=StringIO())
    services.delete_endpoint(Endpoint.objects.get(host=host, name="provider"), actor="test")
    code, now = run("--host", "demo")
    code_r1, r1 = run("--host", "demo", "--revision", "1")
    assert (code, code_r1) == (0, 0)
    assert "  provider " not in now
    assert (
        r1.startswith("iax_check demo (revision 1)\n")
        and "  provider                  yes              yes\n" in r1
    )
    with pytest.raises(CommandError, match="host 'demo' has no revision 7"):
        run("--host", "demo", "--revision", "7")


def test_no_asterisk_exits_2_and_says_how_to_get_one(monkeypatch, tmp_path):
    seed_demo()
    code, out = run("--host", "demo", "--asterisk", str(tmp_path / "none"))
    assert code == 2
    assert (
        out
        == f"iax_check demo (current configuration)\nno check in Asterisk: --asterisk {tmp_path / 'none'}: not an executable file\n"
    )
    monkeypatch.delenv("ASTERISK_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(locate, "build_script", lambda: None)
    code, out = run("--host", "demo")
    assert code == 2 and "Build one with ASTERISK_BIN=$(../shared/asterisk/build)" in out


# --- the comparison itself ------------------------------------------------------------------


def test_expected_sections_follow_types_and_templates():
    document = parse(
        "[general]\n[t](!)\ntype=friend\n[a](t)\n[p]\ntype=peer\n[u]\ntype=user\n[none]\nhost=dynamic\n"
        "[x]\ntype=phone\n"
    ).document
    assert expected_sections(document) == (["a", "p"], ["a", "u"])


def test_a_peer_asterisk_did_not_load_is_a_difference(start, asterisk_bin):
    # an unresolvable defaultip makes chan_iax2 drop the peer (tests/asterisk/test_disagreements.py)
    text = (
        "[general]\n[gone]\ntype=peer\nhost=127.0.0.1\ndefaultip=no-such-host.invalid\nsecret=Ab3-very-long\n"
    )
    result = check_config({"iax.conf": text}, asterisk=asterisk_bin)
    assert result.status == COMPLAINED and result.exit_code == 1
    assert [(r.name, r.expected, r.loaded) for r in result.part("peers").rows] == [("gone", True, False)]
    assert "  gone                      yes              no   <-- differs\n" in result.report()


def test_secrets_are_masked_in_log_lines():
    masked = checking._masked(
        [LogLine("WARNING", "x.c", "user pw-SECRET-1 and pw-SECRET-1")], ["pw-SECRET-1"]
    )
    assert masked[0].message == "user ******** and ********"
    document = parse("[general]\nregister => me:Reg-Pass-1@h.example\n[a]\nsecret=Sec-Ret-2\n").document
    assert checking._secrets(document) == ["Reg-Pass-1", "Sec-Ret-2"]


def test_status_values():
    assert (CLEAN, COMPLAINED, UNAVAILABLE) == ("clean", "complained", "unavailable")
    assert [checking.CheckResult(s).exit_code for s in (CLEAN, COMPLAINED, UNAVAILABLE)] == [0, 1, 2]
