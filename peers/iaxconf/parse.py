"""iax.conf text -> :class:`Document`, read the way Asterisk's ``main/config.c`` reads it.

``parse(text)`` reads one text and never touches the file system; ``parse_file(path)`` reads a
file and follows its ``#include`` directives. Both return a :class:`ParseResult`: the document and
a list of :class:`Note` (things Asterisk would warn about, and things this parser did not do).
Syntax errors that make Asterisk reject the whole file raise :class:`ConfigSyntaxError`.

How the text is read (as ``main/config.c`` does):

* Each physical line is one statement: a ``[section]`` header, a ``name = value`` line, a
  ``#directive``, a comment or blank. The lark grammar (``grammar.lark``, LALR, contextual lexer)
  matches any line (the common lines are read by a faster path that gives the same result: see
  Speed below).
* ``;`` starts a comment; ``\\;`` is a literal ``;`` (the backslash is dropped) in names, values,
  section headers and directive arguments. ``;-- --;`` block comments nest as in Asterisk, and
  ``;---`` is an ordinary line comment; a small pre-pass rewrites the lines that hold block-comment
  markers into plain code plus a ``;`` comment, so line numbers do not move.
* Names and values are stripped of the C locale's whitespace, CRLF endings and a UTF-8 BOM are
  accepted, a missing final newline is fine. A file that is not UTF-8 is read as Latin-1 (note
  ``not-utf8``). As in Asterisk a line of more than 8190 bytes is skipped (note ``line-too-long``).
* ``name += value`` gives ``Entry.operator == "+="`` and keeps the value's leading whitespace,
  because Asterisk appends the text after ``+=`` literally (trailing blanks trimmed);
  ``name => value`` gives ``"=>"``. A backslash as the first character of a line escapes it
  (``\\[x = 1`` sets ``[x``).

Nothing read is dropped. Each line Asterisk warns about and skips is kept as a **comment** (its
text as written, without the comment part, e.g. ``"foo"`` for the line ``foo ; bar``) and reported
in a note with its file and line, so rendering the document writes ``;foo``: a line that means to
Asterisk exactly what the original meant (nothing), and still shows the admin what was there.

* a line without ``=`` (note ``no-equals``) or with nothing before the ``=`` (``no-name``);
* a ``#directive`` line: unknown directives (``unknown-directive``, e.g. a ``# text`` comment),
  ``#exec`` which is never run (``exec-not-run``), a directive without argument
  (``directive-without-argument``), an include that ``parse()`` does not follow
  (``include-not-followed``) or a ``#tryinclude`` target that does not exist
  (``include-missing``). ``#includeifexists`` is an unknown directive to Asterisk 22 (it warns and
  skips the line, whatever the file), so it is one here too. A followed ``#include`` is kept as a comment too, just before the first
  line read from the included file (whose entries carry that file's name in ``Entry.file``);
* text after a section header that Asterisk ignores (``[name] (!)``: options must follow ``]``
  directly; ``header-ignored-text``), kept as a comment of that section;
* lines in an unterminated block comment (note ``unterminated-comment``).

Notes that keep the line's meaning: ``header-whitespace`` (``[ name ]`` or ``[a]( t)``: names and
options are kept as written, blanks included, as Asterisk keeps them: ``[ general ]`` is a section
named ``" general "``, and a base ``" t"`` that does not exist makes Asterisk reject the file) and
``addition-filter`` (``[name](+filter)`` is read as ``(+)``).

Comments are kept without their leading ``;`` (``; preferred`` -> ``" preferred"``):

* comment lines before a ``name = value`` line, and the comment at the end of that line, are
  ``Entry.comments``;
* comment lines before a section header, and the comment at the end of the header line, are
  ``Section.comments``; before the first header, only the comments after the last blank line go
  to the section, the ones above it are the file's ``Document.header`` (this is what ``render``
  writes: header, blank line, section comments, section);
* comment lines after the last entry are ``Document.trailer``;
* a block comment is kept one comment per line, as written.

Errors (``ConfigSyntaxError``, what makes Asterisk reject the file): ``[name`` without ``]``,
``[name](a`` without ``)``, an empty section name or option, a ``name = value`` or other variable
line before the first section header, an invalid leading escape (``\\`` before a blank), a
``--;`` that closes no block comment (Asterisk then ignores the rest of the file), block comments
nested deeper than 128, and in ``parse_file`` a missing ``#include`` target, an include loop or
more than 10 includes nested below the main file (a ``#tryinclude`` that is too deep is skipped
with a note, as Asterisk does). In an included file Asterisk itself only stops reading that file
at such an error and goes on with the file that included it; the parser refuses the whole import
instead, so nothing is stored that Asterisk read only in part.

Includes: the target (in ``"..."``, ``<...>`` or bare) is found by an :class:`IncludeSource`.
A relative target is looked up where Asterisk looks, in its config directory: here the main
file's folder, whichever file holds the ``#include``. ``parse_file`` (the command line) uses
:class:`DiskFiles`: the main file's directory, then each of ``include_dirs``; shell globs and
``{a,b}`` are expanded, the matches read in sorted order. ``parse_uploads`` (the web import)
uses :class:`UploadedFiles`: only the files uploaded with the import, never the server's disk.
The included lines continue the current section, and the lines after an ``#include`` continue
the section that was current before it, whatever sections the included file opened (config.c
keeps each file's current section).

Speed: the common lines (``name = value`` or ``name => value`` with an optional comment, a plain
``[name](options)`` header, a comment line) are read by one regular expression each
(:class:`_FastLine`) instead of the grammar's tokens and reductions; the grammar reads every other
line, in one lark pass over the text with those lines left blank (so line numbers stay exact), and
the builder gets every statement in line order. The parse's cost follows lines, not characters.
A property test (``tests/iaxconf/test_parse_fast.py``) checks that a text reads the same with and
without the fast path. Each parse has its own :class:`_Lines` reader per text: nothing is shared
between parses in different threads.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
import posixpath
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .document import Document, Entry, Section

__all__ = [
    "ConfigSyntaxError",
    "DiskFiles",
    "IncludeSource",
    "UploadedFiles",
    "MAX_INCLUDE_DEPTH",
    "Note",
    "ParseResult",
    "parse",
    "parse_file",
    "parse_uploads",
]

MAX_INCLUDE_DEPTH = 10  # includes nested below the main file, as config.c's max_include_level allows
MAX_COMMENT_NESTING = 128  # config.c MAX_NESTED_COMMENTS
MAX_LINE_BYTES = 8191  # config.c reads lines (newline included) into char[8192]: 8190 bytes of text

_WS = " \t\n\r\f\v"  # isspace() in the C locale: what ast_strip removes
_INCLUDES = {"include": "include", "tryinclude": "tryinclude"}  # config.c knows no #includeifexists
_CODE = re.compile(r"(?:\\;|[^;])*")  # a line up to its first unescaped ';'


class ConfigSyntaxError(ValueError):
    """A mistake that makes Asterisk reject the whole file. ``line`` and ``column`` are 1-based;
    ``context`` is the offending line as written."""

    def __init__(self, file: str | None, line: int, column: int, message: str, context: str = "") -> None:
        super().__init__(file, line, column, message, context)
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.context = context

    def __str__(self) -> str:
        text = f"{self.file or '<text>'}, line {self.line}, column {self.column}: {self.message}"
        if self.context:
            caret = "".join(c if c == "\t" else " " for c in self.context[: max(self.column - 1, 0)])
            text += f"\n    {self.context}\n    {caret}^"
        return text


@dataclass(frozen=True, slots=True)
class Note:
    """Something Asterisk would warn about (and skip), or something this parser did not do."""

    file: str | None
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file or '<text>'}:{self.line}: {self.message} ({self.code})"


@dataclass(slots=True)
class ParseResult:
    document: Document
    notes: list[Note] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Reading one text: the common line by a regular expression, the rest by the grammar


class _NoComments(list):
    """The comments of every entry the fast path reads without comment lines: one shared, empty,
    read-only list (it equals ``[]``; changing it raises TypeError). What it buys: a
    100,000-section import keeps 1.3 million entries, and an empty list each was 94 MB and as many
    objects for the cyclic GC to walk (bench/commands.py --memory-peers). Code that adds comments
    to a parsed entry gives it a new list (the builder does; normalise copies the entry)."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("a parsed entry's empty comment list is shared: give the entry a new list")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse


