"""Where the shared developer folder and the Asterisk binary are. No Django here.

``shared_dir()`` finds the read-only ``shared`` folder the team keeps beside its checkouts (real
Asterisk's source and ``build`` script, the chan_iax2 reference, the corpus). No machine path is
written anywhere in the repository; the folder is looked for, in this order:

1. the directory named by the environment variable ``IAXADMIN_SHARED``;
2. ``shared`` in each parent directory of this checkout, nearest first (``../shared`` beside the
   checkout is the first of them);
3. for a clean clone whose ``origin`` remote is a local path, ``shared`` beside that path (in the
   directory that holds the repository the clone was made from).

A candidate counts only if it holds ``reference/`` or ``asterisk/build``. The tests
(``tests/reference.py``) and ``.ci/run`` (``python3 -m peers.asterisk --shared``) use this one
function.

``find_asterisk(explicit)`` finds the ``asterisk`` binary: the path given explicitly (the
``--asterisk`` option of ``iax_check``), then ``ASTERISK_BIN``, then the shared ``build`` script
(which prints the binary it built once per machine; it builds on first use), then ``asterisk`` on
``PATH``. It raises :class:`AsteriskNotFound`, whose message names the build command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
BUILD_HINT = "ASTERISK_BIN=$(../shared/asterisk/build)"


class AsteriskNotFound(RuntimeError):
    """No usable Asterisk binary. The message says where it was looked for and how to build one."""


def _is_shared(candidate: Path) -> bool:
    return (candidate / "reference").is_dir() or (candidate / "asterisk" / "build").is_file()


def _origin_path(checkout: Path) -> Path | None:
    """The local path of the checkout's ``origin`` remote, or None (no git, no remote, a URL)."""
    try:
        url = subprocess.run(
            ["git", "-C", str(checkout), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if url.startswith("file://"):
        url = url[len("file://") :]
    elif not url or "://" in url or (":" in url.split("/", 1)[0]):  # https://..., git@host:path
        return None
    path = Path(url)
    if not path.is_absolute():
        path = (checkout / path).resolve()
    if path.name == ".git":
        path = path.parent
    return path


def shared_candidates(checkout: Path = CHECKOUT, environ: os._Environ | dict | None = None) -> list[Path]:
    """Every place ``shared_dir`` looks, in order."""
    environ = os.environ if environ is None else environ
    found: list[Path] = []
    if environ.get("IAXADMIN_SHARED"):
        found.append(Path(environ["IAXADMIN_SHARED"]))
    found.extend(parent / "shared" for parent in checkout.parents)
    origin = _origin_path(checkout)
    if origin is not None:
        found.append(origin.parent / "shared")
    return found


def shared_dir(checkout: Path = CHECKOUT, environ: os._Environ | dict | None = None) -> Path | None:
    """The shared folder, or None when there is none (a clone far from the team's machines)."""
    environ = os.environ if environ is None else environ
    if environ.get("IAXADMIN_SHARED"):  # named explicitly: that one or nothing
        named = Path(environ["IAXADMIN_SHARED"])
        return named if _is_shared(named) else None
    for candidate in shared_candidates(checkout, environ):
        if _is_shared(candidate):
            return candidate
    return None


def build_script() -> Path | None:
    shared = shared_dir()
    if shared is None:
        return None
    script = shared / "asterisk" / "build"
    return script if script.is_file() else None


def _usable(path: str | os.PathLike[str]) -> Path | None:
    candidate = Path(path)
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate.resolve()
    return None


def find_asterisk(explicit: str | os.PathLike[str] | None = None, *, build: bool = True) -> Path:
    """The Asterisk binary to run (see the module docstring for the order). ``build=False`` skips
    the shared build script."""
    tried: list[str] = []
    if explicit:
        found = _usable(explicit)
        if found is None:
            raise AsteriskNotFound(f"--asterisk {explicit}: not an executable file")
        return found
    env = os.environ.get("ASTERISK_BIN")
    if env:
        found = _usable(env)
        if found is None:
            raise AsteriskNotFound(f"ASTERISK_BIN={env} is not an executable file")
        return found
    tried.append("ASTERISK_BIN (not set)")
    script = build_script() if build else None
    if script is not None:
        try:
            done = subprocess.run([str(script)], capture_output=True, text=True, timeout=3600, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            tried.append(f"{script} ({exc})")
        else:
            lines = done.stdout.strip().splitlines()
            found = _usable(lines[-1]) if done.returncode == 0 and lines else None
            if found is not None:
                return found
            tried.append(f"{script} (exit {done.returncode}: {done.stderr.strip()[-300:]})")
    on_path = shutil.which("asterisk")
    if on_path:
        return Path(on_path).resolve()
    tried.append("asterisk on PATH (none)")
    raise AsteriskNotFound(
        "no Asterisk binary found; looked at " + ", ".join(tried) + f". Build one with {BUILD_HINT} "
        "(or install Asterisk 22 and put it on PATH)"
    )


def main(argv: list[str]) -> int:
    """``python3 -m peers.asterisk --shared`` prints the shared folder (exit 1: none);
    ``--asterisk`` prints the Asterisk binary (exit 2: none)."""
    if argv == ["--shared"]:
        shared = shared_dir()
        if shared is None:
            print("no shared folder found (set IAXADMIN_SHARED)", file=sys.stderr)
            return 1
        print(shared)
        return 0
    if argv == ["--asterisk"]:
        try:
            print(find_asterisk())
        except AsteriskNotFound as exc:
            print(exc, file=sys.stderr)
            return 2
        return 0
    print("usage: python3 -m peers.asterisk --shared | --asterisk", file=sys.stderr)
    return 64
