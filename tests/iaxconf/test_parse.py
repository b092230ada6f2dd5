"""parse() / parse_file(): Asterisk's config syntax (as its main/config.c reads it) read into
a Document, every comment and every skipped line kept, errors with file/line/column, #include
handling, and render -> parse -> render stability on the corpus and on generated documents.

No database: these are plain functions.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peers.iaxconf.document import Document, Entry, Section
from peers.iaxconf.parse import MAX_INCLUDE_DEPTH, ConfigSyntaxError, Note, parse, parse_file, parse_uploads
from peers.iaxconf.render import RenderError, ordered_entries, render
from tests.reference import IAX_SAMPLE, require

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "corpus"
FIXTURES = DATA / "parse"
STAND_INS = FIXTURES / "corpus-includes"
SAMPLE = IAX_SAMPLE


def doc(text: str) -> Document:
    return parse(text).document


def entries(section: Section) -> list[tuple[str, str, str]]:
    return [(e.name, e.operator, e.value) for e in section.entries]


def syntax_error(text: str, file: str | None = None) -> ConfigSyntaxError:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse(text, file=file)
    return caught.value


def fields(error: ConfigSyntaxError) -> tuple:
    return (error.file, error.line, error.column, error.message, error.context)


# --------------------------------------------------------------------------------------------
# Section headers


def test_header_gives_section_name_line_and_no_options():
    document = doc("; top\n\n[general]\nbindport=4569\n")
    (general,) = document.sections
    assert (general.name, general.line, general.file) == ("general", 3, None)
    assert (general.is_template, general.is_addition, general.bases) == (False, False, [])


def test_bang_option_makes_a_template():
    (section,) = doc("[tpl](!)\ntype=friend\n").sections
    assert (section.name, section.is_template, section.bases) == ("tpl", True, [])


def test_options_list_bases_in_order():
    document = doc("[a](!)\n[b](!)\n[alice](a,b)\nhost=dynamic\n")
    assert document.sections[2].bases == ["a", "b"]
    assert document.sections[2].is_template is False


def test_template_can_inherit():
    section = doc("[base](!)\n[tpl](!,base)\n").sections[1]
    assert (section.is_template, section.bases) == (True, ["base"])


def test_plus_option_marks_an_addition():
    document = doc("[general]\nbindport=4569\n[general](+)\nbandwidth=low\n")
    assert [(s.name, s.is_addition) for s in document.sections] == [("general", False), ("general", True)]
    assert entries(document.sections[1]) == [("bandwidth", "=", "low")]


def test_plus_with_filter_is_read_as_addition_with_a_note():
    result = parse("[general]\n[general](+type=x)\n")
    assert result.document.sections[1].is_addition is True
    assert result.notes == [
        Note(None, 2, "addition-filter", "[general](+type=x): the filter 'type=x' is not kept; read as (+)")
    ]


def test_blanks_in_header_names_and_options_are_kept_with_a_note():
    # Asterisk 22.10.1 keeps them (tests/asterisk/test_disagreements.py): [ general ] is a type-less
    # section named " general ", and ( t) / ( ! ) name bases that do not exist (file rejected)
    result = parse("[ alice ](!, base )\n[ general ]\n[a]( ! )\n")
    alice, general, a = result.document.sections
    assert (alice.name, alice.is_template, alice.bases) == (" alice ", True, [" base "])
    assert (general.name, general.is_general) == (" general ", False)
    assert (a.is_template, a.bases) == (False, [" ! "])
    assert [(n.line, n.code) for n in result.notes] == [
        (1, "header-whitespace"),
        (2, "header-whitespace"),
        (3, "header-whitespace"),
    ]


def test_text_after_header_is_ignored_by_asterisk_and_kept_as_a_comment():
    result = parse("[alice] (!)\ntype=friend\n")
    (section,) = result.document.sections
    assert (section.is_template, section.comments) == (False, ["(!)"])
    assert result.notes == [
        Note(
            None,
            1,
            "header-ignored-text",
            "Asterisk ignores '(!)' after the header of [alice] (options must follow ']' directly); "
            "kept as a comment",
        )
    ]


def test_text_after_options_is_kept_as_a_comment():
    result = parse("[alice](!) x\n")
    assert result.document.sections[0].comments == ["x"]
    assert [n.code for n in result.notes] == ["header-ignored-text"]


def test_duplicate_sections_are_kept_apart():
    document = doc("[general]\nbindport=1\n[general]\nbindport=2\n")
    assert [(s.name, s.line, entries(s)) for s in document.sections] == [
        ("general", 1, [("bindport", "=", "1")]),
        ("general", 3, [("bindport", "=", "2")]),
    ]


# --------------------------------------------------------------------------------------------
# Variable lines


def test_assignment_operators():
    (section,) = doc("[general]\na = 1\nregister => u:p@host\nallow += ,ulaw\nb=>\n").sections
    assert entries(section) == [
        ("a", "=", "1"),
        ("register", "=>", "u:p@host"),
        ("allow", "+=", " ,ulaw"),
        ("b", "=>", ""),
    ]


def test_plus_equals_keeps_the_appended_text_as_written_but_trims_trailing_blanks():
    (section,) = doc("[s]\nsecret=abc\nsecret+= def  \nx+=>y\n").sections
    assert entries(section)[1:] == [("secret", "+=", " def"), ("x", "+=", ">y")]


def test_plus_before_blank_is_part_of_the_name_not_an_operator():
    (section,) = doc("[s]\na+ = 1\n").sections
    assert entries(section) == [("a+", "=", "1")]


def test_value_runs_to_end_of_line_and_may_contain_equals_signs():
    (section,) = doc("[alice]\nsetvar=FOO=bar\nexten => 1,1,Dial(IAX2/x)\n").sections
    assert entries(section) == [("setvar", "=", "FOO=bar"), ("exten", "=>", "1,1,Dial(IAX2/x)")]


def test_empty_value():
    (section,) = doc("[alice]\nsecret =\nmd5secret=   ; nothing\n").sections
    assert entries(section) == [("secret", "=", ""), ("md5secret", "=", "")]
    assert section.entries[1].comments == [" nothing"]


def test_names_and_values_are_stripped_of_blanks_and_tabs():
    (section,) = doc("[alice]\n\t  host\t=\t dynamic  \t\n  caller id = Bob  Smith \n").sections
    assert entries(section) == [("host", "=", "dynamic"), ("caller id", "=", "Bob  Smith")]


def test_unicode_spaces_are_not_stripped():
    (section,) = doc("[alice]\ncallerid=\u00a0Bob\u00a0\n").sections
    assert section.entries[0].value == "\u00a0Bob\u00a0"


def test_escaped_semicolon_is_a_literal_semicolon():
    (section,) = doc("[alice]\nsecret = a\\;b;c ; comment\n").sections
    assert entries(section) == [("secret", "=", "a;b")]
    assert section.entries[0].comments == ["c ; comment"]


def test_double_backslash_before_semicolon_leaves_one_backslash():
    (section,) = doc("[alice]\nsecret=a\\\\;b\n").sections
    assert section.entries[0].value == "a\\;b"


def test_escaped_semicolon_in_names_headers_and_directives():
    result = parse("[a\\;b](base\\;x)\nk\\;ey=1\n#exec /bin/x\\;y\n")
    (section,) = result.document.sections
    assert (section.name, section.bases, section.entries[0].name) == ("a;b", ["base;x"], "k;ey")
    assert result.notes[0].message == "'#exec /bin/x\\;y' is not run; kept as a comment"


def test_leading_backslash_escapes_the_first_character():
    (section,) = doc("[alice]\n\\[odd=1\n\\#hash = 2\n\\==3\n").sections
    assert entries(section) == [("[odd", "=", "1"), ("#hash", "=", "2"), ("=", "=", "3")]


def test_escaped_semicolon_is_unescaped_before_the_leading_backslash_is_read():
    (section,) = doc("[alice]\n\\\\;foo=1\n").sections  # the line is \\;foo=1
    assert entries(section) == [(";foo", "=", "1")]


def test_escaped_equals_sign_alone_leaves_a_line_without_equals():
    result = parse("[alice]\n\\=x\n")
    assert (result.document.trailer, [n.code for n in result.notes]) == (["\\=x"], ["no-equals"])


def test_backslash_before_blank_at_line_start_is_an_error():
    error = syntax_error("[alice]\n  \\ x=1\n", file="iax.conf")
    assert fields(error) == (
        "iax.conf",
        2,
        3,
        "invalid escape: a backslash at the start of a line must be followed by a printable character",
        "  \\ x=1",
    )


def test_entries_carry_line_and_file_label():
    (section,) = parse("[alice]\n\nhost=dynamic\n", file="iax.conf").document.sections
    assert (section.line, section.file) == (1, "iax.conf")
    assert [(e.line, e.file) for e in section.entries] == [(3, "iax.conf")]


def test_parses_in_threads_build_separate_documents():
    texts = [f"[s{i}]\n" + "".join(f"k{j} = {i}\n" for j in range(2000)) for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        documents = list(pool.map(doc, texts * 3))
    for i, document in enumerate(documents):
        (section,) = document.sections
        assert section.name == f"s{i % 4}"
        assert {e.value for e in section.entries} == {str(i % 4)} and len(section.entries) == 2000


def test_entry_fields_are_in_the_order_the_parser_builds_them():
    # parse.py builds Entry positionally on its hot path
    names = [f.name for f in dataclasses.fields(Entry)]
    assert names[:6] == ["name", "value", "comments", "line", "file", "operator"]


# --------------------------------------------------------------------------------------------
# Lines Asterisk skips: kept as comments, reported as notes


def test_line_without_equals_is_kept_as_a_comment_with_a_note():
    result = parse("[alice]\ntype=friend\nfoo bar ; why\nhost=dynamic\n")
    (section,) = result.document.sections
    assert entries(section) == [("type", "=", "friend"), ("host", "=", "dynamic")]
    assert section.entries[1].comments == ["foo bar", " why"]
    assert result.notes == [
        Note(None, 3, "no-equals", "no '=' in 'foo bar': Asterisk ignores the line; kept as a comment")
    ]


def test_line_with_nothing_before_equals_is_kept_as_a_comment_with_a_note():
    result = parse("[alice]\n = value\n+=x\n")
    assert result.document.trailer == ["= value", "+=x"]
    assert [(n.line, n.code) for n in result.notes] == [(2, "no-name"), (3, "no-name")]
    assert result.notes[0].message == (
        "nothing before the '=' in '= value': Asterisk ignores the line; kept as a comment"
    )


def test_skipped_lines_render_as_comments_and_read_back_the_same():
    first = render(doc("[alice]\nfoo\n|  |\nhost=dynamic\n"))
    assert first == "[alice]\n;foo\n;|  |\nhost=dynamic\n"
    assert render(doc(first)) == first


def test_hash_comment_line_is_an_unknown_directive_kept_as_a_comment():
    result = parse("# iax stands for Inter-Asterisk eXchange\n\n[general]\n")
    assert result.document.header == ["# iax stands for Inter-Asterisk eXchange"]
    assert result.notes == [
        Note(
            None,
            1,
            "unknown-directive",
            "unknown directive '#': Asterisk ignores the line; kept as a comment",
        )
    ]


def test_exec_is_never_run():
    result = parse("[general]\n#exec /usr/bin/make-peers --all\nbindport=4569\n")
    assert result.document.sections[0].entries[0].comments == ["#exec /usr/bin/make-peers --all"]
    assert result.notes == [
        Note(None, 2, "exec-not-run", "'#exec /usr/bin/make-peers --all' is not run; kept as a comment")
    ]


def test_parse_of_a_text_does_not_follow_includes():
    result = parse('[general]\n#include "peers.conf"\n#tryinclude <x.conf> ; maybe\n', file="iax.conf")
    assert result.document.trailer == ['#include "peers.conf"', "#tryinclude <x.conf>", " maybe"]
    assert [(n.file, n.line, n.code) for n in result.notes] == [
        ("iax.conf", 2, "include-not-followed"),
        ("iax.conf", 3, "include-not-followed"),
    ]
    assert result.notes[0].message == (
        "'#include \"peers.conf\"' is not followed when parsing a text (use parse_file); kept as a comment"
    )


def test_directive_without_argument_is_ignored_with_a_note():
    result = parse("[general]\n#include   \n")
    assert result.document.trailer == ["#include"]
    assert result.notes == [
        Note(
            None,
            2,
            "directive-without-argument",
            "'#include' needs a file name: Asterisk ignores the line; kept as a comment",
        )
    ]


def test_directive_word_is_case_insensitive():
    result = parse("[general]\n#EXEC x\n")
    assert [n.code for n in result.notes] == ["exec-not-run"]


def test_line_of_8191_bytes_is_skipped_like_asterisk():
    long_value = "x" * 8187  # "a = " + value is 8191 bytes (Asterisk reads 8190: test_disagreements.py)
    result = parse(f"[alice]\na = {long_value}\nb=1\n")
    (section,) = result.document.sections
    assert entries(section) == [("b", "=", "1")]
    assert section.entries[0].comments == [f"a = {long_value}"]
    assert [(n.line, n.code) for n in result.notes] == [(2, "line-too-long")]


def test_line_of_8190_bytes_is_read():
    long_value = "x" * 8186
    (section,) = doc(f"[alice]\na = {long_value}\n").sections
    assert section.entries[0].value == long_value


# --------------------------------------------------------------------------------------------
# Comments


def test_comment_lines_before_an_entry_are_its_comments():
    (section,) = doc("[alice]\n; the host\n;\n  ;indented\nhost=dynamic\n").sections
    assert section.entries[0].comments == [" the host", "", "indented"]


def test_inline_comment_is_appended_to_the_entry_comments():
    (section,) = doc("[alice]\n; before\nallow=ulaw ; preferred\n").sections
    assert section.entries[0].comments == [" before", " preferred"]


def test_comment_keeps_its_trailing_blanks_but_not_the_carriage_return():
    (section,) = doc("[alice]\n; note  \r\nhost=dynamic\r\n").sections
    assert section.entries[0].comments == [" note  "]


def test_comments_before_a_header_and_on_it_are_section_comments():
    document = doc("[general]\nbindport=4569\n\n; peers\n\n; alice\n[alice] ; a friend\ntype=friend\n")
    assert document.sections[1].comments == [" peers", " alice", " a friend"]
    assert document.sections[0].entries[0].comments == []


def test_comments_at_the_top_down_to_the_last_blank_line_are_the_document_header():
    document = doc("; file header\n; second line\n\n; about general\n[general]\n")
    assert document.header == [" file header", " second line"]
    assert document.sections[0].comments == [" about general"]


def test_comments_right_above_the_first_header_belong_to_it():
    document = doc("; source: x\n[general]\n")
    assert (document.header, document.sections[0].comments) == ([], [" source: x"])


def test_comments_after_the_last_entry_are_the_trailer():
    document = doc("[general]\nbindport=4569\n; end\n\n; really\n")
    assert document.trailer == [" end", " really"]


def test_comments_only_text_is_all_header():
    assert doc("; a\n\n; b\n").header == [" a", " b"]


def test_block_comment_is_kept_line_by_line():
    (section,) = doc("[general]\n;-- a block\nbindport=1\n  that is off --;\nbandwidth=low\n").sections
    assert entries(section) == [("bandwidth", "=", "low")]
    assert section.entries[0].comments == ["-- a block", "bindport=1", "  that is off --;"]


def test_block_comments_nest():
    text = "[general]\n;-- outer\n;-- inner --;\nstill=comment\n--;\nbindport=1\n"
    (section,) = doc(text).sections
    assert entries(section) == [("bindport", "=", "1")]
    assert section.entries[0].comments == ["-- outer", "-- inner --;", "still=comment", "--;"]


def test_three_dashes_start_a_line_comment_not_a_block():
    text = ";--------------------------------;\n[general]\n;--- note\nbindport=1\n"
    document = doc(text)
    assert document.sections[0].comments == ["--------------------------------;"]
    assert entries(document.sections[0]) == [("bindport", "=", "1")]
    assert document.sections[0].entries[0].comments == ["--- note"]


def test_block_comment_inside_a_line_keeps_the_code_around_it():
    (section,) = doc("[general]\nbindport = 45 ;-- port --; 69 ; real\n").sections
    assert entries(section) == [("bindport", "=", "45  69")]
    assert section.entries[0].comments == ["-- port --; ; real"]


def test_code_after_a_block_comment_closes_is_read():
    (section,) = doc("[general]\n;-- off\n--; bindport=4569\n").sections
    assert entries(section) == [("bindport", "=", "4569")]
    assert section.entries[0].comments == ["-- off", "--;"]


def test_escaped_semicolon_does_not_open_a_block_comment():
    (section,) = doc("[alice]\nsecret=a\\;--b\nhost=dynamic\n").sections
    assert entries(section) == [("secret", "=", "a;--b"), ("host", "=", "dynamic")]


def test_unterminated_block_comment_runs_to_the_end_with_a_note():
    result = parse("[general]\nbindport=1\n;-- never closed\nbandwidth=low\n", file="iax.conf")
    assert entries(result.document.sections[0]) == [("bindport", "=", "1")]
    assert result.document.trailer == ["-- never closed", "bandwidth=low"]
    assert result.notes == [
        Note(
            "iax.conf",
            3,
            "unterminated-comment",
            "block comment ';--' is never closed with '--;': every line after it is a comment",
        )
    ]


def test_block_comment_close_without_open_is_an_error():
    error = syntax_error("[alice]\nsecret=ab--;cd\n")
    assert fields(error) == (
        None,
        2,
        10,
        "'--;' closes a block comment that is not open (Asterisk would then ignore the rest of the file); "
        "write '--\\;' for a literal ';'",
        "secret=ab--;cd",
    )


def test_block_comments_nested_deeper_than_128_are_an_error():
    error = syntax_error("[a]\n" + ";--" * 129 + "\n")
    assert (error.line, error.column, error.message) == (
        2,
        385,
        "block comments nested deeper than 128 levels",
    )


# --------------------------------------------------------------------------------------------
# Text encoding and line endings


def test_crlf_line_endings():
    document = doc("[general]\r\nbindport = 4569\r\n\r\n[alice](!)\r\nhost=dynamic ; x\r\n")
    assert [s.name for s in document.sections] == ["general", "alice"]
    assert entries(document.sections[0]) == [("bindport", "=", "4569")]
    assert document.sections[1].is_template is True
    assert document.sections[1].entries[0].comments == [" x"]
    assert document.sections[1].entries[0].line == 5


def test_missing_final_newline():
    (section,) = doc("[general]\nbindport=4569").sections
    assert entries(section) == [("bindport", "=", "4569")]


def test_missing_final_newline_after_a_comment():
    assert doc("[general]\n; end").trailer == [" end"]


def test_utf8_byte_order_mark_is_ignored():
    (section,) = doc("\ufeff[general]\nbindport=4569\n").sections
    assert (section.name, section.line) == ("general", 1)


def test_utf8_byte_order_mark_in_a_file_is_ignored(tmp_path):
    path = tmp_path / "iax.conf"
    path.write_bytes(b"\xef\xbb\xbf[general]\nbindport=4569\n")
    assert parse_file(path).document.sections[0].name == "general"


def test_non_ascii_text():
    document = doc('; vérifie l\'état\n[général]\ncallerid="Zoë" <100> ; 电话\n')
    assert document.sections[0].name == "général"
    assert document.sections[0].entries[0].value == '"Zoë" <100>'
    assert document.sections[0].entries[0].comments == [" 电话"]


def test_file_that_is_not_utf8_is_read_as_latin1_with_a_note(tmp_path):
    path = tmp_path / "iax.conf"
    path.write_bytes(b"[general]\n; caf\xe9\nbindport=4569\n")
    result = parse_file(path)
    assert result.document.sections[0].entries[0].comments == [" café"]
    assert result.notes == [
        Note(str(path), 2, "not-utf8", "the file is not UTF-8 (first bad byte here); read as Latin-1")
    ]


def test_empty_text():
    result = parse("")
    assert (result.document, result.notes) == (Document(), [])


# --------------------------------------------------------------------------------------------
# Errors


def test_variable_before_any_section_is_an_error():
    error = syntax_error("; top\n  bindport = 4569\n[general]\n", file="iax.conf")
    assert fields(error) == (
        "iax.conf",
        2,
        3,
        "'bindport' appears before the first [section] header (Asterisk rejects the whole file)",
        "  bindport = 4569",
    )


def test_garbage_before_any_section_is_an_error_as_in_asterisk():
    error = syntax_error("=====\n[general]\n")
    assert fields(error) == (
        None,
        1,
        1,
        "'=====' appears before the first [section] header (Asterisk rejects the whole file)",
        "=====",
    )


def test_header_without_closing_bracket_is_an_error():
    error = syntax_error("[general]\nbindport=4569\n[alice ; oops\n", file="iax.conf")
    assert fields(error) == ("iax.conf", 3, 7, "no closing ']' in section header", "[alice ; oops")


def test_header_without_closing_bracket_at_end_of_text():
    error = syntax_error("[general")
    assert fields(error) == (None, 1, 9, "no closing ']' in section header", "[general")


def test_lone_bracket_is_an_error():
    error = syntax_error("[general]\n  [\r\n")
    assert fields(error) == (None, 2, 4, "no closing ']' in section header", "  [")


def test_header_options_without_closing_parenthesis_are_an_error():
    error = syntax_error("[general]\n[alice](!,base\n", file="iax.conf")
    assert fields(error) == (
        "iax.conf",
        2,
        15,
        "no closing ')' after the options of the section header",
        "[alice](!,base",
    )


def test_empty_parenthesis_is_an_error():
    error = syntax_error("[general]\n[alice]()\n")
    assert fields(error) == (None, 2, 8, "empty option in section header", "[alice]()")


def test_empty_section_name_is_an_error():
    error = syntax_error("[general]\n [ ]\n")
    assert fields(error) == (None, 2, 2, "empty section name", " [ ]")


def test_error_message_names_file_line_column_and_shows_the_line():
    error = syntax_error("[general]\n\t[alice\n", file="/etc/asterisk/iax.conf")
    assert str(error) == (
        "/etc/asterisk/iax.conf, line 2, column 8: no closing ']' in section header\n    \t[alice\n    \t      ^"
    )
    assert isinstance(error, ValueError)


def test_error_in_a_text_without_file_name():
    assert str(syntax_error("[x")).startswith("<text>, line 1, column 3: no closing ']'")


# --------------------------------------------------------------------------------------------
# Includes (parse_file)


def test_include_continues_the_current_section_and_entries_carry_their_file():
    result = parse_file(FIXTURES / "main.conf")
    general, alice, bob = result.document.sections
    main, extra = str(FIXTURES / "main.conf"), str(FIXTURES / "inc" / "general-extra.conf")
    assert [(e.name, e.value, e.file, e.line) for e in general.entries] == [
        ("bindport", "4569", main, 3),
        ("bandwidth", "low", extra, 2),
    ]
    assert general.entries[1].comments == [
        '#include "inc/general-extra.conf"',
        " more [general] lines",
        " included inside [general]",
    ]
    assert [(s.name, s.file, s.line) for s in (alice, bob)] == [
        ("alice", str(FIXTURES / "inc" / "peers-a.conf"), 1),
        ("bob", str(FIXTURES / "inc" / "peers-b.conf"), 1),
    ]


def test_tryinclude_of_a_missing_file_is_skipped_with_a_note():
    result = parse_file(FIXTURES / "main.conf")
    assert result.notes == [
        Note(
            str(FIXTURES / "main.conf"),
            5,
            "include-missing",
            f"'#tryinclude inc/missing.conf' does not exist (searched '{FIXTURES}'); skipped",
        )
    ]
    assert result.document.sections[1].comments == [
        "#tryinclude <inc/missing.conf>",
        "#include inc/peers-*.conf",
    ]


def test_includeifexists_is_an_unknown_directive(tmp_path):
    # Asterisk 22.10.1: "Unknown directive '#includeifexists'", the file is not read even when it
    # exists (tests/asterisk/test_disagreements.py)
    (tmp_path / "iax.conf").write_text(
        "[general]\n#includeifexists custom/iax.conf\n#includeifexists here.conf\n"
    )
    (tmp_path / "here.conf").write_text("bindport=4569\n")
    result = parse_file(tmp_path / "iax.conf")
    assert entries(result.document.sections[0]) == []
    assert [(n.line, n.code) for n in result.notes] == [(2, "unknown-directive"), (3, "unknown-directive")]
    assert result.document.trailer == ["#includeifexists custom/iax.conf", "#includeifexists here.conf"]


def test_missing_include_is_an_error_naming_the_including_file_and_line(tmp_path):
    (tmp_path / "iax.conf").write_text("[general]\n\n  #include <peers.conf> ; all peers\n")
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_file(tmp_path / "iax.conf")
    assert fields(caught.value) == (
        str(tmp_path / "iax.conf"),
        3,
        3,
        f"'peers.conf' was listed as a #include but it does not exist (searched '{tmp_path}')",
        "  #include <peers.conf> ; all peers",
    )


def test_include_is_looked_up_in_include_dirs_after_the_including_directory(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "extra").mkdir()
    (tmp_path / "etc" / "iax.conf").write_text("[general]\n#include users.conf\n")
    (tmp_path / "extra" / "users.conf").write_text("[alice]\n")
    result = parse_file(tmp_path / "etc" / "iax.conf", include_dirs=[tmp_path / "extra"])
    assert [(s.name, s.file) for s in result.document.sections] == [
        ("general", str(tmp_path / "etc" / "iax.conf")),
        ("alice", str(tmp_path / "extra" / "users.conf")),
    ]


def test_include_glob_matches_are_read_in_sorted_order(tmp_path):
    (tmp_path / "iax.conf").write_text("#include peers/*.conf\n")
    (tmp_path / "peers").mkdir()
    for name in ("b", "a", "c"):
        (tmp_path / "peers" / f"{name}.conf").write_text(f"[{name}]\n")
    assert [s.name for s in parse_file(tmp_path / "iax.conf").document.sections] == ["a", "b", "c"]


def test_include_brace_alternatives_are_read_in_the_order_written(tmp_path):
    (tmp_path / "iax.conf").write_text('#include "{users,peers}.conf"\n')
    (tmp_path / "peers.conf").write_text("[p]\n")
    (tmp_path / "users.conf").write_text("[u]\n")
    assert [s.name for s in parse_file(tmp_path / "iax.conf").document.sections] == ["u", "p"]


def test_include_loop_is_an_error():
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_file(FIXTURES / "loop" / "a.conf")
    assert fields(caught.value) == (
        str(FIXTURES / "loop" / "b.conf"),
        2,
        1,
        "include loop: a.conf -> b.conf -> a.conf",
        "#include a.conf",
    )


def chain(tmp_path: Path, levels: int, directive: str = "#include") -> Path:
    """level1.conf includes level2.conf ... up to level<levels>.conf."""
    for level in range(1, levels + 1):
        body = f"[s{level}]\n" + (f"{directive} level{level + 1}.conf\n" if level < levels else "")
        (tmp_path / f"level{level}.conf").write_text(body)
    return tmp_path / "level1.conf"


def test_ten_includes_nest_below_the_main_file(tmp_path):
    # Asterisk 22.10.1 reads the main file and 10 nested includes (tests/asterisk/test_disagreements.py)
    document = parse_file(chain(tmp_path, MAX_INCLUDE_DEPTH + 1)).document
    assert len(document.sections) == 11


def test_an_eleventh_nested_include_is_an_error(tmp_path):
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_file(chain(tmp_path, MAX_INCLUDE_DEPTH + 2))
    assert fields(caught.value) == (
        str(tmp_path / "level11.conf"),
        2,
        1,
        "includes nested deeper than 10 levels at '#include level12.conf'",
        "#include level12.conf",
    )


def test_tryinclude_too_deep_is_skipped_with_a_note(tmp_path):
    result = parse_file(chain(tmp_path, MAX_INCLUDE_DEPTH + 2, "#tryinclude"))
    assert len(result.document.sections) == 11
    assert [(n.file, n.line, n.code) for n in result.notes] == [
        (str(tmp_path / "level11.conf"), 2, "include-depth")
    ]


def test_error_in_an_included_file_names_that_file(tmp_path):
    (tmp_path / "iax.conf").write_text("[general]\n#include bad.conf\n")
    (tmp_path / "bad.conf").write_text("; bad\n[alice\n")
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_file(tmp_path / "iax.conf")
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "bad.conf"), 2)


def test_missing_main_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        parse_file(tmp_path / "nope.conf")


# --------------------------------------------------------------------------------------------
# Corpus and sample: parse, render, parse, render gives the same bytes


CORPUS_FILES = sorted(CORPUS.glob("*.conf"))

# Files whose #include targets are not in the corpus: (line, column, target) of the first one.
MISSING_INCLUDES = {
    "01_paulseward_asterisk-minimal.conf": (19, 1, "local/iax.conf"),
    "04_StuartJMackintosh_asterisk-config-templates.conf": (55, 1, "local_cfg/iax.conf"),
    "15_V-ctor_gsm-ip-gateway.conf": (14, 1, "iax_custom_modem.conf"),
    "35_linhng98_asterisk.conf": (10, 1, "iax_general_additional.conf"),
}
# Files Asterisk rejects as a whole: (line, column, message).
REJECTED = {
    "41_SuperKumKum_SysAdmin-ll_Project.conf": (
        17,
        1,
        "'=================================' appears before the first [section] header "
        "(Asterisk rejects the whole file)",
    ),
}


def assert_renders_stably(document: Document) -> str:
    first = render(document)
    second = render(parse(first).document)
    assert second == first
    return first


def test_corpus_is_all_here():
    assert len(CORPUS_FILES) == 26
    assert set(MISSING_INCLUDES) | set(REJECTED) <= {p.name for p in CORPUS_FILES}


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name[:2])
def test_corpus_file_parses_and_renders_stably(path):
    if path.name in REJECTED:
        with pytest.raises(ConfigSyntaxError) as caught:
            parse_file(path, include_dirs=[STAND_INS])
        assert (caught.value.file, caught.value.line, caught.value.column, caught.value.message) == (
            str(path),
            *REJECTED[path.name],
        )
        return
    result = parse_file(path, include_dirs=[STAND_INS])
    assert result.document.sections
    assert all(e.line and e.file for s in result.document.sections for e in s.entries)
    assert_renders_stably(result.document)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name[:2])
def test_corpus_text_parses_and_renders_stably(path):
    text = path.read_text(encoding="utf-8")
    if path.name in REJECTED:
        with pytest.raises(ConfigSyntaxError):
            parse(text)
        return
    assert_renders_stably(parse(text).document)


@pytest.mark.parametrize("name", sorted(MISSING_INCLUDES), ids=lambda n: n[:2])
def test_corpus_file_with_a_missing_include_names_it(name):
    line, column, target = MISSING_INCLUDES[name]
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_file(CORPUS / name)
    assert (caught.value.file, caught.value.line, caught.value.column, caught.value.message) == (
        str(CORPUS / name),
        line,
        column,
        f"'{target}' was listed as a #include but it does not exist (searched '{CORPUS}')",
    )


def test_corpus_hash_comment_and_tryinclude_become_notes():
    notes = parse_file(CORPUS / "34_alphabookabc_Asterisk.conf").notes
    assert [(n.line, n.code) for n in notes] == [(2, "unknown-directive")]
    notes = parse_file(CORPUS / "07_unfknreal_aslconfigs.conf").notes
    assert [(n.line, n.code) for n in notes] == [(133, "unknown-directive")]  # #includeifexists


def test_corpus_crlf_file_has_the_same_document_as_its_lf_version():
    path = CORPUS / "30_LysXky_Prueba_de_Voz.conf"
    raw = path.read_bytes()
    assert b"\r\n" in raw
    crlf = parse(raw.decode("utf-8")).document
    lf = parse(raw.decode("utf-8").replace("\r\n", "\n")).document
    assert crlf == lf


def test_asterisk_sample_parses_and_renders_stably():
    result = parse_file(require(SAMPLE))
    assert [s.name for s in result.document.sections] == ["general", "guest"]
    assert result.notes == []
    assert_renders_stably(result.document)


# --------------------------------------------------------------------------------------------
# Property: render -> parse gives the document back

_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs"))
_NAME_CHARS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=" []();=\\")
_BLANKS = " \t\n\r\f\v"

names = st.text(_NAME_CHARS, min_size=1, max_size=12)
section_names = names
# A base named exactly '!' or starting with '+' is read as an option, so render refuses it (test above).
base_names = names.filter(lambda n: "," not in n and n != "!" and not n.startswith("+"))
# A name cannot start with '#', ';' or '[' (Asterisk would read a directive, a comment or a header).
entry_names = names.filter(lambda n: n[0] not in "#;[")
# Asterisk strips a value's blanks, so the values a file can hold have none at either end.
values = st.text(_PRINTABLE, max_size=20).filter(lambda v: v == v.strip(_BLANKS))
comments = st.text(st.one_of(_PRINTABLE, st.just("\t")), max_size=20)


@st.composite
def documents(draw) -> Document:
    sections = []
    for _ in range(draw(st.integers(1, 4))):
        section_entries = []
        for _ in range(draw(st.integers(0, 5))):
            operator = draw(st.sampled_from(["=", "=>"]))
            value = draw(values)
            section_entries.append(
                Entry(draw(entry_names), value, draw(st.lists(comments, max_size=2)), operator=operator)
            )
        sections.append(
            Section(
                draw(section_names),
                section_entries,
                is_template=draw(st.booleans()),
                is_addition=draw(st.booleans()),
                bases=draw(st.lists(base_names, max_size=2)),
                comments=draw(st.lists(comments, max_size=3)),
            )
        )
    return Document(sections, draw(st.lists(comments, max_size=3)), draw(st.lists(comments, max_size=3)))


def rendered_comment(text: str) -> str:
    """What render() does to a comment: ';--' would open a block comment, so it writes '; --'."""
    return " " + text if text.startswith("--") and not text.startswith("---") else text


def rendered(texts: list[str]) -> list[str]:
    return [rendered_comment(t) for t in texts]


@settings(deadline=None, max_examples=300)
@given(documents())
def test_rendered_document_parses_back_to_the_same_document(document):
    text = render(document)
    back = parse(text).document
    assert back.header == rendered(document.header)
    assert back.trailer == rendered(document.trailer)
    assert len(back.sections) == len(document.sections)
    for got, sent in zip(back.sections, document.sections, strict=True):
        assert (got.name, got.is_template, got.is_addition, got.bases) == (
            sent.name,
            sent.is_template,
            sent.is_addition,
            sent.bases,
        )
        assert got.comments == rendered(sent.comments)
        expected = ordered_entries(sent)
        assert len(got.entries) == len(expected)  # no value escaped its line
        assert [(e.name, e.operator, e.value, e.comments) for e in got.entries] == [
            (e.name, e.operator, e.value, rendered(e.comments)) for e in expected
        ]
    assert render(back) == text


# --------------------------------------------------------------------------------------------
# render() cases found by the round trip: each of these documents once rendered to a file that
# read back as something else.


def test_render_keeps_an_addition_header():
    document = doc("[general]\nbindport=4569\n[general](+)\nbandwidth=low\n")
    assert [s.is_addition for s in doc(render(document)).sections] == [False, True]


def test_render_keeps_the_plus_equals_operator():
    document = doc("[alice]\nallow=ulaw\nallow+=,alaw\n")
    assert doc(render(document)).sections[0].entries[1].operator == "+="


def test_render_keeps_a_value_starting_with_greater_than():
    document = Document([Section("alice", [Entry("secret", ">x")])])
    assert entries(doc(render(document)).sections[0]) == [("secret", "=", ">x")]


def test_render_keeps_a_name_ending_with_plus():
    document = Document([Section("alice", [Entry("a+", "x")])])
    assert entries(doc(render(document)).sections[0]) == [("a+", "=", "x")]


def test_render_refuses_bases_that_would_read_back_as_options():
    # Asterisk reads '!' and a leading '+' in the parentheses as options, so no file can say this.
    for base in ("!", "+x"):
        with pytest.raises(RenderError, match="cannot be written in a section header"):
            render(Document([Section("alice", bases=[base])]))


# --------------------------------------------------------------------------------------------
# Differential: the grammar reads what a line-for-line transcription of config.c reads


class _Rejected(Exception):
    pass


def _strchr(buf: str, char: str, start: int) -> int:
    """C strchr on buf from start: stops at the first NUL."""
    end = buf.find("\0", start)
    return buf.find(char, start, end if end >= 0 else len(buf))


def _cstr(buf: str, start: int) -> str:
    end = buf.find("\0", start)
    return buf[start : end if end >= 0 else len(buf)]


def config_c(text: str) -> list[tuple]:
    """config_text_file_load's comment loop and process_text_line, transcribed with the same
    pointer moves (memmove, NUL truncation), without includes. Returns what parse() should give:
    (name, is_template, is_addition, bases, [(name, operator, value)]) per section."""
    blanks = " \t\n\r\f\v"
    depth = 0
    sections: list[tuple] = []
    current = None
    lines = text.removeprefix("\ufeff").split("\n")
    for raw in lines[:-1] if text.endswith("\n") else lines:
        buf, process, new = raw + "\n", (None if depth else 0), 0
        while (at := _strchr(buf, ";", new)) >= 0:
            if at > new and buf[at - 1] == "\\":  # memmove(comment_p - 1, comment_p, strlen + 1)
                end = buf.find("\0", at)
                buf = buf[: at - 1] + buf[at:] if end < 0 else buf[: at - 1] + buf[at : end + 1] + buf[end:]
                new = at
            elif buf[at + 1 : at + 3] == "--" and buf[at + 3 : at + 4] != "-":
                buf, new, depth = buf[:at] + "\0" + buf[at + 1 :], at + 3, depth + 1
            elif at >= new + 2 and buf[at - 2 : at] == "--":
                depth, new = depth - 1, at + 1
                if depth < 0:
                    raise _Rejected("--;")
                if depth == 0 and process is None:
                    process = new
                elif depth == 0:
                    old, moved = process + len(_cstr(buf, process)), _cstr(buf, new)
                    buf, new = buf[:old] + moved + "\0" + buf[old + len(moved) + 1 :], old
            elif depth == 0:
                buf, new = buf[:at] + "\0" + buf[at + 1 :], at
            else:
                new = at + 1
        line = "" if process is None else _cstr(buf, process).strip(blanks)
        if not line or line[0] == "#":
            continue
        if line[0] == "[":
            close = line.find("]")
            if close < 0:
                raise _Rejected("]")
            # the name and the options are kept as written, blanks included (Asterisk 22.10.1:
            # tests/asterisk/test_disagreements.py loads "[ general ]" as a section ' general ')
            current = (line[1:close], [], [], [], [])
            rest = line[close + 1 :]
            if rest.startswith("("):
                if ")" not in rest:
                    raise _Rejected(")")
                for option in rest[1 : rest.index(")")].split(","):
                    current[{"!": 1}.get(option, 2 if option.startswith("+") else 3)].append(option)
            sections.append(current)
            continue
        if current is None:
            raise _Rejected("no category")
        escaped = int(line[0] == "\\")
        cur = line[escaped:]
        if escaped and (not cur or cur[0] <= " "):
            raise _Rejected("escape")
        c = cur.find("=", escaped)
        if c > escaped and cur[c - 1] == "+":
            name, operator, value = cur[: c - 1].strip(blanks), "+=", cur[c + 1 :].rstrip(blanks)
        elif c >= 0:
            name, rest = cur[:c].strip(blanks), cur[c + 1 :]
            operator, value = (
                ("=>", rest[1:].strip(blanks)) if rest.startswith(">") else ("=", rest.strip(blanks))
            )
        else:
            continue
        if name:
            current[4].append((name, operator, value))
    return [(s[0], bool(s[1]), bool(s[2]), s[3], s[4]) for s in sections]


_PIECES = [*"[]();=\\#-+>< \tab;!,", "\n", "\n", "\n[a]\n", ";--", "--;", "\r\n", "x=y", "é", "\\;"]


@settings(deadline=None, max_examples=500)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_parse_reads_what_config_c_reads(text):
    try:
        expected = config_c(text)
    except _Rejected:
        with pytest.raises(ConfigSyntaxError):
            parse(text)
        return
    try:
        document = parse(text).document
    except ConfigSyntaxError as error:  # stricter than Asterisk: an empty name or option
        assert error.message in ("empty section name", "empty option in section header")
        return
    got = [(s.name, s.is_template, s.is_addition, s.bases, entries(s)) for s in document.sections]
    assert got == expected


# --------------------------------------------------------------------------------------------
# Includes of a web import (parse_uploads): only among the uploaded files, never the disk


def _uploads(main: str, **files: str) -> dict[str, bytes]:
    return {
        "iax.conf": main.encode(),
        **{name.replace("__", "."): text.encode() for name, text in files.items()},
    }


def test_an_upload_includes_another_uploaded_file_by_its_name():
    files = _uploads("[general]\n#include peers.conf\n", peers__conf="[a]\ntype=peer\nhost=dynamic\n")
    result = parse_uploads("iax.conf", files)
    assert [(s.name, s.file) for s in result.document.sections] == [
        ("general", "iax.conf"),
        ("a", "peers.conf"),
    ]


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("/etc/hostname", "is a path on the server, which a web import never reads; upload hostname"),
        ("/etc/host*", "is a path on the server, which a web import never reads"),
        ("/proc/self/environ", "is a path on the server, which a web import never reads; upload environ"),
        ("../../../etc/hosts", "leaves the uploaded files ('..')"),
        ("sub/../../iax.conf", "leaves the uploaded files ('..')"),
        ("peers.conf", "was not uploaded: upload it too (uploaded: iax.conf)"),
    ],
)
def test_an_upload_never_includes_anything_but_the_uploaded_files(target, why):
    with pytest.raises(ConfigSyntaxError) as info:
        parse_uploads("iax.conf", _uploads(f"[general]\nbindport=4569\n#include {target}\n"))
    assert (info.value.file, info.value.line) == ("iax.conf", 3)
    assert info.value.message.startswith(f"'{target}' was listed as a #include but it {why}")


def test_a_glob_in_an_upload_matches_uploaded_names_only():
    files = _uploads(
        "[general]\n#include p*.conf\n", p2__conf="[b]\ntype=user\n", p1__conf="[a]\ntype=user\n"
    )
    assert [s.name for s in parse_uploads("iax.conf", files).document.sections] == ["general", "a", "b"]


def test_a_missing_tryinclude_in_an_upload_is_a_note_not_a_read():
    result = parse_uploads("iax.conf", _uploads("[general]\n#tryinclude /etc/passwd\n"))
    assert [(n.code, n.line) for n in result.notes] == [("include-missing", 2)]


def test_an_include_loop_among_uploads_is_an_error():
    files = _uploads("[general]\n#include a.conf\n", a__conf="#include iax.conf\n")
    with pytest.raises(ConfigSyntaxError, match="include loop: iax.conf -> a.conf -> iax.conf"):
        parse_uploads("iax.conf", files)


def test_a_web_import_names_a_missing_include_once_without_repeating_itself():
    # issue 14: the message once read "... 'the uploaded files', 'the uploaded files'"
    found = parse_uploads("sub/m.conf", {"sub/m.conf": b'[general]\n#tryinclude "x.conf"\n'})
    assert [n.message for n in found.notes] == [
        "'#tryinclude x.conf' was not uploaded: upload it too (uploaded: sub/m.conf); skipped"
    ]
