"""Who calls a Kibo route: the application, the customer or pending login it acts for, and where it works.

Run as a `before_request` hook, before the body is read. Kibo's SDKs send the app token as
`Authorization: Bearer` or as `x-vol-app-claims`. The tenant is the token's; `x-vol-tenant` and
`x-vol-site`, when sent, must agree with it. `create_app` builds the hook with its capabilities and
hangs it on the Kibo router; handlers read what it found with `app_of`, `scope_of` and `shopper_of`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

from service.applications.context import AppContext
from service.applications.tickets import AppPrincipal, AppTickets, invalid_app_token
from service.audit import Actor
from service.errors import ErrorCode, Forbidden, InvalidInput, Unauthenticated
from service.http.common import actor, bearer_token
from service.platform.crypto import token_digest
from service.platform.db import MAX_ID
from service.tenants.scope import CustomerScope
from service.tenants.service import Tenants
from service.tokens.resolver import CUSTOMER_KINDS, CustomerPrincipal, TokenKind, TokenResolver, kind_of
from service.twofactor.challenges import Challenges
from service.twofactor.records import PendingLogin

# Route option of the routes that finish a pending login, the only ones a pending-login token opens.
SECOND_STEP = "second_step"
# Route option of the routes that act for the calling customer: without a customer's access token they answer 401.
CUSTOMER_REQUIRED = "customer_required"
# Route option of the routes that work in the application's customer scope (`scope_of`). Only they look it up:
# the scope can need PostgreSQL, and refreshes, logouts and second steps answer through its outages.
CUSTOMER_SCOPE = "customer_scope"


def _header_id(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> int | None:
    raw = connection.headers.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    # isascii: str.isdigit() also accepts '²' and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidInput(f"The {name} header must be a positive integer.", code=ErrorCode.INVALID_HEADER)
    return int(raw)


def _is_user_token(token: str) -> bool:
    return kind_of(token) in CUSTOMER_KINDS


@dataclass(frozen=True, slots=True)
class _Caller:
    """What the user token of a call resolved to: a customer, a pending login, or nothing."""

    shopper: CustomerPrincipal | None = None
    pending: PendingLogin | None = None
    session_app: int | None = None  # the application the customer logged in through

    @property
    def tenant_id(self) -> int | None:
        return self.shopper.tenant_id if self.shopper else self.pending.tenant_id if self.pending else None


class KiboAuthentication:
    """Identify the application, the customer when a customer token is sent, and the call's customer scope.

    A `before_request` hook: it runs before the body is read, so an unauthenticated caller learns
    nothing about what its body would have done (and, unlike a guard, costs no handler copy).

    The app token comes as the bearer or as `x-vol-app-claims`; the customer's access token (or a
    pending-login token, between password and second factor) as `x-vol-user-claims` or as the
    bearer, in which case the application is the one the customer logged in through.
    """

    def __init__(
        self, *, app_tickets: AppTickets, tokens: TokenResolver, challenges: Challenges, tenants: Tenants
    ) -> None:
        self._app_tickets = app_tickets
        self._tokens = tokens
        self._challenges = challenges
        self._tenants = tenants

    def __deepcopy__(self, memo: dict[int, Any]) -> KiboAuthentication:
        return self  # Litestar deep-copies a router when registering it; the capabilities are the process's own

    async def __call__(self, connection: Request[Any, Any, Any]) -> None:
        bearer = bearer_token(connection)
        app_token = connection.headers.get("x-vol-app-claims")
        user_token = connection.headers.get("x-vol-user-claims")
        if bearer and _is_user_token(bearer):
            user_token = bearer
        elif bearer:
            app_token = bearer
        caller = await self._caller(user_token.strip()) if user_token else _Caller()
        route_options = connection.route_handler.opt
        if caller.pending is not None and not route_options.get(SECOND_STEP):
            # A presented credential is never ignored: a pending login opens its second step and nothing else.
            raise Unauthenticated("A pending login opens only its second step.", code=ErrorCode.INVALID_USER_TOKEN)
        principal = await self._application(app_token, caller)
        if caller.tenant_id not in (None, principal.tenant_id):
            raise Unauthenticated("The customer's access token is not active.", code=ErrorCode.INVALID_USER_TOKEN)
        tenant_header = _header_id(connection, "x-vol-tenant")
        if tenant_header is not None and tenant_header != principal.tenant_id:
            raise Forbidden("x-vol-tenant does not match the application's tenant.", code=ErrorCode.TENANT_MISMATCH)
        site_id = _header_id(connection, "x-vol-site")
        if site_id is not None and not await self._tenants.has_site(principal.tenant_id, site_id):
            raise Forbidden("x-vol-site is not a site of the application's tenant.", code=ErrorCode.SITE_MISMATCH)
        if caller.shopper is None and route_options.get(CUSTOMER_REQUIRED):
            raise _missing_user_token()
        state = connection.state  # Litestar wraps the ASGI scope's state anew at every access
        state.app = AppContext(principal, site_id)
        # Found here rather than by a dependency: a handler with two or more dependencies pays Litestar's task group.
        in_scope = route_options.get(CUSTOMER_SCOPE)
        state.scope = await self._tenants.customer_scope(principal, site_id) if in_scope else None
        state.shopper = caller.shopper
        state.pending = caller.pending

    async def _caller(self, user_token: str) -> _Caller:
        if kind_of(user_token) is TokenKind.PENDING_LOGIN:
            # A pending login opens the second step and nothing else: no customer, no behaviors.
            digest = token_digest(user_token)
            record = await self._challenges.peek_pending(digest)
            if record is None:
                raise Unauthenticated(
                    "The pending login is unknown or expired; log in again.", code=ErrorCode.INVALID_PENDING_LOGIN
                )
            return _Caller(pending=PendingLogin(digest=digest, tenant_id=record["tid"]), session_app=record["app"])
        shopper = await self._tokens.customer(user_token)
        if shopper is None:
            raise Unauthenticated("The customer's access token is not active.", code=ErrorCode.INVALID_USER_TOKEN)
        return _Caller(shopper=shopper, session_app=shopper.session.application_id)

    async def _application(self, app_token: str | None, caller: _Caller) -> AppPrincipal:
        if app_token:
            return await self._app_tickets.authenticate(app_token.strip())
        if caller.session_app is not None:
            # Only a customer token: the call acts for that customer alone, with none of the
            # application's behaviors (a customer's token must never open the whole tenant).
            return replace(await self._app_tickets.principal_for(caller.session_app), behaviors=frozenset())
        raise invalid_app_token()


def app_of(request: Request[Any, Any, Any]) -> AppContext:
    """The application the router's authentication found.

    This and the accessors below read what the authentication found, rather than being dependencies: Litestar
    resolves two or more dependencies of a handler in an anyio task group, which cost the hot routes (refresh,
    the current account: a fifth of its service CPU) dearly. Kibo handlers take only capabilities by injection."""
    app: AppContext = request.state.app
    return app


def scope_of(request: Request[Any, Any, Any]) -> CustomerScope:
    """The tenant, site and customer set of the call (`x-vol-site` when sent, else the default site), on the routes
    with the CUSTOMER_SCOPE option."""
    scope: CustomerScope | None = request.state.scope
    if scope is None:
        raise RuntimeError("the customer scope is read on a route without the CUSTOMER_SCOPE option")
    return scope


def shopper_of(request: Request[Any, Any, Any]) -> CustomerPrincipal:
    """The customer behind the call; routes that need one answer 401 without (CUSTOMER_REQUIRED: before the body
    is read)."""
    shopper: CustomerPrincipal | None = request.state.shopper
    if shopper is None:  # a route without CUSTOMER_REQUIRED, called without one
        raise _missing_user_token()
    return shopper


def _missing_user_token() -> Unauthenticated:
    return Unauthenticated(
        "A customer access token is required (x-vol-user-claims or bearer).", code=ErrorCode.MISSING_USER_TOKEN
    )


def shopper_actor(request: Request[Any, Any, Any], shopper: CustomerPrincipal) -> Actor:
    """The customer acting for itself, as the audit trail names it."""
    return actor(request, f"customer:{shopper.account_id}")
