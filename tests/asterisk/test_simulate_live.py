"""The call and registration simulator against real Asterisk 22.10.1.

One host ("lab") is built through the service layer and exported; the export (with
``authdebug=yes``, so refusals are logged) runs in one Asterisk, and the dialplan uploaded to the
host (extensions.conf, through ``services.import_extensions``) is its dialplan. Callers in the
same private loopback-only network namespace:

* ``caller``: a second Asterisk on 127.0.0.1, placing calls with ``channel originate`` (its peers
  give it a codec set or an RSA key) and registering with ``register =>`` lines when it starts;
* ``caller3``: an Asterisk on 127.0.0.3, for a source address only some ACLs admit;
* ``iax2_caller.py``: a minimal IAX2 client for what Asterisk never does as a caller (no call
  tokens, MD5 only, a source address of our choice).

Each scenario compares what the simulator predicts from the host in the database (``peers.simulation``)
with what happened: the outcome, the [user] and context a call ended in (``core show channels
concise``), the codec, the cause the caller received, and the lines the host logged, in order.
One sandbox and one set of instances serve every scenario; a call takes well under a second.
Set ``IAXADMIN_SIMULATE_REPORT=<file>`` to get a table of every scenario's prediction and log.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction

from peers import keys as rsa_keys
from peers import services
from peers.exporter import export_host
from peers.iaxconf import Entry, Section
from peers.iaxconf.simulate import Call, Registration, call_on, register_on, site
from peers.simulation import call_inputs
from tests.conftest import section, store

pytestmark = pytest.mark.django_db  # the lab host is built (and rolled back) once for the module

CLIENT = Path(__file__).with_name("iax2_caller.py")
CALLEE_PORT, CALLER_PORT, CALLER3_PORT, RAW_PORT = 30110, 30111, 30112, 30120
CONTEXTS = ["from-alice", "from-lobby", "from-lan", "from-reception", "from-front"]
EXTENSIONS = "[general]\nstatic=yes\n\n" + "".join(f"[{c}]\nexten => _X.,1,Echo()\n\n" for c in CONTEXTS)

LAB = {
    "alice": "type=friend\nhost=dynamic\nsecret=Alice-secret-1\ncontext=from-alice",
    "bob": "type=friend\nhost=dynamic\nsecret=Bob-secret-123\ncontext=from-alice",
    "acl-user": "type=user\nsecret=Acl-secret-123\ncontext=from-alice\ndeny=0.0.0.0/0.0.0.0\npermit=10.0.0.0/255.0.0.0",
    "ptext": "type=user\nsecret=Ptext-secret-12\nauth=plaintext\ncontext=from-alice",
    "rsa-user": "type=user\nauth=rsa\ninkeys=lab-caller\ncontext=from-alice",
    "lost": "type=user\nsecret=Lost-secret-123\ncontext=from-nowhere",
    "gsm-only": "type=user\nsecret=Gsm-secret-1234\ncontext=from-alice\ndisallow=all\nallow=gsm",
    "enc": "type=user\nsecret=Enc-secret-1234\nforceencryption=yes\ncontext=from-alice",
    "legacy": "type=user\nsecret=Legacy-secret-1\nrequirecalltoken=no\ncontext=from-alice",
    "lobby": "type=user\ncontext=from-lobby",
    "lan": "type=user\ncontext=from-lan\ndeny=0.0.0.0/0.0.0.0\npermit=127.0.0.1/255.255.255.255",
    # two users that tie for a caller from 127.0.0.3; [front] is later in the file, first in hash order
    "reception": "type=user\ncontext=from-reception\ndeny=0.0.0.0/0.0.0.0\npermit=127.0.0.3/255.255.255.255",
    "front": "type=user\ncontext=from-front\ndeny=0.0.0.0/0.0.0.0\npermit=127.0.0.3/255.255.255.255",
    "office": "type=peer\nhost=127.0.0.1\nsecret=Office-secret-1",
    "branch": "type=peer\nhost=dynamic\nsecret=Branch-secret-1\ndeny=0.0.0.0/0.0.0.0\npermit=10.0.0.0/255.0.0.0",
    "open-phone": "type=peer\nhost=dynamic",
    "rsa-phone": "type=peer\nhost=dynamic\nauth=rsa\ninkeys=lab-caller",
    "key-phone": "type=peer\nhost=dynamic\ninkeys=lab-caller",
}
REGISTRATIONS = {  # peer -> (register line credentials, secret, key)
    "rsa-phone": ("rsa-phone:[lab-caller]", None, "lab-caller"),
    "key-phone": ("key-phone:[lab-caller]", None, "lab-caller"),
    "alice": ("alice:Alice-secret-1", "Alice-secret-1", None),
    "bob": ("bob:wrong-secret", "wrong-secret", None),
    "office": ("office:Office-secret-1", "Office-secret-1", None),
    "branch": ("branch:Branch-secret-1", "Branch-secret-1", None),
    "open-phone": ("open-phone", None, None),
    "ghost": ("ghost:Ghost-secret-12", "Ghost-secret-12", None),
}
# Registrations in three phases, each from its own Asterisk, one after the other: Asterisk
# challenges a peer it does not know (ghost) with the methods it last asked a known peer for
# (last_authmethod), so the RSA peers go first and md5 ones are asked last before ghost.
PHASES = [
    ("early", 30114, ["rsa-phone", "key-phone"]),
    ("caller", CALLER_PORT, ["alice", "bob", "office", "branch", "open-phone"]),
    ("late", 30115, ["ghost"]),
]
CALLER_CONF = """[general]
authdebug=yes
bindport={port}
bindaddr={address}
{registers}

