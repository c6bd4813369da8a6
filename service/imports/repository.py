"""SQL for import jobs: the job, its spooled lines, its report and the keys its lines named. Tenant-scoped.

A job is running while some process holds the session advisory lock (IMPORT_LOCK_CLASS, job id); PostgreSQL
drops it the moment that process's connection goes, so "running" never outlives a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address

import asyncpg

from service.audit import Actor
from service.imports.records import ImportJob, ImportSource, ImportStatus, LineError
from service.platform.db import Conn, Connection

IMPORT_LOCK_CLASS = 0x696D7074  # "impt"
_STATUS = f"""CASE WHEN j.finished_at IS NOT NULL THEN 'completed'
                   WHEN EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted
                                AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                AND k.classid = {IMPORT_LOCK_CLASS}::oid AND k.objid = j.id::oid AND k.objsubid = 2)
                   THEN 'running' ELSE 'interrupted' END"""
_JOB = f"""SELECT j.id, j.tenant_id, {_STATUS} AS status, j.source, j.dry_run, j.actor AS created_by, j.created_at,
                  j.updated_at, j.finished_at, j.total_lines AS lines_total, j.checkpoint AS lines_read, j.created,
                  j.updated, j.unchanged, j.failed
           FROM import_jobs j"""
_ERROR = "SELECT line_no AS line, field, code, reason FROM import_errors"


@dataclass(frozen=True, slots=True)
class RunState:
    """What the process running a job needs to know of it."""

    id: int
    tenant_id: int
    dry_run: bool
    actor: Actor  # who started it, from where: the accounts' audit events name them
    checkpoint: int
    finished: bool
    # The actor's address, packed (4 or 16 bytes), for its accounts' events: asyncpg's inet encoder takes that as it
    # is, and would parse an address object again (from its text) for every event.
    client_ip: bytes | None


@dataclass(frozen=True, slots=True)
class BatchCounts:
    first_line: int  # the batch's lines, from the first to the last
    last_line: int
    created: int
    updated: int
    unchanged: int
    failed: int
    changed_accounts: tuple[int, ...] = ()  # updated and kept (not a dry run): their live sessions follow
    deactivated_accounts: tuple[int, ...] = ()  # among them, those no longer active: their sessions end


async def insert_job(conn: Connection, tenant_id: int, source: str, dry_run: bool, actor: Actor) -> int:
    job_id: int = await conn.fetchval(
        """INSERT INTO import_jobs (tenant_id, source, dry_run, actor, client_ip, request_id, total_lines)
           VALUES ($1, $2, $3, $4, $5::inet, $6, 0) RETURNING id""",
        tenant_id,
        source,
        dry_run,
        actor.name,
        actor.client_address,
        actor.request_id,
    )
    return job_id


async def try_lock(conn: Connection, job_id: int) -> bool:
    """Become the job's runner, for as long as this connection lives; False when another process is."""
    locked: bool = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", IMPORT_LOCK_CLASS, job_id)
    return locked


async def add_lines(conn: Connection, rows: list[tuple[int, int, int, bytes]]) -> None:
    """(tenant id, job id, line number, body) rows, by COPY."""
    await conn.copy_records_to_table("import_lines", records=rows, columns=("tenant_id", "job_id", "line_no", "body"))


async def set_total(conn: Connection, job_id: int, total_lines: int) -> None:
    await conn.execute("UPDATE import_jobs SET total_lines = $2 WHERE id = $1", job_id, total_lines)


async def get_job(conn: Conn, tenant_id: int, job_id: int, errors: int) -> ImportJob | None:
    """The job with its first `errors` line errors."""
    row = await conn.fetchrow(f"{_JOB} WHERE j.tenant_id = $1 AND j.id = $2", tenant_id, job_id)
    if row is None:
        return None
    return _job(row, tuple(await list_errors(conn, tenant_id, job_id, 0, errors)))


async def list_jobs(conn: Conn, tenant_id: int, offset: int, limit: int) -> tuple[list[ImportJob], int]:
    total: int = await conn.fetchval("SELECT count(*) FROM import_jobs WHERE tenant_id = $1", tenant_id)
    rows = await conn.fetch(
        f"{_JOB} WHERE j.tenant_id = $1 ORDER BY j.id DESC OFFSET $2 LIMIT $3", tenant_id, offset, limit
    )
    return [_job(row, ()) for row in rows], total


def _job(row: asyncpg.Record, errors: tuple[LineError, ...]) -> ImportJob:
    values = dict(row)
    status, source = ImportStatus(values.pop("status")), ImportSource(values.pop("source"))
    return ImportJob(**values, status=status, source=source, errors=errors)


async def list_errors(conn: Conn, tenant_id: int, job_id: int, offset: int, limit: int) -> list[LineError]:
    rows = await conn.fetch(
        f"{_ERROR} WHERE tenant_id = $1 AND job_id = $2 ORDER BY line_no OFFSET $3 LIMIT $4",
        tenant_id,
        job_id,
        offset,
        limit,
    )
    return [LineError(**dict(row)) for row in rows]


async def unfinished_jobs(conn: Conn) -> list[int]:
    """Every tenant's unfinished jobs, oldest first: a process starting up resumes those nobody runs."""
    rows = await conn.fetch("SELECT id FROM import_jobs WHERE finished_at IS NULL ORDER BY id")
    return [row["id"] for row in rows]


