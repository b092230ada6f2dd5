"""Models -> ``iaxconf.Document`` -> iax.conf text and key files.

The database is read with a fixed number of queries whatever the number of endpoints (plain
``values_list`` reads, no model instances), the document is validated by ``iaxconf.validate`` and
rendered by ``iaxconf.render``. Writing files is ``write_export`` (atomic renames).
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
import tempfile
from collections import defaultdict
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path
from typing import NamedTuple

from django.db import connection
from django.db.models import Q

from .iaxconf import (
    ERROR,
    Document,
    Entry,
    Finding,
    KeyInfo,
    RenderError,
    Section,
    catalogue,
    render,
    validate,
)
from .iaxconf.mask import MASK, mask_document
from .iaxconf.normalise import HEADER_MARK
from .models import (
    TYPED_COLUMNS,
    CallNumberLimit,
    DialplanContexts,
    Endpoint,
    EndpointBase,
    EndpointInKey,
    EndpointOption,
    GeneralOption,
    GeneralSettings,
    Host,
    Key,
    Registration,
)
from .security import crypto


@dataclass(frozen=True)
class KeyFile:
    name: str  # file name inside keys/, e.g. "trunk.key"
    content: bytes
    mode: int


@dataclass
class Export:
    host: str
    document: Document
    findings: list[Finding]
    key_files: list[KeyFile] = field(default_factory=list)
    body: str = ""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def errors_in_file_order(self) -> list[Finding]:
        """Error findings in the order of the lines they are about in the rendered file, so the
        header reads the same however the document was put together."""
        position = {s.name: i for i, s in enumerate(self.document.sections)}
        slot = catalogue().render_slot
        return sorted(
            self.errors,
            key=lambda f: (
                position.get(f.section, -1),
                slot(f.directive or ""),
                f.line or 0,
                f.code,
                f.message,
            ),
        )

    @functools.cached_property
    def checksum(self) -> str:
        """The sha256 of the body (worked out once: the body of a 10,000-peer host is 2 MB)."""
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()

    @property
    def text(self) -> str:
        """The whole iax.conf: a header naming the host and the checksum of the body, then the body."""
        return self._with_header(self.checksum, self.body)

    def masked_text(self) -> str:
        """The iax.conf as every page shows it: each secret masked (``iaxconf.mask``), and the
        checksum too (a digest over the secrets)."""
        try:
            body = render(mask_document(self.document)) if self.body else ""
        except RenderError:
            body = ""
        return self._with_header(MASK, body)

    def _with_header(self, checksum: str, body: str) -> str:
        header = [
            f"{HEADER_MARK} iax.conf for host {self.host}, written by iaxadmin; edits here are overwritten.",
            f"{HEADER_MARK} sha256 of the configuration below: {checksum}",
        ]
        if self.key_files:
            header.append(f"{HEADER_MARK} key files: " + " ".join(k.name for k in self.key_files))
        for finding in self.errors_in_file_order():
            header.append(f"{HEADER_MARK} ERROR {finding.location()}: {finding.message}")
        return "".join(f";{line}\n" for line in header) + "\n" + body


# An exported document's empty comment lists: one immutable empty tuple (a 100,000-peer host has
# over a million lines, and an empty list each is 56 bytes).
NO_COMMENTS: tuple[str, ...] = ()


def _comments(text: str) -> list[str]:
    return text.split("\n") if text else NO_COMMENTS


_NO_NOTES: dict[str, str] = {}


class SharedEntry(Entry):
    """A comment-less ``name=value`` line of an exported document that stands for that line in
    every section having it (``allow=ulaw`` in 10,000 peers): one object per distinct line.

    What it buys: half the objects of an export (``bench/export.py``: the memory of a 100,000-peer
    export and the time the cyclic GC spends walking them). Because one object is many sections'
    line, it is immutable: assigning or deleting a field raises ``FrozenInstanceError`` and its
    comments are an empty tuple. Code that needs to change a line makes its own ``Entry``."""

    __slots__ = ()

    def __init__(self, name: str, value: str) -> None:
        setter = object.__setattr__
        setter(self, "name", name)
        setter(self, "value", value)
        setter(self, "comments", NO_COMMENTS)
        setter(self, "line", None)
        setter(self, "file", None)
        setter(self, "operator", "=")

    def __setattr__(self, name: str, value) -> None:
        raise FrozenInstanceError(
            f"cannot assign to field {name!r}: a SharedEntry is shared by many sections"
        )

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: a SharedEntry is shared by many sections")


class _Lines:
    """The lines of one document being built: a ``SharedEntry`` per distinct comment-less
    (name, value), an own ``Entry`` for a line with comment lines above it."""

    def __init__(self) -> None:
        self.shared: dict[str, dict[str, SharedEntry]] = defaultdict(dict)

    def entry(self, name: str, value: str, note: str | None = None) -> Entry:
        if note:
            return Entry(name, value, note.split("\n"))
        pool = self.shared[name]
        found = pool.get(value)
        if found is None:
            found = pool[value] = SharedEntry(name, value)
        return found


def _fetch(queryset) -> list[tuple]:
    """The rows of a values_list() queryset straight from the cursor: the same SQL, without
    Django's per-row iteration and converters (callers handle JSON text and 0/1 booleans)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class EndpointRow(NamedTuple):
    """One row of the endpoint query of ``build_document`` (the columns of ENDPOINT_COLUMNS)."""

    id: int
    name: str
    kind: str
    is_template: bool  # 0/1 on SQLite
    comment: str
    peer_host: str | None
    port: int | None
    defaultip: str | None
    context: str | None
    username: str | None
    secret: str | None  # encrypted
    auth: str | None
    qualify: str | None
    trunk: bool | None  # 0/1 on SQLite
    transfer: str | None
    requirecalltoken: str | None
    encryption: str | None
    outkey_name: str | None
    column_comments: dict | str  # JSON text on SQLite, decoded already by psycopg
    extra_secrets: str | None  # encrypted


