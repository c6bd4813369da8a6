"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get

from service.http.common import runtime

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
    async def ready(self, request: Request[Any, Any, Any]) -> Response[HealthStatus]:
        rt = runtime(request)
        postgres, redis = await asyncio.gather(
            _probe(rt.pool.fetchval("SELECT 1")), _probe(rt.redis.ping())
        )
        healthy = postgres == "ok" and redis == "ok"
        body = HealthStatus(status="ok" if healthy else "unavailable", checks={"postgres": postgres, "redis": redis})
        return Response(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})


async def _probe(check: Any) -> str:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT_SECONDS)
    except Exception:  # any failure means "not ready"; the reason is not the caller's business
        return "unavailable"
    return "ok"
