"""Which family a stored hash belongs to, told by its shape alone; and checking the ones stored as they came."""

from __future__ import annotations

import re

from service.platform.legacy_hashes import bcrypt_hashes, magento, pbkdf2, wrapped

_MAGENTO = re.compile(r"[0-9a-fA-F]+(:[^:]*(:.*)?)?", re.DOTALL)
# By prefix, the first that matches: each family's hashes start in a way no other family's do.
_PREFIXES = (
    (wrapped.PREFIX, "wrapped"),
    ("$argon2id$", "argon2"),
    ("$argon2i$", "argon2"),
    ("$2a$", "bcrypt"),
    ("$2b$", "bcrypt"),
    ("$2y$", "bcrypt"),
    (bcrypt_hashes.WORDPRESS_PREFIX + "$", "wordpress"),
    ("$P$", "phpass"),
    ("$H$", "phpass"),
    ("pbkdf2_", "pbkdf2"),
    ("$pbkdf2-", "pbkdf2"),
)


def identify(value: str) -> str | None:
    """`wrapped`, `argon2`, `bcrypt`, `wordpress`, `phpass`, `pbkdf2`, `magento2` (with versions), `magento1`
    (a hex digest, maybe with a salt), or None. The family's own parser decides whether the hash is valid."""
    for prefix, family in _PREFIXES:
        if value.startswith(prefix):
            return family
    match = _MAGENTO.fullmatch(value)
    if match is None:
        return None
    return "magento2" if match[2] else "magento1"


def verify(stored: str, password: str) -> bool:
    """Whether `password` matches a hash stored as another shop made it (bcrypt, PBKDF2, Magento's Argon2
    chains). Argon2 PHC strings and wrapped hashes end in an Argon2 check, which `Passwords` makes."""
    family = identify(stored)
    try:
        if family in ("bcrypt", "wordpress"):
            return bcrypt_hashes.verify(bcrypt_hashes.parse(stored), password)
        if family == "pbkdf2":
            return pbkdf2.verify(pbkdf2.parse(stored), password)
        if family in ("magento2", "magento1"):
            return magento.verify(magento.parse(stored), password)
    except ValueError:  # UnusableHash, or a library refusing what it was given
        return False
    return False
