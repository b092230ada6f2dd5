"""The dialplan's contexts (peers.iaxconf.dialplan): extensions.conf read as pbx_config reads it,
with includes among the uploaded files only, and the contexts `dialplan show` prints."""

from __future__ import annotations

import pytest

from peers.iaxconf.dialplan import DialplanError, check_names, from_dialplan_show, read_extensions

EXTENSIONS = b"""[general]
static=yes

[globals]
TRUNK=IAX2/provider

[tpl](!)
exten => i,1,Hangup()

[from-alice](tpl)
exten => 100,1,Dial(IAX2/bob)
 same => n,Hangup()

#include "more/office.conf"

[from-alice](+)
exten => 101,1,Echo()

[Default]
exten => s,1,Answer()
"""
OFFICE = b"[office]\nexten => _X.,1,Echo()\n[GLOBALS]\nX=1\n"


def test_every_section_but_general_globals_and_templates_is_a_context():
    found = read_extensions("extensions.conf", {"extensions.conf": EXTENSIONS, "more/office.conf": OFFICE})
    assert found.names == ["from-alice", "office", "Default"]


def test_includes_come_from_the_uploaded_files_only(tmp_path):
    (tmp_path / "office.conf").write_bytes(OFFICE)  # on the server's disk: never read
    main = b'[a]\n#include "' + str(tmp_path / "office.conf").encode() + b'"\n'
    with pytest.raises(DialplanError, match="never reads"):
        read_extensions("extensions.conf", {"extensions.conf": main})
    tried = read_extensions("extensions.conf", {"extensions.conf": b"[a]\n#tryinclude missing.conf\n"})
    assert tried.names == ["a"] and [n.code for n in tried.notes] == ["include-missing"]


def test_a_file_asterisk_rejects_is_refused_with_its_line():
    with pytest.raises(DialplanError, match=r"extensions.conf, line 2"):
        read_extensions("extensions.conf", {"extensions.conf": b"[a]\n[broken\n"})


def test_contexts_from_dialplan_show():
    text = """[ Context 'from-alice' created by 'pbx_config' ]
  '100' =>          1. Dial(IAX2/bob)                             [extensions.conf:10]

[ Context 'parkedcalls' created by 'res_parking' ]
  '700' =>          1. Park()                                     [res_parking]

[ Context 'from-alice' created by 'pbx_config' ]
-= 2 extensions (2 priorities) in 2 contexts. =-
"""
    assert from_dialplan_show(text) == ["from-alice", "parkedcalls"]


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "a" * 80, "line\nbreak"])
def test_names_that_cannot_be_contexts(name):
    with pytest.raises(DialplanError) as caught:
        check_names(["ok", name])
    assert repr(name) in caught.value.message
