"""Where the shared chan_iax2 reference is (``../shared/reference`` beside the checkout).

Asterisk's GPL sample files are read from there at test time, never copied into the repository
(style brief). A clone elsewhere finds it through ``IAXADMIN_SHARED_REFERENCE`` or the workplace's
``/work/shared/reference``; the tests that need a sample skip, naming the path, when none exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _find() -> Path:
    candidates = [
        os.environ.get("IAXADMIN_SHARED_REFERENCE", ""),
        Path(__file__).resolve().parents[2] / "shared" / "reference",
        "/work/shared/reference",
    ]
    for candidate in candidates:
        if candidate and Path(candidate, "samples").is_dir():
            return Path(candidate)
    return Path(candidates[1])


SHARED_REFERENCE = _find()
IAX_SAMPLE = SHARED_REFERENCE / "samples" / "iax.conf.sample"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (set IAXADMIN_SHARED_REFERENCE to the shared reference)")
    return path
