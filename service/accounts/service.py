"""Customer accounts, their login, passwords and login state — the domain behind Kibo's routes."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.asyncio import Redis

from service import audit
from service.accounts import repository as repo
from service.accounts.filters import SqlFilter, add_filter, add_quick_search, order_by
from service.http.kibo.models import ConfirmationInfo, CustomerAccount, CustomerAccountAndAuthInfo, CustomerPasswordInfo
from service.accounts.password_policy import argon2_parameters, check_password, normalize_password
from service.audit import Actor
from service.sessions.store import Sessions
from service.platform.background import Background
from service.contacts import service as contacts
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.http.kibo.conventions import audit_info, kibo_datetime, kibo_datetime_ms
from service.platform.db import Database
from service.platform.mail import Mailer
from service.platform.keyspace import password_reset_key
from service.platform.crypto import Passwords, token_digest
from service.tenants.scope import CustomerScope
from service.tenants.settings import TenantSettings
from service.limits.attempts import AttemptCounters
from service.limits.lockout import Lockout

RESET_CODE_MINUTES = 30
_EMAIL_SHAPE = (lambda e: e.count("@") == 1 and "." in e.rsplit("@", 1)[1] and " " not in e and len(e) <= 254)
# Compare the code stored for an account and delete it in one step: a code works exactly once.
_CONSUME_CODE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


def account_not_found() -> NotFound:
    return NotFound("Customer account not found.", code="ACCOUNT_NOT_FOUND")


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def normalize_user_name(user_name: str) -> str:
    return unicodedata.normalize("NFKC", user_name).strip().lower()


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _account_fields(data: CustomerAccount, current: asyncpg.Record | None) -> dict[str, Any]:
    """Editable columns from a Kibo body; a field left out (or null) keeps its current value."""

    def pick(new: Any, column: str, default: Any = None) -> Any:
        if new is not None:
            return new
        return current[column] if current is not None else default

    email = pick(_clean(data.email_address), "email_address")
    if email is not None and not _EMAIL_SHAPE(email):
        raise InvalidInput("emailAddress is not an email address.", code="INVALID_EMAIL",
                           field_errors=(FieldError("emailAddress", "is not an email address"),))
    user_name = pick(_clean(data.user_name), "user_name")
    return {
        "email_address": email,
        "email_normalized": normalize_email(email) if email else None,
        "user_name": user_name,
        "user_name_normalized": normalize_user_name(user_name) if user_name else None,
        "first_name": pick(data.first_name, "first_name"),
        "last_name": pick(data.last_name, "last_name"),
        "locale_code": pick(data.locale_code, "locale_code"),
        "company_or_organization": pick(data.company_or_organization, "company_or_organization"),
        "tax_exempt": pick(data.tax_exempt, "tax_exempt", False),
        "tax_id": pick(data.tax_id, "tax_id"),
        "external_id": pick(data.external_id, "external_id"),
        "accepts_marketing": pick(data.accepts_marketing, "accepts_marketing", False),
        "account_type": pick(data.account_type, "account_type"),
    }


def _duplicate(exc: asyncpg.UniqueViolationError) -> Conflict:
    if "user_name" in (exc.constraint_name or ""):
        return Conflict("Another account in this customer set has this user name.", code="USERNAME_TAKEN")
    return Conflict("Another account in this customer set has this email address.", code="EMAIL_TAKEN")


def account_body(row: asyncpg.Record, contact_list: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "emailAddress": row["email_address"],
        "userName": row["user_name"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "localeCode": row["locale_code"],
        "userId": row["user_id"],
        "isAnonymous": False,
        "isLocked": bool(row["is_locked"]),
        "isActive": row["is_active"],
        "acceptsMarketing": row["accepts_marketing"],
        "hasExternalPassword": False,
        "last2FaDate": kibo_datetime(row["last_2fa_date"]),
        "customerSet": row["customer_set_code"],
        "commerceSummary": {
            "totalOrderAmount": {"currencyCode": None, "amount": 0},
            "orderCount": 0, "lastOrderDate": None, "wishlistCount": 0, "visitsCount": 0,
        },
        "contacts": contact_list if contact_list is not None else [],
        "companyOrOrganization": row["company_or_organization"],
        "notes": [],
        "attributes": [],
        "segments": [],
        "taxExempt": row["tax_exempt"],
        "taxId": row["tax_id"],
        "externalId": row["external_id"],
        "auditInfo": audit_info(row),
        "customerSinceDate": kibo_datetime(row["customer_since_date"]),
        "accountType": row["account_type"],
        "migrationRequired": False,
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class Accounts:
    db: Database
    redis: Redis
    passwords: Passwords
    mailer: Mailer
    sessions: Sessions
    lockout: Lockout
    background: Background

    # --- accounts -------------------------------------------------------------------------------

    async def create(self, scope: CustomerScope, actor: Actor, data: CustomerAccount) -> dict[str, Any]:
        fields = _account_fields(data, None)
        async with self.db.acquire() as conn, conn.transaction():
            account_id = await self._insert(conn, scope, actor, fields)
            for contact in data.contacts or []:
                await contacts.insert_contact(conn, scope.tenant_id, account_id, contact, actor.name)
            return await self._body(conn, scope, account_id, with_contacts=True)

    async def _insert(self, conn: asyncpg.Connection, scope: CustomerScope, actor: Actor, fields: dict[str, Any]) -> int:
        try:
            async with conn.transaction():  # a savepoint, so a duplicate leaves the outer transaction usable
                account_id = await repo.insert_account(conn, scope.tenant_id, scope.customer_set_id, fields, actor.name)
        except asyncpg.UniqueViolationError as exc:
            raise _duplicate(exc) from None
        await audit.record(conn, actor, scope.tenant_id, "account.created", "customer_account", account_id)
        return account_id

    async def _body(self, conn: Any, scope: CustomerScope, account_id: int, *, with_contacts: bool) -> dict[str, Any]:
        row = await repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id)
        if row is None:
            raise account_not_found()
        contact_list = await contacts.contact_bodies(conn, scope.tenant_id, account_id) if with_contacts else None
        return account_body(row, contact_list)

    async def get(self, scope: CustomerScope, account_id: int, *, with_contacts: bool) -> dict[str, Any]:
        return await self._body(self.db, scope, account_id, with_contacts=with_contacts)

    async def list(
        self, scope: CustomerScope, *, start_index: int, page_size: int, sort_by: str | None, filter_text: str | None,
        q: str | None, with_contacts: bool,
    ) -> tuple[list[dict[str, Any]], int]:
        where = SqlFilter(first_parameter=3)
        if filter_text:
            add_filter(where, filter_text)
        if q and q.strip():
            add_quick_search(where, q)
        rows, total = await repo.list_accounts(
            self.db, scope.tenant_id, scope.customer_set_id, where, order_by(sort_by), start_index, page_size
        )
        items = []
        for row in rows:
            contact_list = await contacts.contact_bodies(self.db, scope.tenant_id, row["id"]) if with_contacts else None
            items.append(account_body(row, contact_list))
        return items, total

    async def update(self, scope: CustomerScope, actor: Actor, account_id: int, data: CustomerAccount) -> dict[str, Any]:
        async with self.db.acquire() as conn, conn.transaction():
            current = await repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id)
            if current is None:
                raise account_not_found()
            fields = _account_fields(data, current)
            try:
                async with conn.transaction():
                    await repo.update_account(conn, scope.tenant_id, scope.customer_set_id, account_id, fields, actor.name)
            except asyncpg.UniqueViolationError as exc:
                raise _duplicate(exc) from None
            changed = sorted(k for k in fields if fields[k] != current[k] and not k.endswith("_normalized"))
            await audit.record(conn, actor, scope.tenant_id, "account.updated", "customer_account", account_id, {"changed": changed})
            body = await self._body(conn, scope, account_id, with_contacts=True)
        await self.sessions.update_account(scope.tenant_id, account_id, body)
        return body

    async def delete(self, scope: CustomerScope, actor: Actor, account_id: int) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            if not await repo.delete_account(conn, scope.tenant_id, scope.customer_set_id, account_id):
                raise account_not_found()
            await audit.record(conn, actor, scope.tenant_id, "account.deleted", "customer_account", account_id)
        await self.sessions.end_all_for_account(scope.tenant_id, account_id)

    async def create_with_login(self, scope: CustomerScope, actor: Actor, data: CustomerAccountAndAuthInfo) -> dict[str, Any]:
        """An account and its login in one transaction: neither exists without the other."""
        account = data.account or CustomerAccount()
        settings = scope.settings
        password_hash = await self._hash_new_password(data.password, settings, "password")
        fields = _account_fields(account, None)
        if not fields["email_normalized"] and not fields["user_name_normalized"]:
            raise InvalidInput("A login needs an emailAddress or a userName.", code="LOGIN_NAME_REQUIRED")
        async with self.db.acquire() as conn, conn.transaction():
            account_id = await self._insert(conn, scope, actor, fields)
            for contact in account.contacts or []:
                await contacts.insert_contact(conn, scope.tenant_id, account_id, contact, actor.name)
            await repo.insert_login(conn, scope.tenant_id, account_id, secrets.token_hex(16), password_hash)
            await audit.record(conn, actor, scope.tenant_id, "login.created", "customer_account", account_id)
            return await self._body(conn, scope, account_id, with_contacts=True)

    async def set_login_names(self, conn: asyncpg.Connection, scope: CustomerScope, actor: Actor,
                              current: asyncpg.Record, email: str | None, user_name: str | None) -> None:
        """Create-Login may name the login: those names become the account's email and user name."""
        if email is None and user_name is None:
            if not current["email_normalized"] and not current["user_name_normalized"]:
                raise InvalidInput("A login needs an emailAddress or a userName.", code="LOGIN_NAME_REQUIRED")
            return
        fields = _account_fields(CustomerAccount(email_address=email, user_name=user_name), current)
        try:
            async with conn.transaction():
                await repo.update_account(conn, scope.tenant_id, scope.customer_set_id, current["id"], fields, actor.name)
        except asyncpg.UniqueViolationError as exc:
            raise _duplicate(exc) from None

    async def _hash_new_password(self, password: str | None, settings: TenantSettings, field: str) -> str:
        if not password:
            raise InvalidInput(f"{field} is required.", code="PASSWORD_REQUIRED", field_errors=(FieldError(field, "is required"),))
        normalized = check_password(password, settings.password, field)
        return await self.passwords.hash(normalized, argon2_parameters(settings.password))

    # --- passwords and login state --------------------------------------------------------------

    async def _login_of(self, conn: Any, scope: CustomerScope, account_id: int) -> asyncpg.Record:
        if await repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id) is None:
            raise account_not_found()
        login = await repo.get_login(conn, scope.tenant_id, account_id)
        if login is None:
            raise NotFound("This account has no login.", code="LOGIN_NOT_FOUND")
        return login

    async def check_password(self, scope: CustomerScope, account_id: int, password: str | None, field: str) -> None:
        """The account's current password, re-entered before a sensitive change."""
        login = await self._login_of(self.db, scope, account_id)
        if not await self.passwords.verify(login["password_hash"], normalize_password(password or "")):
            code = "INVALID_OLD_PASSWORD" if field == "oldPassword" else "INVALID_PASSWORD"
            raise InvalidInput(f"The {'old ' if field == 'oldPassword' else ''}password is wrong.", code=code,
                               field_errors=(FieldError(field, "is wrong"),))

    async def change_password(
        self, scope: CustomerScope, actor: Actor, account_id: int, data: CustomerPasswordInfo, unlock: bool
    ) -> None:
        settings = scope.settings
        await self.check_password(scope, account_id, data.old_password, "oldPassword")
        password_hash = await self._hash_new_password(data.new_password, settings, "newPassword")
        async with self.db.acquire() as conn, conn.transaction():
            await repo.set_password(conn, scope.tenant_id, account_id, password_hash, unlock)
            await repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, "password.changed", "customer_account", account_id, {"unlocked": unlock})
        await self.sessions.end_all_for_account(scope.tenant_id, account_id)
        if unlock:
            await self.lockout.unlock(scope.tenant_id, account_id)

    async def reset_password(self, scope: CustomerScope, actor: Actor, email: str | None, user_name: str | None,
                             customer_set_code: str | None) -> None:
        """Mail a single-use code when the account exists; answer the same either way.

        Everything past input checking runs after the answer has gone, so neither the answer nor its
        timing says whether the account exists.
        """
        if not email and not user_name:
            raise InvalidInput("Send emailAddress or userName.", code="LOGIN_NAME_REQUIRED")
        if customer_set_code in (None, scope.customer_set_code):
            self.background.spawn(self._send_reset_code(scope, actor, email, user_name), "password_reset")

    async def _send_reset_code(self, scope: CustomerScope, actor: Actor, email: str | None, user_name: str | None) -> None:
        row = await repo.find_account_by(
            self.db, scope.tenant_id, scope.customer_set_id,
            email=normalize_email(email) if email else None,
            user_name=normalize_user_name(user_name) if user_name else None,
        )
        if row is None or row["user_id"] is None or not row["email_address"]:
            return
        code = secrets.token_urlsafe(24)
        await self.redis.set(password_reset_key(scope.tenant_id, row["id"]), token_digest(code), ex=RESET_CODE_MINUTES * 60)
        async with self.db.acquire() as conn:
            await audit.record(conn, actor, scope.tenant_id, "password.reset_requested", "customer_account", row["id"])
        self.mailer.send_later(
            row["email_address"], "password_reset", code=code, minutes=str(RESET_CODE_MINUTES),
            first_name=row["first_name"] or "there",
        )

    async def update_forgotten_password(self, scope: CustomerScope, actor: Actor, data: ConfirmationInfo) -> None:
        invalid = InvalidInput("The user name or confirmation code is wrong, or the code expired.", code="INVALID_CONFIRMATION_CODE")
        if not data.user_name or not data.confirmation_code:
            raise invalid
        settings = scope.settings
        password_hash = await self._hash_new_password(data.new_password, settings, "newPassword")
        row = await repo.find_account_by_login_name(
            self.db, scope.tenant_id, scope.customer_set_id, normalize_user_name(data.user_name)
        )
        if row is None or row["user_id"] is None:
            raise invalid
        consumed = await self.redis.eval(_CONSUME_CODE, 1, password_reset_key(scope.tenant_id, row["id"]), token_digest(data.confirmation_code))
        if not consumed:
            raise invalid
        async with self.db.acquire() as conn, conn.transaction():
            # A reset proves control of the mailbox, so it also lifts a lockout.
            await repo.set_password(conn, scope.tenant_id, row["id"], password_hash, True)
            await repo.touch_account(conn, scope.tenant_id, row["id"], actor.name)
            await audit.record(conn, actor, scope.tenant_id, "password.reset", "customer_account", row["id"])
        await self.sessions.end_all_for_account(scope.tenant_id, row["id"])
        await self.lockout.unlock(scope.tenant_id, row["id"])

    async def set_login_locked(self, scope: CustomerScope, actor: Actor, account_id: int, locked: bool) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            await self._login_of(conn, scope, account_id)
            await repo.set_locked(conn, scope.tenant_id, account_id, locked)
            await repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, "login.locked" if locked else "login.unlocked",
                               "customer_account", account_id)
        if locked:
            await self.sessions.end_all_for_account(scope.tenant_id, account_id)
        else:
            await self.lockout.unlock(scope.tenant_id, account_id)

    async def set_password_change_required(self, scope: CustomerScope, actor: Actor, account_id: int, required: bool) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            await self._login_of(conn, scope, account_id)
            await repo.set_password_change_required(conn, scope.tenant_id, account_id, required)
            await repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, "login.password_change_required", "customer_account",
                               account_id, {"required": required})

    async def login_state(self, scope: CustomerScope, account_id: int) -> dict[str, Any]:
        login = await self._login_of(self.db, scope, account_id)
        counters = await self.lockout.counters(scope.tenant_id, account_id, scope.settings.lockout)
        return _login_state(login, counters, scope.settings)

    async def login_state_by(self, scope: CustomerScope, *, email: str | None = None, user_name: str | None = None,
                             customer_set_code: str | None = None) -> dict[str, Any]:
        if customer_set_code not in (None, "", scope.customer_set_code):
            raise account_not_found()
        row = await repo.find_account_by(
            self.db, scope.tenant_id, scope.customer_set_id,
            email=normalize_email(email) if email else None,
            user_name=normalize_user_name(user_name) if user_name else None,
        )
        if row is None:
            raise account_not_found()
        return await self.login_state(scope, row["id"])


def _login_state(login: asyncpg.Record, counters: AttemptCounters, settings: TenantSettings) -> dict[str, Any]:
    """Admin locks live in PostgreSQL; failure counts and lockouts by failures in Redis."""
    failures = counters.failures
    locked = login["is_locked"] or counters.locked_seconds_left > 0
    return {
        "isPasswordChangeRequired": login["is_password_change_required"],
        "lastPasswordChangeOn": kibo_datetime(login["last_password_change_on"]),
        "isLocked": locked,
        "lastLockedOn": kibo_datetime(login["last_locked_on"]),
        "failedLoginAttemptCount": failures,
        "remainingLoginAttempts": 0 if locked else max(settings.lockout.max_failures - failures, 0),
        "firstFailedLoginAttemptOn": kibo_datetime_ms(counters.first_failure_ms) if counters.first_failure_ms else None,
        "lastLoginOn": kibo_datetime(login["last_login_on"]),
        "createdOn": kibo_datetime(login["created_at"]),
        "updatedOn": kibo_datetime(login["updated_at"]),
    }
