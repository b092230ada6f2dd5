"""A host's configuration checked in real Asterisk: the Django side of :mod:`peers.asterisk.check`.

``check_host(host, revision=None, asterisk=None)`` takes the host's current export (what publishing
would write: ``exporter.export_host``) or a published revision exactly as published, with the key
files it refers to, and returns :class:`~peers.asterisk.check.CheckResult`. Used by
``manage.py iax_check`` and by the publish page. ``available()`` says whether this server has an
Asterisk binary at all (``ASTERISK_BIN`` or ``asterisk`` on ``PATH``; a web request never runs the
shared build script).
"""

from __future__ import annotations

import os

from ..exporter import export_host
from ..iaxconf import KeyInfo, validate
from ..iaxconf.parse import ConfigSyntaxError, parse
from ..models import Host, Revision
from ..revisions import revision_key_files
from .check import CheckResult, check_config
from .locate import AsteriskNotFound, find_asterisk


def available() -> bool:
    """True when an Asterisk binary can be found without building one."""
    try:
        find_asterisk(build=False)
    except AsteriskNotFound:
        return False
    return True


def _revision_files(revision: Revision) -> tuple[dict[str, str | bytes], list]:
    files: dict[str, str | bytes] = {"iax.conf": revision.conf_text}
    key_files = revision_key_files(revision)
    files.update({f"keys/{k.name}": k.content for k in key_files})
    keys = {
        k["name"]: KeyInfo(
            bool(k.get("public_pem")),
            bool(k.get("private_pem")),
            bool(k.get("private_encrypted")),
            int(k.get("bits") or 1024),
        )
        for k in revision.snapshot.get("keys", ())
    }
    try:
        findings = validate(parse(revision.conf_text).document, keys=keys)
    except ConfigSyntaxError:
        findings = []
    return files, findings


def check_host(
    host: Host,
    *,
    revision: Revision | None = None,
    asterisk: str | os.PathLike[str] | None = None,
    build: bool = True,
) -> CheckResult:
    """Check the host's current export, or ``revision``, in a throwaway Asterisk."""
    if revision is not None:
        files, findings = _revision_files(revision)
    else:
        export = export_host(host)
        files = {"iax.conf": export.text, **{f"keys/{k.name}": k.content for k in export.key_files}}
        findings = export.findings
    return check_config(files, findings=findings, asterisk=asterisk, build=build)