NO_COMMENTS = _NoComments()


class _FastLine:
    """The common lines, read with one regular expression each instead of the grammar (an
    assignment is five tokens and an LALR reduction):

    * ``name = value`` / ``name => value`` with an optional ``;`` comment: a name of ASCII letters,
      digits, ``_``, ``.`` and ``-`` (so no escape and no ``+=``), blanks and tabs around it, a
      value without ``;`` other than ``\\;`` and without any other backslash;
    * ``[name]`` and ``[name](options)`` with the same letters (options: also ``!``, ``+`` and
      ``,``), then blanks or a ``;`` comment;
    * a line that is only a ``;`` comment.

    What it buys: on the 10,000-peer files of ``bench/import_parse.py`` and ``bench/commands.py``
    every line has one of these shapes, so lark never runs and the parse costs a fraction of
    lark's bare lexing of the text (bench/README.md has the numbers).

    An entry is built here exactly as the grammar's ``assignment`` builds it; a header or a comment
    line becomes the tokens the grammar would have produced and goes to the builder's ``header`` /
    ``comment``, so the rules for them stay in one place. Any other line is left to the grammar,
    which stays the definition of the syntax: ``tests/iaxconf/test_parse_fast.py`` checks with
    hypothesis that every generated text gives the same document, notes and errors with and
    without this path.
    """

    # the value: runs of plain characters with \; between them (the loop unrolled: twice as fast)
    ASSIGNMENT = re.compile(
        r"[ \t]*([A-Za-z0-9_][A-Za-z0-9_.\-]*)[ \t]*(=>?)([^;\\\n]*(?:\\;[^;\\\n]*)*)(;.*)?"
    )
    HEADER = re.compile(
        r"([ \t]*\[)([A-Za-z0-9_.\-]+)\](?:(\()([A-Za-z0-9_.\-!+,]+)\))?(?:([ \t]*;.*)|[ \t\r]*)"
    )
    COMMENT = re.compile(r"[ \t\f\v\r]*;.*")

    @staticmethod
    def entry(match: re.Match, line: int, file: str | None, values: dict[str, str]) -> Entry:
        """The entry the grammar's ``assignment`` makes of the line (comment lines above it are
        added when it is handed to the builder). ``values``: the short values seen so far in this
        text, so a value that repeats on every section (dynamic, yes, ulaw) is one string."""
        name, operator, value, comment = match.groups()
        name = sys.intern(name)  # a few names repeat on every section: one string each
        value = value.strip(_WS)
        if "\\" in value:
            value = _unescape(value)
        if len(value) <= 16:
            value = values.setdefault(value, value) if len(values) < 4096 else values.get(value, value)
        comments = NO_COMMENTS if comment is None else [_comment_text(comment)]
        # Entry's fields in order: name, value, comments, line, file, operator
        return Entry(name, value, comments, line, file, operator)

    @staticmethod
    def header(match: re.Match, line: int) -> list[Token]:
        """The tokens of ``[name](options) ;comment`` as the grammar's lexer makes them."""
        lsqb, name, lpar, options, comment = match.groups()
        tokens = [Token("LSQB", lsqb, line=line, column=1), Token("NAME", name), Token("RSQB", "]")]
        if lpar is not None:
            column = len(lsqb) + len(name) + 2
            tokens += [
                Token("LPAR", "(", line=line, column=column),
                Token("OPTIONS", options),
                Token("RPAR", ")"),
            ]
        if comment is not None:
            tokens.append(Token("COMMENT", comment, line=line))
        return tokens


