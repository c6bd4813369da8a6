"""Admin API: sign-in, sign-out, and a tenant's admin users."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody

from service.admins.models import AdminToken, AdminUser, AdminUserCreate, AdminUserUpdate, TokenRequest
from service.admins.service import Admins
from service.http.admin.auth import Admin, AdminActor, AdminController, missing_admin_token
from service.http.common import Id, Injected, bearer_token
from service.http.contract import ADMIN_SECURITY, answers
from service.http.request_context import client_address_of


class AdminTokenController(Controller):
    path = "/admin/v1/token"
    tags = ["Admin: sign-in"]

    @post(
        "/",
        status_code=200,
        summary="Sign in as a platform or tenant admin",
        description="Without `tenantId` the username is a platform admin's. Wrong credentials, unknown users and "
        "disabled users all get the same 401. Ten failures for one username from one address in 15 minutes "
        "answer 429 until the window passes.",
        responses=answers(401, 404, 429),
    )
    async def sign_in(
        self, request: Request[Any, Any, Any], admins: Injected[Admins], data: JSONBody[TokenRequest]
    ) -> AdminToken:
        return await admins.sign_in(
            username=data.username,
            password=data.password,
            tenant_id=data.tenant_id,
            client_address=client_address_of(request.scope),
        )

    @delete("/", security=ADMIN_SECURITY, summary="Sign out: end the admin token of this call")
    async def sign_out(self, request: Request[Any, Any, Any], admins: Injected[Admins]) -> None:
        token = bearer_token(request)
        if token is None:
            raise missing_admin_token()
        await admins.authenticate(token)
        await admins.sign_out(token)


class AdminUserController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/admin-users"
    tags = ["Admin: admin users"]

    @post("/", summary="Create a tenant admin user")
    async def create_admin_user(
        self,
        admins: Injected[Admins],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        data: JSONBody[AdminUserCreate],
    ) -> AdminUser:
        admin.require_tenant(tenant_id, write=True)
        return await admins.create_tenant_admin(who, tenant_id, data)

    @get("/", summary="List a tenant's admin users")
    async def list_admin_users(self, admins: Injected[Admins], admin: Admin, tenant_id: Id) -> list[AdminUser]:
        admin.require_tenant(tenant_id, write=False)
        return await admins.list_tenant_admins(tenant_id)

    @get("/{admin_id:int}", summary="Get a tenant admin user")
    async def get_admin_user(self, admins: Injected[Admins], admin: Admin, tenant_id: Id, admin_id: Id) -> AdminUser:
        admin.require_tenant(tenant_id, write=False)
        return await admins.get_tenant_admin(tenant_id, admin_id)

    @patch("/{admin_id:int}", summary="Change a tenant admin user's password, role or enabled state")
    async def update_admin_user(
        self,
        admins: Injected[Admins],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        admin_id: Id,
        data: JSONBody[AdminUserUpdate],
    ) -> AdminUser:
        admin.require_tenant(tenant_id, write=True)
        return await admins.update_tenant_admin(who, tenant_id, admin_id, data)

    @delete("/{admin_id:int}", summary="Delete a tenant admin user")
    async def delete_admin_user(
        self, admins: Injected[Admins], admin: Admin, who: AdminActor, tenant_id: Id, admin_id: Id
    ) -> None:
        admin.require_tenant(tenant_id, write=True)
        await admins.delete_tenant_admin(who, tenant_id, admin_id)
