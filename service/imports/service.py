"""Bulk imports of customer accounts: the capability behind the admin API's imports and `gatehouse import`.

A job's lines are first spooled into PostgreSQL as they stream in (one transaction: the job exists, with all
its lines, or not at all), then imported in batches by the process that holds the job's advisory lock, on two
connections of its own (the first holds the lock). A process that starts resumes every unfinished job nobody
runs, and an admin can ask for it (`resume`); the lock makes sure one process runs a job at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Callable
from contextlib import suppress
from dataclasses import dataclass, field

from service import audit
from service.audit import SYSTEM, Actor
from service.errors import Conflict, ErrorCode, NotFound
from service.imports import repository as repo
from service.imports.bulk import repository as bulk
from service.imports.bulk.repository import prepare_connection
from service.imports.ndjson import numbered_lines
from service.imports.records import ImportJob, ImportJobPage, ImportSource, ImportStatus, LineErrorPage
from service.imports.repository import BatchCounts
from service.imports.runner import Hashing, run
from service.platform.db import Connection, Database
from service.sessions.store import Sessions
from service.tenants import repository as tenants_repo
from service.tenants.service import tenant_not_found

log = logging.getLogger("gatehouse.imports")

SPOOL_ROWS = 1000  # lines per COPY while a body streams in
JOB_ERRORS = 100  # line errors shown with a job; `errors` pages through the rest


def import_not_found() -> NotFound:
    return NotFound("Import job not found.", code=ErrorCode.IMPORT_NOT_FOUND)


def _finished() -> Conflict:
    return Conflict("The import has finished; there is nothing to resume.", code=ErrorCode.IMPORT_FINISHED)


@dataclass(frozen=True, kw_only=True, slots=True)
class Imports:
    db: Database
    hashing: Hashing
    sessions: Sessions
    _running: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(
        self, tenant_id: int, actor: Actor, body: AsyncIterable[bytes], *, source: ImportSource, dry_run: bool
    ) -> ImportJob:
        """Spool the body's lines into a new job and import them in the background; the job as it starts."""
        conn, job_id = await self._spool(tenant_id, actor, body, source, dry_run)
        self._spawn(conn, tenant_id, job_id)
        return await self.get(tenant_id, job_id)

    async def run_here(
        self,
        tenant_id: int,
        actor: Actor,
        body: AsyncIterable[bytes],
        *,
        source: ImportSource,
        dry_run: bool,
        on_batch: Callable[[ImportJob], None],
    ) -> ImportJob:
        """The same, imported in this task (the command line), with the job after every batch; the finished job."""
        conn, job_id = await self._spool(tenant_id, actor, body, source, dry_run)
        on_batch(await self.get(tenant_id, job_id))
        await self._run(conn, tenant_id, job_id, on_batch)
        return await self.get(tenant_id, job_id)

    async def get(self, tenant_id: int, job_id: int) -> ImportJob:
        job = await repo.get_job(self.db, tenant_id, job_id, JOB_ERRORS)
        if job is None:
            raise import_not_found()
        return job

    async def list_jobs(self, tenant_id: int, offset: int, limit: int) -> ImportJobPage:
        jobs, total = await repo.list_jobs(self.db, tenant_id, offset, limit)
        return ImportJobPage(items=tuple(jobs), total_count=total)

    async def errors(self, tenant_id: int, job_id: int, offset: int, limit: int) -> LineErrorPage:
        job = await self.get(tenant_id, job_id)
        items = await repo.list_errors(self.db, tenant_id, job_id, offset, limit)
        return LineErrorPage(items=tuple(items), total_count=job.failed)

    async def resume(self, tenant_id: int, actor: Actor, job_id: int) -> ImportJob:
        """Run an interrupted job again from its checkpoint; a job some process runs already is left to it."""
        job = await self.get(tenant_id, job_id)
        if job.status is ImportStatus.COMPLETED:
            raise _finished()
        if job.status is ImportStatus.INTERRUPTED:
            await self._claim(job_id, actor)
        return await self.get(tenant_id, job_id)

    async def resume_here(
        self, tenant_id: int, actor: Actor, job_id: int, on_batch: Callable[[ImportJob], None]
    ) -> ImportJob:
        """Go on with an interrupted job in this task (the command line); the finished job."""
        if (await self.get(tenant_id, job_id)).status is ImportStatus.COMPLETED:
            raise _finished()
        claimed = await self._claimed(job_id, actor)
        if claimed is None:
            raise Conflict("Another process is running this import.", code=ErrorCode.CONFLICT)
        await self._run(claimed[0], tenant_id, job_id, on_batch)
        return await self.get(tenant_id, job_id)

    async def resume_unfinished(self) -> None:
        """At start-up: every unfinished job that no process runs (its runner crashed or stopped) goes on here."""
        for job_id in await repo.unfinished_jobs(self.db):
            await self._claim(job_id, SYSTEM)

    async def stop(self) -> None:
        """At shutdown: stop the jobs running here; each keeps its last committed batch and resumes later."""
        for task in list(self._running):
            task.cancel()
        for task in list(self._running):
            with suppress(asyncio.CancelledError):
                await task

    async def _connect(self) -> Connection:
        conn = await self.db.connect()
        await prepare_connection(conn)
        return conn

    async def _spool(
        self, tenant_id: int, actor: Actor, body: AsyncIterable[bytes], source: ImportSource, dry_run: bool
    ) -> tuple[Connection, int]:
        """The job and all its lines, in one transaction, on the connection that will run it (and holds its lock)."""
        if not await tenants_repo.tenant_exists(self.db, tenant_id):
            raise tenant_not_found()
        conn = await self._connect()
        try:
            async with conn.transaction():
                await tenants_repo.share_tenant(conn, tenant_id)
                job_id = await repo.insert_job(conn, tenant_id, source, dry_run, actor)
                await repo.try_lock(conn, job_id)  # nobody else knows the job yet: the lock is ours at once
                total = await _spool_lines(conn, tenant_id, job_id, body)
                details = {"source": source, "dryRun": dry_run, "lines": total}
                await audit.record(conn, actor, tenant_id, "import.started", "import_job", job_id, details)
            await repo.analyze(conn, repo.ANALYZED_AFTER_SPOOLING)
        except BaseException:
            await conn.close()
            raise
        return conn, job_id

    async def _claim(self, job_id: int, actor: Actor) -> None:
        """Run the job here, in the background, if no other process does."""
        claimed = await self._claimed(job_id, actor)
        if claimed is not None:
            self._spawn(claimed[0], claimed[1], job_id)

    async def _claimed(self, job_id: int, actor: Actor) -> tuple[Connection, int] | None:
        """(a connection holding the job's lock, its tenant), or None: another process runs it, or it has finished."""
        conn = await self._connect()
        state = await repo.run_state(conn, job_id) if await repo.try_lock(conn, job_id) else None
        if state is None or state.finished:
            await conn.close()
            return None
        details = {"fromLine": state.checkpoint + 1}
        await audit.record(conn, actor, state.tenant_id, "import.resumed", "import_job", job_id, details)
        return conn, state.tenant_id

    def _spawn(self, conn: Connection, tenant_id: int, job_id: int) -> None:
        task = asyncio.create_task(self._in_background(conn, tenant_id, job_id), name=f"import {job_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _in_background(self, conn: Connection, tenant_id: int, job_id: int) -> None:
        try:
            await self._run(conn, tenant_id, job_id, None)
        except Exception:  # the job stays unfinished and resumable; the log says why it stopped
            log.exception("import stopped", extra={"job": job_id})

    async def _run(
        self, conn: Connection, tenant_id: int, job_id: int, on_batch: Callable[[ImportJob], None] | None
    ) -> None:
        """Run the job to its end, on its connection and a second one (two batches are written at once), then let
        both connections (and the lock) go."""

        async def report(counts: BatchCounts) -> None:
            await self._sessions_follow(tenant_id, counts)
            if on_batch is not None:
                on_batch(await self.get(tenant_id, job_id))

        try:
            beside = await self._connect()
            try:
                await run((conn, beside), job_id, self.hashing, report)
            finally:
                await beside.close(timeout=5)
        finally:
            await conn.close(timeout=5)

    async def _sessions_follow(self, tenant_id: int, counts: BatchCounts) -> None:
        """As after any account change: a deactivated account's sessions end, the others' answer with the account
        as it is now. Only accounts a batch updated (new ones have no sessions)."""
        for account_id in counts.deactivated_accounts:
            await self.sessions.end_all_for_account(tenant_id, account_id)
        changed = [i for i in counts.changed_accounts if i not in counts.deactivated_accounts]
        for account in await bulk.accounts_by_id(self.db, tenant_id, changed) if changed else []:
            await self.sessions.update_account(tenant_id, account)


async def _spool_lines(conn: Connection, tenant_id: int, job_id: int, body: AsyncIterable[bytes]) -> int:
    """COPY the body's lines into the job as they come; the number of its last line."""
    rows: list[tuple[int, int, int, bytes]] = []
    last = 0
    async for number, line in numbered_lines(body):
        rows.append((tenant_id, job_id, number, line))
        last = number
        if len(rows) == SPOOL_ROWS:
            await repo.add_lines(conn, rows)
            rows = []
    if rows:
        await repo.add_lines(conn, rows)
    await repo.set_total(conn, job_id, last)
    return last
