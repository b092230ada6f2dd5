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

from . import metrics
from .iaxconf import Entry, Section, catalogue
from .iaxconf.effective import Effective, Line, Resolver, effective, sections_by_name
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


class Listed:
    """One section as the list shows it. Its effective values are worked out when first asked
    for, one directive at a time (a page without a filter needs them for its 50 rows only)."""

    __slots__ = ("pk", "name", "kind", "is_template", "bases", "columns", "resolver", "_values", "_inherited")

    def __init__(self, pk, name, kind, is_template, bases, columns, resolver) -> None:
        self.pk, self.name, self.kind, self.is_template = pk, name, kind, is_template
        self.bases: list[tuple[str, int]] = bases  # (name, pk), in order
        self.columns: dict[str, str] = columns  # directive -> the section's own value
        self.resolver: Resolver = resolver
        self._values: dict[str, Effective] = {}
        self._inherited = None

    def __getitem__(self, name: str) -> Effective:  # templates: {% effective_cell e "host" %}
        found = self._values.get(name)
        if found is None:
            if self._inherited is None:
                self._inherited = self.resolver.inherited(self.name, [b for b, _ in self.bases])
            text = self.columns.get(name)
            own = (Line(text, self.name),) if text is not None else ()
            found = self._values[name] = self.resolver.one(self.name, own, self._inherited, name)
        return found

    def value(self, name: str) -> str | None:
        """The value in force, or the catalogue default when it is a plain value ("no")."""
        found = self[name]
        if found.value is not None:
            return found.value
        return catalogue()[name].default_value


def _column_text(name: str, value) -> str:
    if name == "trunk":
        return "yes" if value else "no"
    return str(value)


def listed_endpoints(host: Host) -> list[Listed]:
    """Every section of the host, in file order, ready to give the effective values of
    LIST_COLUMNS (two queries; the templates' lines are read from the same rows)."""
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
    names = {pk: name for pk, name, *_ in rows}
    used_as_base = {b for bases in links.values() for b in bases}
    by_name: dict[str, Section] = {}
    resolver = Resolver(by_name, LIST_COLUMNS)
    listed = []
    for pk, name, kind, is_template, *values in rows:
        own = {d: _column_text(d, v) for d, v in zip(LIST_COLUMNS, values, strict=True) if v is not None}
        bases = [(names[b], b) for b in links.get(pk, ()) if b in names]
        if pk in used_as_base:  # a template (or section) others inherit from: its lines are needed
            entries = [Entry(d, text) for d, text in own.items()]
            by_name.setdefault(
                name.lower(), Section(name, entries, is_template=is_template, bases=[n for n, _ in bases])
            )
        listed.append(Listed(pk, name, kind, bool(is_template), bases, own, resolver))
    return listed


def _words(value: str | None) -> set[str]:
    return {w for w in re.split(r"[,\s]+", (value or "").lower()) if w}


def _matches(item: Listed, params: Mapping[str, str]) -> bool:
    """Whether a section passes the list's search and filters; its effective values are worked
    out only when a filter needs them."""
    query = params.get("q", "").strip().lower()
    if query and query not in item.name.lower():
        found = (v for name in SEARCHED for v in item[name].values)
        if not any(query in value.lower() for value in found):
            return False
    kind = params.get("type", "")
    if kind in TYPE_FILTERS and not TYPE_FILTERS[kind](item):
        return False
    address = params.get("address", "")
    if address in ("dynamic", "static"):
        host = (item.value("host") or "").lower()
        if (address == "dynamic") != (host == "dynamic") or host == "":
            return False
    trunk = params.get("trunk", "")
    if trunk in ("yes", "no"):
        is_trunk = (item.value("trunk") or "").lower() in TRUE_WORDS
        if (trunk == "yes") != is_trunk:
            return False
    auth = params.get("auth", "")
    if auth in ("md5", "rsa", "plaintext") and auth not in _words(item.value("auth")):
        return False
    return True


def endpoint_rows(host: Host, params: Mapping[str, str]) -> tuple[list[Listed], dict[str, list]]:
    """The host's sections that match the list's search and filters (by their effective values),
    and the findings by section name when the findings filter is used."""
    rows = listed_endpoints(host)
    if any(params.get(name) for name in ("q", "type", "address", "trunk", "auth")):
        rows = [item for item in rows if _matches(item, params)]
    findings = params.get("findings", "")
    by_section: dict[str, list] = {}
    if findings in ("any", "errors", "none"):
        for finding in metrics.host_findings(host):  # once per state of the host, kept in the database
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
