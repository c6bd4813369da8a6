"""Application authentication for `/api/...` routes, run as a guard before the body is read.

Kibo's SDKs send the app token as `Authorization: Bearer` or as `x-vol-app-claims`. The tenant is
the token's; `x-vol-tenant` and `x-vol-site`, when sent, must agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from service.applications.tokens import AppPrincipal, invalid_app_token
from service.errors import Forbidden, InvalidInput
from service.tenants import repository as tenants_repo
from service.web import MAX_ID, bearer_token, runtime


@dataclass(frozen=True, slots=True)
class AppContext:
    principal: AppPrincipal
    site_id: int | None  # from x-vol-site, checked to be a site of the tenant; None: the default site


def _header_id(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> int | None:
    raw = connection.headers.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise InvalidInput(f"The {name} header must be a positive integer.", code="INVALID_HEADER")
    return int(raw)


async def app_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    token = bearer_token(connection) or connection.headers.get("x-vol-app-claims")  # type: ignore[arg-type]
    if not token:
        raise invalid_app_token()
    rt = runtime(connection)  # type: ignore[arg-type]
    principal = await rt.app_tickets.authenticate(token.strip())
    tenant_header = _header_id(connection, "x-vol-tenant")
    if tenant_header is not None and tenant_header != principal.tenant_id:
        raise Forbidden("x-vol-tenant does not match the application's tenant.", code="TENANT_MISMATCH")
    site_id = _header_id(connection, "x-vol-site")
    if site_id is not None and await tenants_repo.get_site(rt.pool, principal.tenant_id, site_id) is None:
        raise Forbidden("x-vol-site is not a site of the application's tenant.", code="SITE_MISMATCH")
    connection.state.app = AppContext(principal, site_id)


def provide_app(request: Request[Any, Any, Any]) -> AppContext:
    return request.state.app


App = NamedDependency[AppContext]
