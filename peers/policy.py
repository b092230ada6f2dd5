"""The section policy: what a save may bring in. One rule for every way of saving (the web forms
call it from ``clean()``, the JSON API and the command line through the service layer, which
applies it again under its lock):

    A save is refused when, after it, the configuration would have an error finding about the
    saved object (or about a section that inherits from it, or, for [general], about any
    section) that it does not have before. Errors already there are shown but do not block a
    save that leaves them as they are, so an imported file's mistakes can be fixed one at a
    time. Warnings never block.

Findings are compared by code, directive and value (and the section, for the sections that
inherit from the saved one), never by line number. A registration or call-number-limit line has
no "before" worth keeping: any error in its line refuses it. Everything here reads; nothing writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models.functions import Lower

from .exporter import build_document, dialplan_contexts
from .iaxconf import ERROR, Document, Entry, Finding, KeyInfo, Section, validate
from .iaxconf.document import CALLNUMBERLIMITS, GENERAL
from .models import Endpoint, EndpointBase, Host, Key


@dataclass
class Verdict:
    """What a save would give: every finding about the saved object after it, and the errors it
    would bring in (a non-empty ``introduced`` refuses the save)."""

    findings: list[Finding] = field(default_factory=list)
    introduced: list[Finding] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.introduced

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]


def key_info() -> dict[str, KeyInfo]:
    """What the key store holds, as the validator needs it (one query)."""
    return {
        name: KeyInfo(bool(public), bool(private), encrypted, bits)
        for name, public, private, encrypted, bits in Key.objects.values_list(
            "name", "public_pem", "private_pem", "private_encrypted", "bits"
        )
    }


def finding(code: str, section: str, message: str, **fields) -> Finding:
    """An error finding for a rule the validator cannot see from one document (a name taken on
    the host, a base or key that does not exist): same shape, same codes."""
    return Finding(
        ERROR, code, section, fields.pop("directive", None), fields.pop("value", None), message, **fields
    )


# ---------------------------------------------------------------------------------------------
# Peers, users, friends and templates


def _ids_named(host: Host, names: Iterable[str]) -> dict[str, int]:
    wanted = {n.lower() for n in names}
    if not wanted:
        return {}
    rows = Endpoint.objects.filter(host=host).annotate(lowered=Lower("name")).filter(lowered__in=wanted)
    return {name.lower(): pk for name, pk in rows.values_list("name", "id")}


def _related_ids(host: Host, bases: list[str], endpoint: Endpoint | None) -> list[int]:
    """The sections a save of this section depends on or affects: its ancestors (through the
    bases it will have) and, when it exists, itself and every section that inherits from it."""
    ids: list[int] = []
    pending = list(_ids_named(host, bases).values())
    links = EndpointBase.objects.filter(endpoint__host=host)
    while pending:
        pending = [pk for pk in pending if pk not in ids]
        ids.extend(pending)
        pending = list(links.filter(endpoint_id__in=pending).values_list("base_id", flat=True))
    if endpoint is not None:
        pending = [endpoint.pk]
        while pending:
            pending = [pk for pk in pending if pk not in ids]
            ids.extend(pending)
            pending = list(links.filter(base_id__in=pending).values_list("endpoint_id", flat=True))
    return ids


def _descendants(document: Document, name: str) -> set[str]:
    """Lower-cased names of the sections that inherit from ``name``, directly or not."""
    found: set[str] = set()
    todo = [name.lower()]
    while todo:
        current = todo.pop()
        for section in document.sections:
            lowered = section.name.lower()
            if lowered not in found and any(b.lower() == current for b in section.bases):
                found.add(lowered)
                todo.append(lowered)
    return found


def _signature(f: Finding, own: set[str]) -> tuple:
    section = "" if f.section.lower() in own else f.section.lower()
    return (f.code, section, (f.directive or "").lower(), f.value, f.part)


def _compare(before: list[Finding], after: list[Finding], own_before: set[str], own_after: set[str]) -> list:
    seen = {_signature(f, own_before) for f in before if f.is_error}
    return [f for f in after if f.is_error and _signature(f, own_after) not in seen]


def _about(findings: list[Finding], names: set[str]) -> list[Finding]:
    return [f for f in findings if f.section.lower() in names or f.section == ""]


def endpoint_verdict(host: Host, section: Section, *, endpoint: Endpoint | None = None) -> Verdict:
    """The policy for saving ``section`` as a new endpoint or template of ``host`` (``endpoint``
    None) or as the new content of ``endpoint``."""
    problems = _storage_problems(host, section, endpoint)
    ids = _related_ids(host, section.bases, endpoint)
    document, _, _ = build_document(host, only=ids or [-1])
    keys = key_info()
    contexts = dialplan_contexts(host)  # the form shows unknown-context warnings at the field
    old_name = endpoint.name.lower() if endpoint is not None else None
    at = next(
        (i for i, s in enumerate(document.sections) if s.is_endpoint and s.name.lower() == old_name), None
    )
    before: list[Finding] = []
    own_before: set[str] = set()
    derived: set[str] = set()
    if at is not None:
        derived = _descendants(document, old_name)
        own_before = {old_name}
        before = _about(validate(document, keys=keys, contexts=contexts), own_before | derived)
        document.sections[at] = section
        for other in document.sections:  # a rename is followed by the sections using it
            other.bases = [section.name if b.lower() == old_name else b for b in other.bases]
    else:
        document.sections.append(section)
    own_after = {section.name.lower()}
    after = _about(validate(document, keys=keys, contexts=contexts), own_after | derived)
    if problems:  # the database's own rules: the validator's duplicate/unknown-base findings come
        after = [f for f in after if f.code not in {p.code for p in problems}] + problems  # from here
    return Verdict(after, _compare(before, after, own_before, own_after))


def _storage_problems(host: Host, section: Section, endpoint: Endpoint | None) -> list[Finding]:
    """What the validator cannot see from the sections it is given: a name another section of the
    host has, and bases that are not on the host."""
    problems = []
    taken = Endpoint.objects.filter(host=host).annotate(lowered=Lower("name"))
    if endpoint is not None:
        taken = taken.exclude(pk=endpoint.pk)
    clash = taken.filter(lowered=section.name.lower()).values_list("name", flat=True).first()
    if clash is not None:
        problems.append(
            finding(
                "duplicate-section",
                section.name,
                f"[{section.name}] already exists on this host as [{clash}] (names are compared without case)",
                value=section.name,
                part="name",
            )
        )
    found = _ids_named(host, section.bases)
    if endpoint is not None:
        found.pop(endpoint.name.lower(), None)
    for base in section.bases:
        if base.lower() not in found:
            problems.append(
                finding(
                    "unknown-base",
                    section.name,
                    f"[{section.name}] inherits from '{base}', which is not on this host",
                    value=base,
                    part="bases",
                )
            )
    lowered = [b.lower() for b in section.bases]
    if len(set(lowered)) != len(lowered):
        problems.append(
            finding(
                "unknown-base",
                section.name,
                f"[{section.name}] names the same base twice",
                part="bases",
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------
# [general], registrations and call-number limits


def general_verdict(host: Host, section: Section) -> Verdict:
    """The policy for replacing the host's [general] lines with ``section``'s (register lines are
    registrations, kept as they are). [general] reaches every section, so the whole host is
    checked before and after."""
    register = [e for e in section.entries if e.name.strip().lower() == "register"]
    document, _, _ = build_document(host)
    keys = key_info()
    everything = {s.name.lower() for s in document.sections} | {GENERAL}
    before = _about(validate(document, keys=keys), everything)
    old = document.general
    kept = [e for e in old.entries if e.name.lower() == "register"] if old is not None else []
    replacement = Section(
        name="general",
        entries=[e for e in section.entries if e not in register] + kept,
        comments=section.comments,
    )
    document.sections[0] = replacement
    after = _about(validate(document, keys=keys), everything)
    introduced = _compare(before, after, {GENERAL}, {GENERAL})
    for _ in register:
        introduced.append(
            finding(
                "register-in-general",
                GENERAL,
                "register lines are registrations: add them on the Registrations page (or the registrations API)",
                directive="register",
            )
        )
    own = [f for f in after if f.section.lower() == GENERAL and f not in introduced]
    return Verdict(own + introduced, introduced)


def registration_verdict(line: str, comments: list[str] = ()) -> Verdict:
    """Every finding about one ``register =>`` value with its comment lines (its rule, and the key
    it signs with): any error refuses it."""
    entry = Entry("register", line, list(comments), operator="=>")
    document = Document(sections=[Section(GENERAL, [entry])])
    findings = [f for f in validate(document, keys=key_info()) if (f.directive or "").lower() == "register"]
    return Verdict(findings, [f for f in findings if f.is_error])


def limit_verdict(network: str, limit: int | str, comments: list[str] = ()) -> Verdict:
    """Every finding about one ``[callnumberlimits]`` line with its comment lines: any error
    refuses it."""
    document = Document(sections=[Section(CALLNUMBERLIMITS, [Entry(network, str(limit), list(comments))])])
    findings = [f for f in validate(document) if f.section.lower() == CALLNUMBERLIMITS]
    return Verdict(findings, [f for f in findings if f.is_error])
