"""Finding an account or its login within the caller's scope, or saying it is not there."""

from __future__ import annotations

from service.accounts import repository as repo
from service.accounts.fields import normalize_email, normalize_user_name
from service.accounts.records import Account, Login
from service.errors import ErrorCode, NotFound
from service.platform.db import Conn
from service.tenants.scope import CustomerScope


def account_not_found() -> NotFound:
    return NotFound("Customer account not found.", code=ErrorCode.ACCOUNT_NOT_FOUND)


async def require_account(conn: Conn, scope: CustomerScope, account_id: int) -> Account:
    account = await repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id)
    if account is None:
        raise account_not_found()
    return account


async def require_login(conn: Conn, scope: CustomerScope, account_id: int) -> Login:
    await require_account(conn, scope, account_id)
    login = await repo.get_login(conn, scope.tenant_id, account_id)
    if login is None:
        raise NotFound("This account has no login.", code=ErrorCode.LOGIN_NOT_FOUND)
    return login


async def find_account(conn: Conn, scope: CustomerScope, *, email: str | None, user_name: str | None) -> Account | None:
    """The account with this email and/or user name (as typed: they are normalised here), if any."""
    return await repo.find_account_by(
        conn,
        scope.tenant_id,
        scope.customer_set_id,
        email=normalize_email(email) if email else None,
        user_name=normalize_user_name(user_name) if user_name else None,
    )
