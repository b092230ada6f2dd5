"""The call and registration simulator for a stored host: what ``peers.iaxconf.simulate`` needs,
read from the database (the host's document as the exporter builds it, what the key store
holds, the dialplan's contexts when known). Read side only: a simulation writes nothing, so the
pages, ``iax_simulate`` and the API run it for viewers too.

``fix_target(host, fix)`` says where the suggested change is made: the URL name, its arguments
and the field anchor (``#row-<directive>``) of the form that edits it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .exporter import build_document, dialplan_contexts
from .iaxconf import Document, KeyInfo
from .iaxconf.simulate import Call, Fix, Registration, Result, call_on, register_on, site
from .models import Endpoint, Host
from .policy import key_info


def call_inputs(host: Host) -> tuple[Document, dict[str, KeyInfo], list[str] | None]:
    """(document, keys, contexts) of a host: what the simulator reads."""
    document, _, _ = build_document(host)
    return document, key_info(), dialplan_contexts(host)


def simulate_call(host: Host, call: Call) -> Result:
    document, keys, contexts = call_inputs(host)
    return call_on(site(document, keys=keys, contexts=contexts), call)


def simulate_registration(host: Host, registration: Registration) -> Result:
    document, keys, contexts = call_inputs(host)
    return register_on(site(document, keys=keys, contexts=contexts), registration)


@dataclass(frozen=True)
class FixTarget:
    url_name: str  # peers:endpoint-edit, peers:general-edit, peers:limit-list
    args: tuple
    anchor: str  # "#row-permit" or ""


def fix_target(host: Host, fix: Fix | None) -> FixTarget | None:
    """The form where ``fix`` is made, or None (a change on the calling side, or a new section)."""
    if fix is None or not fix.section:
        return None
    anchor = f"#row-{fix.directive.lower()}" if fix.directive else ""
    if fix.section.lower() == "general":
        return FixTarget("peers:general-edit", (host.name,), anchor)
    if fix.section.lower() == "callnumberlimits":
        return FixTarget("peers:limit-list", (host.name,), "")
    pk = Endpoint.objects.filter(host=host, name=fix.section).values_list("pk", flat=True).first()
    if pk is None:
        return None
    return FixTarget("peers:endpoint-edit", (host.name, pk), anchor)
