"""First-start set-up: the bootstrap platform admin, and the demo tenant for `make run`."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import asyncpg

from service.admins import repository as admins_repo
from service.admins.service import create_platform_admin
from service.applications.models import ApplicationCreate
from service.applications.service import create_application
from service.audit import SYSTEM
from service.applications.behaviors import Behavior
from service.platform.config import Settings
from service.platform.crypto import Passwords
from service.tenants.service import create_tenant

log = logging.getLogger("gatehouse.bootstrap")

DEMO_ADMIN_USERNAME = "admin"


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    admin_username: str
    admin_password: str
    tenant_id: int
    site_id: int
    client_id: str
    client_secret: str


async def bootstrap_platform_admin(pool: asyncpg.Pool, passwords: Passwords, settings: Settings) -> bool:
    """Create the admin named by GATEHOUSE_ADMIN_USERNAME/PASSWORD when no platform admin exists yet.

    Like Keycloak's bootstrap admin: the variables matter only on first start, and changing them
    later changes nothing (use the admin API or CLI for that).
    """
    if settings.admin_username is None or settings.admin_password is None:
        return False
    if await admins_repo.platform_admin_exists(pool):
        return False
    await create_platform_admin(pool, passwords, SYSTEM, settings.admin_username, settings.admin_password)
    log.info("created the bootstrap platform admin", extra={"username": settings.admin_username})
    return True


async def create_demo_if_empty(pool: asyncpg.Pool, passwords: Passwords, settings: Settings) -> DemoCredentials | None:
    """On an empty database, a platform admin, a tenant with its default site, and an application."""
    empty = await pool.fetchval(
        "SELECT NOT EXISTS (SELECT 1 FROM admin_users) AND NOT EXISTS (SELECT 1 FROM tenants)"
    )
    if not empty:
        return None
    password = secrets.token_urlsafe(18)
    await create_platform_admin(pool, passwords, SYSTEM, DEMO_ADMIN_USERNAME, password)
    tenant = await create_tenant(pool, SYSTEM, "Demo tenant", settings.caps)
    application = await create_application(
        pool, SYSTEM, tenant.id, ApplicationCreate(name="Demo storefront", behaviors=list(Behavior))
    )
    return DemoCredentials(
        admin_username=DEMO_ADMIN_USERNAME,
        admin_password=password,
        tenant_id=tenant.id,
        site_id=tenant.default_site_id,
        client_id=application.client_id,
        client_secret=application.client_secret,
    )
