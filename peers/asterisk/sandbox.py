"""Run real Asterisk only inside a private network namespace whose only interface is loopback.

See the package docstring (:mod:`peers.asterisk`) for the API. No Django here.

How the sandbox is made: a small holder process is started by ``unshare --net`` (as root) or
``unshare --user --map-root-user --net`` (without root, where unprivileged user namespaces are
allowed). It brings ``lo`` up, says ``ready`` and then waits for its standard input to close.
Every Asterisk is started with ``nsenter`` into the holder's namespace. Before anything runs,
the interfaces of the namespace are listed from inside it (``ip -o link show``): anything but
``lo``, or a namespace that is the caller's own, and the sandbox refuses to start Asterisk.
Each Asterisk's own namespace is compared with the holder's once it is up. When the sandbox is
closed (or the Python process dies and the pipe closes) the holder kills whatever is still
running in its namespace, so no Asterisk outlives its sandbox.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import cli as parsers
from .locate import find_asterisk

DEFAULT_PORT = 4569
START_TIMEOUT = 30.0
CLI_TIMEOUT = 30.0
# Modules a check needs (what the shared build makes); those missing from the module dir are skipped.
MODULES = (
    "res_crypto",
    "res_timing_timerfd",
    "codec_ulaw",
    "codec_alaw",
    "codec_gsm",
    "pbx_config",
    "app_dial",
    "app_echo",
    "bridge_simple",
    "bridge_builtin_features",
    "res_clioriginate",
    "chan_iax2",
)
# Lines every start logs whatever the iax.conf (the sandbox's own runtime): left out of log().
BASELINE = (
    re.compile(r"^NOTICE loader\.c: \d+ modules will be loaded\.$"),
    re.compile(r"^NOTICE cdr\.c: CDR logging disabled\.$"),
    re.compile(
        r"^NOTICE indications\.c: (Default country for indication tones: us|Setting default indication country to 'us')$"
    ),
    re.compile(
        r"^NOTICE iax2/provision\.c: No IAX provisioning configuration found, IAX provisioning disabled\.$"
    ),
)
_LOG_LINE = re.compile(
    r"^\[[^\]]*\] (?P<level>[A-Z]+)\[\d+\](?:\[[^\]]*\])? (?P<source>[^:\s]+): (?P<message>.*)$"
)
_FLUSH_MARK = "logger.c: Asterisk Queue Logger restarted"
_BIND_LINE = re.compile(r"^\s*bind(?:addr|port)\s*(?:\+?=)", re.IGNORECASE)
_GENERAL_HEADER = re.compile(r"^\s*\[general\]", re.IGNORECASE | re.MULTILINE)
_PASSCODE_PROMPT = re.compile(rb">>>> passcode for (?:PRIVATE|PUBLIC) key '([^']*)': ")
_OWN_FILES = ("asterisk.conf", "modules.conf", "logger.conf")
_STUBS = {
    "cdr.conf": "[general]\nenable = no\n",
    "cel.conf": "[general]\nenable = no\n",
    "ccss.conf": "[general]\n",
    "features.conf": "[general]\n",
    "acl.conf": ";\n",
    "manager.conf": "[general]\nenabled = no\n",
    "udptl.conf": "[general]\n",
    "indications.conf": "[general]\ncountry = us\n\n[us]\ndescription = United States\nringcadence = 2000,4000\n"
    "dial = 350+440\nbusy = 480+620/500,0/500\nring = 440+480/2000,0/4000\ncongestion = 480+620/250,0/250\n",
    "extensions.conf": "[general]\nstatic = yes\nwriteprotect = yes\n\n[default]\nexten => s,1,Hangup()\n",
}

# The holder: brings lo up, says ready, waits for its stdin to close, then kills whatever still
# runs in its network namespace (only processes this sandbox started can be in it).
_HOLDER = r"""
import os, signal, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.buffer.read()
me, mine = os.getpid(), os.readlink("/proc/self/ns/net")
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != me:
        try:
            if os.readlink(f"/proc/{pid}/ns/net") == mine:
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
"""


class SandboxError(RuntimeError):
    """No private loopback-only network namespace could be made or verified: Asterisk is not run."""


class AsteriskStartError(RuntimeError):
    """Asterisk did not come up. ``output`` is the tail of what it printed, ``log`` its log lines."""

    def __init__(self, message: str, output: str = "", log: list[LogLine] | None = None) -> None:
        super().__init__(message)
        self.output = output
        self.log = log or []


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line Asterisk logged, without its timestamp and thread/call ids."""

    level: str  # NOTICE, WARNING, ERROR, VERBOSE
    source: str  # chan_iax2.c, config.c, res_crypto.c, ...
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.source}: {self.message}"

    @property
    def is_problem(self) -> bool:
        return self.level in ("WARNING", "ERROR")


