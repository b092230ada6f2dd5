"""Writes of RSA keys (shared by every host): store generated or uploaded material, delete."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from .. import audit, policy
from ..keys import KeyMaterial, KeyProblem, check_name
from ..models import Endpoint, Key, Registration
from .core import Refused, check_version, locked, record_deleted, record_saved


def _refusal(problem: KeyProblem, name: str, code: str = "invalid-key") -> Refused:
    return Refused([policy.finding(code, "", problem.message, part=problem.field, value=name)])


def store_key(
    name: str,
    material: KeyMaterial,
    *,
    key: Key | None = None,
    keep_private: bool = False,
    actor,
    expected_version: int | None = None,
    batch=None,
    message: str = "",
) -> Key:
    """Store key material under ``name``: a new key, a placeholder an import created (no public
    part yet) filled in, or ``key`` replaced. ``keep_private`` keeps ``key``'s private part when
    the material has none (private parts are write-only). ``material`` comes from
    ``peers.keys.read`` or ``peers.keys.generate``, which check it the way res_crypto would."""
    try:
        check_name(name)
    except KeyProblem as exc:
        raise _refusal(exc, name) from None
    with transaction.atomic():
        existing = Key.objects.select_for_update().filter(name=name).first()
        if key is not None:
            key = locked(Key, key.pk)
            check_version(key, expected_version, f"key {key.name}")
            if existing is not None and existing.pk != key.pk:
                raise _refusal(KeyProblem("name", f"a key named {name} exists already"), name, "key-exists")
            if name != key.name and _used(key):
                raise _refusal(
                    KeyProblem("name", f"key {key.name} is in use; it cannot be renamed"), name, "key-in-use"
                )
        elif existing is not None:
            if existing.public_pem:
                raise _refusal(KeyProblem("name", f"a key named {name} exists already"), name, "key-exists")
            key = existing  # a placeholder an import made: filled in now
        before = audit.state(key) if key is not None else None
        key = key or Key()
        key.name = name
        key.public_pem, key.bits, key.fingerprint = material.public_pem, material.bits, material.fingerprint
        if material.private_pem or not keep_private:
            key.private_pem, key.private_encrypted = material.private_pem, material.private_encrypted
        key.save()
        record_saved(key, before, host=None, actor=actor, batch=batch, message=message)
        return key


def _used(key: Key) -> bool:
    return (
        Endpoint.objects.filter(Q(outkey=key) | Q(inkey_links__key=key)).exists()
        or Registration.objects.filter(key=key).exists()
    )


def delete_key(
    key: Key, *, actor, expected_version: int | None = None, batch=None, message: str = ""
) -> None:
    """Refused while an endpoint or registration refers to the key."""
    with transaction.atomic():
        key = locked(Key, key.pk)
        check_version(key, expected_version, f"key {key.name}")
        if _used(key):
            raise _refusal(
                KeyProblem("name", f"key {key.name} is still used; remove it from those sections first"),
                key.name,
                "key-in-use",
            )
        gone = audit.object_state(key)
        key.delete()
        record_deleted(gone, host=None, actor=actor, batch=batch, message=message)
