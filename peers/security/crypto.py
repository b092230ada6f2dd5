"""Encryption at rest of secrets, private keys and published revisions (AES-256-GCM).

Keys come from the ``IAXADMIN_ENCRYPTION_KEY`` setting (itself read from the environment, or from
the file named by ``IAXADMIN_ENCRYPTION_KEY_FILE``): one or more urlsafe-base64 encodings of 32
random bytes, separated by commas. The first key encrypts; every key decrypts. Rotating is:
put a new key first, run ``manage.py iax_rotate_key``, then drop the old key.

A stored value looks like ``enc1:<key id>:<urlsafe base64 of nonce + ciphertext + tag>``: the key
id (8 hex digits of a SHA-256 of the key) says which key decrypts it, so a value written with a
key that is no longer configured fails with an error naming that id instead of decrypting to
garbage. The version and key id are authenticated (associated data). ``None`` and ``""`` are
stored as they are (Asterisk treats "no line" and "empty line" differently, and the registration
check constraint compares with ""), so a dump shows which secrets are set, not what they are.

The settings are read at call time, never at import, so ``override_settings`` works.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1:"
SETTING = "IAXADMIN_ENCRYPTION_KEY"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID_HEX = 8


class EncryptionKeyError(ImproperlyConfigured):
    """No key is configured, a key is malformed, or a value needs a key that is not configured."""


class DecryptionError(ValueError):
    """A stored value does not decrypt with the key its id names (tampered or corrupt)."""


def generate_key() -> str:
    """A new random key, in the form IAXADMIN_ENCRYPTION_KEY takes."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def key_id(raw_key: bytes) -> str:
    return hashlib.sha256(b"iaxadmin-encryption-key-id\0" + raw_key).hexdigest()[:_KEY_ID_HEX]


@lru_cache(maxsize=8)
def parse_keys(value: str) -> tuple[tuple[str, AESGCM], ...]:
    """((key id, cipher), ...) for a comma-separated key list, first key first. Raises
    EncryptionKeyError (naming the variable, never the key) for an empty or malformed list."""
    keys = []
    for number, item in enumerate((p.strip() for p in (value or "").split(",")), start=1):
        if not item:
            continue
        try:
            raw = base64.urlsafe_b64decode(item.encode("ascii") + b"=" * (-len(item) % 4))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != KEY_BYTES:
            raise EncryptionKeyError(
                f"{SETTING}: key {number} is not the urlsafe-base64 encoding of {KEY_BYTES} bytes "
                "(generate one with: python -c 'from peers.security.crypto import generate_key; print(generate_key())')"
            )
        keys.append((key_id(raw), AESGCM(raw)))
    if not keys:
        raise EncryptionKeyError(
            f"{SETTING} is not set: secrets and private keys cannot be encrypted or read. Set it (or "
            f"{SETTING}_FILE, a file holding it); in development `make run` (or `make migrate`) creates "
            ".local/encryption.key once and every command finds it there"
        )
    ids = [k for k, _ in keys]
    if len(set(ids)) != len(ids):
        raise EncryptionKeyError(f"{SETTING} lists the same key twice")
    return tuple(keys)


def _configured() -> tuple[tuple[str, AESGCM], ...]:
    from django.conf import settings

    return parse_keys(getattr(settings, SETTING, "") or "")


def current_key_id() -> str:
    """The id of the key new values are encrypted with."""
    return _configured()[0][0]


def key_ids() -> list[str]:
    return [k for k, _ in _configured()]


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def token_key_id(token: str) -> str | None:
    """The key id of an encrypted value (None for anything else)."""
    if not is_encrypted(token):
        return None
    return token[len(PREFIX) : len(PREFIX) + _KEY_ID_HEX]


def encrypt(text: str | None) -> str | None:
    """The stored form of text: None and "" stay as they are."""
    if text is None or text == "":
        return text
    if not isinstance(text, str):
        raise TypeError(f"encrypt() takes a str, not {type(text).__name__}")
    kid, cipher = _configured()[0]
    head = f"{PREFIX}{kid}:"
    nonce = os.urandom(NONCE_BYTES)
    sealed = cipher.encrypt(nonce, text.encode("utf-8"), head.encode("ascii"))
    return head + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str | None) -> str | None:
    """The text of a stored value. None, "" and values without the ``enc1:`` prefix (written
    before encryption was turned on, until the migration or ``iax_rotate_key`` encrypts them) are
    returned as they are."""
    if not is_encrypted(token):
        return token
    return _decrypt_with(_configured(), token)


def decryptor():
    """A fast decrypt function bound to the keys configured now, for loops over many rows."""
    keys = _configured()

    def fast(token):
        if token is None or token.__class__ is not str or not token.startswith(PREFIX):
            return token
        return _decrypt_with(keys, token)

    return fast


_HEAD = len(PREFIX) + _KEY_ID_HEX + 1  # "enc1:" + key id + ":"
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _decrypt_with(keys, token: str) -> str:
    # base64.urlsafe_b64decode() without its Python-level wrappers: an export decrypts thousands
    kid = token[len(PREFIX) : _HEAD - 1]
    if len(token) <= _HEAD or token[_HEAD - 1] != ":":
        raise DecryptionError(f"malformed encrypted value (key id {kid!r})")
    for candidate, found in keys:
        if candidate == kid:
            cipher = found
            break
    else:
        raise EncryptionKeyError(
            f"a stored value is encrypted with key {kid}, which is not in {SETTING} "
            f"(configured: {', '.join(k for k, _ in keys)}); add that key back to read it"
        )
    try:
        blob = binascii.a2b_base64(token[_HEAD:].encode("ascii").translate(_URLSAFE))
        text = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], token[:_HEAD].encode("ascii"))
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError(
            f"a stored value encrypted with key {kid} does not decrypt (corrupt or tampered)"
        ) from exc
    return text.decode("utf-8")
