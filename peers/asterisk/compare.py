"""Compare two loads of a configuration in real Asterisk: does our export mean the same as the
original? (No Django here.)

``meaning(snapshot)`` keeps what a load says about the configuration and drops what depends on the
moment: a peer's qualify status and round-trip time, a registration's state and the address the
server saw. ``differences(original, exported)`` lists, as sentences, every peer, user, per-peer
detail, registration and key that differs; ``new_problems(original, exported)`` the WARNING and
ERROR lines the export's load logged that the original's did not (line numbers and the runtime's
paths aside, since an export renumbers its lines).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict

from .sandbox import LogLine, Snapshot

VOLATILE_DETAILS = frozenset({"Status"})
_LINE_NUMBER = re.compile(r"\b(line|lines|at line|on line)\s+\d+", re.IGNORECASE)
# The sandbox has no DNS: a host name that is not in /etc/hosts cannot resolve there.
_RESOLUTION = re.compile(
    r"getaddrinfo\(.*(Temporary failure in name resolution|Name or service not known|No address associated)"
    r"|Unable to lookup '|Host '.*' not found|is not a valid IP address or hostname",
)


def meaning(snapshot: Snapshot) -> dict:
    """What chan_iax2 and res_crypto loaded, without what changes from one moment to the next."""
    peers = sorted(
        (row.name, row.host, row.dynamic, row.mask, row.port, row.trunk, row.encryption, row.description)
        for row in snapshot.peers
    )
    users = sorted(tuple(asdict(row).values()) for row in snapshot.users)
    details = {
        name: {label: value for label, value in detail.fields.items() if label not in VOLATILE_DETAILS}
        for name, detail in snapshot.peer_details.items()
    }
    registry = sorted((row.host, row.dnsmgr, row.username, row.refresh) for row in snapshot.registry)
    keys = sorted((row.name, row.type, row.status, row.md5) for row in snapshot.keys)
    return {"peers": peers, "users": users, "details": details, "registry": registry, "keys": keys}


def differences(original: Snapshot, exported: Snapshot) -> list[str]:
    """Every way the two loads differ, one sentence each (empty: the same meaning)."""
    a, b = meaning(original), meaning(exported)
    found: list[str] = []
    for part in ("peers", "users", "registry", "keys"):
        only_a = Counter(a[part]) - Counter(b[part])
        only_b = Counter(b[part]) - Counter(a[part])
        for row in sorted(only_a):
            found.append(f"{part}: only in the original: {row}")
        for row in sorted(only_b):
            found.append(f"{part}: only in the export: {row}")
    for name in sorted(a["details"].keys() | b["details"].keys()):
        if name not in b["details"]:
            found.append(f"peer {name}: missing from the export")
        elif name not in a["details"]:
            found.append(f"peer {name}: not in the original")
        else:
            left, right = a["details"][name], b["details"][name]
            for label in left.keys() | right.keys():
                if left.get(label) != right.get(label):
                    found.append(
                        f"peer {name}: {label} is {left.get(label)!r} in the original, {right.get(label)!r} in the export"
                    )
    return found


def normalised(line: LogLine) -> str:
    """A log line without what renumbering the file changes."""
    return _LINE_NUMBER.sub(lambda m: m.group(1) + " N", str(line))


def is_resolution_failure(line: LogLine) -> bool:
    """A host name that cannot be resolved in the sandbox (it has no DNS), not a config problem."""
    return bool(_RESOLUTION.search(line.message))


def new_problems(original: Snapshot, exported: Snapshot) -> list[str]:
    """WARNING/ERROR lines of the export's load that the original's load did not log (as many
    times), line numbers aside."""
    before = Counter(normalised(line) for line in original.problems)
    after = Counter(normalised(line) for line in exported.problems)
    return sorted((after - before).elements())
