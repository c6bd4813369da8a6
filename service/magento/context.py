"""Which tenant, store and caller a Magento call is for, as the Magento capability takes it."""

from __future__ import annotations

from dataclasses import dataclass

from service.admins.service import AdminPrincipal
from service.applications.behaviors import Behavior
from service.applications.tickets import AppPrincipal
from service.magento.errors import not_authorized
from service.magento.records import Store
from service.tenants.scope import CustomerScope
from service.tenants.settings import TenantSettings
from service.tokens.resolver import CustomerPrincipal

# Customer sessions opened through Magento: no Gatehouse application, so client "magento", app id 0.
MAGENTO_CLIENT_ID = "magento"
MAGENTO_APPLICATION_ID = 0


@dataclass(frozen=True, slots=True)
class MagentoContext:
    tenant_id: int
    settings: TenantSettings
    store: Store | None  # None: the admin store (`all`)
    default_store: Store
    admin: AdminPrincipal | None = None
    customer: CustomerPrincipal | None = None

    @property
    def calling_customer(self) -> CustomerPrincipal:
        """The customer whose token called one of a customer's own routes (ACL `self`, checked by the guard)."""
        if self.customer is None:
            raise not_authorized("self")
        return self.customer

    @property
    def storefront(self) -> Store:
        """The store a customer-facing call works in; the admin store stands for the default one."""
        return self.store or self.default_store

    def customer_scope(
        self, website_id: int, website_code: str, site_id: int, behaviors: frozenset[str] = frozenset()
    ) -> CustomerScope:
        """The Kibo-side scope of one website, for the account and auth services."""
        app = AppPrincipal(MAGENTO_APPLICATION_ID, self.tenant_id, MAGENTO_CLIENT_ID, behaviors)
        return CustomerScope(app, self.tenant_id, site_id, website_id, website_code, self.settings)

    def login_scope(self) -> CustomerScope:
        """The store's scope for opening a customer session. A Magento token cannot be refreshed, so its
        session may ask to end with it (the only behavior this scope's application has)."""
        store = self.storefront
        return self.customer_scope(
            store.website_id, store.website_code, store.id, frozenset({Behavior.CONFIGURE_TOKEN_DURATIONS.value})
        )

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