ENDPOINT_COLUMNS = tuple(name if name != "outkey_name" else "outkey__name" for name in EndpointRow._fields)
# The typed columns as (directive, column), in catalogue order (TYPED_COLUMNS).
TYPED = tuple(TYPED_COLUMNS.items())
_typed_values = operator.attrgetter(*(column for _, column in TYPED))  # row -> their values, in order


def build_document(
    host: Host, *, only: list[int] | None = None, general: bool = True
) -> tuple[Document, set[str], set[str]]:
    """The host's config as a Document, plus the key names it uses publicly (inkeys) and privately
    (outkey, register). A constant number of queries. With ``only`` (endpoint ids), the document
    holds [general] and those endpoints (a page of the API, a form), read from their rows only;
    without ``general``, only those endpoints (no [general], registrations or limits)."""
    document = Document()
    public_keys: set[str] = set()
    private_keys: set[str] = set()
    decrypt = crypto.decryptor()  # the raw rows below hold the stored (encrypted) secrets
    if general:
        _add_general(host, document, private_keys)
    _add_endpoints(host, document, public_keys, private_keys, only, decrypt)
    if general:
        limits = list(CallNumberLimit.objects.filter(host=host).values_list("network", "limit", "comment"))
        if limits:
            document.sections.append(
                Section(
                    name="callnumberlimits",
                    entries=[
                        Entry(name=n, value=str(limit), comments=_comments(c)) for n, limit, c in limits
                    ],
                )
            )
    return document, public_keys, private_keys


