"""Magento's salted hashes, exactly as Magento 2's `Encryptor::isValidHash` and Magento 1 check them.

Magento 2 stores `hash:salt:version[:version...]`; each version is one step, applied to the hex
output of the step before (the first to the password), oldest first: `0` md5(salt . data), `1`
sha256(salt . data), `2` libsodium's Argon2id13 `crypto_pwhash` (INTERACTIVE: 32 bytes, opslimit 2,
memlimit 64 MiB) of data with the salt cut or padded (repeating itself) to 16 bytes, and
`3_<bytes>_<opslimit>_<memlimit>` the same with its parameters inline. A chain such as `1:2` is a
hash that Magento upgraded without knowing the password. Magento 1 stores `hash:salt` (or the bare
hash): md5, or sha256 in its later editions, told apart by the length of the hex digest.

libsodium's `crypto_pwhash` is Argon2id version 1.3 with one lane and memlimit / 1024 KiB, so
argon2-cffi's low-level `hash_secret_raw` computes it bit for bit (the shared test vectors, made by
PHP's sodium extension, check that).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from service.platform.legacy_hashes import UnusableHash, secret_bytes

MD5, SHA256 = "0", "1"
_SODIUM_SALT_BYTES = 16
_INTERACTIVE = (32, 2, 64 * 1024 * 1024)  # version 2: seed bytes, opslimit, memlimit
_AGNOSTIC = re.compile(r"3_(\d{1,3})_(\d{1,3})_(\d{1,12})")
_HEX = re.compile(r"[0-9a-fA-F]+")
# The most one login may spend on an Argon2 step: libsodium's MODERATE (256 MiB) and a few more passes.
MAX_MEMLIMIT = 256 * 1024 * 1024
MAX_OPSLIMIT = 10


@dataclass(frozen=True, slots=True)
class MagentoHash:
    digest: str  # lower-case hex, the last step's output
    salt: str
    versions: tuple[str, ...]  # oldest first; inferred from the digest's length for Magento 1

    @property
    def weak(self) -> bool:
        """Only md5 and sha256 steps: a leak of this hash is a leak of fast, crackable digests."""
        return all(version in (MD5, SHA256) for version in self.versions)

    @property
    def setting(self) -> str:
        """Everything but the digest, `salt:versions`: what `digest_for` needs to make the digest again."""
        return ":".join((self.salt, *self.versions))


def parse(value: str) -> MagentoHash:
    # Magento splits at the first two colons only, so the versions are the rest and the salt has no colon.
    digest, _, rest = value.partition(":")
    salt, _, versions = rest.partition(":")
    if not _HEX.fullmatch(digest):
        raise UnusableHash("a Magento hash starts with a hexadecimal digest")
    steps = tuple(versions.split(":")) if versions else _magento1_version(digest)
    for version in steps:
        _check_version(version, salt)
    if len(digest) != 2 * _digest_bytes(steps[-1]):
        raise UnusableHash("the digest's length does not match the hash's last version")
    return MagentoHash(digest.lower(), salt, steps)


def _magento1_version(digest: str) -> tuple[str]:
    if len(digest) == 32:
        return (MD5,)
    if len(digest) == 64:
        return (SHA256,)
    raise UnusableHash("a Magento 1 hash is an md5 (32 hex digits) or sha256 (64) digest")


def _check_version(version: str, salt: str) -> None:
    if version in (MD5, SHA256):
        return
    hash_len, opslimit, memlimit = _argon2_step(version)
    if not salt:
        raise UnusableHash("an Argon2 step of a Magento hash needs a salt")
    if not (16 <= hash_len <= 64 and 1 <= opslimit <= MAX_OPSLIMIT and 8 * 1024 <= memlimit <= MAX_MEMLIMIT):
        raise UnusableHash(
            f"the Argon2 step's parameters are outside 16..64 bytes, opslimit 1..{MAX_OPSLIMIT}, "
            f"memlimit 8 KiB..{MAX_MEMLIMIT // 1024 // 1024} MiB"
        )


def _argon2_step(version: str) -> tuple[int, int, int]:
    if version == "2":
        return _INTERACTIVE
    match = _AGNOSTIC.fullmatch(version)
    if match is None:
        raise UnusableHash("the hash names a Magento hash version other than 0, 1, 2 and 3_<bytes>_<ops>_<mem>")
    return int(match[1]), int(match[2]), int(match[3])


def _digest_bytes(version: str) -> int:
    return 16 if version == MD5 else 32 if version == SHA256 else _argon2_step(version)[0]


def verify(parsed: MagentoHash, password: str) -> bool:
    return hmac.compare_digest(_chain(password, parsed.salt, parsed.versions).encode(), parsed.digest.encode())


def digest_for(setting: str, password: str) -> str:
    """The digest that a Magento hash with this `setting` (`salt:versions`) holds when `password` is right."""
    salt, _, versions = setting.partition(":")
    return _chain(password, salt, tuple(versions.split(":")))


def _chain(password: str, salt: str, versions: tuple[str, ...]) -> str:
    value = password
    for version in versions:
        value = _step(version, value, salt)
    return value


def _step(version: str, data: str, salt: str) -> str:
    if version == MD5:
        return hashlib.md5(secret_bytes(salt + data)).hexdigest()  # noqa: S324 - Magento's scheme, only ever checked
    if version == SHA256:
        return hashlib.sha256(secret_bytes(salt + data)).hexdigest()
    hash_len, opslimit, memlimit = _argon2_step(version)
    salt_bytes = (secret_bytes(salt) * _SODIUM_SALT_BYTES)[:_SODIUM_SALT_BYTES]  # PHP's str_pad / substr
    raw = hash_secret_raw(
        secret_bytes(data),
        salt_bytes,
        time_cost=opslimit,
        memory_cost=memlimit // 1024,
        parallelism=1,
        hash_len=hash_len,
        type=Type.ID,
        version=19,
    )
    return raw.hex()
