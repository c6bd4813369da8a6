"""Passwords with the hashes other shops store for them, for the import tests and `python -m bench login-formats`.

The vectors in tests/vectors/ (copied from the project's shared reference, password-hashes/) were made by
PHP: Magento 2's Encryptor scheme, PHP's password_hash and Django's PBKDF2. The formats they leave out are
made here by the library named beside each, or are test vectors published with a reference implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import bcrypt
from argon2 import PasswordHasher, Type
from passlib.hash import pbkdf2_sha512
from passlib.hash import phpass as libpass_phpass

SHARED = Path(__file__).resolve().parent / "vectors"
_ARGON2I = PasswordHasher(time_cost=4, memory_cost=65536, parallelism=1, type=Type.I)
_OTHER_SHOPS_FORMATS = {"bcrypt": "bcrypt", "argon2id": "argon2", "django-pbkdf2-sha256": "pbkdf2"}


@dataclass(frozen=True)
class Vector:
    label: str  # which format and variant: a test id, and a row of the bench
    password: str
    hash: str
    format: str  # the format an import declares for it


def shared_vectors() -> list[Vector]:
    vectors = []
    for number, line in enumerate((SHARED / "magento2.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
        item = json.loads(line)
        label = f"magento2 {':'.join(item['versions'])} #{number}"
        vectors.append(Vector(label, item["password"], item["hash"], "magento2"))
    for number, line in enumerate((SHARED / "other-shops.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
        item = json.loads(line)
        label, import_format = f"{item['format']} #{number}", _OTHER_SHOPS_FORMATS[item["format"]]
        vectors.append(Vector(label, item["password"], item["hash"], import_format))
    return vectors


def generated_vectors() -> list[Vector]:
    salt2, salt32 = secrets.token_hex(1), secrets.token_hex(16)
    wordpress_prehash = base64.b64encode(hmac.new(b"wp-sha384", b"Wordpress 6.8 pass", hashlib.sha384).digest())
    return [
        # Magento 1, by its definition, with hashlib: md5(salt . password):salt with a 2-character salt,
        # the sha256 variant of its later editions, and the bare md5 of its oldest accounts.
        Vector("magento1 md5", "Magento one", f"{_md5(salt2 + 'Magento one')}:{salt2}", "magento1"),
        Vector("magento1 sha256", "Magento one EE", f"{_sha256(salt32 + 'Magento one EE')}:{salt32}", "magento1"),
        Vector("magento1 bare md5", "no salt at all", _md5("no salt at all"), "magento1"),
        # phpass: the test vector of Openwall's phpass 0.3 (test.php), and libpass's (WordPress's 2^13 rounds,
        # phpBB's $H$ with 2^11); the first password has characters that NFKC changes, as German keyboards type.
        Vector("phpass $P$ openwall", "test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "phpass"),
        Vector("phpass $P$ wordpress", "Quadrat² µ", _phpass("Quadrat² µ", 13, "P"), "wordpress"),
        Vector("phpass $H$ phpbb", "phpbb board", _phpass("phpbb board", 11, "H"), "phpass"),
        # WordPress 6.8's wp_hash_password: "$wp" + bcrypt (the bcrypt package) of base64(HMAC-SHA384); PHP
        # writes $2y$, which is the same algorithm as the package's $2b$.
        Vector(
            "wordpress $wp$2y$",
            "Wordpress 6.8 pass",
            "$wp" + _bcrypt(wordpress_prehash).replace("$2b$", "$2y$"),
            "wordpress",
        ),
        # bcrypt: a test vector of jBCrypt (TestBCrypt.java), and $2b$ by the bcrypt package.
        Vector("bcrypt $2a$ jbcrypt", "abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i", "bcrypt"),
        Vector("bcrypt $2b$", "bcrypt two b", _bcrypt(b"bcrypt two b"), "bcrypt"),
        # Argon2i as PHP's PASSWORD_ARGON2I writes it, by argon2-cffi.
        Vector("argon2i", "argon two i", _ARGON2I.hash("argon two i"), "argon2"),
        # PBKDF2-SHA512 in passlib's layout, by libpass; PBKDF2-SHA256 in the PHC layout (i=, standard
        # base64 without padding), by hashlib.
        Vector("pbkdf2-sha512 passlib", "pbkdf2 512", pbkdf2_sha512.using(rounds=100_000).hash("pbkdf2 512"), "pbkdf2"),
        Vector("pbkdf2-sha256 phc", "pbkdf2 phc form", _pbkdf2_phc("pbkdf2 phc form", 100_000), "pbkdf2"),
    ]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Magento 1's own scheme, made to be imported


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _phpass(password: str, rounds: int, ident: str) -> str:
    return str(libpass_phpass.using(rounds=rounds, ident=ident).hash(password))


def _bcrypt(secret: bytes) -> str:
    return bcrypt.hashpw(secret, bcrypt.gensalt(10)).decode()


def _pbkdf2_phc(password: str, iterations: int) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    return f"$pbkdf2-sha256$i={iterations},l=32${b64(salt)}${b64(digest)}"


def all_vectors() -> list[Vector]:
    return shared_vectors() + generated_vectors()
