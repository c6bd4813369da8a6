"""Per-tenant signing keys: created on first use, rotated by admins, cached in each process.

Private keys live in PostgreSQL. Each process keeps a tenant's keys in memory for a short time so
that refresh and introspection need no database round trip; a token whose `kid` the cache does not
know triggers one reload (rate-limited), which is how a rotation done by another process is seen.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from service.errors import NotFound
from service.platform.crypto import SecretBox

CACHE_SECONDS = 30
MIN_RELOAD_SECONDS = 1


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any
    public_key: Any


@dataclass(frozen=True, slots=True)
class TenantKeys:
    current: SigningKey
    verification: dict[str, SigningKey]  # current and previous, by kid
    public_jwks: list[dict[str, Any]]
    loaded_at: float


def _generate(algorithm: str) -> Any:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


def _public_jwk(algorithm: str, public_key: Any, kid: str) -> dict[str, Any]:
    to_jwk = {"ES256": ECAlgorithm, "RS256": RSAAlgorithm, "EdDSA": OKPAlgorithm}[algorithm].to_jwk
    jwk = json.loads(to_jwk(public_key))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


async def _insert_key(conn: asyncpg.Connection, box: SecretBox, tenant_id: int, algorithm: str) -> None:
    private_key = await asyncio.to_thread(_generate, algorithm)  # RSA generation takes a while
    kid = secrets.token_urlsafe(12)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    await conn.execute(
        """INSERT INTO signing_keys (kid, tenant_id, algorithm, private_pem, public_jwk, status)
           VALUES ($1, $2, $3, $4, $5, 'current')""",
        kid, tenant_id, algorithm, box.seal(pem, f"signing_key:{kid}"), _public_jwk(algorithm, private_key.public_key(), kid),
    )


async def _tenant_algorithm(conn: asyncpg.Connection, tenant_id: int) -> str:
    raw = await conn.fetchval("SELECT settings FROM tenants WHERE id = $1 FOR UPDATE", tenant_id)
    if raw is None:
        raise NotFound("Tenant not found.", code="TENANT_NOT_FOUND")
    return raw.get("signingAlgorithm", "ES256")


async def rotate(pool: asyncpg.Pool, box: SecretBox, tenant_id: int) -> str:
    """Make a new current key; the current one becomes previous, the previous one is retired."""
    async with pool.acquire() as conn, conn.transaction():
        algorithm = await _tenant_algorithm(conn, tenant_id)
        await conn.execute(
            "UPDATE signing_keys SET status = 'retired', retired_at = now() WHERE tenant_id = $1 AND status = 'previous'",
            tenant_id,
        )
        await conn.execute(
            "UPDATE signing_keys SET status = 'previous' WHERE tenant_id = $1 AND status = 'current'", tenant_id
        )
        await _insert_key(conn, box, tenant_id, algorithm)
        return await conn.fetchval("SELECT kid FROM signing_keys WHERE tenant_id = $1 AND status = 'current'", tenant_id)


async def _load(pool: asyncpg.Pool, box: SecretBox, tenant_id: int) -> TenantKeys:
    rows = await pool.fetch(
        "SELECT kid, algorithm, private_pem, public_jwk, status FROM signing_keys "
        "WHERE tenant_id = $1 AND status IN ('current', 'previous')",
        tenant_id,
    )
    if not any(row["status"] == "current" for row in rows):
        async with pool.acquire() as conn, conn.transaction():
            await _tenant_algorithm(conn, tenant_id)  # locks the tenant row: one creator at a time
            if await conn.fetchval(
                "SELECT 1 FROM signing_keys WHERE tenant_id = $1 AND status = 'current'", tenant_id
            ) is None:
                await _insert_key(conn, box, tenant_id, await _tenant_algorithm(conn, tenant_id))
        return await _load(pool, box, tenant_id)
    keys = {}
    current = None
    for row in rows:
        pem = box.open(row["private_pem"], f"signing_key:{row['kid']}")
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        key = SigningKey(row["kid"], row["algorithm"], private_key, private_key.public_key())
        keys[key.kid] = key
        if row["status"] == "current":
            current = key
    assert current is not None
    jwks = [row["public_jwk"] for row in sorted(rows, key=lambda r: r["status"])]  # current first
    return TenantKeys(current, keys, jwks, time.monotonic())


class KeyCache:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox) -> None:
        self.pool = pool
        self.box = box
        self._keys: dict[int, TenantKeys] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def keys(self, tenant_id: int) -> TenantKeys:
        cached = self._keys.get(tenant_id)
        if cached is not None and time.monotonic() - cached.loaded_at < CACHE_SECONDS:
            return cached
        return await self._reload(tenant_id, cached)

    async def _reload(self, tenant_id: int, seen: TenantKeys | None) -> TenantKeys:
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            cached = self._keys.get(tenant_id)
            if cached is not None and cached is not seen:
                return cached  # another task reloaded while we waited
            fresh = await _load(self.pool, self.box, tenant_id)
            self._keys[tenant_id] = fresh
            return fresh

    async def verification_key(self, tenant_id: int, kid: str) -> SigningKey | None:
        keys = await self.keys(tenant_id)
        if kid in keys.verification:
            return keys.verification[kid]
        if time.monotonic() - keys.loaded_at < MIN_RELOAD_SECONDS:
            return None  # unknown kids cannot make us hammer the database
        return (await self._reload(tenant_id, keys)).verification.get(kid)

    def forget(self, tenant_id: int) -> None:
        self._keys.pop(tenant_id, None)
