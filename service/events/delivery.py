"""The delivery worker: claims due deliveries, POSTs them signed, and writes what happened.

Each service process runs GATEHOUSE_WEBHOOK_WORKERS loops of GATEHOUSE_WEBHOOK_CONCURRENCY deliveries in
flight; claims (`repository.claim`) keep any number of loops in any number of processes from sending the
same delivery twice at once, and keep each account's events in order. Delivery is at least once: a
process that dies between a receiver's 2xx and the write of it sends that delivery again once its claim
lapses, with the same `webhook-id`, which receivers use to drop duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from service.events import repository as repo
from service.events.models import public_event_id
from service.events.repository import AttemptResult, Claimed
from service.events.sender import Sender
from service.events.signing import sealing_context, signed_headers
from service.platform.crypto import SecretBox
from service.platform.db import DATABASE_UNAVAILABLE, Database
from service.platform.metrics import webhook_metrics

log = logging.getLogger("gatehouse.webhooks")

POLL_SECONDS = 0.2  # how soon an idle loop looks again: the delay of a delivery when nothing else is happening
MAX_BACKOFF_SECONDS = 3600.0
CLAIM_MARGIN_SECONDS = 10.0  # a claim outlasts the attempt's timeout by this much, for the write after it
PRUNE_SECONDS = 600.0  # how often a process deletes the events its retention no longer keeps
PRUNE_BATCH = 1000  # events per statement: each one's transaction stays short


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    workers: int
    concurrency: int
    timeout_seconds: float
    backoff_seconds: float
    retry_seconds: float
    retention_days: int


def backoff(attempts: int, base_seconds: float) -> float:
    """Exponential back-off with jitter: between half and all of base * 2^(attempts - 1), at most an hour. The jitter
    spreads the retries of many deliveries that failed together (a receiver that was down)."""
    ceiling = min(MAX_BACKOFF_SECONDS, base_seconds * 2.0 ** min(attempts - 1, 30))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def body_of(claimed: Claimed) -> str:
    envelope = {
        "id": public_event_id(claimed.event_id),
        "type": claimed.event_type,
        "version": claimed.version,
        "timestamp": claimed.occurred_at,
        "data": claimed.data,
    }
    return msgspec.json.encode(envelope).decode()


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryWorker:
    db: Database
    box: SecretBox
    sender: Sender
    policy: DeliveryPolicy

    async def run(self) -> None:
        """Deliver until cancelled; an outage of PostgreSQL pauses the loop, never ends it."""
        while True:
            try:
                await self._deliver()
            except DATABASE_UNAVAILABLE:
                log.warning("webhook delivery paused: PostgreSQL is unavailable")
                await asyncio.sleep(POLL_SECONDS * 10)

    async def _deliver(self) -> None:
        running: set[asyncio.Task[AttemptResult]] = set()
        finished: list[AttemptResult] = []
        try:
            while True:
                await self._write(finished)
                claimed = await self._claim(self.policy.concurrency - len(running))
                running.update(asyncio.create_task(self._attempt(c)) for c in claimed)
                if running:
                    done, _ = await asyncio.wait(running, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                    running -= done
                    finished.extend(task.result() for task in done)
                elif not claimed:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            for task in running:
                task.cancel()  # their claims lapse and they go out again
            await self._write(finished)

    async def _claim(self, free: int) -> list[Claimed]:
        if free <= 0:
            return []
        return await repo.claim(self.db, free, self.policy.timeout_seconds + CLAIM_MARGIN_SECONDS)

    async def _write(self, finished: list[AttemptResult]) -> None:
        if finished:
            await repo.record_attempts(self.db, finished, self.policy.retry_seconds)
            finished.clear()

    async def _attempt(self, claimed: Claimed) -> AttemptResult:
        body, now = body_of(claimed), datetime.now(UTC)
        headers = signed_headers(public_event_id(claimed.event_id), body, self._secrets(claimed, now), now)
        answer = await self.sender.post(claimed.url, body, headers)
        meters = webhook_metrics()
        meters.attempts.labels("delivered" if answer.succeeded else "failed").inc()
        if answer.succeeded:
            meters.delivery_latency.observe(max(time.time() - claimed.occurred_at.timestamp(), 0.0))
        return AttemptResult(
            delivery_id=claimed.id,
            attempts=claimed.attempts,
            succeeded=answer.succeeded,
            retry_in_seconds=0.0 if answer.succeeded else backoff(claimed.attempts, self.policy.backoff_seconds),
            status=answer.status,
            error=answer.error,
            response_prefix=answer.response_prefix,
            latency_ms=answer.latency_ms,
        )

    def _secrets(self, claimed: Claimed, now: datetime) -> list[str]:
        """The endpoint's secret, and during a rotation's overlap the previous one too."""
        context = sealing_context(claimed.tenant_id, claimed.endpoint_id)
        current = [self.box.open(claimed.secret, context)]
        until = claimed.previous_secret_until
        if claimed.previous_secret is None or until is None or until <= now:
            return current
        return [*current, self.box.open(claimed.previous_secret, context)]

    async def prune(self, every_seconds: float = PRUNE_SECONDS) -> None:
        """Delete what the retention no longer keeps, now and then every `every_seconds`, until cancelled."""
        while True:
            with contextlib.suppress(*DATABASE_UNAVAILABLE):  # the next round tries again
                while await self._prune_batch() == PRUNE_BATCH:
                    pass
            await asyncio.sleep(every_seconds)

    async def _prune_batch(self) -> int:
        async with self.db.acquire() as conn, conn.transaction():
            return await repo.prune(conn, self.policy.retention_days, PRUNE_BATCH)

    async def report_depth(self, every_seconds: float = 5.0) -> None:
        """The outbox's depth, for the metrics, until cancelled."""
        gauge = webhook_metrics().outbox_depth
        while True:
            # In an outage the next round tries again; the pool reporter and /health/ready tell of it.
            with contextlib.suppress(*DATABASE_UNAVAILABLE):
                gauge.set(await repo.pending_count(self.db))
            await asyncio.sleep(every_seconds)