class _Lines:
    """One text being read into a :class:`_Builder` (a parse owns its readers; nothing is shared
    between parses). Lines of the common shapes are read by :class:`_FastLine`; the others are
    parsed by lark in one pass over the text with the common lines blanked (line numbers stay
    exact), and the builder is handed every line's statement in line order."""

    def __init__(self, builder: _Builder, prepared: str) -> None:
        self.builder = builder
        self.prepared = prepared
        # the common lines, in order: an Entry, or (line, builder method, tokens or header match)
        self.fast: list[Entry | tuple[int, str, list[Token] | re.Match]] = []
        self.next_fast = 0  # the first of self.fast not handed to the builder yet

    def read(self) -> None:
        text = self.prepared
        if self.builder.fast_path:
            left = self._read_common(text)
            if not left:
                self._flush(None)
                return
            text = _blanked(left, text.count("\n"))
        try:
            tree = _parser().parse(text)
        except UnexpectedInput as exc:
            self._before_syntax_error(text, exc.line)
            raise self.builder._syntax_error(exc, self.prepared) from None
        self._statements(tree)
        self._flush(None)

    def _read_common(self, text: str) -> list[tuple[int, str]]:
        """Read the lines of the common shapes into self.fast; the others (number, text) are
        returned for the grammar (blank ones left out). Lines are matched in place: a line of the
        common shapes is never copied out of the text."""
        assignment = _FastLine.ASSIGNMENT.fullmatch
        header = _FastLine.HEADER.fullmatch
        comment = _FastLine.COMMENT.fullmatch
        entry = _FastLine.entry
        file = self.builder.file
        append = self.fast.append
        values: dict[str, str] = {}
        find = text.find
        left: list[tuple[int, str]] = []
        number = 0
        pos = 0
        size = len(text)  # the text ends with a newline
        while pos < size:
            end = find("\n", pos)
            number += 1
            found = assignment(text, pos, end)
            if found is not None:
                append(entry(found, number, file, values))
            elif end == pos:
                pass
            elif (found := header(text, pos, end)) is not None:
                append((number, "header", found))  # its tokens are made when it is handed over
            elif comment(text, pos, end) is not None:
                append((number, "comment", [Token("COMMENT", text[pos:end], line=number, column=1)]))
            else:
                line = text[pos:end]
                if line.strip(_WS):
                    left.append((number, line))
            pos = end + 1
        return left

    def _statements(self, tree: Tree) -> None:
        """Hand each statement of a parse tree to the builder, in line order. ``lines`` is left
        recursive, so the tree is a chain: each node's first child is the previous line's node."""
        chain = []
        node = tree.children[0]
        while node.data != "first":
            chain.append(node)
            node = node.children[0]
        builder = self.builder
        for node in reversed(chain):
            tokens = node.children[1:]
            self._flush(tokens[0].line)
            getattr(builder, node.data)(tokens)

    def _flush(self, before: int | None) -> None:
        """Hand the common lines above line ``before`` (all that are left for None) to the builder:
        runs of entries at once, headers and comments one by one."""
        fast = self.fast
        builder = self.builder
        at = start = self.next_fast  # start: the first entry of the current run of entries
        end = len(fast)
        while at < end:
            item = fast[at]
            if item.__class__ is Entry:
                if before is not None and item.line >= before:
                    break
            else:
                line, method, tokens = item
                if before is not None and line >= before:
                    break
                if at > start:
                    builder.fast_lines(fast[start:at])
                if method == "header":
                    tokens = _FastLine.header(tokens, line)
                getattr(builder, method)(tokens)
                start = at + 1
            at += 1
        if at > start:
            builder.fast_lines(fast[start:at])
        self.next_fast = at

    def _before_syntax_error(self, text: str, line: int) -> None:
        """Before a syntax error at ``line``, everything above it is read, as a parse that stops
        there would have (a mistake above it is reported first)."""
        if line > 1:
            above = text[: _line_start(text, line)]
            if above.strip(_WS):
                self._statements(_parser().parse(above))
        self._flush(line)


