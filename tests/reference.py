"""Where the shared chan_iax2 reference is: ``reference/`` in the shared folder that
``peers.asterisk.locate.shared_dir`` finds (``IAXADMIN_SHARED``, ``shared`` beside the checkout or
one of its parents, or beside a local ``origin`` remote). No machine path is named here.

Asterisk's GPL sample files are read from there at test time, never copied into the repository;
the tests that need a sample skip, naming what to set, when there is none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from peers.asterisk.locate import shared_dir

SHARED = shared_dir()
SHARED_REFERENCE = SHARED / "reference" if SHARED else Path("shared-folder-not-found") / "reference"
IAX_SAMPLE = SHARED_REFERENCE / "samples" / "iax.conf.sample"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (set IAXADMIN_SHARED to the shared folder holding reference/)")
    return path
