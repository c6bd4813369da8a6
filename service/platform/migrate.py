"""Forward-only SQL migrations from `migrations/`, applied in file-name order.

Each applied file is recorded with its SHA-256. A file whose content changed after it was applied
stops start-up: silently diverging schemas are worse than a failed deploy. Two processes starting
at once serialise on an advisory lock, so each migration runs exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger("gatehouse.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
ADVISORY_LOCK_KEY = 0x6761746568  # "gateh": one lock for the whole schema
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    sql: str
    checksum: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        sql = path.read_text(encoding="utf-8")
        migrations.append(Migration(match.group(1), path.name, sql, hashlib.sha256(sql.encode()).hexdigest()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return migrations


async def apply_migrations(database_url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the names of those applied by this call.

    One connection holds the lock in a transaction while another applies each file in a transaction of
    its own. A transaction keeps its server connection even through PgBouncer in transaction-pooling
    mode, where a session lock could be taken on one server connection and released on another.
    """
    migrations = discover(directory)
    lock = await _connect(database_url)
    try:
        async with lock.transaction():
            await lock.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY)
            conn = await _connect(database_url)
            try:
                return await _apply_locked(conn, migrations)
            finally:
                await conn.close()
    finally:
        await lock.close()


async def require_migrated(database_url: str, directory: Path = MIGRATIONS_DIR) -> None:
    """Stop a start that does not migrate (GATEHOUSE_MIGRATE_ON_START=false) while a file is still to apply.

    Only pending files stop it: a file applied by a newer release is no reason for an older replica
    not to restart during a rolling update.
    """
    conn = await _connect(database_url)
    try:
        table = await conn.fetchval("SELECT to_regclass('schema_migrations')")
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")} if table else set()
    finally:
        await conn.close()
    pending = [m.name for m in discover(directory) if m.version not in applied]
    if pending:
        raise MigrationError(
            f"{len(pending)} migration(s) pending, the first {pending[0]}: run `gatehouse migrate` "
            "(GATEHOUSE_MIGRATE_ON_START is false)"
        )


async def _connect(database_url: str) -> asyncpg.Connection:
    # Each statement runs once: a statement cache would buy nothing, and without one the runner also
    # works through a transaction pooler (see DatabasePool.transaction_pooling).
    return await asyncpg.connect(database_url, timeout=10, statement_cache_size=0)


async def _apply_locked(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    text PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    applied = {row["version"]: row for row in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")}
    known = {m.version for m in migrations}
    for version, row in applied.items():
        if version not in known:
            raise MigrationError(f"{row['name']} was applied to this database but is missing from migrations/")
    done = []
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None:
            if recorded["checksum"] != migration.checksum:
                raise MigrationError(f"{migration.name} was edited after it was applied; add a new migration instead")
            continue
        log.info("applying migration", extra={"migration": migration.name})
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        done.append(migration.name)
    return done
