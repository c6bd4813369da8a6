"""The password hashes an import accepts, and the form in which each is stored.

An imported account names its hash's format (`passwordHashFormat`), or `auto` to have it recognised
by its shape. Each format accepts:

- `magento2`: Magento 2's `hash:salt:version[:version...]` (`0` md5, `1` sha256, `2` and `3_32_2_67108864`
  Argon2id13, and chains such as `1:2`), and Magento 1's as migrated into Magento 2. Stored as they are
  when a step is Argon2, else wrapped.
- `magento1`: Magento 1's `md5(salt . password):salt`, its sha256 variant, or the bare digest. Wrapped.
- `bcrypt`: `$2a$`, `$2b$`, `$2y$`, cost 4 to 14. As they are.
- `argon2`: PHC strings `$argon2id$v=19$...` and `$argon2i$v=19$...`, at most 256 MiB, 10 passes, 8 lanes.
  As they are.
- `pbkdf2`: PBKDF2-SHA256 or -SHA512 in Django's `pbkdf2_sha256$...`, the PHC `$pbkdf2-sha256$i=...` or
  passlib's `$pbkdf2-sha256$...` layout, at most 3,000,000 iterations. As they are.
- `phpass`: portable phpass, `$P$` (WordPress, WooCommerce) and `$H$` (phpBB), 2^7 to 2^18 rounds. Wrapped.
- `wordpress`: whatever WordPress's `wp_check_password` reads: 6.8's `$wp$2y$` and bcrypt as they are,
  phpass wrapped.

"Wrapped" is `$gh-wrapped$` (`service.platform.legacy_hashes.wrapped`): Argon2id of the old digest,
so that fast digests are never stored. Every stored form is replaced by the tenant's Argon2id at the
account's first successful login. The cost limits keep an imported hash from making one login cost
more than about a second.

`stored_form` is synchronous. It is cheap for hashes stored as they are; wrapping costs one Argon2id
hash (about 25 ms with the default parameters), so a batch import calls it off the event loop, with the
tenant's parameters (`accounts.password_policy.argon2_parameters`): a wrapped hash then costs a login what
the tenant's own hashes and its decoy for unknown users cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from service.errors import ErrorCode, FieldError, InvalidInput
from service.platform.legacy_hashes import UnusableHash, bcrypt_hashes, families, magento, pbkdf2, phpass, wrapped
from service.platform.passwords import Argon2Parameters, argon2_hasher

HASH_FORMATS: tuple[str, ...] = ("auto", "magento2", "magento1", "bcrypt", "argon2", "pbkdf2", "phpass", "wordpress")
# The families (`families.identify`) each declared format accepts; `auto` accepts them all.
_ACCEPTED: dict[str, frozenset[str]] = {
    "magento2": frozenset({"magento2", "magento1"}),
    "magento1": frozenset({"magento1"}),
    "bcrypt": frozenset({"bcrypt"}),
    "argon2": frozenset({"argon2"}),
    "pbkdf2": frozenset({"pbkdf2"}),
    "phpass": frozenset({"phpass"}),
    "wordpress": frozenset({"wordpress", "phpass", "bcrypt"}),
}
_ACCEPTED["auto"] = frozenset().union(*_ACCEPTED.values())
# Other names shops and their export tools use for the same formats.
FORMAT_ALIASES = {
    "argon2id": "argon2",
    "argon2i": "argon2",
    "django-pbkdf2-sha256": "pbkdf2",
    "pbkdf2-sha256": "pbkdf2",
    "pbkdf2-sha512": "pbkdf2",
}
_ARGON2 = re.compile(r"\$argon2(?:id|i)\$v=19\$m=\d{1,7},t=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{22,}")
_ARGON2_MAX_MEMORY_KIB = 256 * 1024
_DEFAULT_PARAMETERS = Argon2Parameters()


def stored_form(hash_value: str, declared_format: str, *, parameters: Argon2Parameters = _DEFAULT_PARAMETERS) -> str:
    """What `customer_logins.password_hash` holds for this imported hash: the hash itself when its format is
    strong, else Argon2id of its digest with these parameters (`wrapped`). InvalidInput when the hash is not a
    valid hash of the declared format; the error never contains the hash."""
    accepted = _ACCEPTED.get(FORMAT_ALIASES.get(declared_format, declared_format))
    if accepted is None:
        raise InvalidInput(
            "passwordHashFormat is not a format Gatehouse imports.",
            code=ErrorCode.UNSUPPORTED_HASH_FORMAT,
            field_errors=(FieldError("passwordHashFormat", f"must be one of {', '.join(HASH_FORMATS)}"),),
        )
    family = families.identify(hash_value)
    if family is None or family not in accepted:
        raise _unusable(declared_format, "is not in this format" if declared_format != "auto" else "is in no format")
    try:
        return _STORED[family](hash_value, parameters)
    except UnusableHash as exc:
        raise _unusable(declared_format, str(exc)) from None


def _unusable(declared_format: str, reason: str) -> InvalidInput:
    return InvalidInput(
        f"passwordHash is not a password hash that Gatehouse can import as {declared_format}: {reason}.",
        code=ErrorCode.UNSUPPORTED_HASH_FORMAT,
        field_errors=(FieldError("passwordHash", reason),),
    )


def _magento(value: str, parameters: Argon2Parameters) -> str:
    parsed = magento.parse(value)
    return _wrap("magento", parsed.setting, parsed.digest, parameters) if parsed.weak else value


def _phpass(value: str, parameters: Argon2Parameters) -> str:
    setting, checksum = phpass.split(value)
    return _wrap("phpass", setting, checksum, parameters)


def _wrap(scheme: str, setting: str, digest: str, parameters: Argon2Parameters) -> str:
    return wrapped.compose(scheme, setting, argon2_hasher(parameters).hash(digest))


def _bcrypt(value: str, parameters: Argon2Parameters) -> str:
    bcrypt_hashes.parse(value)
    return value


def _pbkdf2(value: str, parameters: Argon2Parameters) -> str:
    pbkdf2.parse(value)
    return value


def _argon2(value: str, parameters: Argon2Parameters) -> str:
    """Checked here and verified by argon2-cffi at login, as Gatehouse's own Argon2id hashes are."""
    if _ARGON2.fullmatch(value) is None:
        raise UnusableHash("an Argon2 hash is a PHC string $argon2id$v=19$m=...,t=...,p=...$salt$hash (or $argon2i$)")
    try:
        found = extract_parameters(value)
    except InvalidHashError:
        raise UnusableHash("the Argon2 hash's parameters cannot be read") from None
    if found.memory_cost > _ARGON2_MAX_MEMORY_KIB or not 1 <= found.time_cost <= 10 or not 1 <= found.parallelism <= 8:
        raise UnusableHash("the Argon2 hash's cost is above 256 MiB, 10 passes or 8 lanes")
    return value


_STORED: dict[str, Callable[[str, Argon2Parameters], str]] = {
    "magento2": _magento,
    "magento1": _magento,
    "phpass": _phpass,
    "bcrypt": _bcrypt,
    "wordpress": _bcrypt,
    "pbkdf2": _pbkdf2,
    "argon2": _argon2,
}
