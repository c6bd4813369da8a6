"""PBKDF2-SHA256 and PBKDF2-SHA512 in the layouts shops store them.

- Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (the salt's UTF-8 text is the salt;
  `pbkdf2_sha512$` in the same layout, as custom Django hashers write it);
- the PHC string `$pbkdf2-sha256$i=<iterations>[,l=<length>]$<B64 salt>$<B64 hash>`;
- passlib's (and libpass's) `$pbkdf2-sha256$<iterations>$<salt>$<hash>`, its base64 with `.` for `+`.

The key derivation is Python's `hashlib.pbkdf2_hmac` (OpenSSL's PKCS5_PBKDF2_HMAC); only the layouts
are read here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

from service.platform.legacy_hashes import UnusableHash, secret_bytes

_DJANGO = re.compile(r"pbkdf2_(sha256|sha512)\$(\d{1,8})\$([^$]*)\$([A-Za-z0-9+/]+={0,2})")
_PHC = re.compile(r"\$pbkdf2-(sha256|sha512)\$(?:i=)?(\d{1,8})(?:,l=\d{1,3})?\$([A-Za-z0-9+/.]*)\$([A-Za-z0-9+/.]+)")
# About 0.75 s per login on one core for SHA-256; Django 5.2 uses 1,000,000.
MAX_ITERATIONS = 3_000_000
_DIGEST_BYTES = {"sha256": 32, "sha512": 64}


@dataclass(frozen=True, slots=True)
class Pbkdf2Hash:
    digest: str
    iterations: int
    salt: bytes
    expected: bytes


def parse(value: str) -> Pbkdf2Hash:
    django, phc = _DJANGO.fullmatch(value), _PHC.fullmatch(value)
    match = django or phc
    if match is None:
        raise UnusableHash("a PBKDF2 hash is pbkdf2_sha256$... (Django) or $pbkdf2-sha256$... (PHC), or sha512")
    salt = secret_bytes(match[3]) if django else _b64(match[3])
    parsed = Pbkdf2Hash(match[1], int(match[2]), salt, _b64(match[4]))
    if not 1 <= parsed.iterations <= MAX_ITERATIONS:
        raise UnusableHash(f"the PBKDF2 iterations are outside 1..{MAX_ITERATIONS}")
    # Longer than the digest would multiply the work: PBKDF2 runs once per block of output.
    if not 16 <= len(parsed.expected) <= _DIGEST_BYTES[parsed.digest]:
        raise UnusableHash("the PBKDF2 hash is shorter than 16 bytes or longer than its digest")
    return parsed


def _b64(text: str) -> bytes:
    """Standard base64 with or without padding, or passlib's, which writes `.` for `+`."""
    stripped = text.rstrip("=").replace(".", "+")
    try:
        return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except binascii.Error:
        raise UnusableHash("the PBKDF2 salt or hash is not base64") from None


def verify(parsed: Pbkdf2Hash, password: str) -> bool:
    computed = hashlib.pbkdf2_hmac(
        parsed.digest, secret_bytes(password), parsed.salt, parsed.iterations, len(parsed.expected)
    )
    return hmac.compare_digest(computed, parsed.expected)
