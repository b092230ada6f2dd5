"""Read side of one-click fixes: the host's configuration as the fixes work on it, what a
selection of fixes would change (a masked diff), and the version that tells a preview from a
stale one. The fixes themselves are ``peers.iaxconf.fixes``; applying them is
``peers.services.apply_fixes``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max, Q

from . import policy
from .exporter import build_document
from .iaxconf import Document, render
from .iaxconf import fixes as fx
from .models import Change, GeneralOption, Host
from .revisions import masked_diff


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


@dataclass
class Preview:
    plan: fx.Plan
    outcome: fx.Outcome
    lines: list[tuple[str, str]]  # the masked unified diff, (css class, text) per line
    version: int

    @property
    def chosen(self) -> set[str]:
        return {f.key for f in self.outcome.applied} | {f.key for f, _ in self.outcome.skipped}


def preview(host: Host, *, code: str | None = None, keys=None) -> Preview:
    """What applying the default fixes (of one ``code``, or of every finding) or the fixes named
    by ``keys`` would change. Nothing is written."""
    version = host_version(host)
    current = plan(host)
    outcome = fx.resolve(current, fx.select(current, code=code, keys=keys), keys=policy.key_info())
    old, new = render(current.document), render(outcome.document)
    lines = masked_diff(old, new, f"{host.name} now", f"{host.name} fixed") if outcome.applied else []
    return Preview(current, outcome, lines, version)
