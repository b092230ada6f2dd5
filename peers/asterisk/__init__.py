"""Real Asterisk in the loop: the project's own runner for Asterisk 22 (no Django in here).

Asterisk is the only authority on what an iax.conf means, so the tests, ``iax_check`` and the
publish page load configurations into the real thing. Real-world configs carry ``qualify``,
``register`` and host names that would send packets to the addresses in the file, so Asterisk is
run **only inside a private network namespace whose only interface is loopback**: the runner
lists the namespace's interfaces from inside it and refuses (:class:`SandboxError`) unless the
only one is ``lo``. Several Asterisk instances can run in one namespace and talk to each other
over 127.0.0.1, each on its own port.

Quick start::

    from peers.asterisk import Sandbox

    with Sandbox() as sandbox:                         # finds Asterisk, makes the namespace
        a = sandbox.start("out/")                      # out/iax.conf (+ includes, keys/)
        b = sandbox.start({"iax.conf": text}, name="b", port=4570)
        print(a.cli("iax2 show peers"))                # any CLI command, as text
        a.peers(); a.users(); a.peer("alice"); a.registry(); a.keys()   # parsed
        a.warnings()                                   # WARNING/ERROR lines Asterisk logged
        b.wait_until(lambda: b.registry()[0].state == "Registered")
    # leaving the block stops every instance and removes the namespace and the runtime files

``Sandbox(asterisk=None, *, root=None, keep=False, user_namespace=None)``
    Owns the namespace: a holder process made by ``unshare --net`` (as root, how CI runs) or
    ``unshare --user --map-root-user --net`` (without root, where unprivileged user namespaces are
    allowed), entered with ``nsenter``. ``asterisk``: the binary, default :func:`find_asterisk`.
    ``root``: where runtime directories go (default a new temporary directory; ``keep=True``
    leaves it for inspection). ``sandbox.interfaces`` is what ``verify()`` listed (``["lo"]``);
    ``sandbox.run([...])`` runs any program inside the namespace (an IAX2 client, a tool);
    ``sandbox.enter()`` is the ``nsenter`` prefix for your own ``subprocess`` calls.

``sandbox.start(config, *, name=None, port=None, keys=None, passcodes=None, bind="override", modules=(), timeout=30) -> Instance``
    Starts one Asterisk (``asterisk -f``, its own ``asterisk.conf`` and directories) and waits
    until it is fully booted. ``config``: a directory (``iax.conf``, the files it ``#include``\\ s,
    optionally ``extensions.conf``/``users.conf``/``acl.conf`` and a ``keys/`` folder), one
    iax.conf file, or a mapping ``{"iax.conf": text, "extensions.conf": text, "keys/k.key":
    pem}``. Without an ``extensions.conf`` a one-line dialplan is used; ``asterisk.conf``,
    ``modules.conf`` and ``logger.conf`` are always the runner's own. ``name``: a short name
    (default ``ast1``, ``ast2``, ...). ``port``: chan_iax2 is bound to 127.0.0.1:``port``
    (default: the first port from 4569 that no other instance of the sandbox uses): every
    ``bindaddr``/``bindport`` line of the config is turned into a comment in place (line numbers
    stay, so "line N" in Asterisk's messages matches the file) and ``[general](+)`` with
    ``bindport``/``bindaddr`` is appended; ``bind="keep"`` keeps the file's own binding (still
    inside the namespace). ``modules``: extra modules to load (chan_iax2, res_crypto, pbx_config,
    app_dial, app_echo, res_clioriginate, codecs and a timing module are always loaded).

    **Keys.** Asterisk reads them from ``<astkeydir>/keys`` = ``instance.keydir``. Files from a
    directory keep their modes; files from a mapping get 0600 (``.key``) and 0644 (``.pub``).
    res_crypto refuses a private key readable by group or others (``ERROR ... bad
    permissions``) and any key that is not 1024-bit RSA. A passphrase-protected private key is
    ``[Needs Passcode]`` until its passcode is typed at ``keys init``: pass ``passcodes`` (one
    string for all, or ``{key name: passcode}``) to ``start``, which types them and only then
    loads chan_iax2 (as ``asterisk -i`` would: registrations sign with the keys from the first
    try), or call ``instance.keys_init(passcodes)`` later (it answers each ``>>>> passcode for ...
    key`` prompt on the console socket and returns the key names prompted for).

``Instance``
    ``name``, ``port``, ``pid``, ``running``, ``root`` (runtime directory), ``etc`` (the config as
    Asterisk read it), ``keydir``, ``overridden`` (the bind lines that were commented).

    * ``cli(command) -> str``: one CLI command through ``asterisk -rx``.
    * ``peers() -> list[PeerRow]``, ``users() -> list[UserRow]``, ``peer(name) -> PeerDetail |
      None``, ``peer_names() -> list[str]`` (whole names; the tables cut them at 15 bytes),
      ``registry() -> list[RegistryRow]``, ``keys() -> list[KeyRow]``, ``iax_running()``,
      ``channels() -> list[ChannelRow]`` (``core show channels concise``: a call's context and
      extension; an authenticated IAX2 call's channel name carries its ``[user]``).
    * ``snapshot() -> Snapshot``: all of the above plus what the load logged (read before the show
      commands, which log lines of their own), in one call (``Snapshot.problems``,
      ``Snapshot.config_rejected``; ``Snapshot.iax_running`` is False, and the tables empty, when
      chan_iax2 declined to load, e.g. on an invalid ``calltokenoptional``).
    * Registrations: judge them by ``RegistryRow.perceived`` (set by the server's REGACK) or the
      server's ``peer(name)["Addr->IP"]``, not only by ``state``: Asterisk 22.10.1 sets "Request
      Sent" after sending the request, so on a loaded CPU the answer can be processed first and
      the state then stays "Request Sent" until the next refresh. Peer names with blanks cannot be
      listed by ``peer_names()`` (the CLI completion splits at blanks).
    * ``log(levels=("NOTICE", "WARNING", "ERROR"), *, baseline=False) -> list[LogLine]``: what
      Asterisk logged, timestamps and thread/call ids removed, runtime paths shown as ``<etc>``,
      ``<keys>``, ``<runtime>``, and the sandbox's own start-up notices left out;
      ``levels=None`` includes VERBOSE. ``warnings()`` = WARNING and ERROR lines. The logger
      writes from its own thread: ``sync_log()`` waits until everything logged so far is in the
      file (``start`` does it once Asterisk is up); call it after a CLI command that logs.
    * ``wait_until(check, timeout=10)``: poll a condition (a registration, a qualify).
    * ``udp_sockets()``: the UDP addresses Asterisk bound, read from its own namespace.
    * ``keys_init(passcodes)``, ``stop()`` (``core stop now``, then signals; about a second).

Parsers (:mod:`peers.asterisk.cli`) for the texts, usable on their own: ``parse_peers``,
``parse_users``, ``parse_peer``, ``parse_registry``, ``parse_keys``, ``parse_matches``,
``parse_channels``.
``UserRow.secret`` is the secret ``iax2 show users`` prints in clear text: show
``UserRow.masked()`` to people.

Checking a configuration (:mod:`peers.asterisk.check`, no Django):
``check_config(files, findings=..., asterisk=None) -> CheckResult`` loads ``files`` into a throwaway
instance and sets the validator's prediction (peers, users, registrations, keys, findings) beside
what Asterisk loaded and logged; ``CheckResult.status`` is clean/complained/unavailable (exit
0/1/2) and ``report()`` the text ``iax_check`` prints. :mod:`peers.asterisk.hostcheck` (Django)
does it for a host's export or a published revision. :mod:`peers.asterisk.compare` compares two
loads of one configuration (the corpus tests).

Finding Asterisk (:func:`find_asterisk`): an explicit path (``iax_check --asterisk``), then
``ASTERISK_BIN``, then the shared ``build`` script (``../shared/asterisk/build``, found by
:func:`shared_dir`; it prints the binary it built once per machine), then ``asterisk`` on
``PATH``. :class:`AsteriskNotFound` names the build command.

Errors: :class:`SandboxError` (no private loopback-only namespace: nothing was run),
:class:`AsteriskStartError` (Asterisk did not boot; ``.output`` and ``.log`` say why),
:class:`AsteriskNotFound`.
"""

from .cli import ChannelRow, KeyRow, PeerDetail, PeerRow, RegistryRow, UserRow
from .locate import AsteriskNotFound, find_asterisk, shared_dir
from .sandbox import AsteriskStartError, Instance, LogLine, Sandbox, SandboxError, Snapshot

__all__ = [
    "AsteriskNotFound",
    "AsteriskStartError",
    "ChannelRow",
    "Instance",
    "KeyRow",
    "LogLine",
    "PeerDetail",
    "PeerRow",
    "RegistryRow",
    "Sandbox",
    "SandboxError",
    "Snapshot",
    "UserRow",
    "find_asterisk",
    "shared_dir",
]
