"""peers.asterisk.compare: what counts as the same meaning, and what is new in a load's log."""

from __future__ import annotations

from peers.asterisk.cli import PeerDetail, PeerRow, RegistryRow, UserRow
from peers.asterisk.compare import differences, is_resolution_failure, new_problems, normalised
from peers.asterisk.sandbox import LogLine, Snapshot


def _snapshot(**changes) -> Snapshot:
    base = dict(
        peers=[PeerRow("p", "127.0.0.1", False, "255.255.255.255", "4569", False, False, "OK (1 ms)", "")],
        users=[UserRow("u", "s3cret", "", 2, "default", False, "Host")],
        peer_details={"p": PeerDetail("p", {"Name": "p", "Callerid": '"A" <1>', "Status": "OK (1 ms)"})},
        registry=[RegistryRow("127.0.0.1:4570", False, "me", "<Unregistered>", 60, "Request Sent")],
    )
    base.update(changes)
    return Snapshot(**base)


def test_status_state_and_perceived_address_are_not_meaning():
    other = _snapshot(
        peers=[PeerRow("p", "127.0.0.1", False, "255.255.255.255", "4569", False, False, "UNREACHABLE", "")],
        peer_details={"p": PeerDetail("p", {"Name": "p", "Callerid": '"A" <1>', "Status": "UNREACHABLE"})},
        registry=[RegistryRow("127.0.0.1:4570", False, "me", "127.0.0.1:4569", 60, "Registered")],
    )
    assert differences(_snapshot(), other) == []


def test_every_kind_of_difference_is_named():
    other = _snapshot(
        users=[UserRow("u", "", "", 2, "default", False, "Host")],
        peer_details={"p": PeerDetail("p", {"Name": "p", "Callerid": '"B" <1>', "Status": "OK (1 ms)"})},
        registry=[],
    )
    assert differences(_snapshot(), other) == [
        "users: only in the original: ('u', 's3cret', '', 2, 'default', False, 'Host')",
        "users: only in the export: ('u', '', '', 2, 'default', False, 'Host')",
        "registry: only in the original: ('127.0.0.1:4570', False, 'me', 60)",
        "peer p: Callerid is '\"A\" <1>' in the original, '\"B\" <1>' in the export",
    ]
    assert differences(_snapshot(), _snapshot(peer_details={})) == ["peer p: missing from the export"]


def test_new_problems_ignore_line_numbers_but_count_repeats():
    warn = LogLine("WARNING", "chan_iax2.c", "Invalid tos value at line 5, refer to QoS documentation")
    moved = LogLine("WARNING", "chan_iax2.c", "Invalid tos value at line 20, refer to QoS documentation")
    extra = LogLine("ERROR", "chan_iax2.c", "something new")
    notice = LogLine("NOTICE", "chan_iax2.c", "not a problem")
    assert new_problems(_snapshot(log=[warn]), _snapshot(log=[moved, notice])) == []
    assert new_problems(_snapshot(log=[warn]), _snapshot(log=[moved, moved, extra])) == [
        "ERROR chan_iax2.c: something new",
        "WARNING chan_iax2.c: Invalid tos value at line N, refer to QoS documentation",
    ]
    assert normalised(warn) == "WARNING chan_iax2.c: Invalid tos value at line N, refer to QoS documentation"


def test_resolution_failures_are_the_sandbox():
    assert is_resolution_failure(LogLine("WARNING", "acl.c", "Unable to lookup 'pbx.example.com'"))
    assert is_resolution_failure(
        LogLine(
            "ERROR",
            "netsock2.c",
            'getaddrinfo("x.example", "(null)", ...): Temporary failure in name resolution',
        )
    )
    assert not is_resolution_failure(LogLine("WARNING", "chan_iax2.c", "Section 'x' lacks type"))