def _add_general(host: Host, document: Document, private_keys: set[str]) -> None:
    """[general] with its register lines (and the sticky defaults), the file's header and trailer."""
    general_row = (
        GeneralSettings.objects.filter(host=host).values_list("comment", "header", "trailer").first()
    )
    general_comment, header, trailer = general_row or ("", "", "")
    document.header = _comments(header)
    document.trailer = _comments(trailer)
    general = Section(name="general", comments=_comments(general_comment))
    for name, value, comment in GeneralOption.objects.filter(general__host=host).values_list(
        "name", "value", "comment"
    ):
        general.entries.append(Entry(name=name, value=value, comments=_comments(comment)))
    present = {e.name.lower() for e in general.entries}
    for directive in catalogue().accepted():
        if directive.sticky and directive.valid_in("general") and directive.name not in present:
            if directive.default not in (None, ""):
                general.entries.append(Entry(name=directive.name, value=str(directive.default)))
    for username, secret, key_name, remote_host, remote_port, comment in Registration.objects.filter(
        host=host
    ).values_list("username", "secret", "key__name", "remote_host", "remote_port", "comment"):
        credentials = username
        if key_name:
            credentials += f":[{key_name}]"
            private_keys.add(key_name)
        elif secret:
            credentials += f":{secret}"
        server = remote_host + (f":{remote_port}" if remote_port else "")
        general.entries.append(
            Entry(
                name="register", value=f"{credentials}@{server}", comments=_comments(comment), operator="=>"
            )
        )
    document.sections.append(general)


