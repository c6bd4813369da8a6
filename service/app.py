"""The Litestar application: routes of every capability, one error mapping, lifecycle of the pools."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import AsyncIterator

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server

from service import __version__
from service.http.admin.accounts import AccountAuditController
from service.http.kibo.accounts import AccountController, ContactController
from service.accounts.service import Accounts
from service.http.admin.admins import AdminTokenController, AdminUserController
from service.http.kibo.apptickets import AppAuthTicketController, KiboTenantController
from service.http.admin.applications import ApplicationController, BehaviorController
from service.applications.tickets import AppTickets
from service.http.kibo.authtickets import AuthTicketController, CustomerLoginController, CurrentAccountController
from service.sessions.logins import AuthTickets
from service.platform.background import Background
from service.sessions.store import Sessions
from service.tokens.keys import KeyCache
from service.twofactor.challenges import Challenges
from service.limits.lockout import Lockout
from service.http.kibo.twofactor import CustomerFactorsController
from service.twofactor.service import TwoFactor
from service.http.standards.routes import SigningKeyController, TenantStandardsController
from service.platform.config import Settings, load_settings
from service.platform.db import create_pool
from service.http.errors import handle_error
from service.http.health import HealthController
from service.http.kibo.conventions import KiboCaseMiddleware
from service.http.magento.routes import MagentoController, MagentoStoreController
from service.platform.mail import Mailer
from service.platform.redis import create_redis
from service.http.request_context import RequestContextMiddleware
from service.runtime import Runtime
from service.platform.crypto import Passwords, SecretBox
from service.http.admin.tenants import CustomerSetController, SiteController, TenantController

ROUTES = [
    HealthController,
    AdminTokenController,
    BehaviorController,
    TenantController,
    CustomerSetController,
    SiteController,
    ApplicationController,
    AdminUserController,
    AppAuthTicketController,
    KiboTenantController,
    AccountController,
    ContactController,
    AccountAuditController,
    AuthTicketController,
    CustomerLoginController,
    CurrentAccountController,
    TenantStandardsController,
    SigningKeyController,
    CustomerFactorsController,
    MagentoController,
    MagentoStoreController,
]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Gatehouse",
        version=__version__,
        description="Identity and auth for commerce customers: Kibo-compatible customer accounts and auth "
        "tickets, Magento-compatible REST, and an admin API for tenant operators.",
        servers=[Server(url="/")],
        path="/docs",
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "adminBearer": SecurityScheme(
                    type="http", scheme="bearer", description="Admin token from POST /admin/v1/token."
                ),
                "appBearer": SecurityScheme(
                    type="http", scheme="bearer", description="Application token from the app auth-ticket routes."
                ),
                "appClaims": SecurityScheme(
                    type="apiKey", name="x-vol-app-claims", security_scheme_in="header",
                    description="The application token, as Kibo's legacy SDKs send it.",
                ),
            }
        ),
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        assert settings.database_url and settings.redis_url, "serve() resolves the URLs before the app starts"
        pool = await create_pool(settings.database_url)
        redis = create_redis(settings.redis_url)
        # As many hashing threads as cores: a worker may get more than its share of logins.
        passwords = Passwords(max_parallel=os.cpu_count() or 1)
        background = Background()
        mailer = Mailer(settings.smtp_url, settings.mail_from, settings.data_dir / "outbox", background)
        sessions = Sessions(redis)
        box = SecretBox(settings.secrets_key)
        keys = KeyCache(pool, box)
        lockout = Lockout(redis)
        twofactor = TwoFactor(pool, Challenges(redis), mailer, box)
        accounts = Accounts(pool, redis, passwords, mailer, sessions, lockout, background)
        app.state.runtime = Runtime(
            settings=settings,
            pool=pool,
            redis=redis,
            passwords=passwords,
            app_tickets=AppTickets(pool, redis, settings.app_token_minutes, settings.app_refresh_token_minutes),
            accounts=accounts,
            sessions=sessions,
            keys=keys,
            twofactor=twofactor,
            auth=AuthTickets(settings, pool, passwords, sessions, keys, accounts, lockout, twofactor, mailer, background),
        )
        try:
            yield
        finally:
            await background.drain()
            await redis.aclose()
            await pool.close()

    return Litestar(
        route_handlers=ROUTES,
        lifespan=[lifespan],
        exception_handlers={Exception: handle_error},
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,  # service.platform.logs configures JSON logging for the whole process
    )


def asgi_app() -> RequestContextMiddleware:
    """What uvicorn serves: the app inside the request-context middleware.

    The middleware sits outside Litestar so that even requests no route matches get a request id
    and an access-log line.
    """
    settings = load_settings()
    return RequestContextMiddleware(KiboCaseMiddleware(create_app(settings)), settings.trusted_proxies)