def parse_log(text: str) -> list[LogLine]:
    """Log lines from a ``full.log`` text; a line without a prefix continues the one before it."""
    lines: list[LogLine] = []
    for raw in text.split("\n"):
        match = _LOG_LINE.match(raw)
        if match:
            lines.append(LogLine(match["level"], match["source"], match["message"].rstrip()))
        elif raw.strip() and lines and not raw.startswith("["):
            last = lines[-1]
            lines[-1] = LogLine(last.level, last.source, f"{last.message}\n{raw.rstrip()}")
    return lines


def is_baseline(line: LogLine) -> bool:
    text = str(line)
    return any(pattern.match(text) for pattern in BASELINE)


def override_bind(texts: Mapping[str, str], port: int) -> tuple[dict[str, str], list[str]]:
    """Bind chan_iax2 to 127.0.0.1:``port``: every ``bindaddr``/``bindport`` line of the given
    config texts (name -> text; ``iax.conf`` and the files it includes) is turned into a comment
    in place (line numbers do not move, so "line N" in Asterisk's messages still matches), and
    ``bindport`` then ``bindaddr`` are appended to ``iax.conf`` under ``[general](+)`` (or
    ``[general]`` when no file has one). chan_iax2 reads these names only in [general], so the
    lines elsewhere meant nothing anyway. Returns the new texts and the overridden lines."""
    changed: dict[str, str] = {}
    overridden: list[str] = []
    has_general = any(_GENERAL_HEADER.search(text) for text in texts.values())
    for name, text in texts.items():
        lines = text.split("\n")
        for number, line in enumerate(lines, 1):
            if _BIND_LINE.match(line):
                if ";--" in line or "--;" in line:
                    raise SandboxError(
                        f"{name} line {number}: cannot override a bind line holding a block comment"
                    )
                overridden.append(f"{name}:{number}: {line.strip()}")
                lines[number - 1] = ";iaxadmin-sandbox: " + line
        changed[name] = "\n".join(lines)
    iax = changed.get("iax.conf", "")
    if iax and not iax.endswith("\n"):
        iax += "\n"
    header = "[general](+)" if has_general else "[general]"
    changed["iax.conf"] = (
        iax + f"\n;iaxadmin-sandbox: bound to loopback\n{header}\nbindport={port}\nbindaddr=127.0.0.1\n"
    )
    return changed, overridden


def _asterisk_dirs(binary: Path) -> tuple[Path, Path]:
    """The module and data directories of an installed Asterisk, found next to its binary."""
    prefix = binary.parent.parent
    for moddir in (
        prefix / "lib/asterisk/modules",
        prefix / "lib64/asterisk/modules",
        Path("/usr/lib/asterisk/modules"),
        Path("/usr/lib/x86_64-linux-gnu/asterisk/modules"),
    ):
        if (moddir / "chan_iax2.so").is_file():
            break
    else:
        raise AsteriskStartError(f"chan_iax2.so not found next to {binary}")
    for datadir in (prefix / "var/lib/asterisk", prefix / "share/asterisk", Path("/var/lib/asterisk")):
        if datadir.is_dir():
            return moddir, datadir
    return moddir, prefix


