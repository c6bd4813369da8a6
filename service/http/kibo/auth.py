"""Application authentication for `/api/...` routes, run before the body is read.

Kibo's SDKs send the app token as `Authorization: Bearer` or as `x-vol-app-claims`. The tenant is
the token's; `x-vol-tenant` and `x-vol-site`, when sent, must agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.connection import ASGIConnection

from service.applications.tickets import AppPrincipal, invalid_app_token
from service.sessions.store import ACCESS_PREFIX as CUSTOMER_ACCESS_PREFIX
from service.errors import Forbidden, InvalidInput, Unauthenticated
from service.platform.crypto import token_digest
from service.tenants import repository as tenants_repo
from service.tokens.jwt_tokens import looks_like_jwt
from service.twofactor.challenges import PENDING_PREFIX
from service.http.common import MAX_ID, bearer_token, runtime

@dataclass(frozen=True, slots=True)
class PendingLogin:
    digest: str
    tenant_id: int


@dataclass(frozen=True, slots=True)
class AppContext:
    principal: AppPrincipal
    site_id: int | None  # from x-vol-site, checked to be a site of the tenant; None: the default site


def _header_id(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> int | None:
    raw = connection.headers.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    # isascii: str.isdigit() also accepts '²' and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidInput(f"The {name} header must be a positive integer.", code="INVALID_HEADER")
    return int(raw)


def _is_user_token(token: str) -> bool:
    return token.startswith((CUSTOMER_ACCESS_PREFIX, PENDING_PREFIX)) or looks_like_jwt(token)


async def authenticate_app(connection: Request[Any, Any, Any]) -> None:
    """Identify the application, and the customer when a customer token is sent.

    A `before_request` hook: it runs before the body is read, so an unauthenticated caller learns
    nothing about what its body would have done (and, unlike a guard, costs no handler copy).

    The app token comes as the bearer or as `x-vol-app-claims`; the customer's access token (or a
    pending-login token, between password and second factor) as `x-vol-user-claims` or as the
    bearer, in which case the application is the one the customer logged in through.
    """
    rt = runtime(connection)
    bearer = bearer_token(connection)
    app_token = connection.headers.get("x-vol-app-claims")
    user_token = connection.headers.get("x-vol-user-claims")
    if bearer and _is_user_token(bearer):
        user_token = bearer
    elif bearer:
        app_token = bearer
    shopper = pending = None
    session_app = None
    if user_token and user_token.strip().startswith(PENDING_PREFIX):
        # A pending login opens the second step and nothing else: no customer, no behaviors.
        digest = token_digest(user_token.strip())
        record = await rt.twofactor.challenges.peek_pending(digest)
        if record is None:
            raise Unauthenticated("The pending login is unknown or expired; log in again.", code="INVALID_PENDING_LOGIN")
        pending, session_app = PendingLogin(digest, record["tid"]), record["app"]
    elif user_token:
        shopper = await rt.auth.customer_for(user_token.strip())
        if shopper is None:
            raise Unauthenticated("The customer's access token is not active.", code="INVALID_USER_TOKEN")
        session_app = shopper.session["app"]
    if app_token:
        principal = await rt.app_tickets.authenticate(app_token.strip())
    elif session_app is not None:
        # Only a customer token: the call acts for that customer alone, with none of the
        # application's behaviors (a customer's token must never open the whole tenant).
        principal = replace(await rt.app_tickets.principal_for(session_app), behaviors=frozenset())
    else:
        raise invalid_app_token()
    user_tenant = shopper.tenant_id if shopper else pending.tenant_id if pending else principal.tenant_id
    if user_tenant != principal.tenant_id:
        raise Unauthenticated("The customer's access token is not active.", code="INVALID_USER_TOKEN")
    tenant_header = _header_id(connection, "x-vol-tenant")
    if tenant_header is not None and tenant_header != principal.tenant_id:
        raise Forbidden("x-vol-tenant does not match the application's tenant.", code="TENANT_MISMATCH")
    site_id = _header_id(connection, "x-vol-site")
    if site_id is not None and await tenants_repo.get_site(rt.pool, principal.tenant_id, site_id) is None:
        raise Forbidden("x-vol-site is not a site of the application's tenant.", code="SITE_MISMATCH")
    connection.state.app = AppContext(principal, site_id)
    connection.state.shopper = shopper
    connection.state.pending = pending


def provide_app(request: Request[Any, Any, Any]) -> AppContext:
    return request.state.app


App = NamedDependency[AppContext]

