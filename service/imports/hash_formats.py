"""Password hashes brought by an import: the formats accepted, and the value `customer_logins` stores for each.

Only Argon2id PHC strings and bcrypt are known here, both stored as they are (logins verify them as they
stand); "auto" tells the two apart.

Placeholder: replaced by the hash-formats work (issue 13 points 1–3)
"""  # noqa: RUF002 - the issue's own words

from __future__ import annotations

import re

from service.errors import FieldError, InvalidInput

HASH_FORMATS: tuple[str, ...] = ("argon2id", "bcrypt")

_PATTERNS = {
    "argon2id": re.compile(
        r"\$argon2id\$v=19\$m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}"
    ),
    "bcrypt": re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"),
}


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput(f"passwordHash {reason}.", field_errors=(FieldError("passwordHash", reason),))


def stored_form(hash_value: str, declared_format: str) -> str:
    """The value to store for an imported hash of `declared_format` (or "auto"); InvalidInput when it is not one."""
    if declared_format == "auto":
        if any(pattern.fullmatch(hash_value) for pattern in _PATTERNS.values()):
            return hash_value
        raise _invalid("is in no known format")
    pattern = _PATTERNS.get(declared_format)
    if pattern is None:
        raise _invalid(f"format must be one of {', '.join(HASH_FORMATS)} or auto")
    if not pattern.fullmatch(hash_value):
        raise _invalid(f"is not a {declared_format} hash")
    return hash_value
