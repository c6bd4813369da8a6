"""Customer accounts and their login state: the capability behind Kibo's account routes and Magento's customers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import asyncpg
import msgspec

from service import audit
from service.accounts import repository as repo
from service.accounts.creation import NewAccount, insert_account
from service.accounts.fields import (
    account_columns,
    changed_columns,
    duplicate,
    require_login_name,
)
from service.accounts.filters import SqlFilter, add_filter, add_quick_search, order_by
from service.accounts.lookups import account_not_found, find_account, lock_account, require_account, require_login
from service.accounts.passwords import AccountPasswords
from service.accounts.records import Account, AccountChanges, AccountPage, Login, LoginState
from service.audit import Actor
from service.contacts import repository as contacts_repo
from service.errors import Conflict, ErrorCode
from service.limits.attempts import AttemptCounters
from service.limits.lockout import Lockout
from service.platform.db import Conn, Connection, Database
from service.sessions.store import Sessions
from service.tenants.scope import CustomerScope
from service.tenants.settings import TenantSettings
from service.tenants.transactions import tenant_transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class Accounts:
    db: Database
    passwords: AccountPasswords
    sessions: Sessions
    lockout: Lockout

    # --- accounts -------------------------------------------------------------------------------

    async def create(self, scope: CustomerScope, actor: Actor, new: NewAccount) -> Account:
        """An account, with its contacts and (when `new` has a password hash) its login, in one transaction."""
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            account_id = await insert_account(conn, scope.tenant_id, scope.customer_set_id, actor, new)
            return await self._read(conn, scope, account_id, with_contacts=True)

    async def create_with_login(
        self, scope: CustomerScope, actor: Actor, new: NewAccount, password: str | None
    ) -> Account:
        """An account with its login, the password held to the tenant's policy."""
        password_hash = await self.passwords.hash_new(password, scope.settings, "password")
        return await self.create(scope, actor, msgspec.structs.replace(new, password_hash=password_hash))

    async def import_accounts(
        self, scope: CustomerScope, actor: Actor, items: list[tuple[NewAccount, str | None]]
    ) -> list[Account]:
        """Accounts with their logins, each in its own transaction; once all exist, the import is audited (and so
        told as `import.completed`). A failing item stops the import there, its predecessors kept."""
        created = [await self.create_with_login(scope, actor, new, password) for new, password in items]
        details = {
            "customerSet": scope.customer_set_code,
            "created": len(created),
            "accountIds": [a.id for a in created],
        }
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await audit.record(
                conn, actor, scope.tenant_id, "accounts.imported", "customer_set", scope.customer_set_code, details
            )
        return created

    async def _read(self, conn: Conn, scope: CustomerScope, account_id: int, *, with_contacts: bool) -> Account:
        account = await require_account(conn, scope, account_id)
        if not with_contacts:
            return account
        contacts = await contacts_repo.list_for_account(conn, scope.tenant_id, account_id)
        return msgspec.structs.replace(account, contacts=tuple(contacts))

    async def get(self, scope: CustomerScope, account_id: int, *, with_contacts: bool) -> Account:
        return await self._read(self.db, scope, account_id, with_contacts=with_contacts)

    async def list(
        self,
        scope: CustomerScope,
        *,
        start_index: int,
        page_size: int,
        sort_by: str | None,
        filter_text: str | None,
        q: str | None,
        with_contacts: bool,
    ) -> AccountPage:
        where = SqlFilter(first_parameter=3)
        if filter_text:
            add_filter(where, filter_text)
        if q and q.strip():
            add_quick_search(where, q)
        accounts, total = await repo.list_accounts(
            self.db, scope.tenant_id, scope.customer_set_id, where, order_by(sort_by), start_index, page_size
        )
        if with_contacts and accounts:
            # One query for the whole page's contacts, not one per account.
            contacts = await contacts_repo.list_for_accounts(self.db, scope.tenant_id, [a.id for a in accounts])
            accounts = [msgspec.structs.replace(a, contacts=tuple(contacts[a.id])) for a in accounts]
        return AccountPage(items=tuple(accounts), total_count=total)

    async def update(self, scope: CustomerScope, actor: Actor, account_id: int, changes: AccountChanges) -> Account:
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await lock_account(conn, scope, account_id)
            current = await require_account(conn, scope, account_id)
            columns = account_columns(changes, current)
            await self._write(conn, scope, actor, account_id, columns)
            await audit.record(
                conn,
                actor,
                scope.tenant_id,
                "account.updated",
                "customer_account",
                account_id,
                {"changed": changed_columns(columns, current)},
            )
            account = await self._read(conn, scope, account_id, with_contacts=True)
        if current.is_active and not account.is_active:
            await self.sessions.end_all_for_account(scope.tenant_id, account_id)  # an inactive account cannot log in
        else:
            await self.sessions.update_account(scope.tenant_id, account)
        return account

    @staticmethod
    async def _write(
        conn: Connection, scope: CustomerScope, actor: Actor, account_id: int, columns: dict[str, object]
    ) -> None:
        try:
            async with conn.transaction():  # a savepoint, so a duplicate leaves the outer transaction usable
                await repo.update_account(conn, scope.tenant_id, scope.customer_set_id, account_id, columns, actor.name)
        except asyncpg.UniqueViolationError as exc:
            raise duplicate(exc) from None

    async def delete(self, scope: CustomerScope, actor: Actor, account_id: int) -> None:
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            # The row locked first, as every account write does (so its event follows theirs), and audited
            # before it goes, so that the event still names the account's customer set and externalId.
            await lock_account(conn, scope, account_id)
            await audit.record(conn, actor, scope.tenant_id, "account.deleted", "customer_account", account_id)
            await repo.delete_account(conn, scope.tenant_id, scope.customer_set_id, account_id)
        await self.sessions.end_all_for_account(scope.tenant_id, account_id)

    async def add_login(
        self,
        scope: CustomerScope,
        actor: Actor,
        account_id: int,
        email: str | None,
        user_name: str | None,
        password_hash: str,
    ) -> Account:
        """Give an existing, active account its login, for Create-Login to log it in. Create-Login may name the
        login: those names become the account's email and user name."""
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await lock_account(conn, scope, account_id)
            current = await require_account(conn, scope, account_id)
            if current.user_id is not None:
                raise _login_exists()
            if not current.is_active:
                raise Conflict("This account is inactive: it cannot be logged in.", code=ErrorCode.ACCOUNT_INACTIVE)
            columns = account_columns(AccountChanges(email_address=email, user_name=user_name), current)
            require_login_name(columns)
            if email is not None or user_name is not None:
                await self._write(conn, scope, actor, account_id, columns)
            await repo.insert_login(conn, scope.tenant_id, account_id, _new_user_id(), password_hash)
            await audit.record(conn, actor, scope.tenant_id, "login.created", "customer_account", account_id)
            return await require_account(conn, scope, account_id)

    # --- login state ----------------------------------------------------------------------------

    async def set_login_locked(self, scope: CustomerScope, actor: Actor, account_id: int, locked: bool) -> None:
        await self._change_login(
            scope, actor, account_id, "login.locked" if locked else "login.unlocked", repo.set_locked, locked, None
        )
        if locked:
            await self.sessions.end_all_for_account(scope.tenant_id, account_id)
        else:
            await self.lockout.unlock(scope.tenant_id, account_id)

    async def set_password_change_required(
        self, scope: CustomerScope, actor: Actor, account_id: int, required: bool
    ) -> None:
        await self._change_login(
            scope,
            actor,
            account_id,
            "login.password_change_required",
            repo.set_password_change_required,
            required,
            {"required": required},
        )

    async def _change_login(
        self,
        scope: CustomerScope,
        actor: Actor,
        account_id: int,
        action: str,
        change: _LoginFlagWriter,
        value: bool,
        details: dict[str, object] | None,
    ) -> None:
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await lock_account(conn, scope, account_id)
            await require_login(conn, scope, account_id)
            await change(conn, scope.tenant_id, account_id, value)
            await repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, action, "customer_account", account_id, details)

    async def login_state(self, scope: CustomerScope, account_id: int) -> LoginState:
        login = await require_login(self.db, scope, account_id)
        counters = await self.lockout.counters(scope.tenant_id, account_id, scope.settings.lockout)
        return _login_state(login, counters, scope.settings)

    async def login_state_by(
        self,
        scope: CustomerScope,
        *,
        email: str | None = None,
        user_name: str | None = None,
        customer_set_code: str | None = None,
    ) -> LoginState:
        if customer_set_code not in (None, "", scope.customer_set_code):
            raise account_not_found()
        account = await find_account(self.db, scope, email=email, user_name=user_name)
        if account is None:
            raise account_not_found()
        return await self.login_state(scope, account.id)


class _LoginFlagWriter(Protocol):
    async def __call__(self, conn: Conn, tenant_id: int, account_id: int, value: bool, /) -> None: ...


def _login_exists() -> Conflict:
    return Conflict("This account already has a login.", code=ErrorCode.LOGIN_EXISTS)


def _new_user_id() -> str:
    return secrets.token_hex(16)


def _login_state(login: Login, counters: AttemptCounters, settings: TenantSettings) -> LoginState:
    """Admin locks live in PostgreSQL; failure counts and lockouts by failures in Redis."""
    locked = login.is_locked or counters.locked_seconds_left > 0
    first_failure = counters.first_failure_ms
    return LoginState(
        is_password_change_required=login.is_password_change_required,
        last_password_change_on=login.last_password_change_on,
        is_locked=locked,
        last_locked_on=login.last_locked_on,
        failed_login_attempt_count=counters.failures,
        remaining_login_attempts=0 if locked else max(settings.lockout.max_failures - counters.failures, 0),
        first_failed_login_attempt_on=datetime.fromtimestamp(first_failure / 1000, UTC) if first_failure else None,
        last_login_on=login.last_login_on,
        created_on=login.created_at,
        updated_on=login.updated_at,
    )
