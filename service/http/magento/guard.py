"""Which tenant, store and caller a Magento call is for, resolved in a guard before the body is read.

Tenant: the request's host name when a tenant lists it in its setting `hostNames`, else the
`x-vol-tenant` header, else GATEHOUSE_DEFAULT_TENANT_ID. Store: the `{store_code}` of
`/rest/{store_code}/V1/...`, a site code of the tenant; `default` (or no code, `/rest/V1/...`) is
the tenant's default site and `all` the admin store. Caller: an admin token of the tenant, a
customer token of the tenant, or nobody. Each route declares the Magento ACL resource it needs.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from service.admins.service import AdminPrincipal, Admins
from service.errors import ErrorCode, NotFound, Unauthenticated
from service.http.common import bearer_token
from service.magento.context import MagentoContext
from service.magento.errors import invalid_value, not_authorized
from service.magento.stores import MagentoStores
from service.platform.db import MAX_ID
from service.tokens.resolver import CustomerPrincipal, TokenKind, TokenResolver, kind_of

# Magento ACL resources (webapi.xml) that the routes name.
ANONYMOUS = "anonymous"
SELF = "self"
CUSTOMER_READ = "Magento_Customer::customer"
CUSTOMER_MANAGE = "Magento_Customer::manage"
STORES = "Magento_Backend::store"
_READ_ONLY = frozenset({CUSTOMER_READ, STORES})  # what a tenant `viewer` admin may call

_HOST = re.compile(r"^[a-z0-9.-]{1,253}$")


def _host_name(header: str | None) -> str | None:
    if not header:
        return None
    host = header.strip().lower()
    if host.startswith("["):  # an IPv6 literal: no tenant lists those
        return None
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".") if _HOST.match(host) else None


class MagentoGuard:
    """Resolves tenant, store and caller, and checks the route's Magento ACL resource (`opt["magento_acl"]`).

    A guard rather than a `before_request` hook because it needs the handler's resource; it still runs
    before the body is read.
    """

    def __init__(
        self, *, stores: MagentoStores, admins: Admins, tokens: TokenResolver, default_tenant_id: int | None
    ) -> None:
        self._stores = stores
        self._admins = admins
        self._tokens = tokens
        self._default_tenant_id = default_tenant_id

    def __deepcopy__(self, memo: dict[int, Any]) -> MagentoGuard:
        return self  # Litestar deep-copies a router when registering it; the capabilities are the process's own

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        tenant_id = await self._tenant_id(connection)
        settings, store, default = await self._stores.storefront(tenant_id, connection.path_params.get("store_code"))
        resource = handler.opt.get("magento_acl", ANONYMOUS)
        admin, customer = await self._caller(bearer_token(connection), tenant_id, resource)  # type: ignore[arg-type]
        _authorize(resource, admin, customer)
        connection.state.magento = MagentoContext(tenant_id, settings, store, default, admin, customer)

    async def _tenant_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> int:
        host = _host_name(connection.headers.get("host"))
        if host is not None and (tenant_id := await self._stores.tenant_for_host(host)) is not None:
            return tenant_id
        raw = (connection.headers.get("x-vol-tenant") or "").strip()
        if raw:
            if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
                raise invalid_value("x-vol-tenant", raw)
            return int(raw)
        if self._default_tenant_id is not None:
            return self._default_tenant_id
        raise NotFound(
            "No tenant serves this host: send x-vol-tenant, or list the host in the tenant's hostNames.",
            code=ErrorCode.TENANT_NOT_FOUND,
        )

    async def _caller(
        self, token: str | None, tenant_id: int, resource: str
    ) -> tuple[AdminPrincipal | None, CustomerPrincipal | None]:
        """The admin or customer behind the bearer token. A bad token is refused, except on anonymous routes,
        which (like Magento's) treat it as no token."""
        if token is None:
            return None, None
        admin = customer = None
        if kind_of(token) is TokenKind.ADMIN:
            try:
                admin = await self._admins.authenticate(token)
            except Unauthenticated:
                admin = None
            if admin is not None and not admin.is_platform_admin and admin.tenant_id != tenant_id:
                admin = None
        else:
            customer = await self._tokens.customer(token)
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


def provide_context(request: Request[Any, Any, Any]) -> MagentoContext:
    context: MagentoContext = request.state.magento
    return context


Magento = NamedDependency[MagentoContext]
