"""A customer's password: the tenant's policy, Argon2id, and the one path that sets a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service import audit
from service.accounts import repository as repo
from service.accounts.lookups import require_login
from service.accounts.password_policy import argon2_parameters, check_password, normalize_password
from service.audit import Actor
from service.errors import ErrorCode, FieldError, InvalidInput
from service.limits.lockout import Lockout
from service.platform.db import Database
from service.platform.passwords import Passwords
from service.sessions.store import Sessions
from service.tenants.scope import CustomerScope
from service.tenants.settings import TenantSettings
from service.tenants.transactions import tenant_transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountPasswords:
    db: Database
    passwords: Passwords
    sessions: Sessions
    lockout: Lockout

    async def hash_new(self, password: str | None, settings: TenantSettings, field: str = "password") -> str:
        """The Argon2id hash of a password the tenant's policy accepts, else InvalidInput naming `field`."""
        if not password:
            raise InvalidInput(
                f"{field} is required.",
                code=ErrorCode.PASSWORD_REQUIRED,
                field_errors=(FieldError(field, "is required"),),
            )
        normalized = check_password(password, settings.password, field)
        return await self.passwords.hash(normalized, argon2_parameters(settings.password))

    async def verify_current(self, scope: CustomerScope, account_id: int, password: str | None, field: str) -> None:
        """The account's current password, re-entered before a sensitive change."""
        await require_login(self.db, scope, account_id)
        stored_hash = await repo.get_password_hash(self.db, scope.tenant_id, account_id)
        typed = password or ""
        if not await self.passwords.verify(stored_hash, normalize_password(typed), as_typed=typed):
            old = field == "oldPassword"
            raise InvalidInput(
                f"The {'old ' if old else ''}password is wrong.",
                code=ErrorCode.INVALID_OLD_PASSWORD if old else ErrorCode.INVALID_PASSWORD,
                field_errors=(FieldError(field, "is wrong"),),
            )

    async def change(
        self,
        scope: CustomerScope,
        actor: Actor,
        account_id: int,
        old_password: str | None,
        new_password: str | None,
        *,
        unlock: bool,
    ) -> None:
        await self.verify_current(scope, account_id, old_password, "oldPassword")
        password_hash = await self.hash_new(new_password, scope.settings, "newPassword")
        await self.replace(
            scope.tenant_id,
            actor,
            account_id,
            password_hash,
            unlock=unlock,
            action="password.changed",
            details={"unlocked": unlock},
        )

    async def replace(
        self,
        tenant_id: int,
        actor: Actor,
        account_id: int,
        password_hash: str,
        *,
        unlock: bool,
        action: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """The one path that sets a password: every session of the account ends; `unlock` lifts locks too."""
        async with tenant_transaction(self.db, tenant_id) as conn:
            # The account's row first, as every write to an account takes its locks (accounts.lookups.lock_account).
            await repo.touch_account(conn, tenant_id, account_id, actor.name)
            await repo.set_password(conn, tenant_id, account_id, password_hash, unlock)
            await audit.record(conn, actor, tenant_id, action, "customer_account", account_id, details)
        await self.sessions.end_all_for_account(tenant_id, account_id)
        if unlock:
            await self.lockout.unlock(tenant_id, account_id)
