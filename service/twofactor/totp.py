"""RFC 6238 time-based one-time passwords (HOTP, RFC 4226, over 30-second steps)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommended length


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    return base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8), casefold=True)


def hotp(key: bytes, counter: int, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    digest = hmac.new(key, struct.pack(">Q", counter), algorithm).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(key: bytes, at: float, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    return hotp(key, int(at) // STEP_SECONDS, digits, algorithm)


def current_step(at: float | None = None) -> int:
    return int(time.time() if at is None else at) // STEP_SECONDS


def matching_step(secret_b32: str, code: str, after_step: int, at: float | None = None) -> int | None:
    """The step (now, or one either side) whose code is `code` and which is later than `after_step`.

    Returning the step lets the caller spend it, so each code works once.
    """
    if not (len(code) == DIGITS and code.isascii() and code.isdigit()):
        return None
    key = _key(secret_b32)
    now = current_step(at)
    found = None
    for step in (now - 1, now, now + 1):
        # Compare every candidate in constant time; do not stop at the first match.
        if hmac.compare_digest(hotp(key, step), code) and step > after_step:
            found = step
    return found


def provisioning_uri(secret_b32: str, account_name: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account_name}")
    query = urlencode(
        {"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def hash_recovery_code(account_id: int, code: str) -> str:
    normalized = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(f"{account_id}:{normalized}".encode()).hexdigest()


def new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(8)).decode().rstrip("=").lower()[:12]  # 60 bits
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}"
