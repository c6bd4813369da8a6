"""Redis connection (redis-py asyncio) and the key names Gatehouse uses, in one place."""

from __future__ import annotations

from redis.asyncio import Redis

PREFIX = "gh:"


def create_redis(redis_url: str) -> Redis:
    return Redis.from_url(
        redis_url,
        decode_responses=True,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry_on_timeout=False,
        max_connections=200,
    )


class Keys:
    """Every Redis key Gatehouse writes. Token keys hold digests, never the tokens."""

    @staticmethod
    def admin_token(digest: str) -> str:
        return f"{PREFIX}admintok:{digest}"

    @staticmethod
    def app_token(digest: str) -> str:
        return f"{PREFIX}apptok:{digest}"

    @staticmethod
    def app_refresh_token(digest: str) -> str:
        return f"{PREFIX}apprt:{digest}"

    APP_STATE_PREFIX = f"{PREFIX}app:"

    @staticmethod
    def app_state(application_id: int) -> str:
        return f"{Keys.APP_STATE_PREFIX}{application_id}"
