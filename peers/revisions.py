"""Published revisions of a host's iax.conf, read side: snapshots and checksums, the key files of
a revision, the preview and diff of a publish (secrets masked), writing a revision to disk.
Publishing and reverting are writes: ``peers.services.revisions``.

A ``Revision`` keeps the iax.conf text exactly as published, the key files' names, modes and
checksums, the sha256 of the whole, and a complete snapshot of the host's model state (the
unmasked ``audit`` states, plus the material of the keys it uses) from which a revert restores
the host.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from . import audit
from .exporter import Export, KeyFile, export_host, key_usage_filter, pem_bytes, write_export
from .iaxconf import Finding
from .iaxconf.mask import mask_conf
from .models import Change, GeneralOption, Host, Key, Revision

SNAPSHOT_VERSION = 2


# ---------------------------------------------------------------------------------------------
# Snapshots and checksums


def host_snapshot(host: Host) -> dict:
    """Complete, unmasked model state of a host and the keys it uses (constant queries)."""
    objects = audit.host_objects(host)
    general = objects.get(("general",))
    keys = Key.objects.filter(key_usage_filter(host)).distinct().order_by("name")
    return {
        "version": SNAPSHOT_VERSION,
        "host": objects[("host",)].state,
        "general": general.state if general else None,
        "endpoints": [o.state for k, o in objects.items() if k[0] == "endpoint"],
        "registrations": [o.state for k, o in objects.items() if k[0] == "registration"],
        "callnumber_limits": [o.state for k, o in objects.items() if k[0] == "callnumberlimit"],
        "keys": [{f: getattr(key, f) for f in audit.KEY_FIELDS} for key in keys],
    }


def whole_checksum(conf_text: str, key_files: list[KeyFile]) -> str:
    """The revision checksum the agent verifies (agent/README.md): sha256 over the bytes of
    iax.conf, then for each key file in byte order of its name: the name (without keys/), a NUL,
    the content."""
    digest = hashlib.sha256(conf_text.encode("utf-8"))
    for key_file in sorted(key_files, key=lambda k: k.name.encode("utf-8")):
        digest.update(key_file.name.encode("utf-8") + b"\0" + key_file.content)
    return digest.hexdigest()


def revision_key_files(revision: Revision) -> list[KeyFile]:
    """The key files exactly as published, rebuilt from the snapshot's key material and checked
    against the stored checksums."""
    material = {k["name"]: k for k in revision.snapshot.get("keys", ())}
    files = []
    for entry in revision.key_files:
        name, kind = entry["name"].rsplit(".", 1)
        pem = material[name]["public_pem" if kind == "pub" else "private_pem"]
        content = pem_bytes(pem)
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            raise ValueError(f"revision {revision.number}: {entry['name']} does not match its checksum")
        files.append(KeyFile(entry["name"], content, entry["mode"]))
    return files


@dataclass
class PublishedExport:
    """What ``exporter.write_export`` needs, taken from a revision instead of the database."""

    host: str
    text: str
    key_files: list[KeyFile]
    errors: list = field(default_factory=list)


def write_revision(revision: Revision, out_dir) -> list[Path]:
    """Write a revision's iax.conf and keys/ into out_dir exactly as published (atomic renames)."""
    files = revision_key_files(revision)
    if whole_checksum(revision.conf_text, files) != revision.sha256:
        raise ValueError(f"revision {revision.number} does not match its sha256")
    return write_export(PublishedExport(revision.host.name, revision.conf_text, files), out_dir)


# ---------------------------------------------------------------------------------------------
# Publishing


def last_revision(host: Host) -> Revision | None:
    return Revision.objects.filter(host=host).order_by("-number").first()


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label
        )
    )


@dataclass
class Preview:
    export: Export
    previous: Revision | None
    diff: str  # unified diff of iax.conf against the previous revision ("" when identical)

    @property
    def errors(self) -> list[Finding]:
        return self.export.errors

    def __str__(self) -> str:
        return self.diff


def preview_publish(host: Host) -> Preview:
    """What publishing now would change: the unified diff against the last revision's text,
    secrets masked."""
    export = export_host(host)
    previous = last_revision(host)
    old_label = f"{host.name} r{previous.number}" if previous else f"{host.name} (nothing published)"
    old = previous.conf_text if previous else ""
    diff = unified_diff(mask_conf(old), mask_conf(export.text, previous=old), old_label, f"{host.name} now")
    return Preview(export, previous, diff)


def masked_diff(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """(css class, text) per line of the unified diff of two iax.conf texts, each masked first
    (``iaxconf.mask``: by directive), so no secret reaches a page, a terminal or a log; a secret
    that changed reads "******** (changed)" on the new side."""
    return diff_lines(unified_diff(mask_conf(old), mask_conf(new, previous=old), old_label, new_label))


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, text) per line of a unified diff, for coloured display."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            css = "file"
        elif line.startswith("@@"):
            css = "hunk"
        elif line.startswith("+"):
            css = "add"
        elif line.startswith("-"):
            css = "del"
        else:
            css = "ctx"
        lines.append((css, line))
    return lines


# ---------------------------------------------------------------------------------------------
# Is the working copy published?


# history object types whose changes can change a host's export (the host's description cannot)
CONFIG_OBJECT_TYPES = ("general", "endpoint", "template", "registration", "callnumberlimit")


@dataclass
class PublishState:
    latest: Revision | None
    unpublished: bool  # the working copy differs from the latest revision (or nothing is published)
    changed_since: bool = False  # something was recorded since the latest revision (reveals aside)
    has_config: bool = True

    @property
    def never_published(self) -> bool:
        return self.latest is None


def publish_state(host: Host) -> PublishState:
    """Whether the working copy differs from the last published revision. Three indexed queries
    when nothing was recorded for the host (or a key) since it was published; otherwise the
    configuration is exported and its checksum compared with the revision's, so changes that were
    undone since do not count."""
    latest = (  # not the text and snapshot: decrypting them is most of the cost of reading a revision
        Revision.objects.filter(host=host).order_by("-number").defer("conf_text", "snapshot").first()
    )
    if latest is None:
        has_config = (
            host.endpoints.exists()
            or host.registrations.exists()
            or host.callnumber_limits.exists()
            or GeneralOption.objects.filter(general__host=host).exists()
        )
        return PublishState(None, has_config, has_config=has_config)
    recorded = Change.objects.filter(at__gt=latest.created_at).exclude(action=Change.Action.REVEAL)
    # two indexed lookups rather than one OR, which would scan the whole history; only the kinds
    # of objects iax.conf and its key files are made of (not tokens, users, publishes, ...)
    changed = (
        recorded.filter(host=host, object_type__in=CONFIG_OBJECT_TYPES).exists()
        or recorded.filter(object_type="key").exists()
    )
    if not changed:
        return PublishState(latest, False)
    export = export_host(host)
    return PublishState(latest, whole_checksum(export.text, export.key_files) != latest.sha256, True)
