"""Admin API: the audit trail of a customer account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import QueryParameter

from service.accounts import repository as repo
from service.http.admin.auth import Admin, AdminController
from service.http.common import Id, runtime


class AuditEvent(msgspec.Struct, rename="camel", kw_only=True):
    occurred_at: datetime
    actor: str
    action: str
    client_ip: str | None
    request_id: str | None
    details: dict[str, Any]


class AccountAuditController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/accounts/{account_id:int}/audit-events"
    tags = ["Admin: customer accounts"]

    @get("/", summary="Who changed a customer account, what, when and from where; newest first")
    async def list_account_audit_events(
        self, request: Request[Any, Any, Any], admin: Admin, tenant_id: Id, account_id: Id,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[AuditEvent]:
        admin.require_tenant(tenant_id, write=False)
        rows = await repo.audit_events(runtime(request).pool, tenant_id, account_id, limit)
        return [AuditEvent(**dict(row)) for row in rows]