class Sandbox:
    """A private network namespace (loopback only) that runs any number of Asterisk instances.

    ``asterisk``: the binary (default: :func:`find_asterisk`). ``root``: where the instances'
    runtime directories go (default: a new temporary directory, removed on close unless
    ``keep``). ``user_namespace``: None (default) uses a plain network namespace as root and an
    unprivileged user namespace otherwise; True always uses a user namespace; False never does.
    Use as a context manager, or call ``open()``/``close()``.
    """

    def __init__(
        self,
        asterisk: str | os.PathLike[str] | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
        keep: bool = False,
        user_namespace: bool | None = None,
    ) -> None:
        self.binary = Path(asterisk).resolve() if asterisk else find_asterisk()
        self._given_root = Path(root) if root else None
        self.keep = keep
        self.user_namespace = user_namespace
        self.root: Path | None = None
        self.instances: list[Instance] = []
        self.holder: subprocess.Popen | None = None
        self.mode = ""  # "root" or "user" (unprivileged user namespace)
        self.interfaces: list[str] = []
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._finalizer: weakref.finalize | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        if self.holder is not None:
            return
        if self._given_root:
            self._given_root.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix="ast-", dir=self._given_root))
        else:
            self.root = Path(tempfile.mkdtemp(prefix="iaxast-"))
        attempts = []
        if os.geteuid() == 0 and not self.user_namespace:
            attempts.append(("root", ["unshare", "--net"]))
        if self.user_namespace is not False:
            attempts.append(("user", ["unshare", "--user", "--map-root-user", "--net"]))
        problems = []
        for mode, command in attempts:
            try:
                holder = subprocess.Popen(
                    [*command, "--", sys.executable, "-c", _HOLDER],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            except OSError as exc:
                problems.append(f"{' '.join(command)}: {exc}")
                continue
            ready = holder.stdout.readline()
            if ready == b"ready\n":
                self.holder, self.mode = holder, mode
                break
            holder.kill()
            _, err = holder.communicate()
            problems.append(f"{' '.join(command)}: {err.decode(errors='replace').strip() or 'failed'}")
        if self.holder is None:
            self._remove_root()
            raise SandboxError(
                "cannot create a private network namespace; refusing to run Asterisk in the host network ("
                + "; ".join(problems)
                + ")"
            )
        self._finalizer = weakref.finalize(self, _close_holder, self.holder)
        try:
            self.verify()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Stop every instance (in parallel: each stop takes Asterisk about a second), end the
        namespace and remove the runtime directory (unless ``keep``)."""
        stopping = [threading.Thread(target=i.stop) for i in list(self.instances)]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        if self.holder is not None:
            _close_holder(self.holder)
            self.holder = None
        if self._finalizer is not None:
            self._finalizer.detach()
        if not self.keep:
            self._remove_root()

    def _remove_root(self) -> None:
        if self.root is not None and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    # -- the namespace --------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        if self.holder is None:
            raise SandboxError("the sandbox is not open")
        return self.holder.pid

    @property
    def netns(self) -> str:
        """The namespace's identity, e.g. ``net:[4026532601]``."""
        return os.readlink(f"/proc/{self.pid}/ns/net")

    def enter(self) -> list[str]:
        """The command prefix that runs a program inside the namespace."""
        prefix = ["nsenter"]
        if self.mode == "user":
            prefix += ["--preserve-credentials", f"--user=/proc/{self.pid}/ns/user"]
        return [*prefix, f"--net=/proc/{self.pid}/ns/net", "--"]

    def run(self, command: list[str], *, timeout: float = 30.0, **kwargs) -> subprocess.CompletedProcess:
        """Run a program inside the namespace and wait for it (output captured as text)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run([*self.enter(), *command], timeout=timeout, check=False, **kwargs)

    def verify(self) -> list[str]:
        """List the namespace's interfaces from inside it; refuse (SandboxError) unless the only one
        is ``lo`` and the namespace is not this process's own."""
        if self.netns == os.readlink("/proc/self/ns/net"):
            raise SandboxError(
                "the sandbox's network namespace is this process's own; refusing to run Asterisk"
            )
        listed = self.run(["ip", "-o", "link", "show"], timeout=10)
        if listed.returncode != 0:
            raise SandboxError(f"cannot list the sandbox's interfaces: {listed.stderr.strip()}")
        names = [m.group(1) for m in re.finditer(r"^\d+:\s+([^:@\s]+)", listed.stdout, re.MULTILINE)]
        self.interfaces = names
        if names != ["lo"]:
            raise SandboxError(
                f"the sandbox's network namespace has interfaces {names}, not only lo; refusing to run Asterisk"
            )
        up = self.run(["ip", "-o", "addr", "show", "dev", "lo"], timeout=10).stdout
        if "127.0.0.1" not in up:
            raise SandboxError("loopback is not up in the sandbox")
        return names

    # -- instances --------------------------------------------------------------------------

    def start(
        self,
        config: str | os.PathLike[str] | Mapping[str, str | bytes],
        *,
        name: str | None = None,
        port: int | None = None,
        keys: str | os.PathLike[str] | Mapping[str, str | bytes] | None = None,
        passcodes: Mapping[str, str] | str | None = None,
        bind: str = "override",
        modules: Iterable[str] = (),
        timeout: float = START_TIMEOUT,
    ) -> Instance:
        """Start one Asterisk on ``config`` and wait until it is fully booted.

        ``config``: a directory (``iax.conf``, the files it includes, optionally
        ``extensions.conf``, ``users.conf``, ``acl.conf`` and a ``keys/`` folder), a single iax.conf
        file, or a mapping of relative file names to contents (``"keys/x.key"`` goes to the key
        directory). ``keys``: a key directory or mapping (overrides ``config``'s ``keys/``); files
        from a directory keep their modes, files from a mapping get 0600 (``.key``) / 0644.
        ``passcodes``: the passphrase of every encrypted private key (one string) or by key name;
        they are typed at ``keys init`` once Asterisk is up, and chan_iax2 is loaded after that (as
        with ``asterisk -i``), so registrations can sign with those keys from the first try. ``bind="override"`` (default) binds
        chan_iax2 to 127.0.0.1:``port`` (default: the first port from 4569 no other instance of this
        sandbox uses) and comments the file's own bind lines in place; ``bind="keep"`` leaves the
        file as it is (still inside the namespace). ``modules``: extra modules to load.
        """
        if self.holder is None:
            self.open()
        with self._lock:
            if name is None:
                name = f"ast{len(self._names) + 1}"
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", name) or name in self._names:
                raise ValueError(f"instance name {name!r} is not a new short name")
            used = {i.port for i in self.instances}
            if port is None:
                port = DEFAULT_PORT
                while port in used:
                    port += 1
            elif port in used:
                raise ValueError(f"port {port} is already used by another instance in this sandbox")
            self._names.add(name)
            instance = Instance(self, name, port)
            self.instances.append(instance)
        try:
            # With passcodes, chan_iax2 is loaded only once the keys are: its registrations sign
            # with them at once (as after 'asterisk -i', which asks for passcodes at start-up).
            instance._prepare(config, keys, bind, modules, defer_iax=bool(passcodes))
            instance._launch(timeout)
            if passcodes:
                instance.keys_init(passcodes)
                loaded = instance.cli("module load chan_iax2.so")
                if "Loaded chan_iax2.so" not in loaded:
                    raise AsteriskStartError(f"chan_iax2 did not load after keys init: {loaded.strip()}")
                instance.sync_log()
        except BaseException:
            instance.stop()
            raise
        return instance


def _close_holder(holder: subprocess.Popen) -> None:
    if holder.poll() is None:
        try:
            holder.stdin.close()
        except OSError:
            pass
        try:
            holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
    for stream in (holder.stdout, holder.stderr):
        if stream is not None:
            stream.close()


@dataclass
class Snapshot:
    """Everything one load of a configuration shows: what chan_iax2 and res_crypto loaded, and
    what was logged (the sandbox's baseline notices left out)."""

    peers: list[parsers.PeerRow] = field(default_factory=list)
    users: list[parsers.UserRow] = field(default_factory=list)
    peer_details: dict[str, parsers.PeerDetail] = field(default_factory=dict)
    registry: list[parsers.RegistryRow] = field(default_factory=list)
    keys: list[parsers.KeyRow] = field(default_factory=list)
    log: list[LogLine] = field(default_factory=list)
    iax_running: bool = True

    @property
    def problems(self) -> list[LogLine]:
        """The WARNING and ERROR lines."""
        return [line for line in self.log if line.is_problem]

    @property
    def config_rejected(self) -> bool:
        """iax.conf could not be parsed at all: chan_iax2 runs with no configuration."""
        return any("iax.conf" in line.message and "invalid format" in line.message for line in self.log)


class Instance:
    """One Asterisk in a :class:`Sandbox`. Made by ``Sandbox.start``."""

    def __init__(self, sandbox: Sandbox, name: str, port: int) -> None:
        self.sandbox = sandbox
        self.name = name
        self.port = port
        self.root = sandbox.root / name
        self.etc = self.root / "etc"
        self.keydir = self.root / "keyhome" / "keys"
        self.conf = self.root / "asterisk.conf"
        self.overridden: list[str] = []
        self.process: subprocess.Popen | None = None
        self._output = None

    def __repr__(self) -> str:
        return f"<Instance {self.name} 127.0.0.1:{self.port} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- files ------------------------------------------------------------------------------------

    def _prepare(self, config, keys, bind: str, modules: Iterable[str], *, defer_iax: bool = False) -> None:
        moddir, datadir = _asterisk_dirs(self.sandbox.binary)
        for sub in ("etc", "run", "log", "lib", "db", "spool", "agi", "keyhome/keys"):
            (self.root / sub).mkdir(parents=True)
        keyfiles: dict[str, tuple[bytes, int]] = {}
        if isinstance(config, Mapping):
            for rel, content in config.items():
                data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
                if rel.startswith("keys/"):
                    keyfiles[rel[5:]] = (data, 0o600 if rel.endswith(".key") else 0o644)
                else:
                    self._write_etc(rel, data)
        else:
            source = Path(config)
            if source.is_file():
                self._write_etc("iax.conf", source.read_bytes())
            elif source.is_dir():
                for path in sorted(source.rglob("*")):
                    rel = path.relative_to(source).as_posix()
                    if rel == "keys" or rel.startswith("keys/"):
                        if path.is_file() and "/" not in rel[5:]:
                            keyfiles[rel[5:]] = (path.read_bytes(), path.stat().st_mode & 0o7777)
                    elif path.is_file():
                        self._write_etc(rel, path.read_bytes())
            else:
                raise FileNotFoundError(f"{source}: no such file or directory")
        if keys is not None:
            keyfiles = {}
            if isinstance(keys, Mapping):
                for rel, content in keys.items():
                    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
                    keyfiles[rel] = (data, 0o600 if rel.endswith(".key") else 0o644)
            else:
                for path in sorted(Path(keys).iterdir()):
                    if path.is_file():
                        keyfiles[path.name] = (path.read_bytes(), path.stat().st_mode & 0o7777)
        for file_name, (data, mode) in keyfiles.items():
            target = self.keydir / file_name
            target.write_bytes(data)
            os.chmod(target, mode)
        if not (self.etc / "iax.conf").is_file():
            raise FileNotFoundError("the configuration has no iax.conf")
        for own in _OWN_FILES:
            (self.etc / own).unlink(missing_ok=True)
        if bind == "override":
            texts = {
                p.relative_to(self.etc).as_posix(): p.read_bytes().decode("utf-8", "surrogateescape")
                for p in self.etc.rglob("*")
                if p.is_file() and p.name not in _STUBS
            }
            changed, self.overridden = override_bind(texts, self.port)
            for rel, text in changed.items():
                if text != texts.get(rel):
                    (self.etc / rel).write_bytes(text.encode("utf-8", "surrogateescape"))
        elif bind != "keep":
            raise ValueError("bind must be 'override' or 'keep'")
        for stub, text in _STUBS.items():
            if not (self.etc / stub).exists():
                (self.etc / stub).write_text(text)
        root = self.root
        self.conf.write_text(
            "[directories]\n"
            f"astetcdir => {self.etc}\nastmoddir => {moddir}\nastvarlibdir => {root / 'lib'}\n"
            f"astdbdir => {root / 'db'}\nastkeydir => {root / 'keyhome'}\nastdatadir => {datadir}\n"
            f"astagidir => {root / 'agi'}\nastspooldir => {root / 'spool'}\nastrundir => {root / 'run'}\n"
            f"astlogdir => {root / 'log'}\nastsbindir => {self.sandbox.binary.parent}\n\n"
            "[options]\nverbose = 3\ndebug = 0\nhideconnect = yes\nentityid = 02:00:00:00:00:01\n"
        )
        (self.etc / "asterisk.conf").write_text(self.conf.read_text())
        wanted = [m for m in dict.fromkeys([*MODULES, *modules]) if not (defer_iax and m == "chan_iax2")]
        loads = "".join(f"load => {m}.so\n" for m in wanted if (moddir / f"{m}.so").is_file())
        (self.etc / "modules.conf").write_text("[modules]\nautoload = no\n" + loads)
        (self.etc / "logger.conf").write_text(
            "[general]\ndateformat = %F %T\n\n[logfiles]\nfull.log => notice,warning,error,verbose\n"
        )

    def _write_etc(self, rel: str, data: bytes) -> None:
        target = (self.etc / rel).resolve()
        if self.etc.resolve() not in target.parents:
            raise ValueError(f"{rel!r} is not a relative file name inside the configuration")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    # -- process ----------------------------------------------------------------------------------

    def _launch(self, timeout: float) -> None:
        self._output = open(self.root / "asterisk.out", "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [*self.sandbox.enter(), str(self.sandbox.binary), "-f", "-C", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        ctl = self.root / "run" / "asterisk.ctl"
        booted = False
        while time.monotonic() < deadline and self.process.poll() is None:
            if ctl.exists():
                done = self._rx("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                if done.returncode == 0 and "not fully booted" not in done.stdout.lower():
                    booted = True
                    break
            time.sleep(0.05)
        if not booted:
            why = (
                f"exited with status {self.process.returncode}"
                if self.process.poll() is not None
                else f"not fully booted after {timeout:.0f} s"
            )
            output = (self.root / "asterisk.out").read_text(errors="replace")[-3000:]
            log = self.log(levels=None)
            raise AsteriskStartError(f"Asterisk '{self.name}' did not start ({why})", output, log)
        own = os.readlink(f"/proc/{self.process.pid}/ns/net")
        if own != self.sandbox.netns:
            self.stop()
            raise SandboxError(
                f"Asterisk '{self.name}' runs in {own}, not in the sandbox's namespace; stopped it"
            )
        self.sync_log()

    def stop(self, *, graceful: bool = True) -> None:
        """Stop Asterisk and forget it; safe to call twice. ``graceful``: ``core stop now`` (Asterisk
        takes about a second to shut down), then signals if it hangs; otherwise SIGKILL at once
        (nothing of a throwaway instance needs saving)."""
        if self.process is not None and self.process.poll() is None and not graceful:
            self.process.kill()
            self.process.wait()
        if self.process is not None and self.process.poll() is None:
            if (self.root / "run" / "asterisk.ctl").exists():
                try:
                    self._rx("core stop now", timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        if self._output is not None:
            self._output.close()
            self._output = None
        with self.sandbox._lock:
            if self in self.sandbox.instances:
                self.sandbox.instances.remove(self)

    # -- CLI --------------------------------------------------------------------------------------

    def _rx(self, command: str, *, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.sandbox.binary), "-C", str(self.conf), "-rx", command],
            capture_output=True,
            timeout=timeout,
            check=False,
            text=True,
            errors="surrogateescape",
        )

    def cli(self, command: str, *, timeout: float = CLI_TIMEOUT) -> str:
        """Run one CLI command (``asterisk -rx``) and return what it printed."""
        if not self.running:
            raise RuntimeError(f"Asterisk '{self.name}' is not running")
        done = self._rx(command, timeout=timeout)
        lines = [
            line for line in done.stdout.split("\n") if not line.startswith("No ethernet interface found")
        ]
        return "\n".join(lines)

    def peer_names(self) -> list[str]:
        """Every peer's whole name (``iax2 show peers`` cuts them at 15 bytes)."""
        return sorted(parsers.parse_matches(self.cli('_command matchesarray "iax2 show peer " ""')))

    def peers(self) -> list[parsers.PeerRow]:
        return parsers.parse_peers(self.cli("iax2 show peers"))

    def users(self) -> list[parsers.UserRow]:
        return parsers.parse_users(self.cli("iax2 show users"))

    def peer(self, name: str) -> parsers.PeerDetail | None:
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return parsers.parse_peer(self.cli(f"iax2 show peer {quoted}"))

    def registry(self) -> list[parsers.RegistryRow]:
        return parsers.parse_registry(self.cli("iax2 show registry"))

    def keys(self) -> list[parsers.KeyRow]:
        return parsers.parse_keys(self.cli("keys show"))

    def channels(self) -> list[parsers.ChannelRow]:
        """The channels up now (``core show channels concise``): name, context, extension, state."""
        return parsers.parse_channels(self.cli("core show channels concise"))

    def iax_running(self) -> bool:
        """chan_iax2 is loaded and running (it is, even with an iax.conf it rejected)."""
        shown = self.cli("module show like chan_iax2")
        return any(
            line.startswith("chan_iax2.so") and re.search(r"\d\s+Running\s", line)
            for line in shown.split("\n")
        )

    def snapshot(self) -> Snapshot:
        """peers, users, every peer's details, registry, keys and the log, in one go. The log is
        what the load logged (read before the show commands, which log lines of their own). When
        chan_iax2 is not running (it declined to load) its tables are empty and ``iax_running``
        is False."""
        log = self.log()
        running = self.iax_running()
        details = {}
        if running:
            for name in self.peer_names():
                found = self.peer(name)
                if found is not None:
                    details[name] = found
        return Snapshot(
            peers=self.peers() if running else [],
            users=self.users() if running else [],
            peer_details=details,
            registry=self.registry() if running else [],
            keys=self.keys(),
            log=log,
            iax_running=running,
        )

    # -- keys -------------------------------------------------------------------------------------

    def keys_init(self, passcodes: Mapping[str, str] | str, *, timeout: float = 20.0) -> list[str]:
        """Run ``keys init`` on the console socket and type each waiting key's passcode at its
        prompt (one string for all keys, or a mapping by key name; a key without one gets an empty
        line). Returns the names prompted for. ``keys show`` then says which loaded."""
        prompted: list[str] = []
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as console:
            console.settimeout(timeout)
            console.connect(str(self.root / "run" / "asterisk.ctl"))
            banner = b""
            while b"\n" not in banner:
                chunk = console.recv(512)
                if not chunk:
                    raise RuntimeError("the Asterisk console closed before its banner")
                banner += chunk
            console.sendall(b"cli quit after keys init\0")
            seen = banner[banner.index(b"\n") + 1 :]
            while True:
                match = _PASSCODE_PROMPT.search(seen)
                if match:
                    key = match.group(1).decode("utf-8", "replace")
                    prompted.append(key)
                    word = passcodes if isinstance(passcodes, str) else passcodes.get(key, "")
                    console.sendall(word.encode("utf-8") + b"\n")
                    seen = seen[match.end() :]
                    continue
                try:
                    chunk = console.recv(4096)
                except TimeoutError:
                    break
                if not chunk:
                    break
                seen += chunk
        return prompted

    # -- log --------------------------------------------------------------------------------------

    def sync_log(self, *, timeout: float = 10.0) -> None:
        """Wait until everything logged so far is in the log file: the logger writes from its own
        thread, so a marker is queued behind it (``logger reload`` logs one) and waited for."""
        path = self.root / "log" / "full.log"
        before = path.read_text(errors="replace").count(_FLUSH_MARK) if path.exists() else 0
        self._rx("logger reload", timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.read_text(errors="replace").count(_FLUSH_MARK) > before:
                return
            time.sleep(0.02)

    def log(
        self, levels: Iterable[str] | None = ("NOTICE", "WARNING", "ERROR"), *, baseline: bool = False
    ) -> list[LogLine]:
        """What Asterisk logged so far, without timestamps and thread ids. ``levels=None`` keeps
        every level (VERBOSE included); the sandbox's own baseline notices and log markers are
        left out unless ``baseline``. Call ``sync_log()`` first after a CLI command that logs."""
        path = self.root / "log" / "full.log"
        if not path.exists():
            return []
        wanted = None if levels is None else set(levels)
        lines = []
        text = path.read_text(encoding="utf-8", errors="replace")
        # the runtime's own paths say nothing about the configuration: name them by their role
        for where, role in ((self.keydir, "<keys>"), (self.etc, "<etc>"), (self.root, "<runtime>")):
            text = text.replace(str(where), role)
        for line in parse_log(text):
            if wanted is not None and line.level not in wanted:
                continue
            if not baseline and (is_baseline(line) or f"{line.source}: {line.message}" == _FLUSH_MARK):
                continue
            lines.append(line)
        return lines

    def wait_until(self, check, *, timeout: float = 10.0, interval: float = 0.05):
        """Call ``check()`` until it returns something true or ``timeout`` seconds pass; return its
        last result (e.g. ``b.wait_until(lambda: b.registry()[0].state == "Registered")``)."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result or time.monotonic() >= deadline:
                return result
            time.sleep(interval)

    def warnings(self) -> list[LogLine]:
        """The WARNING and ERROR lines logged so far."""
        return self.log(("WARNING", "ERROR"))

    def udp_sockets(self) -> list[str]:
        """The UDP addresses Asterisk has bound (``127.0.0.1:4569``), read from its namespace."""
        inodes = set()
        fd_dir = Path(f"/proc/{self.pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        found = []
        for table, width in (("udp", 8), ("udp6", 32)):
            try:
                rows = Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                cols = row.split()
                if cols[9] not in inodes:
                    continue
                address, port = cols[1].split(":")
                if width == 8:
                    ip = socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1])
                    found.append(f"{ip}:{int(port, 16)}")
                else:
                    raw = bytes.fromhex(address)
                    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.append(f"[{socket.inet_ntop(socket.AF_INET6, raw)}]:{int(port, 16)}")
        return sorted(found)
