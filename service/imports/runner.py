"""Running a job: its spooled lines in batches, each batch one transaction with the job's counters and checkpoint.

A crash rolls back the batch under way and nothing else, so the job resumes after its checkpoint, losing
nothing and writing nothing twice. A failed line never stops the others: lines are checked before the
transaction, and when the database still refuses a batch (a row raced in by another writer), the batch is
written again line by line, each in a savepoint, and only the refused lines fail. A dry run writes each batch in
a savepoint it then rolls back: the same checks, the same statements, nothing kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import asyncpg

from service import audit
from service.accounts.fields import duplicate
from service.errors import ErrorCode
from service.imports import repository as repo
from service.imports.bulk import repository as bulk
from service.imports.flights import Flight, Matching
from service.imports.lines import LineFailure
from service.imports.matching import Update
from service.imports.planning import Plan, plan_batch
from service.imports.prepare import Context, Prepared, prepare, stored_hashes
from service.imports.records import LineError
from service.imports.repository import BatchCounts, RunState
from service.imports.writes import write
from service.platform.db import Connection
from service.tenants.repository import share_tenant

BATCH_LINES = 1000
WRITERS = 2  # batches written at once, each on a connection of its own: a batch and the one beside it (flights.py)
_SLICE = 25  # lines checked between two turns of the event loop
_REFUSED = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


class _Undo(Exception):
    """Not an error: how a dry run leaves its writes unmade."""


def _undo_if(dry_run: bool) -> None:
    if dry_run:
        raise _Undo


@dataclass(frozen=True, slots=True)
class Hashing:
    """Where imported hashes are checked and, for weak formats, wrapped: threads, off the event loop."""

    executor: Executor
    parallel: int


@dataclass(frozen=True, slots=True)
class _Checked:
    """A batch of lines, decoded and checked: ready to be matched and written."""

    first_line: int
    last_line: int
    prepared: list[Prepared]
    failures: dict[int, LineFailure]


async def run(
    conns: tuple[Connection, Connection],
    job_id: int,
    hashing: Hashing,
    on_batch: Callable[[BatchCounts], Awaitable[None]],
) -> None:
    """Import what is left of the job, on two connections, the first of which holds its lock; return when it has
    finished. Batches take turns on the connections: while one is written, the next is read and checked, then
    written on the other connection beside it (`flights`), so that Python's share of the work and two of
    PostgreSQL's overlap. Batches are reported in their order."""
    job = await repo.run_state(conns[0], job_id)
    if job is None or job.finished:
        return
    flights: list[Flight | None] = [None] * WRITERS
    after, processed, analyze_at, turn = job.checkpoint, 0, BATCH_LINES, 0
    try:
        while True:
            slot = turn % WRITERS
            if (flight := flights[slot]) is not None:
                processed += await _report(flight, on_batch)
                if processed >= analyze_at:  # after 1, 4, 16, 64... thousand lines: six times in a million
                    await repo.analyze(conns[slot], repo.ANALYZED_WHILE_IMPORTING)
                    analyze_at *= 4
                flights[slot] = None
            batch = await _read(conns[slot], job, after, hashing)
            if batch is None:
                break
            after, turn = batch.last_line, turn + 1
            flights[slot] = _launch(conns[slot], job, batch, flights[slot - 1])
        if (flight := flights[slot - 1]) is not None:
            await _report(flight, on_batch)
    finally:
        await _land([f for f in flights if f is not None])
    await _finish(conns[0], job)


def _launch(conn: Connection, job: RunState, batch: _Checked, beside: Flight | None) -> Flight:
    matching = Matching(frozenset((p.set_id, key) for p in batch.prepared for key in p.keys.values()))
    return Flight(matching, asyncio.create_task(_commit(conn, job, batch, matching, beside)))


async def _report(flight: Flight, on_batch: Callable[[BatchCounts], Awaitable[None]]) -> int:
    counts = await flight.counts()
    await on_batch(counts)
    return counts.created + counts.updated + counts.unchanged + counts.failed


async def _land(flights: list[Flight]) -> None:
    """After a failure (or a stop): the batches still being written are rolled back, and waited for."""
    for flight in flights:
        flight.task.cancel()  # nothing, for a batch that has committed
    for flight in flights:
        await asyncio.wait((flight.task,))
        if not flight.task.cancelled():
            flight.task.exception()  # retrieved: the run reports its own error


async def _finish(conn: Connection, job: RunState) -> None:
    async with conn.transaction():
        await share_tenant(conn, job.tenant_id)
        counts = await repo.finish(conn, job.id)
        if counts is not None:
            details = {"dryRun": job.dry_run, **dict(counts)}
            await audit.record(conn, job.actor, job.tenant_id, "import.completed", "import_job", job.id, details)


async def _read(conn: Connection, job: RunState, after: int, hashing: Hashing) -> _Checked | None:
    """The batch of lines after line `after`, checked; None when no line is left."""
    lines = await repo.next_lines(conn, job.id, after, BATCH_LINES)
    if not lines:
        return None
    return await _check(lines, await bulk.load_context(conn, job.tenant_id), hashing)