[lab]
type=peer
host=127.0.0.1
port={callee}

[lab-ulaw]
type=peer
host=127.0.0.1
port={callee}
disallow=all
allow=ulaw

[lab-rsa]
type=peer
host=127.0.0.1
port={callee}
outkey=lab-caller

[lab-other]
type=peer
host=127.0.0.1
port={callee}
outkey=other
"""
RECORDS: list[dict] = []


# --- the lab ------------------------------------------------------------------------------------


def _build_host() -> tuple:
    """The lab host through the services, exported; (iax.conf, keys, simulator inputs)."""
    host = services.create_host("lab", actor="test")
    services.save_general(host, Section("general", [Entry("authdebug", "yes")]), actor="test")
    material = rsa_keys.generate(None)
    services.store_key("lab-caller", material, actor="test")
    for name, lines in LAB.items():
        if name == "open-phone":
            # refused by the section policy (open-registration): stored as an import keeps it
            store(host, section(name, lines))
        else:
            services.save_endpoint(host, section(name, lines), actor="test")
    services.save_callnumber_limit(host, network="127.0.0.5/255.255.255.255", value=0, actor="test")
    services.import_extensions(
        host, "extensions.conf", {"extensions.conf": EXTENSIONS.encode()}, actor="test"
    )
    export = export_host(host)
    assert [e.code for e in export.errors] == ["open-registration"], export.errors  # [open-phone], on purpose
    files = {"iax.conf": export.text, "extensions.conf": EXTENSIONS}
    files.update({f"keys/{k.name}": k.content for k in export.key_files})
    return files, material, call_inputs(host)


@dataclass
class Lab:
    sandbox: object
    callee: object
    caller: object
    caller3: object
    inputs: tuple
    registry_lines: list
    registry: dict  # peer -> what became of its registration: Registered, Rejected, Request Sent
    registered: dict  # peer -> the Asterisk that registered it

    def predict_call(self, call: Call):
        document, keys, contexts = self.inputs
        return call_on(site(document, keys=keys, contexts=contexts), call)

    def predict_registration(self, registration: Registration):
        document, keys, contexts = self.inputs
        return register_on(site(document, keys=keys, contexts=contexts), registration)

    def place(self, caller, dial: str) -> dict:
        """Originate ``dial`` on ``caller``; the callee's log lines, the caller's, the channel."""
        callee_mark, caller_mark = len(self.callee.log(levels=None)), len(caller.log(levels=None))
        caller.cli(f"channel originate {dial} application Echo")
        endings = ("Call accepted by", "Call rejected by", "Hungup", "I don't know how", "Call terminated")

        def settled():
            caller.sync_log()
            return any(line.message.startswith(endings) for line in caller.log(levels=None)[caller_mark:])

        assert caller.wait_until(settled, timeout=10), f"no answer to {dial}"
        channels = []
        if any(line.message.startswith("Call accepted by") for line in caller.log(levels=None)[caller_mark:]):
            channels = self.callee.wait_until(self.callee.channels, timeout=5)
        for instance in (self.callee, caller):
            instance.cli("channel request hangup all")
        self.callee.wait_until(lambda: not self.callee.channels(), timeout=5)
        self.callee.sync_log()
        caller.sync_log()
        return {
            "callee": self.callee.log(levels=None)[callee_mark:],
            "caller": caller.log(levels=None)[caller_mark:],
            "channels": channels,
        }

    def raw(self, spec: dict) -> dict:
        """Place a call with iax2_caller.py; its answer and the callee's log lines."""
        mark = len(self.callee.log(levels=None))
        spec = {"to": f"127.0.0.1:{CALLEE_PORT}", "exten": "100", **spec}
        done = self.sandbox.run([sys.executable, str(CLIENT), json.dumps(spec)], timeout=20)
        assert done.returncode == 0, done.stderr
        self.callee.wait_until(lambda: not self.callee.channels(), timeout=5)
        self.callee.sync_log()
        return {"answer": json.loads(done.stdout), "callee": self.callee.log(levels=None)[mark:]}


