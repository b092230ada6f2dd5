"""Read side of one-click fixes: the host's configuration as the fixes work on it, what a
selection of fixes would change (a masked diff), and the version that tells a preview from a
stale one. The fixes themselves are ``peers.iaxconf.fixes``; applying them is
``peers.services.apply_fixes``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db.models import Max, Q

from . import policy
from .exporter import build_document
from .iaxconf import Document, render
from .iaxconf import fixes as fx
from .iaxconf.mask import mask_section
from .models import Change, GeneralOption, Host

PAGE_SECTIONS = 200  # changed sections a page shows the diff of (all of them are applied)


def working_document(host: Host) -> Document:
    """The host's configuration as stored: what ``build_document`` gives, without the [general]
    defaults the exporter adds (they are not stored, so no fix may touch them)."""
    document, _, _ = build_document(host)
    general = document.general
    stored = GeneralOption.objects.filter(general__host=host).count()
    general.entries = general.entries[:stored] + [e for e in general.entries[stored:] if e.operator == "=>"]
    return document


def host_version(host: Host) -> int:
    """Changes whenever anything a fix plan depends on changes: the id of the latest history row
    of the host's objects or of a key (reveals aside)."""
    rows = Change.objects.filter(Q(host=host) | Q(object_type="key")).exclude(action=Change.Action.REVEAL)
    return rows.aggregate(last=Max("id"))["last"] or 0


def plan(host: Host) -> fx.Plan:
    return fx.plan(working_document(host), keys=policy.key_info())


def section_diff(
    before: Document, after: Document, changed: set[str], labels: tuple[str, str], *, limit: int | None = None
) -> list[tuple[str, str]]:
    """(css class, text) per line of a unified diff of the changed sections only, section by
    section, each rendered with its secrets masked (``iaxconf.mask``). Diffing only what changed
    keeps a fix of 10,000 sections quick; ``limit`` shows that many sections and says how many
    more there are."""
    old = {s.name.lower(): s for s in before.sections}
    lines = [("file", f"--- {labels[0]}"), ("file", f"+++ {labels[1]}")]
    shown = total = 0
    for section in after.sections:
        key = section.name.lower()
        if key not in changed:
            continue
        total += 1
        if limit is not None and shown >= limit:
            continue
        shown += 1
        a = render(Document([mask_section(old[key])])).splitlines() if key in old else []
        b = render(Document([mask_section(section)])).splitlines()
        lines.append(("hunk", f"@@ [{section.name}] @@"))
        for text in list(difflib.unified_diff(a, b, lineterm="", n=2))[2:]:
            if text.startswith("@@"):
                continue
            lines.append(({"+": "add", "-": "del"}.get(text[:1], "ctx"), text))
    if total > shown:
        lines.append(
            ("hunk", f"@@ … and {total - shown} more changed section(s), not shown here: all are applied @@")
        )
    return lines


@dataclass
class Preview:
    plan: fx.Plan
    outcome: fx.Outcome
    lines: list[tuple[str, str]]  # the masked diff, (css class, text) per line
    version: int

    @property
    def chosen(self) -> set[str]:
        return {f.key for f in self.outcome.applied} | {f.key for f, _ in self.outcome.skipped}


def preview(host: Host, *, code: str | None = None, keys=None, limit: int | None = None) -> Preview:
    """What applying the default fixes (of one ``code``, or of every finding) or the fixes named
    by ``keys`` would change; ``limit``: the diff shows that many changed sections at most.
    Nothing is written."""
    version = host_version(host)
    current = plan(host)
    outcome = fx.resolve(current, fx.select(current, code=code, keys=keys), keys=policy.key_info())
    lines = []
    if outcome.applied:
        labels = (f"{host.name} now", f"{host.name} fixed")
        lines = section_diff(current.document, outcome.document, outcome.changed, labels, limit=limit)
    return Preview(current, outcome, lines, version)
