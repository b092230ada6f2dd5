from __future__ import annotations

import re

import pytest

from peers import keys as rsa_keys
from peers.iaxconf import Entry, Section
from peers.models import Host, Key


def section(name: str, lines: str = "", *, template: bool = False, bases=(), comments=()) -> Section:
    """A Section from 'name=value' lines (one per line)."""
    entries = []
    for raw in lines.strip().splitlines():
        if raw.strip():
            key, _, value = raw.strip().partition("=")
            entries.append(Entry(name=key.strip(), value=value.strip()))
    return Section(
        name=name, entries=entries, is_template=template, bases=list(bases), comments=list(comments)
    )


@pytest.fixture(scope="session")
def key_material():
    """One generated 1024-bit pair per test session (generation takes a moment)."""
    return rsa_keys.generate(None)


@pytest.fixture(scope="session")
def encrypted_key_material():
    return rsa_keys.generate("s3cret-passphrase")


@pytest.fixture
def host(db) -> Host:
    return Host.objects.create(name="pbx1", description="test host")


@pytest.fixture
def make_key(db, key_material, encrypted_key_material):
    def make(name: str, *, private: bool = True, encrypted: bool = True) -> Key:
        material = encrypted_key_material if encrypted else key_material
        return Key.objects.create(
            name=name,
            public_pem=material.public_pem,
            private_pem=material.private_pem if private else "",
            private_encrypted=material.private_encrypted if private else False,
            bits=material.bits,
            fingerprint=material.fingerprint,
        )

    return make


# -------------------------------------------------------------------------------------------------
# Stored state for tests about storage and export: rows written as they are, past the section
# policy (which refuses what these tests need to store: every directive, misplaced ones included).
# Tests of the write paths call peers.services instead.


def store(host: Host, sect: Section, *, kind: str | None = None, position: int | None = None):
    """Write a section's rows as an import would (no policy, no history)."""
    from peers.models import Endpoint
    from peers.services import storage

    data = storage.split_entries(sect.entries)
    keys = {k.name: k for k in Key.objects.filter(name__in=storage.key_names(data))}
    bases = [Endpoint.objects.get(host=host, name__iexact=b) for b in sect.bases]
    if kind is None:
        kind = data.kind or ("" if sect.is_template else storage.inherited_kind(bases))
    if position is None:
        position = storage.next_position(host.endpoints)
    return storage.write_endpoint(
        Endpoint(host=host), sect, data, kind=kind, position=position, keys=keys, bases=bases
    )


def store_general(host: Host, entries, *, comment: str = ""):
    """Write [general]'s lines (no policy, no history)."""
    from peers.models import GeneralSettings
    from peers.services import storage

    general, _ = GeneralSettings.objects.get_or_create(host=host)
    general.comment = comment
    general.save()
    storage.write_general(general, entries)
    return general


def store_registration(host: Host, line: str, *, position: int = 0):
    """A Registration row from a register value (no policy, no history)."""
    from peers.importer import registration_fields
    from peers.models import Registration

    fields = registration_fields(line)
    key = Key.objects.get(name=fields.pop("key")) if fields["key"] else fields.pop("key")
    return Registration.objects.create(host=host, position=position, key=key, **fields)


def messages_of(html: str, name: str) -> str:
    """The out-of-band messages of one field in an inline check's answer."""
    found = re.search(
        rf'<div class="field-messages" id="id_{name}_messages" hx-swap-oob="true">(.*?)</div>', html, re.S
    )
    assert found, f"no messages for {name}"
    return found.group(1)
