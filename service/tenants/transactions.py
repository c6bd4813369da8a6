"""Write transactions on one tenant's data, all taking their locks in one order: the tenant's row first.

Deleting a tenant locks its row and then cascades to its children (sites, accounts, applications...); a
write that locked a child first and the tenant's row last (every audit row and new child references the
tenant) could deadlock with it. Taking a key-share lock on the tenant's row at the start puts every
transaction in the same order: a write either goes first and the delete waits for it, or it waits for
the delete and then finds nothing. Key share does not block ordinary updates of the tenant row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.platform.db import Connection, Database
from service.tenants import repository as repo


@asynccontextmanager
async def tenant_transaction(db: Database, tenant_id: int) -> AsyncIterator[Connection]:
    async with db.acquire() as conn, conn.transaction():
        await repo.share_tenant(conn, tenant_id)
        yield conn
