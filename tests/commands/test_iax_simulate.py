"""manage.py iax_simulate: the same engine as the pages and the API, in plain sentences or one JSON
object; exit 0 accepted, 1 rejected or ambiguous, 2 bad parameters. It writes nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from peers import services
from peers.demo import seed_demo
from peers.models import Change
from tests.conftest import section

pytestmark = pytest.mark.django_db

ALICE = "Vq8-mU2x!rT4pz"  # the demo's alice


@pytest.fixture
def demo(db):
    return seed_demo(dialplan=True)


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("iax_simulate", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_an_accepted_call_in_sentences(demo):
    code, text = run(
        "call",
        "--host",
        "demo",
        "--from",
        "192.168.10.23",
        "--username",
        "alice",
        "--secret",
        ALICE,
        "--exten",
        "201",
    )
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "Call from 192.168.10.23 as alice to 201 on host demo: ACCEPTED by [alice]"
    assert "3. [alice] takes the call: the username matches, the address is admitted." in lines
    assert (
        "  - extension '201' must exist in context 'from-office' (the dialplan has the context; iaxadmin does "
        "not know its extensions)" in lines
    )
    assert ALICE not in text


def test_a_rejected_call_as_json(demo):
    code, text = run(
        "call",
        "--host",
        "demo",
        "--from",
        "203.0.113.50:4570",
        "--username",
        "alice",
        "--secret",
        ALICE,
        "--json",
    )
    assert code == 1
    data = json.loads(text)
    assert data["host"] == "demo" and data["outcome"] == "rejected" and data["section"] is None
    assert data["cause"] == "No authority found"
    assert data["log"] == "WARNING chan_iax2.c: Host 203.0.113.50:4570 failed to authenticate as alice"
    assert data["candidates"][0]["section"] == "alice" and data["candidates"][0]["included"] is False
    assert data["fix"] == {
        "text": "add permit=203.0.113.50/32 as the last permit/deny line of [alice] (the last "
        "matching line decides)",
        "section": "alice",
        "directive": "permit",
        "value": "203.0.113.50/32",
    }
    assert ALICE not in text


def test_an_ambiguous_answer_exits_1(demo):
    for name in ("kiosk-a", "kiosk-b"):
        services.save_endpoint(demo, section(name, "type=user\ncontext=default"), actor="test")
    code, text = run("call", "--host", "demo", "--from", "192.0.2.7", "--json")
    data = json.loads(text)
    assert code == 1 and data["outcome"] == "ambiguous" and sorted(data["tied"]) == ["kiosk-a", "kiosk-b"]
    code, text = run("call", "--host", "demo", "--from", "192.0.2.7")
    assert "AMBIGUOUS: " in text.splitlines()[0] and "picks [" in text.splitlines()[0]


def test_options_reach_the_engine(demo):
    code, text = run(
        "call",
        "--host",
        "demo",
        "--from",
        "192.168.10.23",
        "--username",
        "alice",
        "--secret",
        ALICE,
        "--no-calltoken",
        "--json",
    )
    data = json.loads(text)
    assert data["outcome"] == "accepted"
    assert data["steps"][0]["text"].endswith("none is required: [alice] has requirecalltoken=auto")
    code, text = run(
        "call",
        "--host",
        "demo",
        "--from",
        "203.0.113.9",
        "--username",
        "hq-rsa",
        "--key",
        "hq",
        "--no-calltoken",
        "--json",
    )
    assert json.loads(text)["fix"]["directive"] == "requirecalltoken"
    code, text = run("call", "--host", "demo", "--from", "198.51.100.7", "--username", "branch", "--json")
    assert json.loads(text)["outcome"] == "rejected"  # [branch] is a peer
    code, text = run(
        "call",
        "--host",
        "demo",
        "--from",
        "203.0.113.9",
        "--username",
        "hq-rsa",
        "--key",
        "hq",
        "--context",
        "from-hq",
        "--codecs",
        "g729",
        "--json",
    )
    data = json.loads(text)
    assert data["auth_method"] == "rsa" and data["cause"] == "Unable to negotiate codec"


def test_a_registration(demo):
    code, text = run(
        "register",
        "--host",
        "demo",
        "--peer",
        "branch",
        "--from",
        "198.51.100.20",
        "--secret",
        "Br4nch-7yHq2mZ",
        "--json",
    )
    data = json.loads(text)
    assert code == 0 and data["outcome"] == "accepted" and data["peer_row"]["host"] == "198.51.100.20"
    code, text = run("register", "--host", "demo", "--peer", "branch", "--from", "192.0.2.1", "--secret", "x")
    assert code == 1 and "REJECTED (cause: Registration Refused)" in text.splitlines()[0]
    assert (
        "Fix: add permit=192.0.2.1/32 as the last permit/deny line of [branch] ([branch] permit=192.0.2.1/32)"
        in text
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["call", "--host", "nope", "--from", "192.0.2.1"], "no host named 'nope'"),
        (
            ["call", "--host", "demo", "--from", "pbx.example.net"],
            "--from 'pbx.example.net': is not an IP address",
        ),
        (
            ["call", "--host", "demo", "--from", "192.0.2.1", "--auth", "md5,ntlm"],
            "--auth 'md5,ntlm': 'ntlm' is not",
        ),
        (["call", "--host", "demo", "--from", "192.0.2.1", "--codecs", "mp3"], "--codecs 'mp3'"),
    ],
)
def test_bad_parameters_exit_2_naming_the_flag(demo, args, message):
    with pytest.raises(CommandError) as caught:
        call_command("iax_simulate", *args, stdout=io.StringIO())
    assert caught.value.returncode == 2 and message in str(caught.value)


def test_a_simulation_writes_nothing(demo):
    before = Change.objects.count()
    run("call", "--host", "demo", "--from", "192.0.2.1", "--username", "alice", "--secret", "wrong")
    assert Change.objects.count() == before
