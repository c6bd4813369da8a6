"""First-start set-up: the bootstrap platform admin, and the demo tenant for `make run`."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from service.applications.behaviors import Behavior
from service.applications.models import ApplicationCreate
from service.audit import SYSTEM
from service.wiring import Capabilities

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


async def bootstrap_platform_admin(c: Capabilities) -> bool:
    """Create the admin named by GATEHOUSE_ADMIN_USERNAME/PASSWORD when no platform admin exists yet.

    Like Keycloak's bootstrap admin: the variables matter only on first start, and changing them
    later changes nothing (use the admin API or CLI for that).
    """
    username, password = c.settings.admin_username, c.settings.admin_password
    if username is None or password is None or await c.admins.platform_admin_exists():
        return False
    await c.admins.create_platform_admin(SYSTEM, username, password)
    log.info("created the bootstrap platform admin", extra={"username": username})
    return True


async def create_demo_if_empty(c: Capabilities) -> DemoCredentials | None:
    """On an empty database, a platform admin, a tenant with its default site, and an application."""
    if await c.admins.any_exists() or await c.tenants.any_exists():
        return None
    password = secrets.token_urlsafe(18)
    await c.admins.create_platform_admin(SYSTEM, DEMO_ADMIN_USERNAME, password)
    tenant = await c.tenants.create_tenant(SYSTEM, "Demo tenant")
    application = await c.applications.create_application(
        SYSTEM, tenant.id, ApplicationCreate(name="Demo storefront", behaviors=list(Behavior))
    )
    return DemoCredentials(
        admin_username=DEMO_ADMIN_USERNAME,
        admin_password=password,
        tenant_id=tenant.id,
        site_id=tenant.default_site_id,
        client_id=application.client_id,
        client_secret=application.client_secret,
    )
