"""Admin API: the audit trail of a customer account."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from service.audit import AuditEvent, AuditTrail
from service.http.admin.auth import Admin, AdminController
from service.http.common import Id, Injected


class AccountAuditController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/accounts/{account_id:int}/audit-events"
    tags = ["Admin: customer accounts"]

    @get("/", summary="Who changed a customer account, what, when and from where; newest first")
    async def list_account_audit_events(
        self,
        audit_trail: Injected[AuditTrail],
        admin: Admin,
        tenant_id: Id,
        account_id: Id,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[AuditEvent]:
        admin.require_tenant(tenant_id, write=False)
        return await audit_trail.of_account(tenant_id, account_id, limit)
