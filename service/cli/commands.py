"""The commands that change or print something once: migrate, tenant/application/admin create, openapi."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any

from service.applications.behaviors import Behavior
from service.cli.common import CLI_ACTOR, CommandFailed, emit, servers, with_capabilities
from service.platform.config import Settings, load_settings
from service.platform.migrate import apply_migrations
from service.wiring import Capabilities


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> list[str]:
        return await apply_migrations(settings.resolved_database_url())

    with servers(settings, with_redis=False) as ready:
        settings = ready
        applied = asyncio.run(run())
    emit(args, "\n".join(f"applied {name}" for name in applied) or "schema is up to date", {"applied": applied})
    return 0


# --- tenant / application / admin creation -----------------------------------------------------


def cmd_tenant_create(args: argparse.Namespace, settings: Settings) -> int:
    with servers(settings, with_redis=False) as ready:
        tenant = with_capabilities(ready, lambda c: c.tenants.create_tenant(CLI_ACTOR, args.name))
    emit(args, f"created tenant {tenant.id} ({tenant.name}) with default site {tenant.default_site_id}", tenant)
    return 0


def cmd_application_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.applications.models import ApplicationCreate

    behaviors = [Behavior(b) for b in args.behavior] if args.behavior else list(Behavior)
    data = ApplicationCreate(name=args.name, behaviors=behaviors)
    with servers(settings, with_redis=False) as ready:
        app = with_capabilities(ready, lambda c: c.applications.create_application(CLI_ACTOR, args.tenant_id, data))
    emit(
        args,
        f"created application {app.id} in tenant {app.tenant_id}\n  client_id     {app.client_id}\n"
        f"  client_secret {app.client_secret}   (shown once)\n  behaviors     {', '.join(app.behaviors)}",
        app,
    )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CommandFailed("the passwords differ")
    else:
        raise CommandFailed("pass the password on stdin with --password-stdin")
    if len(password) < 12:
        raise CommandFailed("the password must be at least 12 characters")
    return password


def cmd_admin_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.admins.models import AdminUserCreate, TenantRole

    password = _read_password(args)

    async def create(c: Capabilities) -> Any:
        if args.tenant_id is None:
            return await c.admins.create_platform_admin(CLI_ACTOR, args.username, password)
        data = AdminUserCreate(username=args.username, password=password, role=TenantRole(args.role))
        return await c.admins.create_tenant_admin(CLI_ACTOR, args.tenant_id, data)

    with servers(settings, with_redis=False) as ready:
        user = with_capabilities(ready, create)
    scope = "platform admin" if user.tenant_id is None else f"{user.role} of tenant {user.tenant_id}"
    emit(args, f"created admin user {user.id} '{user.username}' ({scope})", user)
    return 0


# --- openapi -----------------------------------------------------------------------------------


def render_openapi() -> str:
    import yaml

    from service.app import create_app

    schema = create_app(load_settings({})).openapi_schema.to_schema()
    return yaml.safe_dump(schema, sort_keys=False, allow_unicode=True, width=120)


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    text = render_openapi()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        emit(args, f"wrote {args.output}", {"written": args.output})
    else:
        sys.stdout.write(text)
    return 0
