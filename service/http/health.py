"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Response, get

from service.http.common import Injected
from service.platform.db import Database
from service.platform.redis import RedisClient, check_serving

PROBE_TIMEOUT_SECONDS = 2


class HealthStatus(msgspec.Struct, kw_only=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class HealthController(Controller):
    path = "/health"
    tags = ["Operations"]

    @get("/live", summary="The process is up", cache=False)
    async def live(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get(
        "/ready",
        summary="PostgreSQL and Redis both answer; 503 otherwise",
        description="Load balancers should send traffic only while this answers 200.",
    )
    async def ready(self, db: Injected[Database], redis: Injected[RedisClient]) -> Response[HealthStatus]:
        postgres_status, redis_status = await asyncio.gather(
            _probe(db.fetchval("SELECT 1")), _probe(check_serving(redis))
        )
        healthy = postgres_status == "ok" and redis_status == "ok"
        checks = {"postgres": postgres_status, "redis": redis_status}
        body = HealthStatus(status="ok" if healthy else "unavailable", checks=checks)
        return Response(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})


async def _probe(check: Any) -> str:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001  # any failure means "not ready"; the reason is not the caller's business
        return "unavailable"
    return "ok"