def _blanked(lines: list[tuple[int, str]], count: int) -> str:
    """A text of ``count`` lines holding ``lines`` (number, text) at their numbers, the others blank."""
    parts = []
    done = 0  # lines written so far
    for number, line in lines:
        parts.append("\n" * (number - 1 - done))
        parts.append(line + "\n")
        done = number
    parts.append("\n" * (count - done))
    return "".join(parts)


def _line_start(text: str, line: int) -> int:
    """The offset of the first character of line ``line`` (1-based)."""
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
    return start


@functools.cache
def _parser() -> Lark:
    """The grammar, compiled once per process on first use (about 35 ms)."""
    return Lark.open(
        "grammar.lark", rel_to=__file__, parser="lalr", lexer="contextual", maybe_placeholders=False
    )


def _comment_text(token: str) -> str:
    """A COMMENT token (optional blanks, ';', text) -> the text after the ';' (CR of CRLF removed)."""
    text = token[token.index(";") + 1 :]
    return text.rstrip("\r") if text.endswith("\r") else text


def _unescape(text: str) -> str:
    return text.replace("\\;", ";")


def _indent(token: str) -> int:
    """How many blanks a token starts with (the column of its first character is token.column + this)."""
    return len(token) - len(token.lstrip(_WS))


# --------------------------------------------------------------------------------------------
# Pre-pass: block comments and over-long lines, as config.c's comment scanner sees them

_LONG_LINE = re.compile(rf"^[^\n]{{{MAX_LINE_BYTES // 4}}}", re.MULTILINE)  # a character is <= 4 bytes


def _prepare(text: str, file: str | None, notes: list[Note]) -> str:
    """Rewrite the lines holding ``;--``/``--;`` (and over-long lines) into lines the grammar reads
    the way Asterisk does: code first, then one ``;`` comment. Other lines are left alone, and no
    line is added or removed."""
    has_blocks = ";--" in text or "--;" in text
    has_long = _LONG_LINE.search(text) is not None
    if not (has_blocks or has_long):
        return text
    lines = text.split("\n")  # the text ends with a newline: the last item is not a line
    depth = 0
    opened: list[int] = []  # the line of each open block comment
    for index, line in enumerate(lines[:-1]):
        if has_long and len(line) >= MAX_LINE_BYTES // 4:
            size = len(line.encode("utf-8", "surrogatepass")) + 1
            if size > MAX_LINE_BYTES:
                message = (
                    f"line of {size - 1} bytes: Asterisk skips lines longer than {MAX_LINE_BYTES - 1} bytes"
                )
                notes.append(Note(file, index + 1, "line-too-long", message + "; kept as a comment"))
                lines[index] = ";" + line
                continue
        if depth or ";--" in line or "--;" in line:
            lines[index], depth = _scan_block_comments(line, index + 1, depth, opened, file)
    if depth:
        message = "block comment ';--' is never closed with '--;': every line after it is a comment"
        notes.append(Note(file, opened[-1], "unterminated-comment", message))
    return "\n".join(lines)


