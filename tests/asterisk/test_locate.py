"""Finding the shared folder and the Asterisk binary without naming a path of this machine."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from peers.asterisk import locate
from peers.asterisk.locate import AsteriskNotFound, find_asterisk, shared_dir


def _shared(path):
    (path / "reference").mkdir(parents=True)
    return path


def test_environment_variable_wins(tmp_path):
    named = _shared(tmp_path / "elsewhere")
    checkout = tmp_path / "a" / "repo"
    checkout.mkdir(parents=True)
    _shared(tmp_path / "a" / "shared")
    assert shared_dir(checkout, {"IAXADMIN_SHARED": str(named)}) == named
    assert shared_dir(checkout, {"IAXADMIN_SHARED": str(tmp_path / "nothing")}) is None


def test_beside_the_checkout_then_further_up(tmp_path):
    checkout = tmp_path / "x" / "y" / "repo"
    checkout.mkdir(parents=True)
    assert shared_dir(checkout, {}) is None
    far = _shared(tmp_path / "shared")
    assert shared_dir(checkout, {}) == far
    near = _shared(tmp_path / "x" / "y" / "shared")
    assert shared_dir(checkout, {}) == near


def test_a_folder_without_reference_or_build_is_not_it(tmp_path):
    checkout = tmp_path / "repo"
    checkout.mkdir()
    (tmp_path / "shared").mkdir()
    assert shared_dir(checkout, {}) is None
    (tmp_path / "shared" / "asterisk").mkdir()
    (tmp_path / "shared" / "asterisk" / "build").write_text("#!/bin/sh\n")
    assert shared_dir(checkout, {}) == tmp_path / "shared"


def test_a_clean_clone_finds_shared_beside_its_local_origin(tmp_path):
    team = tmp_path / "team"
    origin = team / "main"
    origin.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    expected = _shared(team / "shared")
    clone = tmp_path / "ci" / "build" / "checkout"
    clone.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "remote", "add", "origin", str(origin)], check=True)
    assert shared_dir(clone, {}) == expected
    subprocess.run(
        ["git", "-C", str(clone), "remote", "set-url", "origin", f"file://{origin}/.git"], check=True
    )
    assert shared_dir(clone, {}) == expected
    subprocess.run(
        ["git", "-C", str(clone), "remote", "set-url", "origin", "https://example.net/x.git"], check=True
    )
    assert shared_dir(clone, {}) is None


def _fake(path):
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_explicit_path_then_environment(tmp_path, monkeypatch):
    one, two = _fake(tmp_path / "one"), _fake(tmp_path / "two")
    monkeypatch.setenv("ASTERISK_BIN", str(two))
    assert find_asterisk(one) == one.resolve()
    assert find_asterisk() == two.resolve()
    monkeypatch.setenv("ASTERISK_BIN", str(tmp_path / "missing"))
    with pytest.raises(AsteriskNotFound, match="ASTERISK_BIN=.*missing is not an executable file"):
        find_asterisk()
    with pytest.raises(AsteriskNotFound, match="--asterisk .*nope: not an executable file"):
        find_asterisk(tmp_path / "nope")


def test_build_script_then_path_and_the_message_names_the_build_command(tmp_path, monkeypatch):
    monkeypatch.delenv("ASTERISK_BIN", raising=False)
    binary = _fake(tmp_path / "built-asterisk")
    script = tmp_path / "build"
    script.write_text(f"#!/bin/sh\necho {binary}\n")
    script.chmod(0o755)
    monkeypatch.setattr(locate, "build_script", lambda: script)
    assert find_asterisk() == binary.resolve()
    monkeypatch.setattr(locate, "build_script", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AsteriskNotFound) as info:
        find_asterisk()
    assert "ASTERISK_BIN=$(../shared/asterisk/build)" in str(info.value)
    on_path = tmp_path / "bin"
    on_path.mkdir()
    _fake(on_path / "asterisk")
    monkeypatch.setenv("PATH", str(on_path))
    assert find_asterisk() == (on_path / "asterisk").resolve()


def test_command_line_for_ci(tmp_path):
    shared = _shared(tmp_path / "s")
    env = {**os.environ, "IAXADMIN_SHARED": str(shared)}
    done = subprocess.run(
        ["python3", "-m", "peers.asterisk", "--shared"],
        cwd=locate.CHECKOUT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, str(shared))
    env["IAXADMIN_SHARED"] = str(tmp_path / "none")
    done = subprocess.run(
        ["python3", "-m", "peers.asterisk", "--shared"],
        cwd=locate.CHECKOUT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "IAXADMIN_SHARED" in done.stderr
