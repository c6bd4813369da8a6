"""Security primitives: random tokens, their digests, constant-time comparison, secrets sealed at rest."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_BYTES = 32  # 256 bits of randomness in every opaque token and secret we issue


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token: what we store and look up instead of the token itself.

    A fast hash is right here (unlike for passwords): tokens carry 256 random bits, so there is
    nothing to brute-force, and lookups stay O(1) on the hot path.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


class SecretBox:
    """Encryption at rest for secrets the service must read back (signing keys, TOTP seeds).

    AES-256-GCM under GATEHOUSE_SECRETS_KEY; the row id is bound in as associated data, so a sealed
    value copied onto another row does not open. Values written before a key was configured carry no
    prefix and are read as they are.
    """

    PREFIX = "enc:v1:"

    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key is not None else None

    @property
    def enabled(self) -> bool:
        return self._aead is not None

    def seal(self, plaintext: str, context: str) -> str:
        if self._aead is None:
            return plaintext
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return self.PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, context: str) -> str:
        if not stored.startswith(self.PREFIX):
            return stored
        if self._aead is None:
            raise RuntimeError("a sealed secret was found but GATEHOUSE_SECRETS_KEY is not set")
        raw = base64.urlsafe_b64decode(stored[len(self.PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()


def parse_secrets_key(raw: str) -> bytes:
    """32 bytes, base64 (standard or URL-safe alphabet)."""
    try:
        key = base64.urlsafe_b64decode(raw.replace("+", "-").replace("/", "_") + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) != 32:
        raise ValueError("not 32 bytes")
    return key
