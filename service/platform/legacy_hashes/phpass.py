"""Portable phpass, as WordPress (`$P$`) and phpBB (`$H$`) store it: 2^n rounds of salted MD5.

That is far weaker than Argon2id, so it is never stored as it is: an import keeps the setting (its
`$P$`, rounds and salt) and Argon2id of the checksum (`wrapped`). The checksum is computed by libpass
(the maintained fork of passlib, imported as `passlib`).
"""

from __future__ import annotations

import re

from passlib.hash import phpass as libpass_phpass

from service.platform.legacy_hashes import UnusableHash

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PHPASS = re.compile(r"(\$([PH])\$([./0-9A-Za-z])([./0-9A-Za-z]{8}))([./0-9A-Za-z]{22})")
# WordPress uses 2^13 rounds and phpBB 2^11; libpass computes them in Python, so 2^18 is about 0.1 s.
_ROUNDS_LOG2 = range(7, 19)
# WordPress refuses longer passwords too: each round hashes the whole password again.
_MAX_PASSWORD_LENGTH = 4096


def split(value: str) -> tuple[str, str]:
    """The setting (`$P$`, the rounds character and the salt) and the checksum of a phpass hash."""
    match = _PHPASS.fullmatch(value)
    if match is None:
        raise UnusableHash("a phpass hash is $P$ or $H$, a rounds character, 8 characters of salt and 22 of hash")
    if _ITOA64.index(match[3]) not in _ROUNDS_LOG2:
        raise UnusableHash(f"the phpass rounds are outside 2^{_ROUNDS_LOG2.start}..2^{_ROUNDS_LOG2.stop - 1}")
    return match[1], match[5]


def checksum_for(setting: str, password: str) -> str:
    """The checksum a phpass hash with this setting holds when `password` is right."""
    if len(password) > _MAX_PASSWORD_LENGTH:
        return ""  # matches nothing, and the Argon2id check that follows still takes its time
    ident, rounds, salt = setting[1], _ITOA64.index(setting[3]), setting[4:]
    remade = libpass_phpass.using(ident=ident, rounds=rounds, salt=salt).hash(password)
    return str(remade[len(setting) :])