def _add_endpoints(host: Host, document: Document, public_keys, private_keys, only, decrypt) -> None:
    """The endpoints and templates of the host (or those of ``only``), in order."""
    # One SharedEntry per distinct comment-less (name, value): most lines (allow=ulaw, type=friend,
    # host=dynamic, context=...) repeat across thousands of endpoints, and the driver would return
    # new strings for every row. Secrets and lines with comments are never shared.
    lines = _Lines()
    shared = lines.shared
    options = defaultdict(list)
    for endpoint_id, name, value, comment in _fetch(
        EndpointOption.objects.filter(endpoint__host=host, **({"endpoint_id__in": only} if only else {}))
        .order_by("endpoint_id", "position")
        .values_list("endpoint_id", "name", "value", "comment")
    ):
        if comment:
            entry = Entry(name, value, comment.split("\n"))
        else:
            pool = shared[name]
            entry = pool.get(value)
            if entry is None:
                entry = pool[value] = SharedEntry(name, value)
        options[endpoint_id].append(entry)
    bases = defaultdict(list)
    links = EndpointBase.objects.filter(endpoint__host=host).order_by("endpoint_id", "position")
    asked = set(only) if only else None  # the endpoints whose links are read
    wanted_links = asked
    while True:  # every link of the host; for ``only``, those of the endpoints and their bases, upwards
        scope = links.filter(endpoint_id__in=wanted_links) if only else links
        found = _fetch(scope.values_list("endpoint_id", "base_id"))
        for endpoint_id, base_id in found:
            bases[endpoint_id].append(base_id)
        if not only:
            break
        wanted_links = {base_id for _, base_id in found} - asked
        if not wanted_links:
            break
        asked |= wanted_links
    inkeys = defaultdict(list)
    for endpoint_id, key_name in _fetch(
        EndpointInKey.objects.filter(endpoint__host=host, **({"endpoint_id__in": only} if only else {}))
        .order_by("endpoint_id", "position")
        .values_list("endpoint_id", "key__name")
    ):
        inkeys[endpoint_id].append(key_name)
        public_keys.add(key_name)

    endpoints = Endpoint.objects.filter(host=host)
    if only:  # whole rows for the ones wanted; the names and types of their bases, all the way up
        endpoints = endpoints.filter(id__in=only)
    rows = [
        EndpointRow._make(row)
        for row in _fetch(endpoints.order_by("position", "id").values_list(*ENDPOINT_COLUMNS))
    ]
    names = {row.id: row.name for row in rows}
    kind_of = {row.id: row.kind for row in rows}
    if only:
        above, todo = set(), [b for row in rows for b in bases.get(row.id, ())]
        while todo:
            base_id = todo.pop()
            if base_id not in above and base_id not in names:
                above.add(base_id)
                todo.extend(bases.get(base_id, ()))
        if above:
            for pk, name, kind in _fetch(
                Endpoint.objects.filter(id__in=above).values_list("id", "name", "kind")
            ):
                names[pk], kind_of[pk] = name, kind

    def inherited_kind(endpoint_id: int, seen: frozenset[int]) -> str:
        for base_id in bases.get(endpoint_id, ()):
            if base_id in seen:
                continue
            kind = kind_of.get(base_id) or inherited_kind(base_id, seen | {base_id})
            if kind:
                return kind
        return ""

    wanted = set(only) if only else None
    append_section = document.sections.append
    typed_pools = [None if directive in ("secret", "trunk") else shared[directive] for directive, _ in TYPED]
    for row in rows:
        endpoint_id, kind, is_template = row.id, row.kind, bool(row.is_template)
        if wanted is not None and endpoint_id not in wanted:
            continue
        base_ids = bases.get(endpoint_id, ())
        section = Section(
            name=row.name,
            is_template=is_template,
            bases=[names[b] for b in base_ids if b in names],
            comments=_comments(row.comment),
        )
        entries = section.entries
        append = entries.append
        notes = row.column_comments
        if notes.__class__ is str:  # raw rows: JSON text on SQLite, decoded already by psycopg
            notes = json.loads(notes) if notes != "{}" else _NO_NOTES
        elif not notes:
            notes = _NO_NOTES
        if kind and (
            is_template or not base_ids or inherited_kind(endpoint_id, frozenset({endpoint_id})) != kind
        ):
            append(lines.entry("type", kind, notes.get("type")))
        for (directive, _), pool, value in zip(TYPED, typed_pools, _typed_values(row), strict=True):
            if value is None:
                continue
            if pool is None:  # secret or trunk
                if directive == "trunk":  # a boolean column (0/1 on SQLite)
                    append(lines.entry(directive, "yes" if value else "no", notes.get(directive)))
                    continue
                # never shared: secrets are not interned across endpoints
                note = notes.get(directive)
                append(Entry(directive, decrypt(value), note.split("\n") if note else []))
                if row.extra_secrets is not None:
                    for n, line in enumerate(decrypt(row.extra_secrets).split("\n"), start=1):
                        note = notes.get(f"secret#{n}")
                        append(Entry(directive, line, note.split("\n") if note else []))
                continue
            if value.__class__ is not str:
                value = str(value)
            note = notes.get(directive) if notes else None
            if note:
                append(Entry(directive, value, note.split("\n")))
                continue
            entry = pool.get(value)
            if entry is None:
                entry = pool[value] = SharedEntry(directive, value)
            append(entry)
        keys_in = inkeys.get(endpoint_id)
        if keys_in:
            append(lines.entry("inkeys", ":".join(keys_in), notes.get("inkeys")))
        if row.outkey_name:
            append(lines.entry("outkey", row.outkey_name, notes.get("outkey")))
            private_keys.add(row.outkey_name)
        own = options.get(endpoint_id)
        if own:
            entries.extend(own)
        append_section(section)


def endpoint_section(endpoint: Endpoint) -> Section:
    """One endpoint as the Section the exporter writes (typed columns, rows, keys, bases)."""
    document, _, _ = build_document(endpoint.host, only=[endpoint.pk])
    lowered = endpoint.name.lower()
    return next(s for s in document.sections if s.is_endpoint and s.name.lower() == lowered)


def general_section(host: Host) -> Section:
    """The host's [general] as stored, without the register lines (they are Registrations) and
    without the defaults the exporter adds."""
    general = Section(name="general")
    row = GeneralSettings.objects.filter(host=host).values_list("comment", flat=True).first()
    general.comments = _comments(row or "")
    for name, value, comment in GeneralOption.objects.filter(general__host=host).values_list(
        "name", "value", "comment"
    ):
        general.entries.append(Entry(name=name, value=value, comments=list(_comments(comment))))
    return general


