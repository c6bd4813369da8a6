"""Verifying password hashes that other shops made, so that their customers keep their passwords.

Each module reads one family of stored forms, refuses any whose cost is beyond what one login may
spend (a hash is data from outside: its parameters must not let an import make logins expensive),
and checks a password against it with the family's well-kept library and a constant-time comparison:

- `magento`: Magento 2's Encryptor (`hash:salt:version[:version...]`: md5, sha256, libsodium's
  Argon2id13, upgraded chains) and Magento 1 (`hash:salt`, md5 or sha256);
- `bcrypt_hashes`: bcrypt (`$2a$`, `$2b$`, `$2y$`) and WordPress 6.8's `$wp$2y$`;
- `pbkdf2`: PBKDF2-SHA256/SHA512 in Django's layout and the PHC (`$pbkdf2-sha256$...`) layouts;
- `phpass`: WordPress's and phpBB's portable phpass (`$P$`, `$H$`);
- `wrapped`: Gatehouse's own `$gh-wrapped$` form, which keeps the weak ones (plain digests, phpass)
  only inside Argon2id;
- `families`: which of them a stored hash is, and checking those stored as they came.

Argon2 PHC strings (`$argon2id$`, `$argon2i$`) need none of this: `service.platform.passwords`
verifies them as it verifies its own.

The password is checked as the customer typed it (the old shop hashed it without normalising it).
"""

from __future__ import annotations


class UnusableHash(ValueError):
    """A hash Gatehouse will not verify. The message says why, and never contains the hash."""


def secret_bytes(password: str) -> bytes:
    """The bytes a PHP or Python shop hashed: the password's UTF-8, as its browser sent it."""
    return password.encode("utf-8", "surrogatepass")
