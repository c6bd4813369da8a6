"""Which tenant, store and caller a Magento call is for, resolved in a guard before the body is read.

Tenant: the request's host name when a tenant lists it in its setting `hostNames`, else the
`x-vol-tenant` header, else GATEHOUSE_DEFAULT_TENANT_ID. Store: the `{store_code}` of
`/rest/{store_code}/V1/...`, a site code of the tenant; `default` (or no code, `/rest/V1/...`) is
the tenant's default site and `all` the admin store. Caller: an admin token of the tenant, a
customer token of the tenant, or nobody. Each route declares the Magento ACL resource it needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from service.admins.service import ADMIN_TOKEN_PREFIX, AdminPrincipal, authenticate
from service.applications.tickets import AppPrincipal
from service.sessions.logins import CustomerPrincipal
from service.applications.behaviors import Behavior
from service.errors import NotFound, Unauthenticated
from service.magento import repository as repo
from service.magento.errors import invalid_value, not_authorized, store_not_found
from service.tenants.scope import CustomerScope
from service.tenants.settings import TenantSettings, settings_from_row
from service.http.common import MAX_ID, bearer_token, runtime

# Magento ACL resources (webapi.xml) that the routes name.
ANONYMOUS = "anonymous"
SELF = "self"
CUSTOMER_READ = "Magento_Customer::customer"
CUSTOMER_MANAGE = "Magento_Customer::manage"
STORES = "Magento_Backend::store"
_READ_ONLY = frozenset({CUSTOMER_READ, STORES})  # what a tenant `viewer` admin may call

ADMIN_STORE_CODE = "all"
DEFAULT_STORE_CODE = "default"
# Customer sessions opened through Magento: no Gatehouse application, so client "magento", app id 0.
MAGENTO_CLIENT_ID = "magento"
MAGENTO_APPLICATION_ID = 0

_HOST = re.compile(r"^[a-z0-9.-]{1,253}$")


@dataclass(frozen=True, slots=True)
class Store:
    """A site, as the store view it is in Magento; its customer set is the website."""

    id: int
    code: str
    name: str
    website_id: int
    website_code: str


@dataclass(frozen=True, slots=True)
class MagentoContext:
    tenant_id: int
    settings: TenantSettings
    store: Store | None  # None: the admin store (`all`)
    default_store: Store
    admin: AdminPrincipal | None = None
    customer: CustomerPrincipal | None = None

    @property
    def storefront(self) -> Store:
        """The store a customer-facing call works in; the admin store stands for the default one."""
        return self.store or self.default_store

    def customer_scope(self, website_id: int, website_code: str, site_id: int,
                       behaviors: frozenset[str] = frozenset()) -> CustomerScope:
        """The Kibo-side scope of one website, for the account and auth services."""
        app = AppPrincipal(MAGENTO_APPLICATION_ID, self.tenant_id, MAGENTO_CLIENT_ID, behaviors)
        return CustomerScope(app, self.tenant_id, site_id, website_id, website_code, self.settings)

    def login_scope(self) -> CustomerScope:
        """The store's scope for opening a customer session. A Magento token cannot be refreshed, so its
        session may ask to end with it (the only behavior this scope's application has)."""
        store = self.storefront
        return self.customer_scope(store.website_id, store.website_code, store.id,
                                   frozenset({Behavior.CONFIGURE_TOKEN_DURATIONS.value}))

    def store_scope(self, store: Store | None = None) -> CustomerScope:
        store = store or self.storefront
        return self.customer_scope(store.website_id, store.website_code, store.id)

    @property
    def actor_name(self) -> str:
        if self.admin is not None:
            return self.admin.actor_name
        if self.customer is not None:
            return f"customer:{self.customer.account_id}"
        return f"app:{MAGENTO_CLIENT_ID}"


def _host_name(header: str | None) -> str | None:
    if not header:
        return None
    host = header.strip().lower()
    if host.startswith("["):  # an IPv6 literal: no tenant lists those
        return None
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".") if _HOST.match(host) else None


async def _tenant_id(connection: ASGIConnection[Any, Any, Any, Any]) -> int:
    rt = runtime(connection)  # type: ignore[arg-type]
    host = _host_name(connection.headers.get("host"))
    if host is not None and (tenant_id := await repo.tenant_for_host(rt.pool, host)) is not None:
        return tenant_id
    raw = (connection.headers.get("x-vol-tenant") or "").strip()
    if raw:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
            raise invalid_value("x-vol-tenant", raw)
        return int(raw)
    if rt.settings.default_tenant_id is not None:
        return rt.settings.default_tenant_id
    raise NotFound("No tenant serves this host: send x-vol-tenant, or list the host in the tenant's hostNames.",
                   code="TENANT_NOT_FOUND")


def _store(row: Any) -> Store:
    return Store(row["id"], row["code"], row["name"], row["customer_set_id"], row["customer_set_code"])


async def _caller(connection: ASGIConnection[Any, Any, Any, Any], tenant_id: int,
                  resource: str) -> tuple[AdminPrincipal | None, CustomerPrincipal | None]:
    """The admin or customer behind the bearer token. A bad token is refused, except on anonymous routes,
    which (like Magento's) treat it as no token."""
    token = bearer_token(connection)  # type: ignore[arg-type]
    if token is None:
        return None, None
    rt = runtime(connection)  # type: ignore[arg-type]
    admin = customer = None
    if token.startswith(ADMIN_TOKEN_PREFIX):
        try:
            admin = await authenticate(rt.pool, rt.redis, token)
        except Unauthenticated:
            admin = None
        if admin is not None and not admin.is_platform_admin and admin.tenant_id != tenant_id:
            admin = None
    else:
        customer = await rt.auth.customer_for(token)
        if customer is not None and customer.tenant_id != tenant_id:
            customer = None
    if admin is None and customer is None and resource != ANONYMOUS:
        raise not_authorized(resource)
    return admin, customer


def _authorize(resource: str, admin: AdminPrincipal | None, customer: CustomerPrincipal | None) -> None:
    if resource == ANONYMOUS:
        return
    if resource == SELF:
        if customer is None:
            raise not_authorized(SELF)
        return
    if admin is None or (admin.role == "viewer" and resource not in _READ_ONLY):
        raise not_authorized(resource)


async def magento_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    tenant_id = await _tenant_id(connection)
    code = connection.path_params.get("store_code")
    named = None if code in (None, DEFAULT_STORE_CODE, ADMIN_STORE_CODE) else code
    rows = await repo.tenant_stores(runtime(connection).pool, tenant_id, named)  # type: ignore[arg-type]
    default = next((row for row in rows if row["is_default"]), None)
    if default is None:
        raise NotFound("Tenant not found.", code="TENANT_NOT_FOUND")
    if code == ADMIN_STORE_CODE:
        store = None
    elif named is None:
        store = _store(default)
    else:
        match = next((row for row in rows if row["code"] == named), None)
        if match is None:
            raise store_not_found()
        store = _store(match)
    resource = handler.opt.get("magento_acl", ANONYMOUS)
    admin, customer = await _caller(connection, tenant_id, resource)
    _authorize(resource, admin, customer)
    connection.state.magento = MagentoContext(
        tenant_id, settings_from_row(default["settings"]), store, _store(default), admin, customer
    )


def provide_context(request: Request[Any, Any, Any]) -> MagentoContext:
    return request.state.magento


Magento = NamedDependency[MagentoContext]
