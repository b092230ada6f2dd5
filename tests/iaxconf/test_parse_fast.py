"""The parser's fast path for the common line (``parse._FastLine``) reads every text exactly as the
grammar does: the same document (entries, comments, lines, files), the same notes, the same error
at the same line and column. The grammar stays the definition of the syntax; these tests hold the
fast path to it, on generated lines (hypothesis), on the whole corpus and on the bench files.

No database: these are plain functions.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peers.iaxconf import parse as parse_module
from peers.iaxconf.parse import ConfigSyntaxError, DiskFiles

DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS_FILES = sorted((DATA / "corpus").glob("*.conf"))
STAND_INS = DATA / "parse" / "corpus-includes"

EXAMPLES = 2000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 400


def read(text: str | None = None, *, fast: bool, path: Path | None = None, include_dirs=()):
    """What one parse gives, with or without the fast path: (document, notes) or the error."""
    builder = parse_module._Builder(files=DiskFiles(include_dirs) if path else None, fast_path=fast)
    try:
        if path is not None:
            builder.read_file(str(path))
        else:
            builder.read_text(text, "t.conf")
    except ConfigSyntaxError as exc:
        return ("error", exc.file, exc.line, exc.column, exc.message, exc.context)
    result = builder.finish()
    return result.document, result.notes


def assert_same(text: str) -> None:
    assert read(text, fast=True) == read(text, fast=False), repr(text)


# Lines built from the pieces of the common shape, each piece sometimes spoilt with what the
# grammar treats specially: other blanks, '+', '\\', ';', '>', '[', '#', '=', CR, non-ASCII.
_BLANKS = st.sampled_from(["", " ", "  ", "\t", " \t ", "\x0b", "\x0c", "\r", "\xa0"])


def _pieces(alphabet: list[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), max_size=max_size).map("".join)


_NAME = _pieces(list("abzAZ09_.-") + ["+", "\\", " ", "é", "[", "#", ";", "!", "(", ")"], 6)
_OPERATOR = st.sampled_from(["=", "=", "=>", "+=", "==", "=>>", "= >", "", "=\\;"])
_VALUE = _pieces(list("ab 09-.,:@/<>\"'=") + ["\\", "\\;", ";", "\t", "\r", "é", "\x0b", "[", "]", "#"], 10)
_COMMENT = st.one_of(st.just(""), _pieces(list("; ab-\t\r") + ["--", "é"], 8).map(";".__add__))
_OTHER = st.sampled_from(
    [
        "",
        "[s]",
        "[t](!)",
        "[u](t)",
        "[s](+)",
        "[s] ; c",
        "[x",
        "[x](a",
        "; a comment",
        ";-- block",
        "--;",
        "#include x.conf",
        "#exec /bin/true",
        "# text",
        "just words",
        "= v",
        "\\ x=1",
        "\\[x = 1",
        "a+=b",
        "  ",
        "\r",
    ]
)


@st.composite
def common_lines(draw) -> str:
    return (
        draw(_BLANKS)
        + draw(_NAME)
        + draw(_BLANKS)
        + draw(_OPERATOR)
        + draw(_BLANKS)
        + draw(_VALUE)
        + draw(_BLANKS)
        + draw(_COMMENT)
    )


@st.composite
def header_lines(draw) -> str:
    """``[name](options)`` and its near misses: blanks inside, empty parts, text after it."""
    options = draw(
        st.one_of(st.just(""), _pieces(list("ab!+,-. ") + ["\\;", ";", "(", ")", "é"], 6).map("({})".format))
    )
    tail = draw(st.sampled_from(["", " ", "\r", " ;c", ";", " x", "(!)", " (!)", "]", "\t;c\r"]))
    name = draw(_pieces(list("ab09_.- ") + ["\\;", "[", "é", ";", "!", "+"], 6))
    return draw(_BLANKS) + "[" + name + "]" + options + tail


@st.composite
def comment_lines(draw) -> str:
    return draw(_BLANKS) + draw(_COMMENT) + draw(st.sampled_from(["", "\r", " --;", ";--"]))


@st.composite
def texts(draw) -> str:
    lines = draw(
        st.lists(
            st.one_of(common_lines(), common_lines(), header_lines(), comment_lines(), _OTHER), max_size=12
        )
    )
    if draw(st.booleans()):
        lines.insert(0, "[general]")
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines)
    return text + ending if draw(st.booleans()) else text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts())
def test_fast_path_reads_like_the_grammar(text):
    assert_same(text)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_fast_path_reads_any_text_like_the_grammar(text):
    assert_same("[s]\n" + text)


@pytest.mark.parametrize(
    "line",
    [
        "a=b",
        "  allow = ulaw ; preferred",
        "allow=ulaw;",
        "host => dynamic",
        "a =>> b",
        "a == b",
        "a = ;",
        "a =",
        "a = b\r",
        "a = b ;c\r",
        "a\x0b= b",
        "a = b\x0b",
        "a b = c",
        "a+ = c",
        "a+= c",
        "a = b\\;c",
        "é = b",
        "a = é",
        "a = [x]",
        "a = #x",
    ],
)
def test_fast_path_reads_each_tricky_line_like_the_grammar(line):
    assert_same(f"; above\n[s]\n; comment\n{line}\n")


def test_fast_path_lines_before_any_section_fail_as_in_the_grammar():
    assert_same("a = b\n[s]\n")
    assert_same("\n\na = b\n[x\n")  # the first mistake in the file is reported, not the later one
    assert read("a = b\n[s]\n", fast=True)[:3] == ("error", "t.conf", 1)


def test_a_syntax_error_comes_after_the_mistakes_above_it():
    # an invalid escape on line 2 is reported before the unclosed header on line 4, either way
    assert_same("[s]\n\\ x=1\na=b\n[x\n")
    assert read("[s]\n\\ x=1\na=b\n[x\n", fast=True)[2] == 2


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name[:2])
def test_corpus_file_reads_the_same_with_and_without_the_fast_path(path):
    assert read(path=path, fast=True, include_dirs=[STAND_INS]) == read(
        path=path, fast=False, include_dirs=[STAND_INS]
    )
    assert_same(path.read_text(encoding="utf-8"))


def test_bench_files_read_the_same_with_and_without_the_fast_path():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import import_parse

    text = import_parse.generate(30)
    assert_same(text)
    assert_same(import_parse.generate_flat(30))


_SYNTAX = list("ab= >;[]()!+,#\\\t\r\n\x0b-.") + ["é"]


@settings(max_examples=EXAMPLES, deadline=None)
@given(_pieces(_SYNTAX, 80))
def test_fast_path_reads_text_made_of_syntax_characters_like_the_grammar(text):
    assert_same(text)
    assert_same("[s]\n" + text)


def test_entries_without_comments_share_one_read_only_empty_list():
    from peers.iaxconf.parse import NO_COMMENTS, parse

    document = parse("[s]\na=1\nb=2 ; note\n; above c\nc=3\n").document
    a, b, c = document.sections[0].entries
    assert a.comments == [] and a.comments is NO_COMMENTS
    assert (b.comments, c.comments) == ([" note"], [" above c"])  # their own lists
    with pytest.raises(TypeError, match="shared"):
        a.comments.append("x")
    with pytest.raises(TypeError):
        a.comments += ["x"]
    assert NO_COMMENTS == []
