"""Admin authentication, as a `before_request` hook so it runs before the request body is read.

Anonymous callers are refused before validation: they learn nothing, not even whether their body
would have been valid.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request
from litestar.di import NamedDependency, Provide

from service.admins.service import AdminPrincipal, authenticate
from service.errors import Unauthenticated
from service.http.common import bearer_token, runtime

ADMIN_SECURITY = [{"adminBearer": []}]


async def authenticate_admin(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: runs before the body is read."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("An admin bearer token is required.", code="MISSING_TOKEN")
    rt = runtime(request)
    request.state.admin = await authenticate(rt.pool, rt.redis, token)


def provide_admin(request: Request[Any, Any, Any]) -> AdminPrincipal:
    return request.state.admin

Admin = NamedDependency[AdminPrincipal]


class AdminController(Controller):
    """Base of every admin API controller: admin bearer token required, principal injected as `admin`."""

    before_request = authenticate_admin
    dependencies = {"admin": Provide(provide_admin, sync_to_thread=False)}
    security = ADMIN_SECURITY
