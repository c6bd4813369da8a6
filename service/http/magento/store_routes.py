"""Magento's store routes: store views, websites and store groups."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from service.http.common import Injected
from service.http.contract import ADMIN_SECURITY
from service.http.magento import guard as acl
from service.http.magento import render
from service.http.magento.conventions import selected
from service.http.magento.guard import Magento
from service.magento.stores import MagentoStores


class StoreRoutes(Controller):
    """Not registered itself: `routes.MagentoController` and `MagentoStoreController` serve these routes."""

    @get(
        "/V1/store/storeViews",
        summary="Store views (the tenant's sites, and the admin store)",
        security=ADMIN_SECURITY,
        opt={"magento_acl": acl.STORES},
    )
    async def store_views(
        self, request: Request[Any, Any, Any], magento_stores: Injected[MagentoStores], magento: Magento
    ) -> list[dict[str, Any]]:
        return selected(request, render.store_views_body(await magento_stores.store_views(magento)))

    @get(
        "/V1/store/websites",
        summary="Websites (the tenant's customer sets)",
        security=ADMIN_SECURITY,
        opt={"magento_acl": acl.STORES},
    )
    async def websites(
        self, request: Request[Any, Any, Any], magento_stores: Injected[MagentoStores], magento: Magento
    ) -> list[dict[str, Any]]:
        return selected(request, render.websites_body(await magento_stores.websites(magento)))

    @get(
        "/V1/store/storeGroups",
        summary="Store groups (one per customer set)",
        security=ADMIN_SECURITY,
        opt={"magento_acl": acl.STORES},
    )
    async def store_groups(
        self, request: Request[Any, Any, Any], magento_stores: Injected[MagentoStores], magento: Magento
    ) -> list[dict[str, Any]]:
        return selected(request, render.store_groups_body(await magento_stores.store_groups(magento)))
