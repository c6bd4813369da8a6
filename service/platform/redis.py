"""The Redis connection (redis-py asyncio). Key names live in service.platform.keyspace."""

from __future__ import annotations

from redis.asyncio import Redis


def create_redis(redis_url: str) -> Redis:
    return Redis.from_url(
        redis_url,
        decode_responses=True,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry_on_timeout=False,
        max_connections=200,
    )


def text(value: bytes | str) -> str:
    """An answer as text. The client decodes every answer (decode_responses=True), but redis-py types them all
    as bytes or str."""
    return value.decode() if isinstance(value, bytes) else value
