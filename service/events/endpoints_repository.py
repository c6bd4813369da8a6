"""SQL of webhook endpoints and of their deliveries as the admin API sees them; every statement names its tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from service.events.models import Delivery, Endpoint, public_event_id
from service.platform.db import Conn, Connection

# The secrets themselves are never read back here; `previous_secret_until` only while it still signs.
_ENDPOINT = """id, tenant_id, url, description, event_types, is_enabled, failing_since,
    CASE WHEN previous_secret_until > now() THEN previous_secret_until END AS previous_secret_until,
    created_at, updated_at"""
_DELIVERY = """d.id, ev.id AS event_id, ev.type AS event_type, ev.occurred_at, d.state, d.attempts,
    CASE WHEN d.state = 'pending' THEN d.next_attempt_at END AS next_attempt_at, d.last_attempt_at, d.last_status,
    d.last_error, d.response_prefix, d.latency_ms, d.created_at, d.delivered_at"""


def _endpoint(row: asyncpg.Record | None) -> Endpoint | None:
    return Endpoint(**dict(row)) if row is not None else None


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(**{**dict(row), "event_id": public_event_id(row["event_id"])})


async def next_endpoint_id(conn: Connection) -> int:
    """The id a new endpoint will have: its secret is sealed to it before the row is written."""
    value: int = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('webhook_endpoints', 'id'))")
    return value


async def insert_endpoint(
    conn: Connection, endpoint_id: int, tenant_id: int, fields: dict[str, Any], sealed_secret: str
) -> Endpoint | None:
    row = await conn.fetchrow(
        f"""INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, is_enabled, secret)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_ENDPOINT}""",
        endpoint_id,
        tenant_id,
        fields["url"],
        fields["description"],
        fields["event_types"],
        fields["is_enabled"],
        sealed_secret,
    )
    return _endpoint(row)


async def list_endpoints(conn: Conn, tenant_id: int) -> list[Endpoint]:
    rows = await conn.fetch(f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id", tenant_id)
    return [Endpoint(**dict(row)) for row in rows]


async def get_endpoint(conn: Conn, tenant_id: int, endpoint_id: int) -> Endpoint | None:
    row = await conn.fetchrow(
        f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2", tenant_id, endpoint_id
    )
    return _endpoint(row)


async def update_endpoint(conn: Conn, tenant_id: int, endpoint_id: int, fields: dict[str, Any]) -> Endpoint | None:
    """Fields given as None keep their value."""
    row = await conn.fetchrow(
        f"""UPDATE webhook_endpoints SET url = coalesce($3, url), description = coalesce($4, description),
                event_types = coalesce($5, event_types), is_enabled = coalesce($6, is_enabled), updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING {_ENDPOINT}""",
        tenant_id,
        endpoint_id,
        fields.get("url"),
        fields.get("description"),
        fields.get("event_types"),
        fields.get("is_enabled"),
    )
    return _endpoint(row)


async def rotate_secret(
    conn: Conn, tenant_id: int, endpoint_id: int, sealed_secret: str, overlap_minutes: int
) -> Endpoint | None:
    """The new secret signs from now on; the old one too, for `overlap_minutes` (none when 0)."""
    row = await conn.fetchrow(
        f"""UPDATE webhook_endpoints SET
                previous_secret = CASE WHEN $4 > 0 THEN secret END,
                previous_secret_until = CASE WHEN $4 > 0 THEN now() + make_interval(mins => $4) END,
                secret = $3, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING {_ENDPOINT}""",
        tenant_id,
        endpoint_id,
        sealed_secret,
        overlap_minutes,
    )
    return _endpoint(row)


async def delete_endpoint(conn: Connection, tenant_id: int, endpoint_id: int) -> bool:
    """The endpoint and its deliveries (no foreign key cascades to them: see the migration), in the caller's
    transaction."""
    await conn.execute(
        "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2", tenant_id, endpoint_id
    )
    status: str = await conn.execute(
        "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2", tenant_id, endpoint_id
    )
    return status != "DELETE 0"


async def list_deliveries(
    conn: Conn, tenant_id: int, endpoint_id: int, state: str | None, before_id: int | None, limit: int
) -> list[Delivery]:
    """Newest first; `before_id` pages on from the last one seen."""
    rows = await conn.fetch(
        f"""SELECT {_DELIVERY} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
            WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND ($3::text IS NULL OR d.state = $3)
              AND ($4::bigint IS NULL OR d.id < $4)
            ORDER BY d.id DESC LIMIT $5""",
        tenant_id,
        endpoint_id,
        state,
        before_id,
        limit,
    )
    return [_delivery(row) for row in rows]


async def retry_delivery(conn: Conn, tenant_id: int, endpoint_id: int, delivery_id: int) -> Delivery | None:
    """Due now, with a fresh retry window. It keeps its place in its lane: an older event goes out first."""
    row = await conn.fetchrow(
        f"""WITH d AS (
                UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), retry_from = now(),
                    delivered_at = NULL
                WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3 RETURNING *
            )
            SELECT {_DELIVERY} FROM d JOIN webhook_events ev ON ev.id = d.event_id""",
        tenant_id,
        endpoint_id,
        delivery_id,
    )
    return _delivery(row) if row is not None else None


async def replay(conn: Conn, tenant_id: int, endpoint_id: int, start: datetime, end: datetime) -> int:
    """A new delivery to the endpoint of every stored event of its types in [start, end), oldest first."""
    count: int = await conn.fetchval(
        """WITH queued AS (
               INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, lane)
               SELECT ev.tenant_id, e.id, ev.id, coalesce(ev.account_id, 0)
               FROM webhook_events ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.id = $2
               WHERE ev.tenant_id = $1 AND ev.occurred_at >= $3 AND ev.occurred_at < $4
                 AND ev.type = ANY (e.event_types)
               ORDER BY ev.id
               RETURNING 1
           )
           SELECT count(*) FROM queued""",
        tenant_id,
        endpoint_id,
        start,
        end,
    )
    return count