@pytest.fixture(scope="module")
def lab(sandbox, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        files, material, inputs = _build_host()
        transaction.set_rollback(True)  # the host was only needed for its export
    other = rsa_keys.generate(None)
    callee = sandbox.start(files, name="lab", port=CALLEE_PORT)
    mark = len(callee.log(levels=None))
    keys = {"keys/lab-caller.key": material.private_pem, "keys/other.key": other.private_pem}
    registered, registry = {}, {}
    for name, port, peers in PHASES:
        registers = "\n".join(f"register => {REGISTRATIONS[p][0]}@127.0.0.1:{CALLEE_PORT}" for p in peers)
        conf = CALLER_CONF.format(port=port, address="127.0.0.1", registers=registers, callee=CALLEE_PORT)
        instance = sandbox.start({"iax.conf": conf, **keys}, name=name, port=port, bind="keep")

        seen: dict[str, str] = {}

        def settled(instance=instance, peers=peers, seen=seen):
            # what became of each registration, from the logs: the callee says "Registered IAX2
            # 'alice'", the registering box "Registration of 'bob' rejected" (it retries at once, so
            # its registry table moves on). key-phone never settles: the REGAUTH asks for md5 and
            # it only has a key.
            callee.sync_log()
            instance.sync_log()
            for line in callee.log(levels=None):
                found = re.match(r"Registered IAX2 '([^']+)'", line.message)
                if found:
                    seen[found[1]] = "Registered"
            for line in instance.log():
                found = re.match(r"Registration of '([^']+)' rejected", line.message)
                if found:
                    seen.setdefault(found[1], "Rejected")
            return all(p in seen for p in peers if p != "key-phone")

        assert instance.wait_until(settled, timeout=10), (instance.cli("iax2 show registry"), seen)
        registry.update({p: seen.get(p, "Request Sent") for p in peers})
        registered.update({p: instance for p in peers})
    caller = next(i for i in sandbox.instances if i.name == "caller")
    caller3 = sandbox.start(
        {
            "iax.conf": CALLER_CONF.format(
                port=CALLER3_PORT, address="127.0.0.3", registers="", callee=CALLEE_PORT
            )
        },
        name="caller3",
        port=CALLER3_PORT,
        bind="keep",
    )
    callee.sync_log()
    yield Lab(sandbox, callee, caller, caller3, inputs, callee.log(levels=None)[mark:], registry, registered)
    for instance in [caller3, *dict.fromkeys(registered.values()), callee]:
        instance.stop(graceful=False)
    report = os.environ.get("IAXADMIN_SIMULATE_REPORT")
    if report:
        Path(report).write_text(json.dumps(RECORDS, indent=2) + "\n")


# --- comparing ----------------------------------------------------------------------------------


def _shown(line) -> str:
    """A log line as the simulator writes it (a multi-line VERBOSE message: its first line)."""
    return f"{line.level} {line.source}: {line.message.splitlines()[0]}"


def _relevant(lines) -> list[str]:
    """The callee's lines about a call or registration: chan_iax2's and acl.c's problems, and the
    "Accepting ..." / "Registered IAX2 ..." lines."""
    return [
        _shown(line)
        for line in lines
        if line.source in ("chan_iax2.c", "acl.c")
        and (line.level != "VERBOSE" or line.message.startswith(("Accepting", "Registered IAX2")))
    ]


def _pattern(line, host: str) -> re.Pattern:
    text = re.escape(str(line)).replace(re.escape("<this host>"), re.escape(host))
    return re.compile(re.sub(r"<[a-z ]+>", ".+", text.replace(r"\<", "<").replace(r"\>", ">")) + "$")


def _matches(predicted, actual: list[str], host: str = "127.0.0.1") -> bool:
    return len(predicted) == len(actual) and all(
        _pattern(p, host).match(a) for p, a in zip(predicted, actual, strict=True)
    )


def _record(scenario: str, result, actual: list[str], **extra) -> None:
    RECORDS.append(
        {
            "scenario": scenario,
            "outcome": result.outcome,
            "section": result.section or result.pick,
            "cause": result.cause,
            "predicted": [str(line) for line in result.logged],
            "asterisk": actual,
            **extra,
        }
    )


# --- calls --------------------------------------------------------------------------------------

C1 = f"127.0.0.1:{CALLER_PORT}"
CALLS = [
    # scenario, caller, dial string, what the simulator is told
    (
        "exact username",
        "caller",
        "IAX2/alice:Alice-secret-1@lab/100",
        Call(C1, "alice", "Alice-secret-1", exten="100"),
    ),
    ("no username, ranking", "caller", "IAX2/lab/100", Call(C1, exten="100")),
    (
        "ACL deny",
        "caller",
        "IAX2/acl-user:Acl-secret-123@lab/100",
        Call(C1, "acl-user", "Acl-secret-123", exten="100"),
    ),
    (
        "wrong secret",
        "caller",
        "IAX2/alice:Wrong-secret-99@lab/100",
        Call(C1, "alice", "Wrong-secret-99", exten="100"),
    ),
    (
        "plaintext-only user, Asterisk falls back",
        "caller",
        "IAX2/ptext:Ptext-secret-12@lab/100",
        Call(C1, "ptext", "Ptext-secret-12", exten="100"),
    ),
    ("RSA", "caller", "IAX2/rsa-user@lab-rsa/100", Call(C1, "rsa-user", key="lab-caller", exten="100")),
    (
        "RSA, key not in inkeys",
        "caller",
        "IAX2/rsa-user@lab-other/100",
        Call(C1, "rsa-user", key="other", exten="100"),
    ),
    (
        "RSA-only user, caller without a key",
        "caller",
        "IAX2/rsa-user:Some-secret-12@lab/100",
        Call(C1, "rsa-user", "Some-secret-12", exten="100"),
    ),
    (
        "unknown context",
        "caller",
        "IAX2/lost:Lost-secret-123@lab/100",
        Call(C1, "lost", "Lost-secret-123", exten="100"),
    ),
    (
        "context not permitted",
        "caller",
        "IAX2/alice:Alice-secret-1@lab/100@from-lan",
        Call(C1, "alice", "Alice-secret-1", context="from-lan", exten="100"),
    ),
    (
        "no common codec",
        "caller",
        "IAX2/gsm-only:Gsm-secret-1234@lab-ulaw/100",
        Call(C1, "gsm-only", "Gsm-secret-1234", exten="100", codecs=("ulaw",)),
    ),
    (
        "forceencryption, caller does not encrypt",
        "caller",
        "IAX2/enc:Enc-secret-1234@lab/100",
        Call(C1, "enc", "Enc-secret-1234", exten="100"),
    ),
    ("ambiguous tie", "caller3", "IAX2/lab/100", Call(f"127.0.0.3:{CALLER3_PORT}", exten="100")),
]


@pytest.mark.parametrize("scenario,caller,dial,call", CALLS, ids=[c[0] for c in CALLS])
def test_calls_end_as_predicted(lab, scenario, caller, dial, call):
    result = lab.predict_call(call)
    placed = lab.place(getattr(lab, caller), dial)
    actual = _relevant(placed["callee"])
    _record(scenario, result, actual, channels=[c.name + "@" + c.context for c in placed["channels"]])
    callee_side = [line for line in result.logged if line.side == "callee"]
    assert _matches(callee_side, actual), (callee_side, actual)
    caller_lines = [_shown(line) for line in placed["caller"]]
    for line in (line for line in result.logged if line.side == "caller"):
        assert any(_pattern(line, "127.0.0.1").match(shown) for shown in caller_lines), (line, caller_lines)
    accepted = [line for line in caller_lines if "Call accepted by" in line]
    rejected = [line.rsplit(": ", 1)[-1] for line in caller_lines if "Call rejected by" in line]
    if result.outcome in ("accepted", "ambiguous"):
        (channel,) = placed["channels"]
        section = result.section or result.pick
        assert channel.context == result.context and channel.exten == "100"
        assert channel.context == next(
            line.split("=")[1] for line in LAB[section].split("\n") if line.startswith("context")
        )
        if result.auth_method not in (None, "none"):
            assert channel.name.startswith(f"IAX2/{section}-")
        assert accepted and accepted[0].endswith(f"(format {result.codec})")
        if result.outcome == "ambiguous":
            assert section in result.tied
    else:
        assert not placed["channels"] and not accepted
        assert rejected == ([result.cause] if result.cause else [])


RAW = [
    # scenario, the client's parameters, what the simulator is told
    (
        "call token required",
        {"username": "alice", "secret": "Alice-secret-1", "calltoken": False},
        dict(username="alice", secret="Alice-secret-1", calltoken=False, codecs=("ulaw",)),
    ),
    (
        "call token not required (requirecalltoken=no)",
        {"username": "legacy", "secret": "Legacy-secret-1", "calltoken": False},
        dict(username="legacy", secret="Legacy-secret-1", calltoken=False, codecs=("ulaw",)),
    ),
    (
        "md5 against plaintext-only",
        {"username": "ptext", "secret": "Ptext-secret-12", "methods": ["md5"]},
        dict(username="ptext", secret="Ptext-secret-12", auth=("md5",), codecs=("ulaw",)),
    ),
    (
        "call numbers exhausted",
        {"bind": "127.0.0.5", "username": "alice", "secret": "Alice-secret-1"},
        dict(username="alice", secret="Alice-secret-1", codecs=("ulaw",)),
    ),
]


@pytest.mark.parametrize("scenario,spec,call", RAW, ids=[r[0] for r in RAW])
def test_calls_from_a_minimal_client_end_as_predicted(lab, scenario, spec, call):
    address = spec.get("bind", "127.0.0.1")
    port = RAW_PORT + RAW.index(next(r for r in RAW if r[0] == scenario))
    result = lab.predict_call(Call(f"{address}:{port}", exten="100", **call))
    ran = lab.raw({**spec, "bind": f"{address}:{port}"})
    actual = _relevant(ran["callee"])
    _record(scenario, result, actual, client=ran["answer"])
    assert _matches([line for line in result.logged if line.side == "callee"], actual), (
        result.logged,
        actual,
    )
    answer = ran["answer"]
    if result.outcome == "accepted":
        assert answer["outcome"] == "accepted" and answer["format"] == result.codec
    elif result.cause is None and any(line.side == "caller" for line in result.logged):
        # the caller cannot answer the AUTHREQ: it asked for exactly what the simulator said
        assert answer["outcome"] == "gave up"
        assert answer["authmethods"] == sorted(site(lab.inputs[0]).users_by_name[call["username"]].auth)
    else:
        assert answer["outcome"] == "rejected" and answer.get("cause") == result.cause


# --- registrations ------------------------------------------------------------------------------


@pytest.mark.parametrize("peer", list(REGISTRATIONS))
def test_registrations_end_as_predicted(lab, peer):
    _, secret, key = REGISTRATIONS[peer]
    box = lab.registered[peer]
    result = lab.predict_registration(Registration(peer, f"127.0.0.1:{box.port}", secret=secret, key=key))
    mine = [
        line
        for line in lab.registry_lines
        if f"'{peer}'" in line.message
        or f" {peer} " in line.message
        or (peer == "branch" and "Peer ACL" in line.message)
    ]
    actual = _relevant(mine)
    _record(f"registration: {peer}", result, actual, state=lab.registry[peer])
    assert _matches([line for line in result.logged if line.side == "callee"], actual), (
        result.logged,
        actual,
    )
    state = lab.registry[peer]
    if result.outcome == "accepted":
        assert state == "Registered"
        row = lab.callee.peer(peer)
        shown = next(r for r in lab.callee.peers() if r.name == peer)
        assert (shown.host, shown.port, shown.dynamic, shown.status) == (
            result.peer_row["host"],
            result.peer_row["port"],
            True,
            result.peer_row["status"],
        )
        assert row is not None
    elif result.cause == "Registration Refused":
        assert state == "Rejected"
    else:  # the registering box cannot answer: it never gets further than its request
        assert state == "Request Sent"
        caller_lines = [_shown(line) for line in box.log()]
        for line in (line for line in result.logged if line.side == "caller"):
            assert any(_pattern(line, "127.0.0.1").match(shown) for shown in caller_lines), (
                line,
                caller_lines,
            )
