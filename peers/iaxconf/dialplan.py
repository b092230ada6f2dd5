"""The contexts a host's dialplan defines: the only part of the dialplan the simulator and the
validator need (``context=`` lines name them). No Django here.

Two sources:

* ``extensions.conf`` as uploaded: read with the iax.conf reader (``parse.parse_uploads``: the
  same ``main/config.c`` syntax, templates, ``(+)``, ``#include`` among the uploaded files only,
  never the server's disk). As ``pbx_config`` does (``pbx_load_config``), every section is a
  context except ``[general]`` and ``[globals]`` (compared without case) and templates
  (``[name](!)``, which config.c hides from its readers). Only the headers are kept, never the
  extensions.
* ``dialplan show`` on the host (the agent reports it): every ``[ Context 'name' created by
  'registrar' ]`` line, which also covers contexts other modules create (AEL, ``regcontext``,
  parking, realtime switches).

Context names are compared as Asterisk does: with case (``ast_context_find``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import values
from .document import Document
from .parse import ConfigSyntaxError, Note, parse_uploads

NOT_CONTEXTS = frozenset({"general", "globals"})
MAX_CONTEXTS = 10_000
MAX_CONTEXT_LENGTH = 79  # AST_MAX_CONTEXT - 1
_SHOWN = re.compile(r"^\[ Context '(?P<name>.*)' created by '[^']*' \]\s*$")


class DialplanError(ValueError):
    """The contexts cannot be read: ``message`` says why (with file and line for a file)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Contexts:
    """Context names in the order they were found, and what the reader noted on the way."""

    names: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def contexts_of(document: Document) -> list[str]:
    """Every context a parsed extensions.conf defines, in file order, each once."""
    found: dict[str, None] = {}
    for section in document.sections:
        if section.is_template or section.name.lower() in NOT_CONTEXTS:
            continue
        found.setdefault(section.name, None)
    return list(found)


def read_extensions(main: str, files: Mapping[str, bytes]) -> Contexts:
    """The contexts of an uploaded extensions.conf (``main`` among ``files``, its includes from
    ``files`` only). Raises DialplanError for a file Asterisk would reject."""
    try:
        parsed = parse_uploads(main, files)
    except ConfigSyntaxError as exc:
        raise DialplanError(f"{main} cannot be read as Asterisk reads it: {exc}") from None
    except KeyError:
        raise DialplanError(f"{main} was not uploaded") from None
    names = contexts_of(parsed.document)
    check_names(names)
    return Contexts(names, list(parsed.notes))


def from_dialplan_show(text: str) -> list[str]:
    """The contexts in the output of ``dialplan show``, each once, in the order shown."""
    found: dict[str, None] = {}
    for line in text.splitlines():
        match = _SHOWN.match(line.strip())
        if match:
            found.setdefault(match["name"], None)
    return list(found)


def check_names(names: Iterable[str]) -> list[str]:
    """The names as a list, or DialplanError naming the first that cannot be a context."""
    listed = list(names)
    if len(listed) > MAX_CONTEXTS:
        raise DialplanError(f"{len(listed)} contexts: at most {MAX_CONTEXTS} are kept")
    for name in listed:
        if not isinstance(name, str) or not name:
            raise DialplanError(f"context {name!r}: a context name is a non-empty string")
        try:
            values.check_line_safe(name, max_length=MAX_CONTEXT_LENGTH)
        except values.Invalid as exc:
            raise DialplanError(f"context {name!r} {exc.message}") from None
        if not values.CONTEXT_RE.fullmatch(name):
            raise DialplanError(f"context {name!r} cannot be a context name (no blanks, , ; [ ] or =)")
    return listed
