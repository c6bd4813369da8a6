"""`gatehouse`: the operator's command line.

Every command prints what it did (as JSON with --json) and exits non-zero on failure:
1 for a refused operation, 2 for bad configuration or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import getpass
import json
import logging
import os
import secrets
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import msgspec

from service.audit import Actor
from service.applications.behaviors import Behavior
from service.platform.config import ConfigError, Settings, load_settings
from service.platform.embedded import embedded_servers, export_urls
from service.errors import GatehouseError
from service.platform.logs import configure_logging
from service.platform.migrate import MigrationError, apply_migrations
from service.platform.crypto import parse_secrets_key
from service.wiring import Capabilities, build_capabilities

CLI_ACTOR = Actor("cli")
log = logging.getLogger("gatehouse.cli")


class CommandFailed(Exception):
    pass


def _emit(args: argparse.Namespace, text: str, data: Any) -> None:
    if args.json:
        print(json.dumps(msgspec.to_builtins(data), indent=2))
    else:
        print(text)


@contextmanager
def _servers(settings: Settings, *, with_redis: bool) -> Iterator[Settings]:
    """The settings with both URLs filled in, starting embedded servers for the missing ones."""
    with embedded_servers(settings.data_dir, settings.database_url, settings.redis_url, with_redis=with_redis) as urls:
        yield dataclasses.replace(settings, database_url=urls.database_url, redis_url=urls.redis_url)


def _with_capabilities(settings: Settings, work: Callable[[Capabilities], Awaitable[Any]]) -> Any:
    """Run `work(capabilities)` against a migrated database."""

    async def run() -> Any:
        assert settings.database_url
        await apply_migrations(settings.database_url)
        capabilities = build_capabilities(settings)
        await capabilities.db.open()
        try:
            return await work(capabilities)
        finally:
            await capabilities.db.close()
            await capabilities.redis.aclose()

    return asyncio.run(run())


# --- serve -------------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.bootstrap import bootstrap_platform_admin, create_demo_if_empty

    # SIGTERM becomes an exception once uvicorn has drained in-flight requests and re-raised it,
    # so the embedded servers below still stop cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with _servers(settings, with_redis=True) as ready:
            export_urls_from(ready)
            ready = _with_secrets_key(ready, embedded=settings.embedded)

            async def prepare(capabilities: Capabilities) -> Any:
                await bootstrap_platform_admin(capabilities)
                return await create_demo_if_empty(capabilities) if args.demo_if_empty else None

            demo = _with_capabilities(ready, prepare)
            _print_banner(ready, demo)
            uvicorn.run(
                "service.app:asgi_app",
                factory=True,
                host=ready.host,
                port=ready.port,
                workers=ready.workers,
                timeout_graceful_shutdown=ready.graceful_shutdown_seconds,
                access_log=False,
                log_config=None,
                proxy_headers=False,  # client addresses come from GATEHOUSE_TRUSTED_PROXIES only
                server_header=False,
            )
    except KeyboardInterrupt:
        pass
    return 0


def _with_secrets_key(settings: Settings, *, embedded: bool) -> Settings:
    """Embedded mode keeps its own secrets key beside its data; production passes GATEHOUSE_SECRETS_KEY."""
    if settings.secrets_key is not None:
        return settings
    if not embedded:
        log.warning("GATEHOUSE_SECRETS_KEY is not set: signing keys and TOTP seeds are stored unencrypted")
        return settings
    key_file = settings.data_dir / "secrets.key"
    if not key_file.exists():
        key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    raw = key_file.read_text(encoding="utf-8").strip()
    os.environ["GATEHOUSE_SECRETS_KEY"] = raw  # the worker processes read their settings from the environment
    return dataclasses.replace(settings, secrets_key=parse_secrets_key(raw))


def export_urls_from(settings: Settings) -> None:
    from service.platform.embedded import EmbeddedUrls

    export_urls(EmbeddedUrls(settings.database_url, settings.redis_url))


def _print_banner(settings: Settings, demo: Any) -> None:
    base = settings.public_url
    lines = [
        "",
        f"Gatehouse is starting on {base}",
        f"  API docs:   {base}/docs   (Swagger UI: {base}/docs/swagger)",
        f"  Readiness:  curl {base}/health/ready",
    ]
    if settings.embedded:
        lines.append(f"  Data:       {settings.data_dir} (embedded PostgreSQL and Redis)")
    if demo is not None:
        lines += [
            "",
            "Demo set-up created. These credentials are shown once; keep them:",
            f"  platform admin:  {demo.admin_username} / {demo.admin_password}",
            f"  tenant id:       {demo.tenant_id}   default site id: {demo.site_id}",
            f"  application:     client_id {demo.client_id}",
            f"                   client_secret {demo.client_secret}",
            "",
            "Try it:",
            f"  curl -s -X POST {base}/admin/v1/token -H 'content-type: application/json' \\",
            f"       -d '{{\"username\": \"{demo.admin_username}\", \"password\": \"{demo.admin_password}\"}}'",
            f"  curl -s -X POST {base}/api/platform/applications/authtickets/oauth -H 'content-type: application/json' \\",
            f"       -d '{{\"client_id\": \"{demo.client_id}\", \"client_secret\": \"{demo.client_secret}\", "
            "\"grant_type\": \"client_credentials\"}'",
        ]
    else:
        lines += [
            "",
            "Get an admin token:",
            f"  curl -s -X POST {base}/admin/v1/token -H 'content-type: application/json' "
            "-d '{\"username\": \"...\", \"password\": \"...\"}'",
        ]
    print("\n".join(lines) + "\n", flush=True)


# --- migrate -----------------------------------------------------------------------------------

def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> list[str]:
        assert settings.database_url
        return await apply_migrations(settings.database_url)

    with _servers(settings, with_redis=False) as ready:
        settings = ready
        applied = asyncio.run(run())
    _emit(args, "\n".join(f"applied {name}" for name in applied) or "schema is up to date", {"applied": applied})
    return 0


# --- tenant / application / admin creation -----------------------------------------------------

def cmd_tenant_create(args: argparse.Namespace, settings: Settings) -> int:
    with _servers(settings, with_redis=False) as ready:
        tenant = _with_capabilities(ready, lambda c: c.tenants.create_tenant(CLI_ACTOR, args.name))
    _emit(args, f"created tenant {tenant.id} ({tenant.name}) with default site {tenant.default_site_id}", tenant)
    return 0


def cmd_application_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.applications.models import ApplicationCreate

    behaviors = [Behavior(b) for b in args.behavior] if args.behavior else list(Behavior)
    data = ApplicationCreate(name=args.name, behaviors=behaviors)
    with _servers(settings, with_redis=False) as ready:
        app = _with_capabilities(ready, lambda c: c.applications.create_application(CLI_ACTOR, args.tenant_id, data))
    _emit(
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

    with _servers(settings, with_redis=False) as ready:
        user = _with_capabilities(ready, create)
    scope = "platform admin" if user.tenant_id is None else f"{user.role} of tenant {user.tenant_id}"
    _emit(args, f"created admin user {user.id} '{user.username}' ({scope})", user)
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
        _emit(args, f"wrote {args.output}", {"written": args.output})
    else:
        sys.stdout.write(text)
    return 0


# --- entry point -------------------------------------------------------------------------------

def _tenant_id(raw: str) -> int:
    """A tenant id as the database holds it (int4); anything else is a usage error, not a crash."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {raw!r}") from None
    if not 1 <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"must be between 1 and {2**31 - 1}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatehouse", description="Gatehouse identity service")
    parser.add_argument("--json", action="store_true", help="print results as JSON, for scripts")
    # --json is also accepted after the command (`gatehouse tenant create --name X --json`).
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print results as JSON")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="apply migrations and run the HTTP service")
    serve.add_argument("--demo-if-empty", action="store_true", help="on an empty database, create a demo set-up")
    serve.set_defaults(run=cmd_serve)

    commands.add_parser("migrate", help="apply pending migrations", parents=[json_flag]).set_defaults(run=cmd_migrate)

    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(dest="action", required=True)
    tenant_create = tenant.add_parser("create", help="create a tenant with a default site", parents=[json_flag])
    tenant_create.add_argument("--name", required=True)
    tenant_create.set_defaults(run=cmd_tenant_create)

    application = commands.add_parser("application", help="manage applications").add_subparsers(dest="action", required=True)
    app_create = application.add_parser("create", help="create an application and print its secret once", parents=[json_flag])
    app_create.add_argument("--tenant-id", type=_tenant_id, required=True)
    app_create.add_argument("--name", required=True)
    app_create.add_argument(
        "--behavior", action="append", choices=[b.value for b in Behavior],
        help="repeat for several; default: all behaviors",
    )
    app_create.set_defaults(run=cmd_application_create)

    admin = commands.add_parser("admin", help="manage admin users").add_subparsers(dest="action", required=True)
    admin_create = admin.add_parser("create", help="create a platform admin, or a tenant admin with --tenant-id", parents=[json_flag])
    admin_create.add_argument("--username", required=True)
    admin_create.add_argument("--tenant-id", type=_tenant_id)
    admin_create.add_argument("--role", choices=["admin", "viewer"], default="admin")
    admin_create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin_create.set_defaults(run=cmd_admin_create)

    openapi = commands.add_parser("openapi", help="print or write the OpenAPI document", parents=[json_flag])
    openapi.add_argument("--output", help="file to write instead of stdout")
    openapi.set_defaults(run=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"gatehouse: configuration error: {exc}", file=sys.stderr)
        return 2
    # A command's stdout is its result (JSON with --json, for scripts); only the service logs there.
    configure_logging(settings.log_level, sys.stdout if args.command == "serve" else sys.stderr)
    try:
        return args.run(args, settings)
    except (GatehouseError, CommandFailed, MigrationError, ValueError) as exc:
        message = exc.message if isinstance(exc, GatehouseError) else str(exc)
        if args.json:
            print(json.dumps({"error": message}), file=sys.stderr)
        else:
            print(f"gatehouse: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
