"""Session writes that are answered only once replicas hold them (GATEHOUSE_REDIS_WAIT_REPLICAS).

Redis replicates asynchronously: a primary that dies right after answering takes its last writes with it,
and the replica promoted in its place never had them. With the setting on, each write that goes through
here is followed by `WAIT replicas timeout` on the same connection (WAIT counts the replicas that have
everything *this connection* wrote); fewer in time, and the write is not acknowledged: UnacknowledgedWrite,
a 503, and the caller retries (a refresh within its grace window gets the same successor back).

WAIT must follow the write on its connection, and redis-py sends nothing after a MULTI/EXEC on the
connection that ran it: every session write is therefore a Lua script (atomic on its own, and one slot),
sent with WAIT in one pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis.exceptions
from redis.asyncio import RedisCluster
from redis.commands.core import AsyncScript

from service.platform.redis import RedisClient, RedisPipeline


class UnacknowledgedWrite(redis.exceptions.TimeoutError):
    """Fewer replicas than asked confirmed a write in time: a failover could lose it, so it is not answered as
    done (a TimeoutError: the client is told to retry, 503)."""


class AcknowledgedWrites:
    """The one way session writes and refresh rotations reach Redis, so that WAIT is in one place."""

    def __init__(self, *, redis: RedisClient, replicas: int = 0, timeout_ms: int = 500) -> None:
        self._redis = redis
        self._replicas = replicas
        self._timeout_ms = timeout_ms

    async def script(self, script: AsyncScript, *, keys: Sequence[str], args: Sequence[Any] = ()) -> Any:
        """Run a registered script (its keys in one slot); its answer, once acknowledged."""
        if not self._replicas:
            return await script(keys=keys, args=args)

        def call(pipe: RedisPipeline) -> None:
            # Not pipe.evalsha: a cluster pipeline refuses that method (for its NOSCRIPT handling, done here).
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)

        try:
            return (await self._then_wait(keys[0], call))[0]
        except redis.exceptions.NoScriptError:  # a server that has not seen it yet: a promoted replica, say
            await self._redis.script_load(script.script)
            return (await self._then_wait(keys[0], call))[0]

    async def _then_wait(self, key: str, queue: Callable[[RedisPipeline], None]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            queue(pipe)
            pipe.execute_command("WAIT", self._replicas, self._timeout_ms, **await self._node_of(key))
            *results, acknowledged = await pipe.execute(raise_on_error=False)
        for result in (*results, acknowledged):
            if isinstance(result, Exception):
                raise result
        if int(acknowledged) < self._replicas:
            raise UnacknowledgedWrite(f"{acknowledged} of {self._replicas} replicas acknowledged the write in time")
        return results

    async def _node_of(self, key: str) -> dict[str, Any]:
        """Where a cluster pipeline must send WAIT: to the node that took the write, on the same connection."""
        if not isinstance(self._redis, RedisCluster):
            return {}
        await self._redis.initialize()  # the slot map, on first use
        return {"target_nodes": self._redis.get_node_from_key(key)}
