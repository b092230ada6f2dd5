"""The parsers of ``peers.asterisk.cli`` on output captured from Asterisk 22.10.1 (the texts below
were printed by the shared build for the configuration in ``test_runner.RICH_CONF``; the live
tests in test_runner.py parse the same commands' output as Asterisk prints it in each run)."""

from __future__ import annotations

import pytest

from peers.asterisk.cli import (
    KeyRow,
    PeerRow,
    RegistryRow,
    UserRow,
    parse_channels,
    parse_keys,
    parse_matches,
    parse_peer,
    parse_peers,
    parse_registry,
    parse_users,
)

PEERS = (
    "Name/Username    Host                                           Mask                                      Port"
    "           Status      Description                     \n"
    "bob-with-a-long  127.0.0.1                                (S)  255.255.255.255                           4569"
    "  (T) (E)  OK (1 ms)                                   \n"
    "alice            (null)                                   (D)  (null)                                    (null)"
    "         Unmonitored Alice's phone                   \n"
    "2 iax2 peers [1 online, 0 offline, 1 unmonitored]\n"
)
USERS = (
    "Username         Secret                Authen           Def.Context      A/C    Codec Pref\n"
    "carol            Key: k1:k2            000000000000004  c1               Yes    Caller\n"
    "alice            abc                   000000000000002  default          No     Host \n"
)
REGISTRY = (
    "Host                                           dnsmgr  Username    Perceived                                      Refresh  State\n"
    "127.0.0.1:4571                                 N       averyveryl  <Unregistered>                                      60  Request Sent\n"
    "127.0.0.1:4570                                 N       alice       <Unregistered>                                      60  Request Sent\n"
    "2 IAX2 registrations.\n"
)
KEYS = (
    "Key Name           Type     Status           Sum                              \n"
    "------------------ -------- ---------------- -------------------------------- \n"
    "k1                 PRIVATE  [Loaded]         0965e7a8f0dc3d779ed62876dd32d4b2 \n"
    "averyveryverylongkeyname PRIVATE  [Needs Passcode] c1d541ee04aa5dda7e42a627e28a52ff \n"
    "k1                 PUBLIC   [Loaded]         eb721fd01363d9f4821fe3682207b93f \n"
    "\n3 known RSA keys.\n"
)
PEER = (
    "\n\n  * Name       : bob-with-a-long-name\n  Description  : \n  Secret       : <Set>\n  Context      : \n"
    "  Parking lot  : \n  Mailbox      : \n  Dynamic      : No\n  Callnum limit: 0\n  Calltoken req: No\n"
    '  Trunk        : Yes\n  Encryption   : (aes128,keyrotate)\n  Callerid     : "Bob B" <200>\n'
    "  Expire       : -1\n  ACL          : No\n  Addr->IP     : 127.0.0.1 Port 4569\n"
    "  Defaddr->IP  : (null) Port (null)\n  Username     : bobuser\n"
    "  Codecs       : (g723|gsm|ulaw|alaw|g726aal2|adpcm|slin|lpc10|g729|speex|ilbc|g726|g722|siren7|siren14|slin16)\n"
    "  Codec Order  : (ulaw|alaw|siren14|siren7|g722|slin16|slin|g726|g726aal2|adpcm|gsm|ilbc|speex|lpc10|g729|g723)\n"
    "  Status       : OK (1 ms)\n"
    "  Qualify      : every 60000ms when OK, every 10000ms when UNREACHABLE (sample smoothing Off)\n\n"
)


def test_show_peers():
    assert parse_peers(PEERS) == [
        PeerRow(
            "bob-with-a-long", "127.0.0.1", False, "255.255.255.255", "4569", True, True, "OK (1 ms)", ""
        ),
        PeerRow("alice", "(null)", True, "(null)", "(null)", False, False, "Unmonitored", "Alice's phone"),
    ]


def test_show_peers_status_longer_than_its_column_pushes_the_description():
    line = PEERS.split("\n")[2].replace("Unmonitored ", "LAGGED (2500 ms) ")
    (row,) = parse_peers(line)
    assert (row.status, row.description) == ("LAGGED (2500 ms)", "Alice's phone")


def test_show_peers_refuses_other_text():
    with pytest.raises(ValueError, match="not an 'iax2 show peers' line"):
        parse_peers("No such command 'iax2 show peers'\n")


def test_show_users():
    users = parse_users(USERS)
    assert users == [
        UserRow("carol", "", "k1:k2", 4, "c1", True, "Caller"),
        UserRow("alice", "abc", "", 2, "default", False, "Host"),
    ]
    assert users[0].auth == ["rsa"] and users[1].auth == ["md5"]
    assert users[1].masked().secret == "********" and users[0].masked().secret == ""


def test_show_users_without_secret():
    line = "guest            -no secret-           000000000000002  public           No     Host \n"
    assert parse_users(line)[0].secret == ""


def test_show_peer():
    detail = parse_peer(PEER)
    assert detail.name == "bob-with-a-long-name"
    assert detail["Encryption"] == "(aes128,keyrotate)"
    assert detail["Callerid"] == '"Bob B" <200>'
    assert detail["Addr->IP"] == "127.0.0.1 Port 4569"
    assert detail["Description"] == ""
    assert list(detail.fields)[:3] == ["Name", "Description", "Secret"]
    assert parse_peer("Peer nobody not found.\n\n") is None


def test_show_registry():
    assert parse_registry(REGISTRY) == [
        RegistryRow("127.0.0.1:4571", False, "averyveryl", "<Unregistered>", 60, "Request Sent"),
        RegistryRow("127.0.0.1:4570", False, "alice", "<Unregistered>", 60, "Request Sent"),
    ]


def test_keys_show_with_a_name_longer_than_its_column():
    assert parse_keys(KEYS) == [
        KeyRow("k1", "PRIVATE", "[Loaded]", "0965e7a8f0dc3d779ed62876dd32d4b2"),
        KeyRow("averyveryverylongkeyname", "PRIVATE", "[Needs Passcode]", "c1d541ee04aa5dda7e42a627e28a52ff"),
        KeyRow("k1", "PUBLIC", "[Loaded]", "eb721fd01363d9f4821fe3682207b93f"),
    ]
    assert [k.loaded for k in parse_keys(KEYS)] == [True, False, True]


def test_matches_skip_the_common_prefix_asterisk_prints_first():
    assert parse_matches(" alice bob-with-a-long-name _EOF_") == ["alice", "bob-with-a-long-name"]
    assert parse_matches("p p1 p10 p2 _EOF_") == ["p1", "p10", "p2"]
    assert parse_matches("alice alice _EOF_") == ["alice"]
    assert parse_matches("_EOF_") == []


def test_parse_channels_reads_core_show_channels_concise():
    text = (
        "IAX2/alice-8088!from-alice!100!1!Ring!Echo!!!!!3!0!!1796019782.0\n"
        "IAX2/127.0.0.1:4570-913!from-tie-a!100!1!Up!Dial!IAX2/x!y,20!200!acct!!3!12!bridge-1!1796019783.3\n"
    )
    first, second = parse_channels(text)
    assert (first.name, first.context, first.exten, first.priority, first.state, first.application) == (
        "IAX2/alice-8088",
        "from-alice",
        "100",
        1,
        "Ring",
        "Echo",
    )
    assert (second.data, second.caller_id, second.account_code, second.duration, second.unique_id) == (
        "IAX2/x!y,20",
        "200",
        "acct",
        "12",
        "1796019783.3",
    )
    assert parse_channels("\n") == []
    with pytest.raises(ValueError, match="not a 'core show channels concise' line"):
        parse_channels("Channel  Location  State\n")
