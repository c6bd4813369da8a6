"""Adobe Commerce (Magento 2) REST routes: every route at `/rest/V1/...` and `/rest/{store_code}/V1/...`.

Thin handlers: the guard has resolved tenant, store and caller and checked the route's Magento ACL
resource (`opt["magento_acl"]`); bodies are read in camelCase or snake_case; answers are Magento's,
200 for every success as Magento sends, errors as `{message, parameters}`.
"""

from __future__ import annotations

from litestar.di import Provide

from service.http.magento.access_routes import AccessRoutes
from service.http.magento.customer_routes import CustomerRoutes
from service.http.magento.guard import provide_context
from service.http.magento.store_routes import StoreRoutes


class _MagentoRoutes(AccessRoutes, StoreRoutes, CustomerRoutes):
    """Every route once; the two controllers below serve them without and with a store code. The Magento router's
    guard has resolved tenant, store and caller."""

    tags = ["Magento REST"]
    dependencies = {"magento": Provide(provide_context, sync_to_thread=False)}


class MagentoController(_MagentoRoutes):
    path = "/rest"


class MagentoStoreController(_MagentoRoutes):
    """`{store_code}`: a site code of the tenant, `default` for its default site, `all` for the admin store."""

    path = "/rest/{store_code:str}"
