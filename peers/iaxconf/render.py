"""Document -> iax.conf text. Deterministic: the same document gives the same bytes.

Sections come out in document order. Inside a section, entries are sorted into the catalogue's
rendering order (``catalogue.RENDER_ORDER``), which keeps the order Asterisk depends on (host
before port, bandwidth before codecs, srvlookup before register) while entries that share a slot
(allow/disallow, permit/deny, repeated lines) keep the order they were given in.

Values are escaped (``;`` becomes ``\\;``, the only escape Asterisk's config reader knows);
anything that could not be written on one line raises :class:`RenderError` instead of producing a
file that means something else. The validator reports the same problems with a friendlier message;
this is the last line of defence.
"""

from __future__ import annotations

import re

from .catalogue import catalogue
from .document import Document, Entry, Section

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # as values.CONTROL_RE
_NAME_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\[\]();=\\]")
# A header name or base may hold blanks: Asterisk keeps them ([ general ] is a section named
# " general "), and they cannot break out of the line.
_BLANKS = " \t"  # what is left of C isspace() once control characters are refused
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\[\]();=\\]")


class RenderError(ValueError):
    pass


def escape_value(value: str) -> str:
    if not value.isprintable() and _UNSAFE.search(value):  # isprintable() is False for all of these
        raise RenderError(f"value {value!r} contains a line break or control character")
    return value.replace(";", "\\;")


def _comment(text: str) -> str:
    if _UNSAFE.search(text.replace("\t", " ")):
        raise RenderError(f"comment {text!r} contains a line break or control character")
    if text.startswith("--") and not text.startswith("---"):
        text = " " + text  # ';--' would open a block comment and swallow the lines after it
    return ";" + text


def _header(section: Section) -> str:
    if not section.name.strip(_BLANKS) or _HEADER_UNSAFE.search(section.name) or len(section.name) > 79:
        raise RenderError(f"section name {section.name!r} cannot be written as an iax.conf header")
    options = (
        (["!"] if section.is_template else []) + (["+"] if section.is_addition else []) + list(section.bases)
    )
    for option in section.bases:
        if (
            not option.strip(_BLANKS)
            or _HEADER_UNSAFE.search(option)
            or "," in option
            or option == "!"
            or option[0] == "+"
        ):
            raise RenderError(f"base name {option!r} cannot be written in a section header")
    return f"[{section.name}]" + (f"({','.join(options)})" if options else "")


def _entry(entry: Entry, writable: set[str] | None = None) -> str:
    """The line of an entry: its name checked (once per name when a ``writable`` set of the names
    already checked is given: names repeat on every section of a big file), its value escaped."""
    name = entry.name
    if writable is None or name not in writable:
        if not name or _NAME_UNSAFE.search(name) or name[0] in "#;[":
            raise RenderError(f"directive name {name!r} cannot be written in iax.conf")
        if writable is not None:
            writable.add(name)
    value = escape_value(entry.value)
    operator = entry.operator
    if operator == "=>":
        return f"{name} => {value}"
    if operator == "+=":  # appended literally, leading blanks included
        return f"{name}+={value}"
    if name[-1] == "+":  # "a+=x" would read back as += on "a"
        return f"{name} ={value}"
    if value[:1] == ">":  # "name=>x" would read back as the => operator
        return f"{name}= {value}"
    return f"{name}={value}"


def _slot_key():
    """A fast sort key: the render slot of a directive name (names are usually lower-case)."""
    cat = catalogue()
    slots = cat.render_slots
    render_slot = cat.render_slot

    def key(entry: Entry) -> int:
        found = slots.get(entry.name)
        return found if found is not None else render_slot(entry.name)

    return key


def ordered_entries(section: Section) -> list[Entry]:
    """The section's entries in rendering order (stable within a slot)."""
    if section.is_callnumberlimits:
        return list(section.entries)
    return sorted(section.entries, key=_slot_key())


def render(document: Document) -> str:
    # One string per section, joined once at the end: a list of every line of a 100,000-peer file
    # would hold a million small strings at the same time as the document.
    blocks: list[str] = []
    if document.header:
        blocks.append("\n".join(_comment(c) for c in document.header))
    writable: set[str] = set()  # the directive names checked already
    for section in document.sections:
        lines = [_comment(c) for c in section.comments] if section.comments else []
        lines.append(_header(section))
        append = lines.append
        for entry in ordered_entries(section):
            if entry.comments:
                lines.extend(_comment(c) for c in entry.comments)
            append(_entry(entry, writable))
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks)  # a blank line between sections
    if document.trailer:
        text = (text + "\n" if blocks else "") + "\n" + "\n".join(_comment(c) for c in document.trailer)
    text += "\n"
    return text
