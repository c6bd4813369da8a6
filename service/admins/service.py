"""Admin sign-in, admin bearer tokens, and the rule of who may manage which tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from service import audit
from service.admins import repository as repo
from service.admins.models import AdminToken, AdminUser, AdminUserCreate, AdminUserUpdate
from service.audit import Actor
from service.errors import Conflict, ErrorCode, Forbidden, NotFound, TooManyRequests, Unauthenticated
from service.limits.attempts import AttemptLimiter, AttemptPolicy
from service.platform.crypto import new_token, token_digest
from service.platform.db import Database
from service.platform.keyspace import admin_sign_in_attempt_keys, admin_token_key, admin_tokens_key
from service.platform.passwords import Passwords
from service.platform.redis import RedisClient, text
from service.tenants import repository as tenants_repo
from service.tenants.service import tenant_not_found
from service.tenants.transactions import tenant_transaction

PLATFORM_ADMIN = "platform-admin"
ADMIN_TOKEN_PREFIX = "gha_"
# Per tenant, username and client address: ten failures within fifteen minutes lock it for fifteen minutes.
SIGN_IN_LIMIT = AttemptPolicy(max_attempts=10, window_seconds=15 * 60, lock_seconds=15 * 60)


@dataclass(frozen=True, slots=True)
class AdminPrincipal:
    admin_id: int
    tenant_id: int | None
    role: str

    @property
    def actor_name(self) -> str:
        return f"admin:{self.admin_id}"

    @property
    def is_platform_admin(self) -> bool:
        return self.role == PLATFORM_ADMIN

    def require_platform(self) -> None:
        if not self.is_platform_admin:
            raise Forbidden("Only platform administrators may do this.", code=ErrorCode.PLATFORM_ADMIN_REQUIRED)

    def require_tenant(self, tenant_id: int, *, write: bool) -> None:
        """Platform admins reach every tenant; a tenant admin only its own, and a viewer only reads.

        Another tenant answers exactly like a tenant that does not exist.
        """
        if self.is_platform_admin:
            return
        if self.tenant_id != tenant_id:
            raise tenant_not_found()
        if write and self.role != "admin":
            raise Forbidden("This admin user may only read.", code=ErrorCode.READ_ONLY_ADMIN)


def admin_user_not_found() -> NotFound:
    return NotFound("Admin user not found.", code=ErrorCode.ADMIN_USER_NOT_FOUND)


@dataclass(frozen=True, kw_only=True, slots=True)
class Admins:
    db: Database
    redis: RedisClient
    passwords: Passwords
    attempts: AttemptLimiter
    token_minutes: int

    async def sign_in(
        self, *, username: str, password: str, tenant_id: int | None, client_address: str | None
    ) -> AdminToken:
        token_minutes = self.token_minutes
        attempt_keys = admin_sign_in_attempt_keys(tenant_id, username, client_address)
        # The attempt takes its slot before the password is checked, so parallel guesses cannot get
        # more than the limit's verifications.
        attempt = await self.attempts.reserve(attempt_keys, SIGN_IN_LIMIT)
        if not attempt.granted:
            raise TooManyRequests(
                "Too many failed sign-ins. Try again later.", headers={"Retry-After": str(attempt.retry_after_seconds)}
            )
        row = await repo.find_for_login(self.db, tenant_id, username)
        # Verify even when there is no such user, so both cases cost the same Argon2 time.
        valid = await self.passwords.verify(row.password_hash if row else None, password)
        if not valid or row is None or not row.is_enabled:
            await self.attempts.failed(attempt_keys, attempt.number, SIGN_IN_LIMIT)
            raise Unauthenticated("The username or password is wrong.", code=ErrorCode.INVALID_CREDENTIALS)
        await self.attempts.succeeded(attempt_keys)
        token = new_token(ADMIN_TOKEN_PREFIX)
        digest = token_digest(token)
        # Remembered per admin, so a password change or disabling ends every token at once: listed first, then
        # made valid, so that no token lives unlisted (the two keys may be on different Cluster nodes).
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(admin_tokens_key(row.id), digest)
            pipe.expire(admin_tokens_key(row.id), token_minutes * 60)
            await pipe.execute()
        await self.redis.set(admin_token_key(digest), str(row.id), ex=token_minutes * 60)
        return AdminToken(
            access_token=token,
            token_type="Bearer",
            expires_in=token_minutes * 60,
            expires_at=datetime.now(UTC) + timedelta(minutes=token_minutes),
        )

    async def end_tokens_of(self, admin_id: int) -> None:
        digests = await self.redis.smembers(admin_tokens_key(admin_id))
        await self.redis.delete(admin_tokens_key(admin_id), *(admin_token_key(text(d)) for d in digests))

    async def sign_out(self, token: str) -> None:
        await self.redis.delete(admin_token_key(token_digest(token)))

    async def authenticate(self, token: str) -> AdminPrincipal:
        """The admin behind a bearer token. The user row is re-read so disabling an admin takes effect at once."""
        if not token.startswith(ADMIN_TOKEN_PREFIX):
            raise Unauthenticated("A valid admin bearer token is required.", code=ErrorCode.INVALID_TOKEN)
        admin_id = await self.redis.get(admin_token_key(token_digest(token)))
        row = await repo.get_active(self.db, int(admin_id)) if admin_id else None
        if row is None:
            raise Unauthenticated("A valid admin bearer token is required.", code=ErrorCode.INVALID_TOKEN)
        return AdminPrincipal(admin_id=row.id, tenant_id=row.tenant_id, role=row.role)

    async def platform_admin_exists(self) -> bool:
        return await repo.platform_admin_exists(self.db)

    async def any_exists(self) -> bool:
        return await repo.any_exists(self.db)

    async def create_platform_admin(self, actor: Actor, username: str, password: str) -> AdminUser:
        async with self.db.acquire() as conn, conn.transaction():
            try:
                row = await repo.insert(conn, None, username, await self.passwords.hash(password), PLATFORM_ADMIN)
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    f"A platform admin named '{username}' exists.", code=ErrorCode.ADMIN_USER_EXISTS
                ) from None
            await audit.record(conn, actor, None, "admin_user.created", "admin_user", row.id, {"role": PLATFORM_ADMIN})
            return row

    async def create_tenant_admin(self, actor: Actor, tenant_id: int, data: AdminUserCreate) -> AdminUser:
        password_hash = await self.passwords.hash(data.password)
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await tenants_repo.tenant_exists(conn, tenant_id):
                raise tenant_not_found()
            try:
                row = await repo.insert(conn, tenant_id, data.username, password_hash, data.role.value)
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    f"An admin user named '{data.username}' exists.", code=ErrorCode.ADMIN_USER_EXISTS
                ) from None
            await audit.record(
                conn, actor, tenant_id, "admin_user.created", "admin_user", row.id, {"role": data.role.value}
            )
            return row

    async def list_tenant_admins(self, tenant_id: int) -> list[AdminUser]:
        return await repo.list_for_tenant(self.db, tenant_id)

    async def get_tenant_admin(self, tenant_id: int, admin_id: int) -> AdminUser:
        row = await repo.get_for_tenant(self.db, tenant_id, admin_id)
        if row is None:
            raise admin_user_not_found()
        return row

    async def update_tenant_admin(
        self, actor: Actor, tenant_id: int, admin_id: int, data: AdminUserUpdate
    ) -> AdminUser:
        password_hash = await self.passwords.hash(data.password) if data.password is not msgspec.UNSET else None
        role = data.role.value if data.role is not msgspec.UNSET else None
        is_enabled = data.is_enabled if data.is_enabled is not msgspec.UNSET else None
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.update(conn, tenant_id, admin_id, password_hash, role, is_enabled)
            if row is None:
                raise admin_user_not_found()
            changed = [
                name
                for name, value in (("password", password_hash), ("role", role), ("isEnabled", is_enabled))
                if value is not None
            ]
            await audit.record(
                conn, actor, tenant_id, "admin_user.updated", "admin_user", admin_id, {"changed": changed}
            )
        if password_hash is not None or is_enabled is False:
            await self.end_tokens_of(admin_id)
        return row

    async def delete_tenant_admin(self, actor: Actor, tenant_id: int, admin_id: int) -> None:
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await repo.delete(conn, tenant_id, admin_id):
                raise admin_user_not_found()
            await audit.record(conn, actor, tenant_id, "admin_user.deleted", "admin_user", admin_id)