def dialplan_contexts(host: Host) -> list[str] | None:
    """The contexts the host's dialplan defines, or None when iaxadmin does not know them."""
    return DialplanContexts.objects.filter(host=host).values_list("contexts", flat=True).first()


def export_host(host: Host) -> Export:
    """Build, validate and render a host's config. Never writes anything."""
    document, public_keys, private_keys = build_document(host)
    used = public_keys | private_keys
    keys = {}
    key_rows = {}
    if used:
        for name, public_pem, private_pem, encrypted, bits in Key.objects.filter(name__in=used).values_list(
            "name", "public_pem", "private_pem", "private_encrypted", "bits"
        ):
            keys[name] = KeyInfo(
                has_public=bool(public_pem),
                has_private=bool(private_pem),
                private_encrypted=encrypted,
                bits=bits,
            )
            key_rows[name] = (public_pem, private_pem)
    findings = validate(document, keys=keys, contexts=dialplan_contexts(host))
    key_files = []
    for name in sorted(public_keys):
        if name in key_rows and key_rows[name][0]:
            key_files.append(KeyFile(f"{name}.pub", pem_bytes(key_rows[name][0]), 0o644))
    for name in sorted(private_keys):
        if name in key_rows and key_rows[name][1]:
            key_files.append(KeyFile(f"{name}.key", pem_bytes(key_rows[name][1]), 0o600))
    key_files.sort(key=lambda k: k.name)
    try:
        body = render(document)
    except RenderError as exc:  # the validator has reported the value already; never write it
        body = ""
        findings.append(Finding(ERROR, "unrenderable", "", None, None, f"nothing can be written: {exc}"))
    return Export(host=host.name, document=document, findings=findings, key_files=key_files, body=body)


def pem_bytes(pem: str) -> bytes:
    text = pem.replace("\r\n", "\n").strip() + "\n"
    return text.encode("ascii")


class ExportRefused(Exception):
    def __init__(self, export: Export) -> None:
        self.export = export
        super().__init__(f"{len(export.errors)} error finding(s) in host {export.host}; nothing was written")


def write_export(export: Export, out_dir: str | os.PathLike, *, allow_errors: bool = False) -> list[Path]:
    """Write iax.conf and keys/ into out_dir. Each file is written to a temporary name and renamed
    into place; the keys directory is built beside the old one and swapped in, so a reader sees the
    old set or the new set, never a mix. Refuses (writing nothing) when there are error findings."""
    if export.errors and not allow_errors:
        raise ExportRefused(export)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    new_keys = Path(tempfile.mkdtemp(prefix=".keys-new-", dir=out))
    written = []
    try:
        for key_file in export.key_files:
            path = new_keys / key_file.name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, key_file.mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key_file.content)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(path, key_file.mode)
        os.chmod(new_keys, 0o755)
        conf_tmp = _write_temp(out, "iax.conf", export.text.encode("utf-8"), 0o644)
    except BaseException:
        _remove_tree(new_keys)
        raise
    keys_dir = out / "keys"
    old_keys = None
    if keys_dir.exists():
        old_keys = Path(tempfile.mkdtemp(prefix=".keys-old-", dir=out))
        os.rmdir(old_keys)
        os.replace(keys_dir, old_keys)
    os.replace(new_keys, keys_dir)
    os.replace(conf_tmp, out / "iax.conf")
    if old_keys is not None:
        _remove_tree(old_keys)
    written.append(out / "iax.conf")
    written.extend(keys_dir / k.name for k in export.key_files)
    return written


def _write_temp(directory: Path, name: str, content: bytes, mode: int) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def key_usage_filter(host: Host) -> Q:
    """Keys a host's config refers to (for pages that list them)."""
    return Q(outkey_of__host=host) | Q(inkey_links__endpoint__host=host) | Q(registrations__host=host)
