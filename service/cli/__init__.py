"""`gatehouse`: the operator's command line.

Every command prints what it did (as JSON with --json) and exits non-zero on failure:
1 for a refused operation, 2 for bad configuration or arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from service.applications.behaviors import Behavior
from service.cli.commands import (
    cmd_admin_create,
    cmd_application_create,
    cmd_migrate,
    cmd_openapi,
    cmd_tenant_create,
    render_openapi,
)
from service.cli.common import CommandFailed
from service.cli.imports import add_import_commands
from service.cli.serve import cmd_serve
from service.errors import GatehouseError
from service.platform.config import ConfigError, Settings, load_settings
from service.platform.logs import configure_logging
from service.platform.migrate import MigrationError

__all__ = ["main", "render_openapi"]


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
    _add_creation_commands(commands, json_flag)
    add_import_commands(commands, json_flag, _tenant_id)
    openapi = commands.add_parser("openapi", help="print or write the OpenAPI document", parents=[json_flag])
    openapi.add_argument("--output", help="file to write instead of stdout")
    openapi.set_defaults(run=cmd_openapi)
    return parser


def _add_creation_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], json_flag: argparse.ArgumentParser
) -> None:
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(dest="action", required=True)
    tenant_create = tenant.add_parser("create", help="create a tenant with a default site", parents=[json_flag])
    tenant_create.add_argument("--name", required=True)
    tenant_create.set_defaults(run=cmd_tenant_create)

    application = commands.add_parser("application", help="manage applications").add_subparsers(
        dest="action", required=True
    )
    app_create = application.add_parser(
        "create", help="create an application and print its secret once", parents=[json_flag]
    )
    app_create.add_argument("--tenant-id", type=_tenant_id, required=True)
    app_create.add_argument("--name", required=True)
    app_create.add_argument(
        "--behavior",
        action="append",
        choices=[b.value for b in Behavior],
        help="repeat for several; default: all behaviors",
    )
    app_create.set_defaults(run=cmd_application_create)

    admin = commands.add_parser("admin", help="manage admin users").add_subparsers(dest="action", required=True)
    admin_create = admin.add_parser(
        "create", help="create a platform admin, or a tenant admin with --tenant-id", parents=[json_flag]
    )
    admin_create.add_argument("--username", required=True)
    admin_create.add_argument("--tenant-id", type=_tenant_id)
    admin_create.add_argument("--role", choices=["admin", "viewer"], default="admin")
    admin_create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin_create.set_defaults(run=cmd_admin_create)


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
        run: Callable[[argparse.Namespace, Settings], int] = args.run
        return run(args, settings)
    except (GatehouseError, CommandFailed, MigrationError, ValueError) as exc:
        message = exc.message if isinstance(exc, GatehouseError) else str(exc)
        if args.json:
            print(json.dumps({"error": message}), file=sys.stderr)
        else:
            print(f"gatehouse: {message}", file=sys.stderr)
        return 1
