"""Each application's state (tenant, enabled, behaviors, generation), cached so that authenticating a call
needs no PostgreSQL query.

The copy in Redis is fresh for FRESH_SECONDS and then read again from PostgreSQL. Every change to an
application deletes the copy (`forget`), so an older copy is still the truth: while PostgreSQL is
unreachable, a copy up to KEEP_SECONDS old is served, and the applications already known keep working
through an outage.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from service.applications import repository as repo
from service.applications.recent import RecentAnswers
from service.platform.db import DATABASE_UNAVAILABLE, Database
from service.platform.keyspace import app_state_key
from service.platform.redis import RedisClient

FRESH_SECONDS = 60
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class ApplicationState:
    tenant_id: int
    client_id: str
    behaviors: frozenset[str]
    is_enabled: bool
    generation: int


def _state_of(data: dict[str, Any]) -> ApplicationState:
    return ApplicationState(data["tenant"], data["client"], frozenset(data["behaviors"]), data["enabled"], data["gen"])


@dataclass(frozen=True, slots=True)
class _CachedState:
    state: ApplicationState
    is_fresh: bool

    @classmethod
    def decode(cls, raw: str | bytes) -> _CachedState:
        data: dict[str, Any] = json.loads(raw)
        # Copies written before the time was recorded count as old: they are read again.
        return cls(_state_of(data), time.time() - data.get("at", 0) < FRESH_SECONDS)


class ApplicationStates:
    def __init__(self, *, db: Database, redis: RedisClient) -> None:
        self.db = db
        self.redis = redis
        self._recent: RecentAnswers[int, ApplicationState] = RecentAnswers()

    async def get(self, application_id: int) -> ApplicationState | None:
        recent = self._recent.get(application_id)
        if recent is not None:
            return recent
        return await self.resolve(application_id, await self.redis.get(app_state_key(application_id)))

    async def resolve(self, application_id: int, cached: str | bytes | None) -> ApplicationState | None:
        """The state from its Redis copy (`cached`) while fresh, else from PostgreSQL, else the older copy."""
        copy = _CachedState.decode(cached) if cached is not None else None
        if copy is not None and copy.is_fresh:
            self._recent.put(application_id, copy.state)
            return copy.state
        try:
            row = await repo.get_state(self.db, application_id)
        except DATABASE_UNAVAILABLE:
            if copy is None:
                raise
            return copy.state
        if row is None:
            return None
        data = {
            "tenant": row.tenant_id,
            "client": row.client_id,
            "behaviors": list(row.behaviors),
            "enabled": row.is_enabled,
            "gen": row.generation,
            "at": time.time(),
        }
        await self.redis.set(app_state_key(application_id), json.dumps(data), ex=KEEP_SECONDS)
        return _state_of(data)

    async def forget(self, *application_ids: int) -> None:
        """After an application changed: drop its state from Redis and from this worker's memory."""
        await self.redis.delete(*(app_state_key(app_id) for app_id in application_ids))
        self._recent.drop(lambda app_id, _: app_id in application_ids)
