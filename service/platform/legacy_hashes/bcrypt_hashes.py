"""bcrypt, as PHP's `password_hash` makes it (`$2y$`) and as others do (`$2a$`, `$2b$`), and WordPress 6.8's `$wp$2y$`.

WordPress 6.8 and later store `$wp` + bcrypt of base64(HMAC-SHA384(key "wp-sha384", password)), so that
passwords longer than bcrypt's 72 bytes keep all their characters (`wp_check_password`). Checked with
the `bcrypt` package: `hashpw` with the stored hash as its salt makes the hash again, which is then
compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

import bcrypt

from service.platform.legacy_hashes import UnusableHash, secret_bytes

WORDPRESS_PREFIX = "$wp"
# The salt's 22nd character carries 2 bits that a canonical salt (PHP's included) leaves at zero: [.Oeu].
_BCRYPT = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{21}[.Oeu][./A-Za-z0-9]{31}")
MAX_COST = 14  # about a second per login on one core: PHP's default is 10 (12 since PHP 8.4)
_BCRYPT_MAX_BYTES = 72


@dataclass(frozen=True, slots=True)
class BcryptHash:
    bcrypt: bytes  # the bcrypt string itself, without WordPress's prefix
    wordpress: bool


def parse(value: str) -> BcryptHash:
    wordpress = value.startswith(WORDPRESS_PREFIX + "$")
    inner = value.removeprefix(WORDPRESS_PREFIX) if wordpress else value
    match = _BCRYPT.fullmatch(inner)
    if match is None:
        raise UnusableHash("a bcrypt hash is $2a$, $2b$ or $2y$, a two-digit cost and 53 characters of salt and hash")
    if not 4 <= int(match[1]) <= MAX_COST:
        raise UnusableHash(f"the bcrypt cost is outside 4..{MAX_COST}")
    return BcryptHash(inner.encode("ascii"), wordpress)


def verify(parsed: BcryptHash, password: str) -> bool:
    typed = _wordpress_prehash(password) if parsed.wordpress else secret_bytes(password)
    # Every bcrypt reads only the first 72 bytes (PHP's password_verify silently); the package refuses more.
    remade = bcrypt.hashpw(typed[:_BCRYPT_MAX_BYTES], parsed.bcrypt)
    return hmac.compare_digest(remade, parsed.bcrypt)


def _wordpress_prehash(password: str) -> bytes:
    return base64.b64encode(hmac.new(b"wp-sha384", secret_bytes(password), hashlib.sha384).digest())
