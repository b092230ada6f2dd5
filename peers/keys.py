"""RSA keys for IAX2 (res_crypto): generating, reading and checking PEM files.

res_crypto only loads 1024-bit RSA keys; public keys must be PEM "PUBLIC KEY"
(SubjectPublicKeyInfo), private keys any PEM OpenSSL reads (we write PKCS#8, encrypted with the
admin's passphrase when one is given). Asterisk reads them from its key directory by name,
without the .pub/.key suffix (inkeys=, outkey=, register [key]).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .iaxconf import values

KEY_BITS = 1024
PUBLIC_EXPONENT = 65537


class KeyProblem(ValueError):
    """A key that res_crypto would refuse. ``field`` is public_pem or private_pem."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class KeyMaterial:
    public_pem: str
    private_pem: str
    private_encrypted: bool
    bits: int
    fingerprint: str


def fingerprint(public_pem: str) -> str:
    """MD5 of the .pub file as written, which is what `keys show` prints."""
    return hashlib.md5(public_pem.encode("ascii"), usedforsecurity=False).hexdigest()


def _public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def generate(passphrase: str | None) -> KeyMaterial:
    """A new 1024-bit pair; the private key encrypted with the passphrase, or not when None."""
    private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    else:
        encryption = serialization.NoEncryption()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = _public_pem(private.public_key())
    return KeyMaterial(
        public_pem, private_pem.decode("ascii"), bool(passphrase), KEY_BITS, fingerprint(public_pem)
    )


def check_name(name: str) -> None:
    try:
        values.key_name(name)
    except values.Invalid as exc:
        raise KeyProblem("name", f"key name {name!r} {exc.message}") from None


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\n[\s\S]*?-----END \1-----\n?")
PRIVATE_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY")


def _one_block(text: str, field: str, what: str, labels: tuple[str, ...]) -> str:
    """The text when it is exactly one PEM block with one of ``labels`` and nothing else; a
    KeyProblem saying what it holds instead otherwise."""
    if not text.isascii():
        raise KeyProblem(field, f"the {what} is not PEM text (it has characters that are not ASCII)")
    blocks = list(_PEM_BLOCK.finditer(text))
    found = [b.group(1) for b in blocks]
    rest = _PEM_BLOCK.sub("", text).strip()
    if not blocks:
        raise KeyProblem(
            field, f"the {what} is not a PEM key: a '-----BEGIN {labels[0]}-----' block is expected"
        )
    if len(blocks) > 1 or rest:
        holds = ", ".join(f"'{label}'" for label in found) + (" and other text" if rest else "")
        raise KeyProblem(
            field,
            f"the {what} file must hold exactly one '{labels[0]}' block and nothing else; it holds {holds}",
        )
    if found[0] not in labels:
        if found[0] == "RSA PUBLIC KEY":
            raise KeyProblem(
                field,
                "the public key is PKCS#1 ('RSA PUBLIC KEY'); res_crypto reads 'PUBLIC KEY': "
                "convert it with openssl rsa -RSAPublicKey_in -pubout",
            )
        raise KeyProblem(field, f"the {what} is a '{found[0]}' block, not '{labels[0]}'")
    return text


def read(public_pem: str, private_pem: str = "", passphrase: str | None = None) -> KeyMaterial:
    """Check uploaded PEM text the way res_crypto would and describe it. The public part is
    exactly one 'PUBLIC KEY' block (a private key pasted after it is refused, never stored as the
    .pub), the private part exactly one private key block."""
    public_pem = _one_block(
        public_pem.replace("\r\n", "\n").strip() + "\n", "public_pem", "public key", ("PUBLIC KEY",)
    )
    try:
        public = serialization.load_pem_public_key(public_pem.encode("ascii"))
    except ValueError as exc:
        raise KeyProblem("public_pem", f"the public key cannot be read: {exc}") from None
    if not isinstance(public, rsa.RSAPublicKey):
        raise KeyProblem("public_pem", "the public key is not an RSA key")
    if public.key_size != KEY_BITS:
        raise KeyProblem(
            "public_pem", f"the key has {public.key_size} bits; res_crypto only loads 1024-bit RSA keys"
        )
    encrypted = False
    if private_pem.strip():
        private_pem = _one_block(
            private_pem.replace("\r\n", "\n").strip() + "\n", "private_pem", "private key", PRIVATE_LABELS
        )
        encrypted = "ENCRYPTED" in private_pem
        if encrypted and not passphrase:
            raise KeyProblem(
                "private_pem", "the private key is encrypted; give its passphrase so it can be checked"
            )
        try:
            private = serialization.load_pem_private_key(
                private_pem.encode("ascii"),
                password=passphrase.encode("utf-8") if encrypted and passphrase else None,
            )
        except (ValueError, TypeError) as exc:
            raise KeyProblem("private_pem", f"the private key cannot be read: {exc}") from None
        if not isinstance(private, rsa.RSAPrivateKey):
            raise KeyProblem("private_pem", "the private key is not an RSA key")
        if private.public_key().public_numbers() != public.public_numbers():
            raise KeyProblem("private_pem", "the private key does not belong to this public key")
    else:
        private_pem = ""
    return KeyMaterial(public_pem, private_pem, encrypted, public.key_size, fingerprint(public_pem))
