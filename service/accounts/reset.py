"""Forgotten passwords: a single-use code by mail, then a new password with that code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from service import audit
from service.accounts import repository as repo
from service.accounts.fields import normalize_user_name
from service.accounts.lookups import find_account
from service.accounts.passwords import AccountPasswords
from service.audit import Actor
from service.errors import ErrorCode, InvalidInput
from service.platform.background import Background
from service.platform.crypto import token_digest
from service.platform.db import Database
from service.platform.keyspace import password_reset_key
from service.platform.mail import Mailer
from service.platform.redis import RedisClient
from service.tenants.scope import CustomerScope
from service.tenants.transactions import tenant_transaction

RESET_CODE_MINUTES = 30
# Compare the code stored for an account and delete it in one step: a code works exactly once.
_CONSUME_CODE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


def _invalid_code() -> InvalidInput:
    return InvalidInput(
        "The user name or confirmation code is wrong, or the code expired.", code=ErrorCode.INVALID_CONFIRMATION_CODE
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordResets:
    db: Database
    redis: RedisClient
    passwords: AccountPasswords
    mailer: Mailer
    background: Background

    async def request(
        self,
        scope: CustomerScope,
        actor: Actor,
        email: str | None,
        user_name: str | None,
        customer_set_code: str | None,
    ) -> None:
        """Mail a single-use code when the account exists; answer the same either way.

        Everything past input checking runs after the answer has gone, so neither the answer nor its
        timing says whether the account exists.
        """
        if not email and not user_name:
            raise InvalidInput("Send emailAddress or userName.", code=ErrorCode.LOGIN_NAME_REQUIRED)
        if customer_set_code in (None, scope.customer_set_code):
            self.background.spawn(self._send_code(scope, actor, email, user_name), "password_reset")

    async def _send_code(self, scope: CustomerScope, actor: Actor, email: str | None, user_name: str | None) -> None:
        account = await find_account(self.db, scope, email=email, user_name=user_name)
        if account is None or account.user_id is None or not account.email_address:
            return
        code = secrets.token_urlsafe(24)
        await self.redis.set(
            password_reset_key(scope.tenant_id, account.id), token_digest(code), ex=RESET_CODE_MINUTES * 60
        )
        async with tenant_transaction(self.db, scope.tenant_id) as conn:  # the audit row and its event together
            await audit.record(conn, actor, scope.tenant_id, "password.reset_requested", "customer_account", account.id)
        self.mailer.send_later(
            account.email_address,
            "password_reset",
            code=code,
            minutes=str(RESET_CODE_MINUTES),
            first_name=account.first_name or "there",
        )

    async def confirm(
        self, scope: CustomerScope, actor: Actor, user_name: str | None, code: str | None, new_password: str | None
    ) -> None:
        """A new password with the mailed code. A reset proves control of the mailbox, so it lifts a lockout too."""
        if not user_name or not code:
            raise _invalid_code()
        password_hash = await self.passwords.hash_new(new_password, scope.settings, "newPassword")
        account = await repo.find_account_by(
            self.db, scope.tenant_id, scope.customer_set_id, login_name=normalize_user_name(user_name)
        )
        if account is None or account.user_id is None:
            raise _invalid_code()
        if not await self.redis.eval(
            _CONSUME_CODE, 1, password_reset_key(scope.tenant_id, account.id), token_digest(code)
        ):
            raise _invalid_code()
        await self.passwords.replace(
            scope.tenant_id, actor, account.id, password_hash, unlock=True, action="password.reset"
        )
