"""SQL of the outbox's deliveries: claims for the workers (events are written with their audit rows,
`service.audit.repository`).

A claim takes due deliveries with FOR UPDATE SKIP LOCKED, so concurrent workers (of this process or of
any other) never take the same row, and moves each one's next attempt a lease ahead: a worker that dies
mid-attempt leaves a delivery that comes due again when the lease runs out. Only the first pending
delivery of a lane (endpoint, account) is ever due, so one account's events go out one at a time, in the order
their changes committed: deliveries are queued, and get their ids, at commit (migrations/0008_webhook_lane_order.sql).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.platform.db import Conn, Connection


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker holds until `next_attempt_at`, with what it needs to send it."""

    id: int
    attempts: int
    event_id: int
    event_type: str
    version: int
    occurred_at: datetime
    data: dict[str, Any]
    tenant_id: int
    endpoint_id: int
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None


async def claim(conn: Conn, limit: int, lease_seconds: float) -> list[Claimed]:
    rows = await conn.fetch(
        """WITH due AS (
               SELECT d.id FROM webhook_deliveries d
               JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
               WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND e.is_enabled
                 AND NOT EXISTS (
                     SELECT 1 FROM webhook_deliveries p
                     WHERE p.endpoint_id = d.endpoint_id AND p.lane = d.lane AND p.state = 'pending' AND p.id < d.id
                 )
               ORDER BY d.next_attempt_at, d.id
               LIMIT $1
               FOR UPDATE OF d SKIP LOCKED
           )
           UPDATE webhook_deliveries d
           SET next_attempt_at = now() + make_interval(secs => $2), attempts = d.attempts + 1
           FROM due, webhook_events ev, webhook_endpoints e
           WHERE d.id = due.id AND ev.id = d.event_id AND e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
           RETURNING d.id, d.attempts, ev.id AS event_id, ev.type AS event_type, ev.version, ev.occurred_at, ev.data,
                     d.tenant_id, d.endpoint_id, e.url, e.secret, e.previous_secret, e.previous_secret_until""",
        limit,
        lease_seconds,
    )
    return [Claimed(**dict(row)) for row in rows]


@dataclass(frozen=True, slots=True)
class AttemptResult:
    delivery_id: int
    attempts: int  # of the claim: a result whose claim lapsed and was taken again is not written
    succeeded: bool
    retry_in_seconds: float  # if it failed
    status: int | None
    error: str | None
    response_prefix: str | None
    latency_ms: int


# One statement for a batch of attempts: the deliveries' new states, and the failing mark of their endpoints.
_RECORD_ATTEMPTS = """WITH r AS (
               SELECT * FROM unnest($1::bigint[], $2::int[], $3::bool[], $4::float8[], $5::int[], $6::text[],
                                    $7::text[], $8::int[])
                   AS r(id, attempts, succeeded, retry_in, status, error, response_prefix, latency_ms)
           ), done AS (
               UPDATE webhook_deliveries d SET
                   state = CASE WHEN r.succeeded THEN 'delivered'
                                WHEN now() + make_interval(secs => r.retry_in)
                                     > d.retry_from + make_interval(secs => $9) THEN 'failed'
                                ELSE 'pending' END,
                   next_attempt_at = now() + make_interval(secs => r.retry_in),
                   last_attempt_at = now(), last_status = r.status, last_error = r.error,
                   response_prefix = r.response_prefix, latency_ms = r.latency_ms,
                   delivered_at = CASE WHEN r.succeeded THEN now() END
               FROM r WHERE d.id = r.id AND d.attempts = r.attempts AND d.state = 'pending'
               RETURNING d.tenant_id, d.endpoint_id, d.state
           ), marks AS (
               UPDATE webhook_endpoints e
               SET failing_since = CASE WHEN m.failed THEN coalesce(e.failing_since, now()) END
               FROM (SELECT tenant_id, endpoint_id, bool_or(state = 'failed') AS failed,
                            bool_or(state = 'delivered') AS delivered
                     FROM done GROUP BY tenant_id, endpoint_id) AS m
               WHERE e.tenant_id = m.tenant_id AND e.id = m.endpoint_id
                 AND (m.failed OR (m.delivered AND e.failing_since IS NOT NULL))
           )
           SELECT state FROM done"""


async def record_attempts(conn: Conn, results: list[AttemptResult], retry_window_seconds: float) -> list[str]:
    """Write attempts' outcomes in one statement: delivered, due again after the back-off, or failed when the
    back-off passes the retry window; an endpoint with a failed delivery is failing until one succeeds.
    The new states come back, in no particular order."""
    rows = await conn.fetch(
        _RECORD_ATTEMPTS,
        [r.delivery_id for r in results],
        [r.attempts for r in results],
        [r.succeeded for r in results],
        [r.retry_in_seconds for r in results],
        [r.status for r in results],
        [r.error for r in results],
        [r.response_prefix for r in results],
        [r.latency_ms for r in results],
        retry_window_seconds,
    )
    return [row["state"] for row in rows]


PRUNE_LOCK_CLASS = 0x7072756E  # "prun": one process prunes at a time, the others skip that round


async def prune(conn: Connection, retention_days: int, limit: int) -> int:
    """In the caller's transaction: delete up to `limit` events older than the retention that no delivery still
    waits for, their deliveries with them; how many went (0 while another process prunes). Per tenant, oldest
    first, through the (tenant_id, occurred_at) index."""
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, 0)", PRUNE_LOCK_CLASS):
        return 0
    deleted: int = await conn.fetchval(
        """WITH old AS (
               SELECT ev.id FROM tenants t
               CROSS JOIN LATERAL (
                   SELECT e.id FROM webhook_events e
                   WHERE e.tenant_id = t.id AND e.occurred_at < now() - make_interval(days => $1)
                   ORDER BY e.occurred_at LIMIT $2
               ) AS ev
               WHERE NOT EXISTS (
                   SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id AND d.state = 'pending'
               )
               LIMIT $2
           ), deliveries AS (  -- in one scan for the batch, so the events' cascade finds nothing left to do
               DELETE FROM webhook_deliveries d USING old WHERE d.event_id = old.id
           ), gone AS (
               DELETE FROM webhook_events e USING old WHERE e.id = old.id RETURNING 1
           )
           SELECT count(*) FROM gone""",
        retention_days,
        limit,
    )
    return deleted


async def pending_count(conn: Conn) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")
    return count
