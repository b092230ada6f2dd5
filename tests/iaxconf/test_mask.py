"""mask: the one place secrets are hidden, by directive (never by line of text)."""

from __future__ import annotations

from peers.iaxconf import Document, Entry, Section, render
from peers.iaxconf.mask import MASK, mask_conf, mask_document, mask_value


def test_a_secret_is_masked_whole_and_an_empty_one_stays_empty():
    assert mask_value("secret", "hunter2") == MASK
    assert mask_value("Secret", "x") == MASK
    assert mask_value("secret", "") == ""


def test_a_register_line_loses_only_its_password():
    assert mask_value("register", "alice:pw@pbx.example.net:4570") == f"alice:{MASK}@pbx.example.net:4570"
    assert mask_value("register", "alice:[trunkkey]@pbx.example.net") == "alice:[trunkkey]@pbx.example.net"
    assert mask_value("register", "alice@pbx.example.net") == "alice@pbx.example.net"


def test_other_directives_are_shown_as_they_are():
    assert mask_value("context", "from-trunk") == "from-trunk"
    assert mask_value(None, "x") == "x"


def test_mask_document_copies_and_leaves_the_original_alone():
    document = Document(sections=[Section("a", [Entry("secret", "s3cret"), Entry("host", "dynamic")])])
    masked = mask_document(document)
    assert [e.value for e in masked.sections[0].entries] == [MASK, "dynamic"]
    assert document.sections[0].entries[0].value == "s3cret"


def test_mask_conf_masks_by_directive_whatever_separators_the_value_holds():
    # U+2028 is a line separator for str.splitlines(): a line-based mask showed the tail after it
    secret = "abc\u2028tail-of-the-secret"
    text = f"[general]\nregister => bob:pw\u2029x@host.example.net\n\n[a]\ntype=friend\nsecret={secret}\n"
    masked = mask_conf(text)
    assert "tail-of-the-secret" not in masked
    assert masked == f"[general]\nregister=>bob:{MASK}@host.example.net\n\n[a]\ntype=friend\nsecret={MASK}\n"


def test_mask_conf_keeps_every_other_byte():
    text = render(Document(sections=[Section("a", [Entry("type", "peer"), Entry("host", "10.0.0.1")])]))
    assert mask_conf(text) == text


def test_mask_conf_hides_the_checksum_of_the_configuration():
    line = ";iaxadmin: sha256 of the configuration below: " + "a" * 64
    assert (
        mask_conf(line + "\n[general]\n")
        == f";iaxadmin: sha256 of the configuration below: {MASK}\n[general]\n"
    )


def test_text_that_does_not_parse_is_still_masked():
    assert mask_conf("secret = hunter2\n[broken") == f"secret={MASK}\n[broken"


def test_a_secret_that_changed_since_a_previous_text_says_so_and_nothing_more():
    old = "[a]\nsecret=first-one\n\n[b]\nsecret=same\nregister=>u:pw@h\n"
    new = "[a]\nsecret=second-one\n\n[b]\nsecret=same\nregister=>u:pw2@h\n"
    assert mask_conf(new, previous=old) == (
        f"[a]\nsecret={MASK} (changed)\n\n[b]\nsecret={MASK}\nregister=>u:{MASK}@h (changed)\n"
    )