def _scan_block_comments(
    line: str, lineno: int, depth: int, opened: list[int], file: str | None
) -> tuple[str, int]:
    """config.c's comment loop over one line: the rewritten line and the new nesting depth."""
    code: list[str] = []
    comments: list[str] = []
    code_start = 0 if depth == 0 else None  # where the current piece of code began
    comment_start = None if depth == 0 else 0  # where the current block comment began
    pos = 0  # config.c's new_buf
    while True:
        at = line.find(";", pos)
        if at < 0:
            break
        if at > pos and line[at - 1] == "\\":  # '\;' is a literal ';'
            pos = at + 1
        elif line.startswith("--", at + 1) and line[at + 3 : at + 4] != "-":  # ';--' opens
            if depth >= MAX_COMMENT_NESTING:
                message = f"block comments nested deeper than {MAX_COMMENT_NESTING} levels"
                raise ConfigSyntaxError(file, lineno, at + 1, message, line.rstrip("\r"))
            if depth == 0:
                code.append(line[code_start:at])
                code_start = None
                comment_start = at
            depth += 1
            opened.append(lineno)
            pos = at + 3
        elif at >= pos + 2 and line[at - 2 : at] == "--":  # '--;' closes
            if depth == 0:
                message = (
                    "'--;' closes a block comment that is not open (Asterisk would then ignore the rest "
                    "of the file); write '--\\;' for a literal ';'"
                )
                raise ConfigSyntaxError(file, lineno, at - 1, message, line.rstrip("\r"))
            depth -= 1
            opened.pop()
            pos = at + 1
            if depth == 0:
                comments.append(line[comment_start : at + 1])
                comment_start = None
                code_start = at + 1
        elif depth == 0:  # a line comment: the rest of the line
            code.append(line[code_start:at])
            comments.append(line[at:])
            code_start = None
            break
        else:
            pos = at + 1
    if code_start is not None:
        code.append(line[code_start:])
    if comment_start is not None:
        comments.append(line[comment_start:])
    text = "".join(code)
    if comments:
        comment = " ".join(c.rstrip("\r") for c in comments)
        if text.endswith("\\"):
            text += " "  # or the ';' below would read as an escaped one
        text += comment if comment.startswith(";") else ";" + comment
    return text, depth


# --------------------------------------------------------------------------------------------
# Building the document


def _decode(data: bytes, file: str, notes: list[Note]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        notes.append(
            Note(file, line, "not-utf8", "the file is not UTF-8 (first bad byte here); read as Latin-1")
        )
        return data.decode("latin-1")


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if not match:
        return [pattern]
    out: list[str] = []
    for alternative in match.group(1).split(","):
        out.extend(_expand_braces(pattern[: match.start()] + alternative + pattern[match.end() :]))
    return out


def _dequote(argument: str) -> str:
    if len(argument) >= 2 and argument[0] in '"<' and argument[-1] == ('"' if argument[0] == '"' else ">"):
        return argument[1:-1]
    return argument


def _line_of(text: str, line: int) -> str:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if not start:
            return ""
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)].rstrip("\r")


class IncludeSource(Protocol):
    """Where ``#include`` targets are looked up and read: the disk (``DiskFiles``, the command
    line) or the files uploaded with a web import (``UploadedFiles``)."""

    def find(self, target: str, including: str | None) -> tuple[list[str], str]:
        """The names the target matches, in reading order, and (when none) why: the end of the
        sentence "'target' was listed as a #include but it ..."."""

    def read(self, name: str) -> bytes: ...

    def identity(self, name: str) -> str:
        """What tells two names of one file apart from two files (for include loops)."""


