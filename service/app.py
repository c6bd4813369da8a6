"""The Litestar application: the route table, one error mapping, and the lifecycle of the pools.

`create_app` builds every capability once (`service.wiring`) and hands them to the surfaces: to
route handlers through Litestar's dependency injection (a handler names the capability it needs as a
parameter: `accounts: Accounts`), and to the three authentication steps (admin, Kibo, Magento),
which their routers run before any handler.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Server

from service import __version__
from service.http.admin.accounts import AccountAuditController
from service.http.admin.admins import AdminTokenController, AdminUserController
from service.http.admin.applications import ApplicationController, BehaviorController
from service.http.admin.auth import AdminAuthentication
from service.http.admin.imports import ImportController
from service.http.admin.signing_keys import SigningKeyController
from service.http.admin.tenants import CustomerSetController, SiteController, TenantController
from service.http.admin.webhooks import WebhookEndpointController, WebhookEventTypeController
from service.http.contract import SECURITY_SCHEMES, document_answers, operation_id
from service.http.docs import DOCS_PATH, docs_assets, docs_plugin
from service.http.errors import handle_error
from service.http.health import HealthController
from service.http.json_body import GatehouseRequest
from service.http.kibo.account_logins import CurrentAccountController, CustomerLoginController
from service.http.kibo.accounts import AccountController
from service.http.kibo.apptickets import AppAuthTicketController
from service.http.kibo.auth import KiboAuthentication
from service.http.kibo.authtickets import AuthTicketController
from service.http.kibo.case import KiboCaseMiddleware
from service.http.kibo.contacts import ContactController
from service.http.kibo.customer_sessions import CustomerSessionController
from service.http.kibo.tenant import KiboTenantController
from service.http.kibo.twofactor import CustomerFactorsController
from service.http.magento.guard import MagentoGuard
from service.http.magento.routes import MagentoController, MagentoStoreController
from service.http.request_context import RequestContextMiddleware
from service.http.standards.routes import TenantStandardsController
from service.platform.config import Settings, load_settings
from service.platform.redis import close_redis
from service.wiring import Capabilities, build_capabilities

log = logging.getLogger("gatehouse.webhooks")

PUBLIC_ROUTES = [HealthController, AdminTokenController, AppAuthTicketController, TenantStandardsController]
ADMIN_ROUTES = [
    BehaviorController,
    TenantController,
    CustomerSetController,
    SiteController,
    ApplicationController,
    AdminUserController,
    AccountAuditController,
    SigningKeyController,
    WebhookEventTypeController,
    WebhookEndpointController,
    ImportController,
]
KIBO_ROUTES = [
    KiboTenantController,
    AccountController,
    ContactController,
    AuthTicketController,
    CustomerSessionController,
    CustomerLoginController,
    CurrentAccountController,
    CustomerFactorsController,
]
MAGENTO_ROUTES = [MagentoController, MagentoStoreController]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Gatehouse",
        version=__version__,
        description="Identity and auth for commerce customers: Kibo-compatible customer accounts and auth "
        "tickets, Magento-compatible REST, and an admin API for tenant operators.",
        servers=[Server(url="/")],
        path=DOCS_PATH,
        operation_id_creator=operation_id,
        render_plugins=[docs_plugin()],
        components=Components(security_schemes=SECURITY_SCHEMES),
    )


def create_app(settings: Settings | None = None) -> Litestar:
    capabilities = build_capabilities(settings or load_settings())
    app = Litestar(
        route_handlers=[*PUBLIC_ROUTES, docs_assets(), *_routers(capabilities)],
        dependencies={name: _provide(value) for name, value in capabilities.by_name().items()},
        lifespan=[_lifespan(capabilities)],
        exception_handlers={Exception: handle_error},
        request_class=GatehouseRequest,
        openapi_config=openapi_config(),
        request_max_body_size=capabilities.settings.max_body_bytes,
        debug=False,
        logging_config=None,  # service.platform.logs configures JSON logging for the whole process
    )
    document_answers(app.openapi_schema)  # built once here, served as it is
    return app


def _routers(c: Capabilities) -> list[Router]:
    kibo_auth = KiboAuthentication(
        app_tickets=c.app_tickets, tokens=c.tokens, challenges=c.challenges, tenants=c.tenants
    )
    magento_guard = MagentoGuard(
        stores=c.magento_stores, admins=c.admins, tokens=c.tokens, default_tenant_id=c.settings.default_tenant_id
    )
    return [
        Router("/", route_handlers=ADMIN_ROUTES, before_request=AdminAuthentication(admins=c.admins)),
        Router("/", route_handlers=KIBO_ROUTES, before_request=kibo_auth),
        Router("/", route_handlers=MAGENTO_ROUTES, guards=[magento_guard]),
    ]


def _provide(value: Any) -> Provide:
    def dependency() -> Any:
        return value

    return Provide(dependency, use_cache=True, sync_to_thread=False)


def _lifespan(c: Capabilities) -> Callable[[Litestar], Any]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await c.db.open()  # serve() has resolved DATABASE_URL and REDIS_URL before the app starts
        pool_reporter = asyncio.create_task(c.db.report_pool_use())
        c.background.spawn(c.imports.resume_unfinished(), "resume unfinished imports")
        delivery = await _start_delivery(c)
        # Everything start-up built (the app, its routes and schemas, the libraries: some 120,000 objects) lives as
        # long as the process: frozen, the collector stops walking it at every full collection, which paused every
        # request in flight for a few hundred milliseconds on a busy machine and cost a bulk import a fifth of its CPU.
        gc.freeze()
        try:
            yield
        finally:
            pool_reporter.cancel()
            await c.imports.stop()  # each running import keeps its last batch and resumes at the next start
            await _stop_delivery(c, delivery)
            await c.background.drain()
            await close_redis(c.redis)
            await c.db.close()

    return lifespan


async def _start_delivery(c: Capabilities) -> list[asyncio.Task[None]]:
    """This process's webhook delivery loops (GATEHOUSE_WEBHOOK_WORKERS of them), the outbox-depth reporter and
    the pruning of what the retention no longer keeps."""
    loops = c.deliveries.policy.workers
    if loops == 0:
        return []
    await c.deliveries.sender.open()
    tasks = [asyncio.create_task(c.deliveries.run()) for _ in range(loops)]
    tasks.append(asyncio.create_task(c.deliveries.report_depth()))
    tasks.append(asyncio.create_task(c.deliveries.prune()))
    for task in tasks:
        task.add_done_callback(_log_if_crashed)
    return tasks


async def _stop_delivery(c: Capabilities, tasks: list[asyncio.Task[None]]) -> None:
    """Cancelled loops write what they have sent; what is still in flight goes out again when its claim lapses."""
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await c.deliveries.sender.close()


def _log_if_crashed(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("webhook delivery stopped in this process", exc_info=task.exception())


def asgi_app() -> RequestContextMiddleware:
    """What uvicorn serves: the app inside the request-context middleware.

    The middleware sits outside Litestar so that even requests no route matches get a request id
    and an access-log line.
    """
    settings = load_settings()
    return RequestContextMiddleware(KiboCaseMiddleware(create_app(settings)), settings.trusted_proxies)
