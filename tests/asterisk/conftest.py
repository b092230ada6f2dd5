"""Fixtures for the tests that run real Asterisk (``peers.asterisk``).

One :class:`~peers.asterisk.Sandbox` (a private loopback-only network namespace) serves the whole
test session; each test starts its own instances in it, on ports of its own. Without an Asterisk
binary, or where no private network namespace can be made, these tests are skipped with a message
that says how to get one.
"""

from __future__ import annotations

import pytest

from peers.asterisk import AsteriskNotFound, Sandbox, SandboxError, find_asterisk
from peers.asterisk.locate import BUILD_HINT


@pytest.fixture(scope="session")
def asterisk_bin():
    try:
        return find_asterisk()
    except AsteriskNotFound as exc:
        pytest.skip(f"real Asterisk 22 is needed: {exc}. Build it with {BUILD_HINT}")


@pytest.fixture(scope="session")
def sandbox(asterisk_bin):
    try:
        box = Sandbox(asterisk_bin)
        box.open()
    except SandboxError as exc:
        pytest.skip(f"no private network namespace for Asterisk here: {exc}")
    yield box
    box.close()


_ports = iter(range(20000, 30000))


@pytest.fixture
def port():
    """A port no other test of this session uses (instances share the session's sandbox)."""
    return next(_ports)


@pytest.fixture
def ports():
    """Ports no other test of this session uses, as many as asked for."""
    return _ports


@pytest.fixture
def start(sandbox, ports):
    """``start(config, **options) -> Instance`` in the session's sandbox, on a port of this test
    (unless ``port=`` is given); every instance is killed when the test ends."""
    started = []

    def run(config, **options):
        options.setdefault("port", next(ports))
        instance = sandbox.start(config, **options)
        started.append(instance)
        return instance

    yield run
    for instance in started:
        instance.stop(graceful=False)


def pytest_terminal_summary(terminalreporter):
    from .test_corpus_asterisk import STATS

    if STATS["files"]:
        terminalreporter.write_line(
            "Asterisk corpus comparison: {files} files loaded as written and as exported, the same in "
            "{peers} peers (every 'iax2 show peer'), {users} users, {registrations} registrations and {keys} "
            "keys; {problems} WARNING/ERROR lines in the exports' loads, each also in the original's".format(
                **STATS
            )
        )
