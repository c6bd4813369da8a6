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


async def lock_account(conn: Conn, scope: CustomerScope, account_id: int) -> None:
    """Every write to an account or to what it owns (contacts, login) locks the account's row first. Deleting
    the account locks that row and then cascades to its children; a write that touched a child (a contact's
    foreign key takes a share lock on the account) before updating the account row could deadlock with it.
    In this order a write either goes first and the delete waits, or it waits for the delete and finds
    nothing. It also keeps two concurrent changes from both starting from the same stale account."""
    if not await repo.lock_account(conn, scope.tenant_id, scope.customer_set_id, account_id):
        raise account_not_found()


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
