"""The Redis connection (redis-py asyncio) for the topology REDIS_URL names. Key names live in
service.platform.keyspace.

A single server and a Sentinel-watched primary are both a `Redis` (Sentinel's pool asks the Sentinels for
the primary's address on every new connection, so a promoted replica is found without a restart); a
Cluster is a `RedisCluster`, which follows MOVED answers and refreshes its slot map itself. Neither is
replication logic of ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis.exceptions
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterNode, ClusterPipeline
from redis.asyncio.sentinel import Sentinel

from service.platform.redis_url import RedisTopology, parse_redis_url

# What every capability is handed: both clients take the same commands, scripts and pipelines.
RedisClient = Redis | RedisCluster
RedisPipeline = Pipeline | ClusterPipeline

# Redis unreachable, or between a failover's start and end: the request may be retried (503), it is no bug.
REDIS_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,  # Sentinel's MasterNotFoundError too
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterDownError,  # a slot's primary failed and no replica has taken over yet
    redis.exceptions.TryAgainError,  # a slot moving while a multi-key command ran
    redis.exceptions.ReadOnlyError,  # a primary demoted under a connection that was still open
    redis.exceptions.SlotNotCoveredError,
)

_CONNECTION: dict[str, Any] = {
    "decode_responses": True,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
}
_MAX_CONNECTIONS = 200  # per process; a cluster client keeps as many to each of its nodes


def create_redis(redis_url: str) -> RedisClient:
    """A client for REDIS_URL (already validated at start-up); it connects on first use."""
    topology = parse_redis_url(redis_url)
    if topology.kind == "cluster":
        return _cluster(topology)
    if topology.kind == "sentinel":
        return _sentinel_primary(topology)
    return Redis.from_url(redis_url, retry_on_timeout=False, max_connections=_MAX_CONNECTIONS, **_CONNECTION)


def _broke_in_a_connection(exc: BaseException) -> bool:
    """redis-py's cluster client, when a node dies under connections in use, can fail inside its connection code
    with a plain AttributeError (a writer already gone) or RuntimeError (a transport already closed) instead
    of a ConnectionError: told apart by where it was raised."""
    if not isinstance(exc, AttributeError | RuntimeError):
        return False
    frame, raised_in_connection = exc.__traceback__, False
    while frame is not None:
        raised_in_connection = raised_in_connection or frame.tb_frame.f_code.co_filename.endswith(_CONNECTION_MODULE)
        frame = frame.tb_next
    return raised_in_connection


_CONNECTION_MODULE = "/redis/asyncio/connection.py"


@contextmanager
def _connection_faults_as_connection_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if _broke_in_a_connection(exc):
            raise redis.exceptions.ConnectionError("a Redis connection broke while in use") from exc
        raise


class _ClusterPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        with _connection_faults_as_connection_errors():
            return await super().execute(raise_on_error, allow_redirections)


class _Cluster(RedisCluster):
    """redis-py's RedisCluster whose connection faults are all ConnectionErrors: a failover answers 503."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        with _connection_faults_as_connection_errors():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # which refuses it
        # mypy takes the event dispatcher redis-py's own pipeline() sets up for an abstract attribute.
        return _ClusterPipeline(self, transaction)  # type: ignore[abstract]


def _cluster(topology: RedisTopology) -> RedisCluster:
    return _Cluster(
        startup_nodes=[ClusterNode(host, port) for host, port in topology.nodes],
        ssl=topology.tls,
        max_connections=_MAX_CONNECTIONS,
        **_CONNECTION,
        **topology.options,
    )


def _sentinel_primary(topology: RedisTopology) -> Redis:
    tls: dict[str, Any] = {"ssl": True} if topology.tls else {}
    sentinels = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves Sentinel's __init__ unannotated
        list(topology.nodes),
        sentinel_kwargs={"socket_timeout": 2, "socket_connect_timeout": 2, **tls, **topology.sentinel_options},
    )
    primary: Redis = sentinels.master_for(
        topology.primary_name, max_connections=_MAX_CONNECTIONS, **_CONNECTION, **tls, **topology.options
    )
    return primary


async def close_redis(client: RedisClient) -> None:
    """Close the client's connections, and under Sentinel those to the Sentinels, which redis-py leaves open."""
    await client.aclose()
    sentinels = getattr(client.connection_pool, "sentinel_manager", None) if isinstance(client, Redis) else None
    if sentinels is not None:
        await sentinels.aclose()


async def check_serving(client: RedisClient) -> None:
    """Raise unless Redis can serve requests now: the primary answers PING; under Cluster, a node reports every
    slot served (cluster_state:ok), which is false from a primary's failure until a replica has taken over."""
    if isinstance(client, RedisCluster):
        state = (await client.cluster_info()).get("cluster_state")
        if state != "ok":
            raise redis.exceptions.ClusterDownError(f"cluster_state is {state}")
    else:
        await client.ping()


def text(value: bytes | str) -> str:
    """An answer as text. The client decodes every answer (decode_responses=True), but redis-py types them all
    as bytes or str."""
    return value.decode() if isinstance(value, bytes) else value
