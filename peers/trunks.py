"""Read side of trunks: which peer a register line goes with, and which register lines go with a
peer, derived from the configuration (``peers.iaxconf.trunks.same_account`` / ``registers_as``)
on every read. Nothing is stored: a link an edit breaks (another secret, port or user name)
disappears instead of pointing at a peer the line no longer authenticates as.

* The **local** peer of a register line: the peer of the same host that calls the same server as
  the same account with the same credentials (the outgoing half of the trunk).
* The **far** peer: on another host managed here, the ``host=dynamic`` peer named like the line's
  user that accepts its secret or key: the peer it authenticates as when it registers.

Secrets are compared here, on the server; only names and ids leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.functions import Lower

from .exporter import build_document
from .iaxconf import trunks
from .iaxconf.document import expand
from .models import Endpoint, EndpointBase, Host, Registration

PEER_KINDS = ("peer", "friend")


@dataclass(frozen=True)
class PeerRef:
    host: str
    name: str
    pk: int


@dataclass(frozen=True)
class RegistrationRef:
    host: str
    pk: int
    text: str  # "user@server[:port]", never the secret


@dataclass
class RegistrationLinks:
    local: list[PeerRef] = field(default_factory=list)
    far: list[PeerRef] = field(default_factory=list)


@dataclass
class EndpointLinks:
    registrations: list[RegistrationRef] = field(default_factory=list)  # this host's, same account
    registered_by: list[RegistrationRef] = field(default_factory=list)  # other hosts' lines to this peer


def _register(registration: Registration) -> trunks.Register:
    return trunks.Register(
        username=registration.username,
        secret=registration.secret,
        key=registration.key.name if registration.key_id else None,
        host=registration.remote_host,
        port=registration.remote_port,
    )


def _text(registration: Registration) -> str:
    port = f":{registration.remote_port}" if registration.remote_port else ""
    return f"{registration.username}@{registration.remote_host}{port}"


def _ancestors(ids: list[int]) -> list[int]:
    found: list[int] = []
    pending = list(ids)
    while pending:
        pending = [pk for pk in pending if pk not in found]
        found.extend(pending)
        pending = list(EndpointBase.objects.filter(endpoint_id__in=pending).values_list("base_id", flat=True))
    return found


def effective_entries(endpoints: list[Endpoint]) -> dict[int, list]:
    """id -> the endpoint's entries after inheritance, for endpoints of one host."""
    if not endpoints:
        return {}
    document, _, _ = build_document(endpoints[0].host, only=_ancestors([e.pk for e in endpoints]))
    expanded = expand(document)
    return {e.pk: expanded.get(e.name, []) for e in endpoints}


def _local_candidates(host: Host, registrations: list[Registration]) -> list[int]:
    """Ids of the host's peers that may call a server of these register lines as one of their
    users: a peer whose own host and username match, or could come from a template that sets
    them. A superset: ``same_account`` decides. Two queries, so a host of 10,000 phones that
    no register line is about costs no rendering."""
    hosts = {r.remote_host.lower() for r in registrations}
    users = {r.username for r in registrations}
    rows = list(
        Endpoint.objects.filter(host=host).values_list("id", "peer_host", "username", "is_template", "kind")
    )
    bases: dict[int, list[int]] = {}
    for endpoint_id, base_id in EndpointBase.objects.filter(endpoint__host=host).values_list(
        "endpoint_id", "base_id"
    ):
        bases.setdefault(endpoint_id, []).append(base_id)
    own = {pk: ((peer_host or "").lower() or None, username) for pk, peer_host, username, _, _ in rows}

    def reaches(pk: int, index: int, wanted: set, seen: frozenset = frozenset()) -> bool:
        value = own[pk][index]
        if value is not None:
            return value in wanted
        return any(
            b in own and b not in seen and reaches(b, index, wanted, seen | {pk}) for b in bases.get(pk, ())
        )

    return [
        pk
        for pk, _, _, is_template, kind in rows
        if not is_template and kind in PEER_KINDS and reaches(pk, 0, hosts) and reaches(pk, 1, users)
    ]


def registration_links(host: Host) -> dict[int, RegistrationLinks]:
    """For every register line of the host: its local and far peers."""
    registrations = list(Registration.objects.filter(host=host).select_related("key"))
    if not registrations:
        return {}
    local = Endpoint.objects.filter(pk__in=_local_candidates(host, registrations)).select_related("host")
    local_entries = effective_entries(list(local))
    local_names = {e.pk: e.name for e in local}
    usernames = {r.username.lower() for r in registrations}
    far_candidates = list(
        Endpoint.objects.filter(is_template=False, kind__in=PEER_KINDS)
        .exclude(host=host)
        .annotate(lowered=Lower("name"))
        .filter(lowered__in=usernames)
        .select_related("host")
        .order_by("host__name", "name")
    )
    far_entries: dict[int, list] = {}
    for other in {e.host_id for e in far_candidates}:
        far_entries.update(effective_entries([e for e in far_candidates if e.host_id == other]))
    links = {}
    for registration in registrations:
        register = _register(registration)
        found = RegistrationLinks()
        for pk in sorted(local_entries, key=lambda pk: local_names[pk].lower()):
            if trunks.same_account(register, local_entries[pk]):
                found.local.append(PeerRef(host.name, local_names[pk], pk))
        for candidate in far_candidates:
            if trunks.registers_as(register, candidate.name, far_entries[candidate.pk]):
                found.far.append(PeerRef(candidate.host.name, candidate.name, candidate.pk))
        links[registration.pk] = found
    return links


def endpoint_links(endpoint: Endpoint) -> EndpointLinks:
    """For a peer or friend: this host's register lines that use its account, and the register
    lines of other hosts managed here that authenticate as it."""
    links = EndpointLinks()
    if endpoint.is_template or endpoint.kind not in PEER_KINDS:
        return links
    entries = effective_entries([endpoint])[endpoint.pk]
    for registration in Registration.objects.filter(host=endpoint.host).select_related("key"):
        if trunks.same_account(_register(registration), entries):
            links.registrations.append(
                RegistrationRef(endpoint.host.name, registration.pk, _text(registration))
            )
    others = (
        Registration.objects.exclude(host=endpoint.host)
        .annotate(lowered=Lower("username"))
        .filter(lowered=endpoint.name.lower())
        .select_related("key", "host")
        .order_by("host__name", "position")
    )
    for registration in others:
        if trunks.registers_as(_register(registration), endpoint.name, entries):
            links.registered_by.append(
                RegistrationRef(registration.host.name, registration.pk, _text(registration))
            )
    return links