async def _check(lines: list[tuple[int, bytes]], context: Context, hashing: Hashing) -> _Checked:
    """The lines decoded and checked a slice at a time, so the batches being written (and every request) wait at
    most one slice (about a millisecond) for the event loop whenever PostgreSQL answers them."""
    failures: dict[int, LineFailure] = {}
    prepared: list[Prepared] = []
    for start in range(0, len(lines), _SLICE):
        prepared += _prepare_all(lines[start : start + _SLICE], context, failures)
        await asyncio.sleep(0)
    return _Checked(lines[0][0], lines[-1][0], await _hash(prepared, failures, hashing), failures)


def _prepare_all(lines: list[tuple[int, bytes]], context: Context, failures: dict[int, LineFailure]) -> list[Prepared]:
    prepared = []
    for line_no, body in lines:
        try:
            prepared.append(prepare(line_no, body, context))
        except LineFailure as failure:
            failures[line_no] = failure
    return prepared


async def _hash(prepared: list[Prepared], failures: dict[int, LineFailure], hashing: Hashing) -> list[Prepared]:
    """Each imported hash checked and made into what is stored, in `hashing.parallel` threads at once."""
    with_hash = [(p, p.password) for p in prepared if p.password is not None]
    size = -(-len(with_hash) // hashing.parallel) or 1
    chunks = [with_hash[i : i + size] for i in range(0, len(with_hash), size)]
    loop = asyncio.get_running_loop()
    results = await asyncio.gather(
        *(loop.run_in_executor(hashing.executor, stored_hashes, [h for _, h in chunk]) for chunk in chunks)
    )
    for chunk, stored in zip(chunks, results, strict=True):
        for (line, _), value in zip(chunk, stored, strict=True):
            if isinstance(value, LineFailure):
                failures[line.line_no] = value
            else:
                line.stored_hash = value
    return [p for p in prepared if p.line_no not in failures]


async def _commit(
    conn: Connection, job: RunState, batch: _Checked, matching: Matching, beside: Flight | None
) -> BatchCounts:
    async with conn.transaction():
        await share_tenant(conn, job.tenant_id)
        plan = await _planned(conn, job, batch, matching, beside)
        try:
            _gone(plan, await _written(conn, job, plan.creates, plan.updates))
        except _REFUSED:  # a row raced in since the lines were matched: find the lines it concerns
            await _write_each(conn, job, plan)
        counts = _counts(job, plan, batch)
        failures = sorted(plan.failures.items())
        errors = [LineError(line=n, field=f.field, code=f.code, reason=f.reason) for n, f in failures]
        kept = [*(plan.creates if job.dry_run else []), *(u.prepared for u in plan.updates), *plan.unchanged]
        keys = [(p.set_id, key, p.line_no) for p in kept for key in p.keys.values()]
        await repo.record_batch(conn, job, counts, errors, keys)
    return counts


async def _planned(conn: Connection, job: RunState, batch: _Checked, matching: Matching, beside: Flight | None) -> Plan:
    """The batch's lines matched; again once the batch beside it has committed, when the two name one account."""
    plan = await plan_batch(conn, job, batch.prepared, dict(batch.failures))
    if beside is not None and await beside.settle_overlap(matching, plan.found):
        plan = await plan_batch(conn, job, batch.prepared, dict(batch.failures))
    matching.found(plan.found)
    return plan


def _counts(job: RunState, plan: Plan, batch: _Checked) -> BatchCounts:
    changed = () if job.dry_run else tuple(u.account_id for u in plan.updates)
    deactivated = tuple(u.account_id for u in plan.updates if "is_active" in u.changed and not u.columns["is_active"])
    return BatchCounts(
        batch.first_line,
        batch.last_line,
        len(plan.creates),
        len(plan.updates),
        len(plan.unchanged),
        len(plan.failures),
        changed_accounts=changed,
        deactivated_accounts=() if job.dry_run else deactivated,
    )


async def _write_each(conn: Connection, job: RunState, plan: Plan) -> None:
    """Each line in a savepoint of its own, so that only the lines the database refuses fail."""
    for line in list(plan.creates):
        try:
            await _written(conn, job, [line], [])
        except _REFUSED as exc:
            plan.failures[line.line_no] = _refused(exc)
            plan.creates.remove(line)
    for update in list(plan.updates):
        try:
            _gone(plan, await _written(conn, job, [], [update]))
        except _REFUSED as exc:
            plan.failures[update.prepared.line_no] = _refused(exc)
            plan.updates.remove(update)


async def _written(conn: Connection, job: RunState, creates: list[Prepared], updates: list[Update]) -> list[Update]:
    """Write in a savepoint, which a dry run rolls back; the updates whose account had gone."""
    gone: list[Update] = []
    try:
        async with conn.transaction():
            gone = await write(conn, job, creates, updates)
            _undo_if(job.dry_run)
    except _Undo:
        pass
    return gone


def _gone(plan: Plan, gone: list[Update]) -> None:
    for update in gone:
        reason = "names an account that was deleted during the import"
        plan.failures[update.prepared.line_no] = LineFailure("line", reason, ErrorCode.CONFLICT)
        plan.updates.remove(update)


def _refused(exc: Exception) -> LineFailure:
    """The database's refusal as a line's; its message (which may quote values) is not repeated."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        conflict = duplicate(exc)
        field_name = "userName" if conflict.code is ErrorCode.USERNAME_TAKEN else "emailAddress"
        return LineFailure(field_name, "belongs to another account of the customer set", conflict.code)
    sqlstate = getattr(exc, "sqlstate", "")
    return LineFailure("line", f"the database refused it (SQLSTATE {sqlstate})")
