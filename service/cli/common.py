"""What every command shares: its actor, its failure, its output, its servers and capabilities."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from service.audit import Actor
from service.platform.config import Settings
from service.platform.embedded import embedded_servers
from service.platform.migrate import apply_migrations, require_migrated
from service.platform.redis import close_redis
from service.wiring import Capabilities, build_capabilities

CLI_ACTOR = Actor("cli")
log = logging.getLogger("gatehouse.cli")


class CommandFailed(Exception):
    pass


def emit(args: argparse.Namespace, text: str, data: Any) -> None:
    if args.json:
        print(json.dumps(msgspec.to_builtins(data), indent=2))
    else:
        print(text)


@contextmanager
def servers(settings: Settings, *, with_redis: bool) -> Iterator[Settings]:
    """The settings with both URLs filled in, starting embedded servers for the missing ones."""
    with embedded_servers(settings.data_dir, settings.database_url, settings.redis_url, with_redis=with_redis) as urls:
        yield dataclasses.replace(settings, database_url=urls.database_url, redis_url=urls.redis_url)


def with_capabilities(settings: Settings, work: Callable[[Capabilities], Awaitable[Any]]) -> Any:
    """Run `work(capabilities)` against a migrated database: migrated here, or by `gatehouse migrate` before."""

    async def run() -> Any:
        if settings.migrate_on_start:
            await apply_migrations(settings.resolved_database_url())
        else:
            await require_migrated(settings.resolved_database_url())
        capabilities = build_capabilities(settings)
        await capabilities.db.open()
        try:
            return await work(capabilities)
        finally:
            await capabilities.db.close()
            await close_redis(capabilities.redis)

    return asyncio.run(run())
