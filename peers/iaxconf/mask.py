"""The one place that hides secrets in what iaxadmin shows: values, entries, documents and
iax.conf text.

Masking works by directive, never by line of text: a ``secret`` value is replaced whole, and of a
``register`` value only the password between ``:`` and ``@`` (a ``[key]`` reference is not a
secret and stays). Text is masked by parsing it and rewriting the lines of those directives, so a
value holding an unusual line separator cannot leak its tail. Every reader that shows
configuration (pages, diffs, findings, audit records, logs, the API) goes through here.
"""

from __future__ import annotations

import re

from .document import Document, Entry, Section

MASK = "********"
SECRET_NAMES = frozenset({"secret"})
REGISTER = "register"
# The header line the exporter writes holds the sha256 of the configuration, secrets included: a
# digest of a weak secret and a known rest of the file can be brute-forced, so it is masked too.
_CHECKSUM_LINE = re.compile(r"^(;iaxadmin: sha256 of the configuration below: )[0-9a-f]{64}$")


def is_secret(name: str | None) -> bool:
    """True for a directive whose whole value is a secret."""
    return name is not None and name.strip().lower() in SECRET_NAMES


def mask_register(value: str) -> str:
    """A ``register`` value with its password masked (``user:[key]@host`` is kept as it is)."""
    credentials, at, server = value.partition("@")
    user, colon, password = credentials.partition(":")
    if colon and password and not password.startswith("["):
        return f"{user}:{MASK}{at}{server}"
    return value


def mask_value(name: str | None, value: str | None) -> str | None:
    """The value as it may be shown: a secret becomes ``MASK`` (an empty one stays empty, so
    "no secret" is still visible); a register line loses its password; anything else is kept."""
    if value is None or name is None:
        return value
    lowered = name.strip().lower()
    if lowered in SECRET_NAMES:
        return MASK if value else ""
    if lowered == REGISTER:
        return mask_register(value)
    return value


def has_secret(entry: Entry) -> bool:
    return mask_value(entry.name, entry.value) != entry.value


def mask_entry(entry: Entry) -> Entry:
    """The entry itself when it holds no secret, else a masked copy."""
    masked = mask_value(entry.name, entry.value)
    if masked == entry.value:
        return entry
    return Entry(entry.name, masked, list(entry.comments), entry.line, entry.file, entry.operator)


def mask_section(section: Section) -> Section:
    return Section(
        name=section.name,
        entries=[mask_entry(e) for e in section.entries],
        is_template=section.is_template,
        is_addition=section.is_addition,
        bases=list(section.bases),
        comments=list(section.comments),
        line=section.line,
        file=section.file,
    )


def mask_document(document: Document) -> Document:
    """A copy of the document with every secret masked (the original is not changed)."""
    return Document(
        sections=[mask_section(s) for s in document.sections],
        header=list(document.header),
        trailer=list(document.trailer),
    )


def mask_conf(text: str, *, previous: str | None = None) -> str:
    """iax.conf text with every secret masked and every other byte kept: the text is parsed the
    way Asterisk reads it, and the lines of ``secret`` and ``register`` entries are written again
    with their masked value (``name = value`` spacing and trailing comments of those lines are not
    kept). Text that does not parse is masked line by line, by the name before ``=``.

    With ``previous`` (an older text of the same file, for a diff), a secret whose value is not
    the one the same line of the same section had there reads ``MASK (changed)``, so a diff of two
    masked texts still shows that it changed, and never what it was or is."""
    from .parse import ConfigSyntaxError, parse  # parse does not import this module

    lines = text.split("\n")
    try:
        document = parse(text).document
    except ConfigSyntaxError:
        return "\n".join(_mask_plain_line(line) for line in lines)
    before = _secret_values(previous) if previous is not None else None
    for section, name, n, entry in _secret_entries(document):
        masked = mask_value(entry.name, entry.value)
        if before is not None and before.get((section, name, n)) != entry.value:
            masked += " (changed)"
        operator = "=>" if entry.operator == "=>" else "="
        lines[entry.line - 1] = f"{entry.name}{operator}{masked}"
    return "\n".join(_CHECKSUM_LINE.sub(rf"\g<1>{MASK}", line) for line in lines)


def _secret_entries(document: Document):
    """(section, name, n-th of that name in the section, entry) for each entry holding a secret."""
    for section in document.sections:
        seen: dict[str, int] = {}
        for entry in section.entries:
            if entry.line is None or not has_secret(entry):
                continue
            name = entry.name.lower()
            seen[name] = seen.get(name, 0) + 1
            yield section.name.lower(), name, seen[name], entry


def _secret_values(text: str) -> dict[tuple[str, str, int], str]:
    from .parse import ConfigSyntaxError, parse

    try:
        document = parse(text).document
    except ConfigSyntaxError:
        return {}
    return {(s, name, n): entry.value for s, name, n, entry in _secret_entries(document)}


_PLAIN = re.compile(r"^(?P<name>[^=;]*?)\s*(?P<op>=>?)\s*(?P<value>.*)$")


def _mask_plain_line(line: str) -> str:
    match = _PLAIN.match(line)
    if match is None:
        return line
    name = match["name"].strip()
    masked = mask_value(name, match["value"])
    if masked == match["value"]:
        return line
    return f"{name}{match['op']}{masked}"
