"""Admin authentication: a `before_request` hook, so anonymous callers are refused before the body is read.

They learn nothing, not even whether their body would have been valid. `create_app` builds the hook
with the `Admins` capability and hangs it on the admin router.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidationMarker

from service.admins.service import AdminPrincipal, Admins
from service.audit import Actor
from service.errors import ErrorCode, Unauthenticated
from service.http.common import actor, bearer_token
from service.http.contract import ADMIN_SECURITY


def missing_admin_token() -> Unauthenticated:
    return Unauthenticated("An admin bearer token is required.", code=ErrorCode.MISSING_TOKEN)


class AdminAuthentication:
    def __init__(self, *, admins: Admins) -> None:
        self._admins = admins

    def __deepcopy__(self, memo: dict[int, Any]) -> AdminAuthentication:
        return self  # Litestar deep-copies a router when registering it; the capabilities are the process's own

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        token = bearer_token(request)
        if token is None:
            raise missing_admin_token()
        request.state.admin = await self._admins.authenticate(token)


def provide_admin(request: Request[Any, Any, Any]) -> AdminPrincipal:
    admin: AdminPrincipal = request.state.admin
    return admin


Admin = NamedDependency[AdminPrincipal]


def provide_admin_actor(request: Request[Any, Any, Any], admin: Admin) -> Actor:
    """The admin as the audit trail names them, with this request's address and id."""
    return actor(request, admin.actor_name)


# Who a write is recorded as: `who: AdminActor`.
AdminActor = Annotated[Actor, SkipValidationMarker()]


class AdminController(Controller):
    """Base of every admin API controller: its router authenticates the admin, injected here as `admin`."""

    dependencies = {
        "admin": Provide(provide_admin, sync_to_thread=False),
        "who": Provide(provide_admin_actor, sync_to_thread=False),
    }
    security = ADMIN_SECURITY
