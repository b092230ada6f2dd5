"""Small helpers shared by the domain core."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large document is built, checked or written.

    Parsing, exporting and importing create tens of thousands of small objects and no reference
    cycles; with a big heap (Django, an earlier document) the collector's passes over them cost as
    much as the work itself. Reference counting still frees everything; a collection runs as soon
    as the block ends. (The same trick as Mercurial's ``nogc``.)
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What the block made and still holds (a document, an export) would otherwise be
            # walked by the young-generation collections that follow at once; moving every tracked
            # object to the oldest generation (freeze, then unfreeze: two list splices) leaves it
            # to the rare full collection, which still finds any cycle among them.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
