"""PostgreSQL (asyncpg): the pool of one process, and the type repositories run their statements on."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

import asyncpg
from asyncpg.pool import PoolAcquireContext, PoolConnectionProxy

from service.platform.config import DatabasePool
from service.platform.metrics import metrics

R = TypeVar("R")

# What asyncpg raises when PostgreSQL cannot be reached or answer: the service is unavailable, not wrong.
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.TooManyConnectionsError,
)

# Every id is a PostgreSQL integer: larger numbers name nothing, and binding them would fail.
MAX_ID = 2**31 - 1


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Connections go back to the pool as they are (asyncpg still rolls back an open transaction).

    asyncpg's default reset sends `RESET ALL; UNLISTEN *; ...` on every release — one more round
    trip per query. Gatehouse never changes session state on pooled connections (no SET, LISTEN,
    session advisory locks or held cursors; its one advisory lock is transaction-scoped; migrations
    use connections of their own), so there is nothing to reset. That is also what lets it run
    through PgBouncer in transaction-pooling mode, where a session is no one's to keep.
    """


async def create_pool(database_url: str, sizes: DatabasePool) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        database_url,
        min_size=sizes.min_size,
        max_size=sizes.max_size,
        timeout=5,  # connect timeout: fail fast and answer 503 rather than hang
        command_timeout=10,
        # 0: asyncpg sends every statement unnamed, parsed again with its parameters in one message,
        # which any server connection behind a transaction pooler can run.
        statement_cache_size=0 if sizes.transaction_pooling else 100,  # 100: asyncpg's own default
        init=_init_connection,
        reset=_keep_session,
    )
    return pool


class Database:
    """The process's PostgreSQL pool, as capabilities hold it.

    `create_app` builds every capability before an event loop runs, and asyncpg binds a pool to
    the loop that opens it; so capabilities get this handle at construction, and the pool behind
    it opens when the application starts (`open`) and closes when it stops.
    """

    def __init__(self, url: str, sizes: DatabasePool) -> None:
        self._url = url
        self._sizes = sizes
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self._pool = await create_pool(self._url, self._sizes)

    async def connect(self, *, command_timeout: float = 60) -> asyncpg.Connection:
        """A connection of its own, outside the pool, for work that keeps session state: an import holds its
        advisory lock and temporary tables there for as long as it runs. The caller closes it."""
        conn: asyncpg.Connection = await asyncpg.connect(self._url, timeout=5, command_timeout=command_timeout)
        await _init_connection(conn)
        return conn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database is used before the application started")
        return self._pool

    def acquire(self) -> PoolAcquireContext:
        return self.pool.acquire()

    async def report_pool_use(self, every_seconds: float = 5.0) -> None:
        """The pool's open and idle connections, for the metrics, until cancelled."""
        gauge = metrics().postgres_pool
        while True:
            gauge.labels("open").set(self.pool.get_size())
            gauge.labels("idle").set(self.pool.get_idle_size())
            await asyncio.sleep(every_seconds)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self.pool.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self.pool.execute(query, *args)

    async def executemany(self, query: str, args: list[tuple[Any, ...]]) -> None:
        await self.pool.executemany(query, args)


def returned_row(row: R | None) -> R:
    """The row of an INSERT or UPDATE ... RETURNING, or of a read inside the transaction that wrote it: it cannot
    miss, though asyncpg types every fetchrow as optional."""
    if row is None:
        raise RuntimeError("a statement that always returns a row returned none")
    return row


# A connection taken from the pool: what a transaction runs on.
Connection = asyncpg.Connection | PoolConnectionProxy
# What a repository function runs its statements on: a connection (inside a transaction) or the pool.
Conn = Connection | asyncpg.Pool | Database
