"""Writes of peers, users, friends and templates: save (create or replace the content), delete,
and reveal a secret. Each is one transaction: the host row locked, the object's version checked,
the section policy applied, the rows written, the history recorded."""

from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Lower

from .. import audit, policy
from ..exporter import endpoint_section
from ..iaxconf import Section
from ..models import Endpoint, Host, Key
from . import storage
from .core import Refused, check_version, lock_host, locked, record_deleted, record_revealed, record_saved


def with_current_secrets(
    section: Section, endpoint: Endpoint | None, *, stored: Section | None = None
) -> Section:
    """Secrets are write-only: a save that gives no secret line (and does not clear it) keeps the
    endpoint's stored secret lines. Returns the section with them added when that applies.
    ``stored``: the endpoint's section when the caller has read it already."""
    if endpoint is None or any(e.name.lower() == storage.SECRET for e in section.entries):
        return section
    stored = stored if stored is not None else endpoint_section(endpoint)
    kept = [e for e in stored.entries if e.name.lower() == storage.SECRET]
    if not kept:
        return section
    return Section(
        name=section.name,
        entries=list(section.entries) + kept,
        is_template=section.is_template,
        bases=list(section.bases),
        comments=list(section.comments),
    )


def save_endpoint(
    host: Host,
    section: Section,
    *,
    endpoint: Endpoint | None = None,
    kind: str | None = None,
    actor,
    expected_version: int | None = None,
    position: int | None = None,
    batch=None,
    message: str = "",
) -> Endpoint:
    """Create an endpoint or template from ``section`` (``endpoint`` None), or replace the content
    of ``endpoint``. ``kind`` is its type= (peer, user or friend); None takes it from the section
    or what it inherits. Refused (nothing written) when the section policy refuses the save."""
    with transaction.atomic():
        host = lock_host(host)
        if endpoint is not None:
            endpoint = locked(Endpoint, endpoint.pk)
            check_version(endpoint, expected_version, f"[{endpoint.name}]")
        verdict = policy.endpoint_verdict(host, section, endpoint=endpoint)
        if not verdict.allowed:
            raise Refused(verdict.introduced)
        data = storage.split_entries(section.entries)
        keys = {k.name: k for k in Key.objects.filter(name__in=storage.key_names(data))}
        before = audit.state(endpoint) if endpoint is not None else None
        bases = _bases(host, section, exclude=endpoint.pk if endpoint is not None else None)
        if kind is None:
            kind = data.kind or ("" if section.is_template else storage.inherited_kind(bases))
        if position is None:
            position = endpoint.position if endpoint is not None else storage.next_position(host.endpoints)
        endpoint = storage.write_endpoint(
            endpoint or Endpoint(host=host),
            section,
            data,
            kind=kind,
            position=position,
            keys=keys,
            bases=bases,
        )
        record_saved(endpoint, before, host=host, actor=actor, batch=batch, message=message)
        return endpoint


def _bases(host: Host, section: Section, *, exclude: int | None) -> list[Endpoint]:
    if not section.bases:
        return []
    found = host.endpoints.annotate(lowered=Lower("name")).filter(
        lowered__in=[b.lower() for b in section.bases]
    )
    by_name = {e.name.lower(): e for e in found.exclude(pk=exclude)}
    return [by_name[b.lower()] for b in section.bases]  # the policy has refused unknown ones


def delete_endpoint(
    endpoint: Endpoint, *, actor, expected_version: int | None = None, batch=None, message: str = ""
) -> None:
    """Delete an endpoint or template. Refused while other sections inherit from it."""
    with transaction.atomic():
        lock_host(endpoint.host)
        endpoint = locked(Endpoint, endpoint.pk)
        check_version(endpoint, expected_version, f"[{endpoint.name}]")
        derived = list(Endpoint.objects.filter(base_links__base=endpoint).values_list("name", flat=True))
        if derived:
            raise Refused(
                [
                    policy.finding(
                        "base-in-use",
                        endpoint.name,
                        f"[{endpoint.name}] is still inherited by {', '.join(f'[{n}]' for n in derived)}; change those first",
                        part="name",
                    )
                ]
            )
        gone = audit.object_state(endpoint)
        storage.delete_endpoint_rows([endpoint.pk])
        record_deleted(gone, host=endpoint.host, actor=actor, batch=batch, message=message)


REVEALED = "secret revealed"


def reveal_secrets(endpoint: Endpoint, *, actor) -> list[str]:
    """The endpoint's secret lines in clear, once, with a "reveal" row in its history (nothing
    else is changed, and its version stays)."""
    with transaction.atomic():
        secrets = [e.value for e in endpoint_section(endpoint).entries if e.name.lower() == storage.SECRET]
        record_revealed(endpoint, host=endpoint.host, actor=actor, message=REVEALED)
    return secrets
