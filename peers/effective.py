"""Read side of effective values: what each section of a host really gets, set in the section,
inherited from a template or Asterisk's default (``iaxconf.effective``), for the list of peers and
users (its columns, its search and its filters) and for the forms.

The list reads the whole host with two queries (the sections' typed columns and their template
links) whatever its size, works out every section's effective values in Python, and filters and
pages the result, so a page costs the same number of queries at 10 or 10,000 sections.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from .exporter import export_host
from .iaxconf import Entry, Section
from .iaxconf.effective import Effective, Resolver, effective, sections_by_name
from .iaxconf.values import TRUE_WORDS
from .models import Endpoint, EndpointBase, Host

# The list's columns and filters, by directive, and the typed column each is stored in.
LIST_COLUMNS = {
    "host": "peer_host",
    "port": "port",
    "context": "context",
    "username": "username",
    "auth": "auth",
    "trunk": "trunk",
    "qualify": "qualify",
}
SEARCHED = ("host", "context", "username")
TYPE_FILTERS = {
    "peer": lambda e: not e.is_template and e.kind in ("peer", "friend"),
    "user": lambda e: not e.is_template and e.kind in ("user", "friend"),
    "friend": lambda e: not e.is_template and e.kind == "friend",
    "template": lambda e: e.is_template,
}


@dataclass
class Listed:
    """One section as the list shows it; its effective values are worked out when first asked
    for (a page without a filter needs them for its 50 rows only)."""

    pk: int
    name: str
    kind: str
    is_template: bool
    bases: list[tuple[str, int]] = field(default_factory=list)  # (name, pk), in order
    section: Section | None = None
    resolver: Resolver | None = None
    _values: dict[str, Effective] | None = None

    @property
    def values(self) -> dict[str, Effective]:
        if self._values is None:
            self._values = self.resolver.resolve(self.section)
        return self._values

    def value(self, name: str) -> str | None:
        """The value in force, or the catalogue default when it is a plain value ("no")."""
        found = self.values[name]
        if found.value is not None:
            return found.value
        from .iaxconf import catalogue

        return catalogue()[name].default_value

    def __getitem__(self, name: str) -> Effective:  # templates: row.endpoint.host
        return self.values[name]


def _column_text(name: str, value) -> str:
    if name == "trunk":
        return "yes" if value else "no"
    return str(value)


def listed_endpoints(host: Host) -> list[Listed]:
    """Every section of the host, in file order, with the effective values of LIST_COLUMNS."""
    columns = list(LIST_COLUMNS.values())
    rows = list(
        Endpoint.objects.filter(host=host)
        .order_by("position", "id")
        .values_list("id", "name", "kind", "is_template", *columns)
    )
    links = defaultdict(list)
    for endpoint_id, base_id in (
        EndpointBase.objects.filter(endpoint__host=host)
        .order_by("endpoint_id", "position")
        .values_list("endpoint_id", "base_id")
    ):
        links[endpoint_id].append(base_id)
    names = {row[0]: row[1] for row in rows}
    sections = []
    listed = []
    for row in rows:
        pk, name, kind, is_template = row[:4]
        entries = [
            Entry(directive, _column_text(directive, value))
            for directive, value in zip(LIST_COLUMNS, row[4:], strict=True)
            if value is not None
        ]
        bases = [(names[b], b) for b in links.get(pk, ()) if b in names]
        section = Section(name, entries, is_template=is_template, bases=[n for n, _ in bases])
        sections.append(section)
        listed.append(Listed(pk, name, kind, bool(is_template), bases, section))
    resolver = Resolver(sections_by_name(sections), LIST_COLUMNS)
    for item in listed:
        item.resolver = resolver
    return listed


def _words(value: str | None) -> set[str]:
    return {w for w in re.split(r"[,\s]+", (value or "").lower()) if w}


def _matches(item: Listed, params: Mapping[str, str]) -> bool:
    query = params.get("q", "").strip().lower()
    if query and query not in item.name.lower():
        found = (v for name in SEARCHED for v in item.values[name].values)
        if not any(query in value.lower() for value in found):
            return False
    kind = params.get("type", "")
    if kind in TYPE_FILTERS and not TYPE_FILTERS[kind](item):
        return False
    address = params.get("address", "")
    host = (item.value("host") or "").lower()
    if address == "dynamic" and host != "dynamic":
        return False
    if address == "static" and host in ("", "dynamic"):
        return False
    trunk = params.get("trunk", "")
    is_trunk = (item.value("trunk") or "").lower() in TRUE_WORDS
    if (trunk == "yes" and not is_trunk) or (trunk == "no" and is_trunk):
        return False
    auth = params.get("auth", "")
    if auth in ("md5", "rsa", "plaintext") and auth not in _words(item.value("auth")):
        return False
    return True


def endpoint_rows(host: Host, params: Mapping[str, str]) -> tuple[list[Listed], dict[str, list]]:
    """The host's sections that match the list's search and filters (by their effective values),
    and the findings by section name when the findings filter is used."""
    rows = [item for item in listed_endpoints(host) if _matches(item, params)]
    findings = params.get("findings", "")
    by_section: dict[str, list] = {}
    if findings in ("any", "errors", "none"):
        for finding in export_host(host).findings:
            if findings != "errors" or finding.is_error:
                by_section.setdefault(finding.section, []).append(finding)
        if findings == "none":
            rows = [r for r in rows if r.name not in by_section]
        else:
            rows = [r for r in rows if r.name in by_section]
    return rows, by_section


# -------------------------------------------------------------------------------------------------
# One section being edited


@dataclass
class SectionContext:
    """What a form needs to show a section's effective values: its templates as the exporter
    writes them (``by_name``, lower-cased) and their ids (for links)."""

    by_name: dict[str, Section] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def effective(self, section: Section) -> dict[str, Effective]:
        """Every directive's effective value, secrets masked."""
        return {name: found.masked() for name, found in effective(section, self.by_name).items()}

    def inherited_lines(self, section: Section, names):
        from .iaxconf.effective import inherited_lines

        return [(n, line) for n, line in inherited_lines(section, self.by_name, names)]


def section_context(host: Host, bases: list[str], *, endpoint: Endpoint | None = None) -> SectionContext:
    """The templates ``bases`` reach on ``host`` (directly or through their own bases), read with a
    few queries per level of inheritance."""
    from django.db.models.functions import Lower

    from .exporter import build_document

    found: dict[str, int] = {}
    names = {b.lower() for b in bases}
    rows = Endpoint.objects.filter(host=host).annotate(lowered=Lower("name"))
    if endpoint is not None:
        rows = rows.exclude(pk=endpoint.pk)
    while names:
        level = dict(rows.filter(lowered__in=names).values_list("lowered", "id"))
        found.update(level)
        links = EndpointBase.objects.filter(endpoint_id__in=level.values()).values_list(
            "base__name", flat=True
        )
        names = {n.lower() for n in links} - found.keys()
    if not found:
        return SectionContext()
    document, _, _ = build_document(host, only=list(found.values()))
    sections = [s for s in document.sections if s.is_endpoint]
    return SectionContext(sections_by_name(sections), found)
