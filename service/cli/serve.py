"""`gatehouse serve`: migrate (unless GATEHOUSE_MIGRATE_ON_START=false), bootstrap, print how to start, run uvicorn."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import secrets
import shutil
import signal
import sys
from typing import Any

from service.cli.common import log, servers, with_capabilities
from service.platform.config import Settings
from service.platform.crypto import parse_secrets_key
from service.platform.embedded import EmbeddedUrls, export_urls
from service.platform.hash_slots import prepare_slots_directory
from service.platform.metrics import prepare_multiprocess, serve_metrics
from service.wiring import Capabilities


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.bootstrap import bootstrap_platform_admin, create_demo_if_empty

    # SIGTERM becomes an exception once uvicorn has drained in-flight requests and re-raised it,
    # so the embedded servers below still stop cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if settings.metrics_port is not None:
        prepare_multiprocess()  # before any process records a sample
        serve_metrics(settings.host, settings.metrics_port)
    slots = prepare_slots_directory()  # before the workers start: they find it in their environment
    try:
        with servers(settings, with_redis=True) as started:
            export_urls_from(started)
            ready = _with_secrets_key(started, embedded=settings.embedded)

            async def prepare(capabilities: Capabilities) -> Any:
                await bootstrap_platform_admin(capabilities)
                return await create_demo_if_empty(capabilities) if args.demo_if_empty else None

            demo = with_capabilities(ready, prepare)
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
    finally:
        shutil.rmtree(slots, ignore_errors=True)
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
    lines += _demo_lines(base, demo) if demo is not None else _admin_token_lines(base)
    print("\n".join(lines) + "\n", flush=True)


def _demo_lines(base: str, demo: Any) -> list[str]:
    return [
        "",
        "Demo set-up created. These credentials are shown once; keep them:",
        f"  platform admin:  {demo.admin_username} / {demo.admin_password}",
        f"  tenant id:       {demo.tenant_id}   default site id: {demo.site_id}",
        f"  application:     client_id {demo.client_id}",
        f"                   client_secret {demo.client_secret}",
        "",
        "Try it:",
        f"  curl -s -X POST {base}/admin/v1/token -H 'content-type: application/json' \\",
        f'       -d \'{{"username": "{demo.admin_username}", "password": "{demo.admin_password}"}}\'',
        (
            f"  curl -s -X POST {base}/api/platform/applications/authtickets/oauth "
            "-H 'content-type: application/json' \\"
        ),
        (
            f'       -d \'{{"client_id": "{demo.client_id}", "client_secret": "{demo.client_secret}", '
            '"grant_type": "client_credentials"}\''
        ),
    ]


def _admin_token_lines(base: str) -> list[str]:
    return [
        "",
        "Get an admin token:",
        (
            f"  curl -s -X POST {base}/admin/v1/token -H 'content-type: application/json' "
            '-d \'{"username": "...", "password": "..."}\''
        ),
    ]
