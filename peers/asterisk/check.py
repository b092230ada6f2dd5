"""Check a configuration in real Asterisk: what iaxadmin's validator predicts next to what
Asterisk 22 loaded and logged. No Django here (``peers.asterisk.hostcheck`` feeds it a host's
export or a published revision).

``check_config(files, findings=..., asterisk=None, passcodes=None) -> CheckResult`` starts a
throwaway Asterisk in a private loopback-only sandbox (:class:`~peers.asterisk.Sandbox`) with
``files`` (``{"iax.conf": text, "keys/x.key": pem}``) and compares, side by side:

* peers and users: the sections the document makes peers (type=peer/friend) and users
  (type=user/friend), templates and type-less sections left out, against ``iax2 show peer`` for
  every peer and ``iax2 show users`` (which shows 15 bytes of a name);
* registrations: the ``register`` lines against ``iax2 show registry`` (10 bytes of a user name);
* keys: the key files against ``keys show`` (a passphrase-protected private key stays
  "[Needs Passcode]" until ``keys init`` on the real server: a note, not a complaint);
* the validator's findings against the NOTICE/WARNING/ERROR lines Asterisk logged. Lines about
  host names that cannot be resolved are set apart: the sandbox has no DNS.

``CheckResult.status`` is ``clean`` (exit 0), ``complained`` (exit 1: Asterisk logged a WARNING
or ERROR, rejected the file, did not start chan_iax2, or loaded something else than predicted)
or ``unavailable`` (exit 2: no Asterisk, or no private network namespace to run it in).
``CheckResult.report()`` is the text ``iax_check`` prints. Secrets never appear: the findings are
masked by the validator, users' secrets are not read from ``iax2 show users``, and every secret of
the configuration is masked in the log lines shown.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..iaxconf.document import Document, expansions
from ..iaxconf.mask import MASK
from ..iaxconf.parse import ConfigSyntaxError, parse
from .compare import is_resolution_failure
from .locate import AsteriskNotFound, find_asterisk
from .sandbox import AsteriskStartError, LogLine, Sandbox, SandboxError

CLEAN, COMPLAINED, UNAVAILABLE = "clean", "complained", "unavailable"
EXIT_CODES = {CLEAN: 0, COMPLAINED: 1, UNAVAILABLE: 2}


@dataclass(frozen=True)
class Row:
    """One name of one kind: whether iaxadmin expects Asterisk to load it, whether it did."""

    name: str
    expected: bool
    loaded: bool
    note: str = ""

    @property
    def agrees(self) -> bool:
        return self.expected == self.loaded


@dataclass
class Part:
    """Peers, users, registrations or keys, side by side."""

    kind: str
    rows: list[Row] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return all(row.agrees for row in self.rows)


@dataclass
class CheckResult:
    status: str
    asterisk: str = ""  # "Asterisk 22.10.1 (/path/to/asterisk)"
    reason: str = ""  # why the check could not run (status unavailable)
    predicted: list = field(default_factory=list)  # the validator's findings (masked)
    parts: list[Part] = field(default_factory=list)
    logged: list[LogLine] = field(default_factory=list)  # NOTICE/WARNING/ERROR, masked
    sandbox_only: list[LogLine] = field(default_factory=list)  # unresolvable names: the sandbox
    rejected: bool = False  # iax.conf could not be parsed at all
    running: bool = True  # chan_iax2 is running

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    @property
    def problems(self) -> list[LogLine]:
        return [line for line in self.logged if line.is_problem]

    def part(self, kind: str) -> Part:
        return next(p for p in self.parts if p.kind == kind)

    def report(self, title: str = "") -> str:
        return _report(self, title)


def expected_sections(document: Document) -> tuple[list[str], list[str]]:
    """The peers and users chan_iax2 builds from a document: every non-template section but
    [general] and [callnumberlimits] whose first type line (templates' lines first) is peer,
    user or friend."""
    peers: list[str] = []
    users: list[str] = []
    for section, entries in zip(document.sections, expansions(document), strict=True):
        if entries is None:
            continue
        kind = next((e.value.strip().lower() for e in entries if e.name.lower() == "type"), "")
        if kind in ("peer", "friend") and section.name not in peers:
            peers.append(section.name)
        if kind in ("user", "friend") and section.name not in users:
            users.append(section.name)
    return peers, users


def _secrets(document: Document) -> list[str]:
    found = []
    for section in document.sections:
        for entry in section.entries:
            name = entry.name.lower()
            if name == "secret" and entry.value:
                found.append(entry.value)
            elif name == "register":
                password = entry.value.split("@", 1)[0].partition(":")[2]
                if password and not password.startswith("["):  # [key] names a key, not a secret
                    found.append(password)
    return sorted(set(found), key=len, reverse=True)


def _masked(lines: Iterable[LogLine], secrets: list[str]) -> list[LogLine]:
    out = []
    for line in lines:
        message = line.message
        for secret in secrets:
            if len(secret) >= 3:
                message = message.replace(secret, MASK)
        out.append(LogLine(line.level, line.source, message))
    return out


def _cut(name: str, size: int) -> str:
    """A name as a fixed-width CLI column shows it (cut at ``size`` bytes)."""
    return name.encode("utf-8")[:size].decode("utf-8", "ignore")


def _rows(
    expected: Iterable[str], loaded: Iterable[str], notes: Mapping[str, str] | None = None
) -> list[Row]:
    expected, loaded, notes = list(dict.fromkeys(expected)), list(dict.fromkeys(loaded)), notes or {}
    names = expected + [n for n in loaded if n not in expected]
    return [Row(n, n in expected, n in loaded, notes.get(n, "")) for n in names]


def check_config(
    files: Mapping[str, str | bytes],
    *,
    findings: Iterable = (),
    asterisk: str | os.PathLike[str] | None = None,
    build: bool = True,
    passcodes: Mapping[str, str] | str | None = None,
) -> CheckResult:
    """Load ``files`` into a throwaway Asterisk and compare it with the prediction."""
    findings = list(findings)
    text = files["iax.conf"]
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        document = parse(text).document
    except ConfigSyntaxError:
        document = Document()
    secrets = _secrets(document)
    try:
        binary = find_asterisk(asterisk, build=build)
    except AsteriskNotFound as exc:
        return CheckResult(UNAVAILABLE, reason=str(exc), predicted=findings)
    try:
        version = subprocess.run(
            [str(binary), "-V"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        with Sandbox(binary) as sandbox:
            instance = sandbox.start(files, passcodes=passcodes)
            snapshot = instance.snapshot()
            instance.stop(graceful=False)  # a throwaway: nothing to save, and a clean stop takes a second
    except (SandboxError, AsteriskStartError, OSError, subprocess.SubprocessError) as exc:
        return CheckResult(UNAVAILABLE, asterisk=str(binary), reason=str(exc), predicted=findings)

    peers, users = expected_sections(document)
    general = document.general
    registrations = [
        e.value.split("@", 1)[0].partition(":")[0]
        for e in (general.entries if general else [])
        if e.name.lower() == "register"
    ]
    key_files = sorted(
        (name[5:-4], "PRIVATE" if name.endswith(".key") else "PUBLIC")
        for name in files
        if name.startswith("keys/") and name.endswith((".key", ".pub"))
    )
    key_notes = {
        f"{k.name} {k.type}": "needs its passphrase: run 'keys init' on the Asterisk host"
        for k in snapshot.keys
        if not k.loaded
    }
    log = _masked(snapshot.log, secrets)
    result = CheckResult(
        CLEAN,
        asterisk=f"{version or 'Asterisk'} ({binary})",
        predicted=findings,
        parts=[
            Part("peers", _rows(peers, snapshot.peer_details)),
            Part("users", _rows([_cut(u, 15) for u in users], [u.name for u in snapshot.users])),
            Part(
                "registrations",
                _rows([_cut(r, 10) for r in registrations], [r.username for r in snapshot.registry]),
            ),
            Part(
                "keys",
                _rows(
                    [f"{n} {t}" for n, t in key_files],
                    [f"{k.name} {k.type}" for k in snapshot.keys],
                    key_notes,
                ),
            ),
        ],
        logged=[line for line in log if not is_resolution_failure(line)],
        sandbox_only=[line for line in log if is_resolution_failure(line)],
        rejected=snapshot.config_rejected,
        running=snapshot.iax_running,
    )
    if result.problems or result.rejected or not result.running or not all(p.agrees for p in result.parts):
        result.status = COMPLAINED
    return result


def _report(result: CheckResult, title: str) -> str:
    lines = [title] if title else []
    if result.status == UNAVAILABLE:
        lines.append(f"no check in Asterisk: {result.reason}")
        return "\n".join(lines) + "\n"
    lines.append(f"Checked in {result.asterisk}, in a private loopback-only network namespace.")
    if result.rejected:
        lines.append("Asterisk REJECTED iax.conf: chan_iax2 runs with no configuration.")
    if not result.running:
        lines.append("chan_iax2 did NOT load.")
    width = max([len(r.name) for p in result.parts for r in p.rows] + [24])
    lines.append("")
    lines.append(f"{'':{width + 4}}{'iaxadmin expects':<17}Asterisk loaded")
    for part in result.parts:
        lines.append(f"{part.kind} ({sum(r.loaded for r in part.rows)} loaded)")
        if not part.rows:
            lines.append(f"  {'(none)':{width}}  {'-':<17}-")
        for row in part.rows:
            line = (
                f"  {row.name:{width}}  {'yes' if row.expected else 'no':<17}{'yes' if row.loaded else 'no'}"
            )
            if not row.agrees:
                line += "   <-- differs"
            if row.note:
                line += f"   ({row.note})"
            lines.append(line)
    lines.append("")
    errors = [f for f in result.predicted if f.is_error]
    lines.append(
        f"iaxadmin's validator predicted {len(errors)} error(s) and {len(result.predicted) - len(errors)} warning(s):"
    )
    lines.extend(f"  {f}" for f in result.predicted)
    lines.append(
        f"Asterisk logged {len(result.problems)} WARNING/ERROR line(s) ({len(result.logged)} with notices):"
    )
    lines.extend(f"  {line}" for line in result.logged)
    if result.sandbox_only:
        lines.append("Set aside, host names the sandbox cannot resolve (it has no DNS):")
        lines.extend(f"  {line}" for line in result.sandbox_only)
    lines.append("")
    verdict = (
        "clean: Asterisk loaded what iaxadmin expects, without a warning"
        if result.status == CLEAN
        else ("Asterisk complained (see above)")
    )
    lines.append(f"Result: {verdict}.")
    return "\n".join(lines) + "\n"
