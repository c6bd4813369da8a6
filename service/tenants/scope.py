"""Which tenant and customer set a customer-facing call works in."""

from __future__ import annotations

from dataclasses import dataclass

from service.applications.tickets import AppPrincipal
from service.tenants.settings import TenantSettings


@dataclass(frozen=True, slots=True)
class CustomerScope:
    app: AppPrincipal
    tenant_id: int
    site_id: int
    customer_set_id: int
    customer_set_code: str
    settings: TenantSettings  # read with the site, so a call needs no second query for them