class DiskFiles:
    """Includes on this machine's disk: relative to the main file's directory (Asterisk looks in
    its config directory, whichever file holds the ``#include``), then each of ``include_dirs``;
    absolute paths as they are; shell globs and ``{a,b}`` expanded, matches in sorted order. Only
    for the command line, where the admin names their own files."""

    def __init__(self, include_dirs: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.include_dirs = [os.fspath(d) for d in include_dirs]

    def find(self, target: str, including: str | None) -> tuple[list[str], str]:
        directory = os.path.dirname(including) if including else ""  # the main file (see _include)
        bases = [""] if os.path.isabs(target) else [directory, *self.include_dirs]
        for base in bases:
            found: list[str] = []
            for pattern in _expand_braces(os.path.join(base, target)):
                if glob.has_magic(pattern):
                    found.extend(p for p in sorted(glob.glob(pattern)) if os.path.isfile(p))
                elif os.path.isfile(pattern):
                    found.append(pattern)
            if found:
                return found, ""
        searched = ", ".join(repr(base or ".") for base in bases)
        return [], f"does not exist (searched {searched})"

    def read(self, name: str) -> bytes:
        with open(name, "rb") as handle:
            return handle.read()

    def identity(self, name: str) -> str:
        return os.path.realpath(name)


class UploadedFiles:
    """Includes resolved among the files uploaded with a web import, and nothing else: the server
    never opens a path that came from a request. Names are the uploaded files' relative names;
    a target is looked up relative to the main file's folder (Asterisk's config directory), then
    to the top of the upload; a glob matches uploaded names only. An
    absolute path, a ``..`` that leaves the uploaded files, or a name that was not uploaded finds
    nothing, and the reason says to upload the file too."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = {self.normalise(name): data for name, data in files.items()}

    @staticmethod
    def normalise(name: str) -> str:
        """An uploaded file's name as the include targets see it (forward slashes, no ./)."""
        return posixpath.normpath(name.replace("\\", "/")).lstrip("/")

    def find(self, target: str, including: str | None) -> tuple[list[str], str]:
        clean = target.replace("\\", "/")
        if clean.startswith("/") or re.match(r"[A-Za-z]:/", clean):
            base = posixpath.basename(clean) or clean
            return [], (
                f"is a path on the server, which a web import never reads; upload {base} with the "
                f'import and write #include "{base}"'
            )
        folder = posixpath.dirname(including) if including else ""
        left = False
        for base in dict.fromkeys([folder, ""]):
            found: list[str] = []
            for pattern in _expand_braces(posixpath.join(base, clean)):
                wanted = posixpath.normpath(pattern)
                if wanted == ".." or wanted.startswith("../"):
                    left = True
                    continue
                if glob.has_magic(wanted):
                    found.extend(n for n in sorted(self.files) if fnmatch.fnmatchcase(n, wanted))
                elif wanted in self.files:
                    found.append(wanted)
            if found:
                return found, ""
        if left:
            return [], "leaves the uploaded files ('..'); only files uploaded with the import can be included"
        uploaded = ", ".join(sorted(self.files)) or "none"
        return [], f"was not uploaded: upload it too (uploaded: {uploaded})"

    def read(self, name: str) -> bytes:
        return self.files[name]

    def identity(self, name: str) -> str:
        return name


class _Builder:
    """The document being built, and where the parse is: the file being read (``file``, ``text``),
    the current section, and the comments not yet attached to an entry or a section."""

    def __init__(self, *, files: IncludeSource | None, fast_path: bool = True) -> None:
        self.document = Document()
        self.fast_path = fast_path  # False: every line through the grammar (the tests' reference)
        self.notes: list[Note] = []
        self.section: Section | None = None
        self.pending: list[tuple[str, str | None, int]] = []  # (comment, file, line)
        self.files = files  # where #include targets are found; None: they are not followed
        self.stack: list[str] = []  # identities of the files being read, outermost first
        self.main: str | None = None  # the main file: includes are found relative to its folder
        self.file: str | None = None
        self.text = ""

    # -- reading ---------------------------------------------------------------------------

    def read_text(self, text: str, file: str | None) -> None:
        if text.startswith("\ufeff"):
            text = text[1:]
        if not text:
            return
        if not text.endswith("\n"):
            text += "\n"
        prepared = _prepare(text, file, self.notes)
        outer = (self.file, self.text)
        self.file, self.text = file, text
        try:
            _Lines(self, prepared).read()
        finally:
            self.file, self.text = outer

    def read_file(self, name: str) -> None:
        """Read one file of ``self.files`` (the main file or an include it found)."""
        text = _decode(self.files.read(name), name, self.notes)  # the bytes are not kept
        if self.main is None:
            self.main = name
        self.stack.append(self.files.identity(name))
        try:
            self.read_text(text, name)
        finally:
            self.stack.pop()

    def finish(self) -> ParseResult:
        texts = [text for text, _, _ in self.pending]
        (self.document.trailer if self.document.sections else self.document.header).extend(texts)
        self.pending = []
        return ParseResult(self.document, self.notes)

    # -- lines (called from _Lines, in line order) --------------------------------------------

    def fast_lines(self, entries: list[Entry]) -> None:
        """Entries of consecutive common lines (no other line between them), read by
        :class:`_FastLine`: the comment lines waiting go to the first."""
        if self.section is None:
            self._before_section(f"'{entries[0].name}'", entries[0].line)
        if self.pending:
            first = entries[0]
            first.comments = self._take_pending() + first.comments  # a new list (NO_COMMENTS is shared)
        self.section.entries.extend(entries)

    def comment(self, tokens: list[Token]) -> None:
        token = tokens[0]
        self.pending.append((_comment_text(token), self.file, token.line))

    def assignment(self, tokens: list[Token]) -> None:
        key, op = tokens[0], tokens[1]
        line = key.line
        raw = _unescape(key.lstrip(_WS))
        if self.section is None:
            self._before_section(f"'{raw.rstrip(_WS)}'", line)
        escaped = raw.startswith("\\")
        if escaped and len(raw) > 1 and raw[1] <= " ":
            self._invalid_escape(key)
        body = raw[1:] if escaped else raw
        values = [t for t in tokens[2:] if t.type == "VALUE"]
        value_token = values[0] if values else ""
        code = (key + op + value_token).strip(_WS)
        if escaped and not body:  # '\=x': the only '=' is the escaped first character
            self._ignored_line(code, tokens, line, "no-equals")
            return
        plus = body.endswith("+") and len(body) > (1 if escaped else 0)
        name = (body[:-1] if plus else body).strip(_WS)
        if not name:
            self._ignored_line(code, tokens, line, "no-name")
            return
        if plus:
            # config.c appends the text after '+=' as it is ('>' of '=>' included), trailing blanks trimmed
            value = _unescape((op[1:] + value_token).rstrip(_WS))
            operator = "+="
        else:
            value = _unescape(value_token.strip(_WS))
            operator = "=>" if op == "=>" else "="
        entry = Entry(name, value, self._take_pending(), line, self.file, operator)
        entry.comments.extend(_comment_text(t) for t in tokens if t.type == "COMMENT")
        self.section.entries.append(entry)

    def garbage(self, tokens: list[Token]) -> None:
        first = tokens[0]
        code = first.strip(_WS)
        if self.section is None:
            self._before_section(f"'{code}'", first.line)
        if code.startswith("\\") and (len(code) == 1 or code[1] <= " "):
            self._invalid_escape(first)
        self._ignored_line(code, tokens, first.line, "no-name" if code.startswith("=") else "no-equals")

    def header(self, tokens: list[Token]) -> None:
        parts = {t.type: t for t in tokens}
        lsqb = tokens[0]
        line = lsqb.line
        # config.c keeps a header's name and options as written, blanks included: [ general ] is a
        # section named " general " (not [general]) and in [a]( t) or [a]( ! ) the option is the
        # name of a base that does not exist, which makes Asterisk reject the file.
        name = _unescape(parts.get("NAME", ""))
        if not name.strip(_WS):
            self._error(line, lsqb.column + _indent(lsqb), "empty section name")
        section = Section(name, line=line, file=self.file)
        blanks = name != name.strip(_WS)
        if "LPAR" in parts:
            for option in _unescape(parts.get("OPTIONS", "")).split(","):
                blanks = blanks or option != option.strip(_WS)
                if not option.strip(_WS):
                    self._error(line, parts["LPAR"].column, "empty option in section header")
                if option == "!":
                    section.is_template = True
                elif option.startswith("+"):
                    section.is_addition = True
                    if len(option) > 1:
                        message = f"[{name}]({option}): the filter {option[1:]!r} is not kept; read as (+)"
                        self._note(line, "addition-filter", message)
                else:
                    section.bases.append(option)
        if blanks:
            message = (
                f"the header of [{name}] has blanks around a name, which Asterisk keeps as part of it "
                f"([ general ] is a section named ' general ', and ( t) names a base ' t')"
            )
            self._note(line, "header-whitespace", message)
        if self.section is None and self.pending:
            # Before the first header, the comments down to the last blank line are the file's header.
            pending = self.pending
            split = 0
            for index, (_, file, at) in enumerate(pending):
                following = pending[index + 1][1:] if index + 1 < len(pending) else (self.file, line)
                if following[0] != file or following[1] > at + 1:
                    split = index + 1
            self.document.header.extend(text for text, _, _ in pending[:split])
            del pending[:split]
        section.comments = self._take_pending()
        if "TAIL" in parts:
            tail = parts["TAIL"].strip(_WS)
            message = (
                f"Asterisk ignores {tail!r} after the header of [{name}] (options must follow ']' directly); "
                "kept as a comment"
            )
            self._note(line, "header-ignored-text", message)
            section.comments.append(tail)
        if "COMMENT" in parts:
            section.comments.append(_comment_text(parts["COMMENT"]))
        self.document.sections.append(section)
        self.section = section

    def directive(self, tokens: list[Token]) -> None:
        word_token = tokens[0]
        line = word_token.line
        arguments = [t for t in tokens[1:] if t.type == "ARG"]
        raw_argument = arguments[0] if arguments else ""
        code = (word_token + raw_argument).strip(_WS)
        word = word_token.lstrip(_WS)[1:]
        kind = word.lower()
        argument = _unescape(raw_argument).strip(_WS)
        self._keep_as_comments(code, tokens, line)
        if kind not in _INCLUDES and kind != "exec":
            message = f"unknown directive '#{word}': Asterisk ignores the line; kept as a comment"
            self._note(line, "unknown-directive", message)
        elif kind == "exec":
            self._note(line, "exec-not-run", f"'{code}' is not run; kept as a comment")
        elif not argument:
            message = f"'#{word}' needs a file name: Asterisk ignores the line; kept as a comment"
            self._note(line, "directive-without-argument", message)
        elif self.files is None:
            message = f"'{code}' is not followed when parsing a text (use parse_file); kept as a comment"
            self._note(line, "include-not-followed", message)
        else:
            self._include(
                _INCLUDES[kind], word, _dequote(argument), line, word_token.column + _indent(word_token)
            )

    # -- helpers -----------------------------------------------------------------------------

    def _take_pending(self) -> list[str]:
        comments = [text for text, _, _ in self.pending]
        self.pending.clear()
        return comments

    def _keep_as_comments(self, code: str, tokens: list[Token], line: int) -> None:
        self.pending.append((code, self.file, line))
        self.pending.extend((_comment_text(t), self.file, line) for t in tokens if t.type == "COMMENT")

    def _ignored_line(self, code: str, tokens: list[Token], line: int, why: str) -> None:
        if why == "no-name":
            message = f"nothing before the '=' in {code!r}: Asterisk ignores the line; kept as a comment"
        else:
            message = f"no '=' in {code!r}: Asterisk ignores the line; kept as a comment"
        self._note(line, why, message)
        self._keep_as_comments(code, tokens, line)

    def _note(self, line: int, code: str, message: str) -> None:
        self.notes.append(Note(self.file, line, code, message))

    def _include(self, kind: str, word: str, target: str, line: int, column: int) -> None:
        # config.c looks a relative target up in the config directory, not beside the including file
        found, why = self.files.find(target, self.main)
        if not found:
            if kind == "tryinclude":
                self._note(line, "include-missing", f"'#{word} {target}' {why}; skipped")
                return
            self._error(line, column, f"'{target}' was listed as a #include but it {why}")
        if len(self.stack) > MAX_INCLUDE_DEPTH:
            message = f"includes nested deeper than {MAX_INCLUDE_DEPTH} levels at '#{word} {target}'"
            if kind == "tryinclude":
                self._note(line, "include-depth", message + "; skipped")
                return
            self._error(line, column, message)
        section = self.section
        for name in found:
            identity = self.files.identity(name)
            if identity in self.stack:
                chain = [*self.stack[self.stack.index(identity) :], identity]
                self._error(line, column, "include loop: " + " -> ".join(os.path.basename(p) for p in chain))
            self.read_file(name)
        # config.c: the lines after an #include continue the section that was current in this
        # file, whatever sections the included file opened
        self.section = section

    # -- errors ------------------------------------------------------------------------------

    def _error(self, line: int, column: int, message: str) -> None:
        raise ConfigSyntaxError(self.file, line, column, message, _line_of(self.text, line))

    def _before_section(self, what: str, line: int) -> None:
        message = f"{what} appears before the first [section] header (Asterisk rejects the whole file)"
        self._error(line, _indent(_line_of(self.text, line)) + 1, message)

    def _invalid_escape(self, token: Token) -> None:
        message = (
            "invalid escape: a backslash at the start of a line must be followed by a printable character"
        )
        self._error(token.line, token.column + _indent(token), message)

    def _syntax_error(self, exc: UnexpectedInput, prepared: str) -> ConfigSyntaxError:
        line = exc.line
        if isinstance(exc, UnexpectedToken):
            expected = exc.expected
        elif isinstance(exc, UnexpectedCharacters):
            expected = exc.allowed
        else:  # pragma: no cover - the LALR parser raises only the two above
            expected = set()
        code = _CODE.match(_line_of(prepared, line)).group()
        column = len(code.rstrip(_WS)) + 1
        if "RSQB" in expected:
            message = "no closing ']' in section header"
        elif "RPAR" in expected:
            message = "no closing ')' after the options of the section header"
        else:  # pragma: no cover - the grammar matches every other line
            message, column = f"unexpected input ({type(exc).__name__})", exc.column
        return ConfigSyntaxError(self.file, line, column, message, _line_of(self.text, line))


# --------------------------------------------------------------------------------------------
# Public API


def parse(text: str, *, file: str | None = None) -> ParseResult:
    """Parse one iax.conf text. ``file`` only labels entries, sections, notes and errors;
    ``#include`` is not followed (note ``include-not-followed``)."""
    builder = _Builder(files=None)
    builder.read_text(text, file)
    return builder.finish()


def parse_file(
    path: str | os.PathLike[str], *, include_dirs: Iterable[str | os.PathLike[str]] = ()
) -> ParseResult:
    """Parse an iax.conf file on this machine's disk and the files it includes (the command line,
    where the admin names their own files). Entries and sections carry the path of the file they
    were read from: ``path`` as given, or an included file's path as found (the including file's
    directory or an include dir, joined with the include's target)."""
    builder = _Builder(files=DiskFiles(include_dirs))
    builder.read_file(os.fspath(path))
    return builder.finish()


def parse_uploads(main: str, files: Mapping[str, bytes]) -> ParseResult:
    """Parse the uploaded file ``main`` with its ``#include``s resolved among ``files`` only
    (name -> content, as uploaded). Nothing is read from disk: see :class:`UploadedFiles`."""
    source = UploadedFiles(files)
    if main not in source.files:
        raise KeyError(main)
    builder = _Builder(files=source)
    builder.read_file(main)
    return builder.finish()
