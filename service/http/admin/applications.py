"""Admin API: a tenant's applications (API clients) and the behaviors they can hold."""

from __future__ import annotations

from litestar import delete, get, patch, post
from litestar.params import JSONBody

from service.applications.behaviors import DESCRIPTIONS
from service.applications.models import (
    Application,
    ApplicationCreate,
    ApplicationUpdate,
    ApplicationWithSecret,
    BehaviorDescription,
)
from service.applications.service import Applications
from service.http.admin.auth import Admin, AdminActor, AdminController
from service.http.common import Id, Injected


class BehaviorController(AdminController):
    path = "/admin/v1/behaviors"
    tags = ["Admin: applications"]

    @get("/", summary="The behaviors (permissions) an application can hold")
    async def list_behaviors(self, admin: Admin) -> list[BehaviorDescription]:
        return [BehaviorDescription(name=name, description=text) for name, text in DESCRIPTIONS.items()]


class ApplicationController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/applications"
    tags = ["Admin: applications"]

    @post("/", summary="Create an application; the answer holds its client secret, shown this once")
    async def create_application(
        self,
        applications: Injected[Applications],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        data: JSONBody[ApplicationCreate],
    ) -> ApplicationWithSecret:
        admin.require_tenant(tenant_id, write=True)
        return await applications.create_application(who, tenant_id, data)

    @get("/", summary="List applications")
    async def list_applications(
        self, applications: Injected[Applications], admin: Admin, tenant_id: Id
    ) -> list[Application]:
        admin.require_tenant(tenant_id, write=False)
        return await applications.list_applications(tenant_id)

    @get("/{application_id:int}", summary="Get an application")
    async def get_application(
        self,
        applications: Injected[Applications],
        admin: Admin,
        tenant_id: Id,
        application_id: Id,
    ) -> Application:
        admin.require_tenant(tenant_id, write=False)
        return await applications.get_application(tenant_id, application_id)

    @patch(
        "/{application_id:int}",
        summary="Rename, change behaviors, enable or disable an application",
        description="Disabling ends every ticket the application holds; enabling again does not revive them.",
    )
    async def update_application(
        self,
        applications: Injected[Applications],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        application_id: Id,
        data: JSONBody[ApplicationUpdate],
    ) -> Application:
        admin.require_tenant(tenant_id, write=True)
        return await applications.update_application(who, tenant_id, application_id, data)

    @post(
        "/{application_id:int}/rotate-secret",
        status_code=200,
        summary="Replace the client secret; the old one and every ticket issued with it stop working",
    )
    async def rotate_secret(
        self,
        applications: Injected[Applications],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        application_id: Id,
    ) -> ApplicationWithSecret:
        admin.require_tenant(tenant_id, write=True)
        return await applications.rotate_secret(who, tenant_id, application_id)

    @delete("/{application_id:int}", summary="Delete an application and end its tickets")
    async def delete_application(
        self,
        applications: Injected[Applications],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        application_id: Id,
    ) -> None:
        admin.require_tenant(tenant_id, write=True)
        await applications.delete_application(who, tenant_id, application_id)
