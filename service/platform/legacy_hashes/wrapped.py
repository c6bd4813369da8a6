"""`$gh-wrapped$`: a weak hash from another shop, stored only inside Argon2id.

A plain digest (Magento's md5 and sha256 versions, Magento 1) or a phpass hash is made again from the
password at every login, so what the database must hold to check it is only Argon2id of that digest:
a leak then costs an attacker an Argon2id computation per guess, as for any other account. The
stored form keeps what is needed to make the digest again beside it:

    $gh-wrapped$<scheme>$<setting, base64url>$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>

with `scheme` `magento` (setting `salt:version[:version...]`, see `magento.MagentoHash.setting`) or
`phpass` (setting `$P$` + rounds character + salt). The setting is base64url so that neither a salt's
`$` nor its `:` can be mistaken for a separator.
"""

from __future__ import annotations

import base64
import binascii

from service.platform.legacy_hashes import UnusableHash, magento, phpass, secret_bytes

PREFIX = "$gh-wrapped$"
_DIGEST_FOR = {"magento": magento.digest_for, "phpass": phpass.checksum_for}


def compose(scheme: str, setting: str, argon2_hash: str) -> str:
    """The stored form of a weak hash: `argon2_hash` is Argon2id of its digest, made by the caller."""
    encoded = base64.urlsafe_b64encode(secret_bytes(setting)).decode().rstrip("=")
    return f"{PREFIX}{scheme}${encoded}{argon2_hash}"


def unwrap(stored: str, password: str) -> tuple[str, str]:
    """The Argon2id hash inside, and the digest it was made from if `password` is the right one."""
    scheme, _, rest = stored.removeprefix(PREFIX).partition("$")
    encoded, _, argon2_hash = rest.partition("$")
    digest_for = _DIGEST_FOR.get(scheme)
    if digest_for is None:
        raise UnusableHash("unknown wrapped scheme")
    try:
        setting = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8", "surrogatepass")
    except (binascii.Error, UnicodeDecodeError):
        raise UnusableHash("the wrapped setting is not base64url") from None
    return f"${argon2_hash}", digest_for(setting, password)
