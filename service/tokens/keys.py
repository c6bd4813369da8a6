"""Per-tenant signing keys: created on first use, rotated by admins, cached in each process.

Private keys live in PostgreSQL. Each process keeps a tenant's keys in memory for a short time so
that refresh and introspection need no database round trip; a token whose `kid` the cache does not
know triggers one reload (rate-limited), which is how a rotation done by another process is seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from service.platform.crypto import SecretBox
from service.platform.db import DATABASE_UNAVAILABLE, Connection, Database
from service.tokens import repository as repo

CACHE_SECONDS = 30
log = logging.getLogger("gatehouse.keys")
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


_TO_JWK: dict[str, Callable[[Any], str]] = {
    "ES256": ECAlgorithm.to_jwk,
    "RS256": RSAAlgorithm.to_jwk,
    "EdDSA": OKPAlgorithm.to_jwk,
}


def _public_jwk(algorithm: str, public_key: Any, kid: str) -> dict[str, Any]:
    to_jwk: Callable[[Any], str] = _TO_JWK[algorithm]
    jwk = json.loads(to_jwk(public_key))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def _new_key(algorithm: str) -> tuple[str, Any, dict[str, Any]]:
    kid = secrets.token_urlsafe(12)
    private_key = _generate(algorithm)
    return kid, private_key, _public_jwk(algorithm, private_key.public_key(), kid)


def _pem(private_key: Any) -> str:
    raw: bytes = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return raw.decode()


def _tenant_keys(rows: list[repo.StoredKey], box: SecretBox) -> TenantKeys:
    keys = {}
    current = None
    for row in rows:
        pem = box.open(row.private_pem, f"signing_key:{row.kid}")
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        key = SigningKey(row.kid, row.algorithm, private_key, private_key.public_key())
        keys[key.kid] = key
        if row.status == "current":
            current = key
    if current is None:
        raise RuntimeError(f"tenant keys without a current one: {sorted(keys)}")
    jwks = [row.public_jwk for row in sorted(rows, key=lambda r: r.status)]  # current first
    return TenantKeys(current, keys, jwks, time.monotonic())


class KeyCache:
    """Each tenant's signing keys: created on first use, rotated by admins, cached per process."""

    def __init__(self, *, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box
        self._keys: dict[int, TenantKeys] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._refreshing: dict[int, asyncio.Task[TenantKeys]] = {}

    async def keys(self, tenant_id: int) -> TenantKeys:
        cached = self._keys.get(tenant_id)
        if cached is None:
            return await self._reload(tenant_id, None)
        if time.monotonic() - cached.loaded_at >= CACHE_SECONDS and tenant_id not in self._refreshing:
            # Refreshed in the background: tokens go on verifying with the keys this process has, so a slow or
            # hanging database delays none of them; the calls after the refresh see the new keys.
            task = asyncio.create_task(self._reload(tenant_id, cached))
            self._refreshing[tenant_id] = task
            task.add_done_callback(lambda done: self._refreshed(tenant_id, done))
        return cached

    def _refreshed(self, tenant_id: int, task: asyncio.Task[TenantKeys]) -> None:
        self._refreshing.pop(tenant_id, None)
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            log.warning("signing keys not refreshed", extra={"tenant_id": tenant_id, "error": type(failure).__name__})

    async def _reload(self, tenant_id: int, seen: TenantKeys | None) -> TenantKeys:
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            cached = self._keys.get(tenant_id)
            if cached is not None and cached is not seen:
                return cached  # another task reloaded while we waited
            try:
                fresh = await self._load(tenant_id)
            except DATABASE_UNAVAILABLE:
                if seen is None:
                    raise
                # PostgreSQL is unreachable: keep verifying with the keys this process has (a rotation made
                # meanwhile waits for it), and ask the database again in a second rather than on every token.
                fresh = replace(seen, loaded_at=time.monotonic() - CACHE_SECONDS + MIN_RELOAD_SECONDS)
            self._keys[tenant_id] = fresh
            return fresh

    async def verification_key(self, tenant_id: int, kid: str) -> SigningKey | None:
        keys = await self.keys(tenant_id)
        if kid in keys.verification:
            return keys.verification[kid]
        if time.monotonic() - keys.loaded_at < MIN_RELOAD_SECONDS:
            return None  # unknown kids cannot make us hammer the database
        return (await self._reload(tenant_id, keys)).verification.get(kid)

    async def rotate(self, tenant_id: int) -> str:
        """Make a new current key; the current one becomes previous, the previous one is retired."""
        async with self.db.acquire() as conn, conn.transaction():
            algorithm = await repo.lock_tenant_algorithm(conn, tenant_id)
            await repo.demote_keys(conn, tenant_id)
            kid = await self._insert_key(conn, tenant_id, algorithm)
        self._keys.pop(tenant_id, None)
        return kid

    async def _insert_key(self, conn: Connection, tenant_id: int, algorithm: str) -> str:
        kid, private_key, jwk = await asyncio.to_thread(_new_key, algorithm)  # RSA generation takes a while
        await repo.insert_current(
            conn, tenant_id, kid, algorithm, self.box.seal(_pem(private_key), f"signing_key:{kid}"), jwk
        )
        return kid

    async def _load(self, tenant_id: int) -> TenantKeys:
        rows = await repo.verification_keys(self.db, tenant_id)
        if not any(row.status == "current" for row in rows):
            async with self.db.acquire() as conn, conn.transaction():
                algorithm = await repo.lock_tenant_algorithm(conn, tenant_id)  # one creator at a time
                if not await repo.has_current(conn, tenant_id):
                    await self._insert_key(conn, tenant_id, algorithm)
            rows = await repo.verification_keys(self.db, tenant_id)
        return _tenant_keys(rows, self.box)
