"""Admin authentication, as a Litestar guard so it runs before the request body is read.

Anonymous callers are refused before validation: they learn nothing, not even whether their body
would have been valid.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request
from litestar.di import NamedDependency, Provide
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from service.admins.service import AdminPrincipal, authenticate
from service.errors import Unauthenticated
from service.web import bearer_token, runtime

ADMIN_SECURITY = [{"adminBearer": []}]


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    token = bearer_token(connection)  # type: ignore[arg-type]
    if token is None:
        raise Unauthenticated("An admin bearer token is required.", code="MISSING_TOKEN")
    rt = runtime(connection)  # type: ignore[arg-type]
    connection.state.admin = await authenticate(rt.pool, rt.redis, token)


def provide_admin(request: Request[Any, Any, Any]) -> AdminPrincipal:
    return request.state.admin

Admin = NamedDependency[AdminPrincipal]


class AdminController(Controller):
    """Base of every admin API controller: admin bearer token required, principal injected as `admin`."""

    guards = [admin_guard]
    dependencies = {"admin": Provide(provide_admin, sync_to_thread=False)}
    security = ADMIN_SECURITY
