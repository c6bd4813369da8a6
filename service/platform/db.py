"""PostgreSQL connection pool (asyncpg)."""

from __future__ import annotations

import json

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Connections go back to the pool as they are (asyncpg still rolls back an open transaction).

    asyncpg's default reset sends `RESET ALL; UNLISTEN *; ...` on every release — one more round
    trip per query. Gatehouse never changes session state on pooled connections (no SET, LISTEN,
    advisory locks or held cursors; migrations use a connection of their own), so there is
    nothing to reset.
    """


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        timeout=5,  # connect timeout: fail fast and answer 503 rather than hang
        command_timeout=10,
        init=_init_connection,
        reset=_keep_session,
    )
