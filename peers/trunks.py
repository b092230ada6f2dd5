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


def registration_links(host: Host) -> dict[int, RegistrationLinks]:
    """For every register line of the host: its local and far peers."""
    registrations = list(Registration.objects.filter(host=host).select_related("key"))
    if not registrations:
        return {}
    document, _, _ = build_document(host)
    expanded = expand(document)
    ids = {
        name.lower(): pk for name, pk in host.endpoints.filter(is_template=False).values_list("name", "id")
    }
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
        for name, entries in expanded.items():
            if name.lower() in ids and trunks.same_account(register, entries):
                found.local.append(PeerRef(host.name, name, ids[name.lower()]))
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
