"""Which tenant and customer set a Kibo call works in: the app's tenant, through the site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import Request
from litestar.di import NamedDependency

from service.http.kibo.auth import AppContext
from service.applications.tickets import AppPrincipal
from service.tenants.settings import TenantSettings, settings_from_row
from service.http.common import runtime


@dataclass(frozen=True, slots=True)
class CustomerScope:
    app: AppPrincipal
    tenant_id: int
    site_id: int
    customer_set_id: int
    customer_set_code: str
    settings: TenantSettings  # read with the site, so a call needs no second query for them


async def resolve_scope(pool: asyncpg.Pool, context: AppContext) -> CustomerScope:
    """`x-vol-site` when sent (the guard checked it belongs to the tenant), else the default site."""
    tenant_id = context.principal.tenant_id
    row = await pool.fetchrow(
        """SELECT s.id, s.customer_set_id, c.code, t.settings FROM sites s
           JOIN customer_sets c ON c.tenant_id = s.tenant_id AND c.id = s.customer_set_id
           JOIN tenants t ON t.id = s.tenant_id
           WHERE s.tenant_id = $1 AND (s.id = $2 OR ($2::int IS NULL AND s.is_default))""",
        tenant_id, context.site_id,
    )
    return CustomerScope(
        context.principal, tenant_id, row["id"], row["customer_set_id"], row["code"], settings_from_row(row["settings"])
    )


async def provide_scope(request: Request[Any, Any, Any]) -> CustomerScope:
    return await resolve_scope(runtime(request).pool, request.state.app)


Customer = NamedDependency[CustomerScope]
