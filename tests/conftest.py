from __future__ import annotations

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