async def run_state(conn: Conn, job_id: int) -> RunState | None:
    row = await conn.fetchrow(
        """SELECT id, tenant_id, dry_run, actor, host(client_ip) AS client_ip, request_id, checkpoint,
                  finished_at IS NOT NULL AS finished
           FROM import_jobs WHERE id = $1""",
        job_id,
    )
    if row is None:
        return None
    actor = Actor(row["actor"], row["client_ip"], row["request_id"])
    address = ip_address(row["client_ip"]).packed if row["client_ip"] else None
    return RunState(row["id"], row["tenant_id"], row["dry_run"], actor, row["checkpoint"], row["finished"], address)


async def next_lines(conn: Connection, job_id: int, after: int, limit: int) -> list[tuple[int, bytes]]:
    rows = await conn.fetch(
        "SELECT line_no, body FROM import_lines WHERE job_id = $1 AND line_no > $2 ORDER BY line_no LIMIT $3",
        job_id,
        after,
        limit,
    )
    return [(row["line_no"], row["body"]) for row in rows]


async def seen_keys(conn: Connection, job_id: int, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Which of these (customer set id, key) pairs earlier lines of the job named, and on which line."""
    rows = await conn.fetch(
        """SELECT s.customer_set_id, s.key, s.line_no FROM import_keys s
           JOIN unnest($2::int[], $3::text[]) AS k(set_id, key) ON s.customer_set_id = k.set_id AND s.key = k.key
           WHERE s.job_id = $1""",
        job_id,
        [set_id for set_id, _ in pairs],
        [key for _, key in pairs],
    )
    return {(row["customer_set_id"], row["key"]): row["line_no"] for row in rows}


async def record_batch(
    conn: Connection,
    job: RunState,
    counts: BatchCounts,
    errors: list[LineError],
    keys: list[tuple[int, str, int]],
) -> None:
    """The batch's report, the keys its lines named, its lines gone from the spool, the counters and checkpoint:
    in the transaction that wrote its accounts. Two batches commit at a time, in either order: the checkpoint is
    the line before the first one still spooled (as this transaction sees the spool), so it never passes a line
    that the batch beside this one has not committed yet."""
    if errors:
        await conn.copy_records_to_table(
            "import_errors",
            records=[(job.tenant_id, job.id, e.line, e.field, e.code, e.reason) for e in errors],
            columns=("tenant_id", "job_id", "line_no", "field", "code", "reason"),
        )
    if keys:
        await conn.copy_records_to_table(
            "import_keys",
            records=[(job.tenant_id, job.id, set_id, key, line) for set_id, key, line in keys],
            columns=("tenant_id", "job_id", "customer_set_id", "key", "line_no"),
        )
    await conn.execute(
        "DELETE FROM import_lines WHERE job_id = $1 AND line_no BETWEEN $2 AND $3",
        job.id,
        counts.first_line,
        counts.last_line,
    )
    await _count(conn, job, counts)


async def _count(conn: Connection, job: RunState, counts: BatchCounts) -> None:
    await conn.execute(
        """UPDATE import_jobs SET created = created + $2, updated = updated + $3, unchanged = unchanged + $4,
               failed = failed + $5, updated_at = now(),
               checkpoint = greatest(checkpoint, coalesce(
                   (SELECT min(line_no) - 1 FROM import_lines WHERE job_id = $1), total_lines))
           WHERE id = $1""",
        job.id,
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.failed,
    )


# What the import's own lookups join against. Bulk writes outrun autovacuum: a planner that still believes a
# tenant has three accounts joins every batch against all of them (a hash or nested-loop scan per batch, quadratic
# over the import) instead of using the indexes. So the import analyses these tables itself, as PostgreSQL advises
# after bulk loads, and only the columns the lookups filter on: ANALYZE samples a bounded number of rows, so each
# costs about the same (0.05 to 0.3 s) for any size. (Contacts and Magento's rows are read by key, for updates.)
ANALYZED_WHILE_IMPORTING = (
    "customer_accounts (tenant_id, customer_set_id, email_normalized, user_name_normalized, external_id)",
    "import_keys (job_id, customer_set_id, key)",
)
# The spool is read in line order through its key, a batch at a time, which the planner must know it holds.
ANALYZED_AFTER_SPOOLING = ("import_lines (job_id, line_no)",)


async def analyze(conn: Connection, tables: tuple[str, ...]) -> None:
    """Fresh planner statistics for these tables and columns (from this module's constants)."""
    await conn.execute(f"ANALYZE {', '.join(tables)}")


async def finish(conn: Connection, job_id: int) -> asyncpg.Record | None:
    """Mark the job finished and drop what only a running job needs; its counters, for the audit trail."""
    await conn.execute("DELETE FROM import_keys WHERE job_id = $1", job_id)
    await conn.execute("DELETE FROM import_lines WHERE job_id = $1", job_id)
    return await conn.fetchrow(
        """UPDATE import_jobs SET finished_at = now(), updated_at = now(), checkpoint = total_lines
           WHERE id = $1 AND finished_at IS NULL
           RETURNING total_lines, created, updated, unchanged, failed""",
        job_id,
    )
