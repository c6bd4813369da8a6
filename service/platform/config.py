"""One typed settings object, read from the environment once at start-up (12-factor).

Every variable is validated here so that a bad deployment fails at boot with a message naming the
variable, instead of failing later on the first request that happens to need it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from service.platform.config_values import (
    flag,
    float_in,
    int_in,
    log_level,
    mail_from,
    networks,
    public_url,
    smtp_url,
    url,
)
from service.platform.crypto import parse_secrets_key
from service.platform.redis_url import parse_redis_url

T = TypeVar("T")


class ConfigError(ValueError):
    """A variable in the environment is missing, malformed or out of range."""


@dataclass(frozen=True, slots=True)
class PlatformCaps:
    """Hard limits no tenant setting and no request can exceed."""

    max_access_token_minutes: int
    max_refresh_token_minutes: int


@dataclass(frozen=True, slots=True)
class DatabasePool:
    """The connections one worker process keeps to DATABASE_URL, and what sits between them and PostgreSQL."""

    min_size: int = 2
    max_size: int = 10
    # PgBouncer in transaction-pooling mode hands each transaction whichever server connection is free, so a
    # statement prepared on one is missing on the next: with this on, asyncpg keeps no prepared statements.
    transaction_pooling: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    public_url: str
    workers: int
    data_dir: Path
    database_url: str | None
    redis_url: str | None
    admin_username: str | None
    admin_password: str | None
    admin_token_minutes: int
    app_token_minutes: int
    app_refresh_token_minutes: int
    caps: PlatformCaps
    max_body_bytes: int
    log_level: str
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())
    graceful_shutdown_seconds: int = 20
    smtp_url: str | None = None
    secrets_key: bytes | None = None
    mail_from: str = "Gatehouse <no-reply@localhost>"
    default_tenant_id: int | None = None  # Magento REST calls that name no tenant by host or header
    metrics_port: int | None = None  # Prometheus metrics of every worker on this port; off when unset
    hash_threads: int | None = None  # Argon2 hashes at once, per worker and for all workers; None: the cores
    db_pool: DatabasePool = field(default_factory=DatabasePool)
    # Off where a release runs `gatehouse migrate` once (a Kubernetes Job) instead of every replica at start.
    migrate_on_start: bool = True
    webhook_workers: int = 1  # delivery loops in each worker process; 0: this process delivers none
    webhook_concurrency: int = 32  # deliveries in flight per loop
    webhook_timeout_seconds: float = 10.0
    webhook_backoff_seconds: float = 5.0  # the first retry's delay; doubled for each further one, up to an hour
    webhook_retry_seconds: int = 24 * 3600  # then a delivery gives up and its endpoint is marked failing
    webhook_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())
    webhook_retention_days: int = 30  # then an event no delivery still waits for is deleted, with its deliveries
    # Session writes and rotations answer once this many replicas hold them (Redis WAIT); 0: at once.
    redis_wait_replicas: int = 0
    redis_wait_timeout_ms: int = 500  # then the write is not acknowledged (503); below the 2 s socket timeout

    def resolved_database_url(self) -> str:
        """DATABASE_URL once `gatehouse serve` (or a command) has filled it in, with an embedded server's if need be."""
        if self.database_url is None:
            raise RuntimeError("DATABASE_URL is used before the embedded server was started")
        return self.database_url

    @property
    def embedded(self) -> bool:
        """True when Gatehouse must start PostgreSQL and Redis of its own."""
        return self.database_url is None or self.redis_url is None

    def issuer_for(self, tenant_id: int) -> str:
        return f"{self.public_url}/tenants/{tenant_id}"


def _read(env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from exc


def _database_pool(env: Mapping[str, str]) -> DatabasePool:
    low = _read(env, "GATEHOUSE_DB_POOL_MIN_SIZE", 2, int_in(0, 100), "an integer between 0 and 100")
    floor = max(low, 1)
    return DatabasePool(
        min_size=low,
        max_size=_read(
            env,
            "GATEHOUSE_DB_POOL_MAX_SIZE",
            max(low, 10),
            int_in(floor, 100),
            f"an integer between {floor} and 100 (not below GATEHOUSE_DB_POOL_MIN_SIZE)",
        ),
        transaction_pooling=_read(env, "GATEHOUSE_DB_TRANSACTION_POOLING", False, flag, "true or false"),
    )


def _platform_caps(env: Mapping[str, str]) -> PlatformCaps:
    return PlatformCaps(
        max_access_token_minutes=_read(
            env, "GATEHOUSE_MAX_ACCESS_TOKEN_MINUTES", 24 * 60, int_in(1, 7 * 24 * 60), "minutes between 1 and 10080"
        ),
        max_refresh_token_minutes=_read(
            env,
            "GATEHOUSE_MAX_REFRESH_TOKEN_MINUTES",
            90 * 24 * 60,
            int_in(1, 365 * 24 * 60),
            "minutes between 1 and 525600",
        ),
    )


def _bootstrap_admin(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """GATEHOUSE_ADMIN_USERNAME and GATEHOUSE_ADMIN_PASSWORD: both or neither."""
    admin_username = env.get("GATEHOUSE_ADMIN_USERNAME") or None
    admin_password = env.get("GATEHOUSE_ADMIN_PASSWORD") or None
    if (admin_username is None) != (admin_password is None):
        missing = "GATEHOUSE_ADMIN_PASSWORD" if admin_password is None else "GATEHOUSE_ADMIN_USERNAME"
        raise ConfigError(f"{missing} must be set together with the other bootstrap admin variable")
    if admin_password is not None and len(admin_password) < 12:
        raise ConfigError("GATEHOUSE_ADMIN_PASSWORD must be at least 12 characters")
    return admin_username, admin_password


def _redis_url(env: Mapping[str, str]) -> str | None:
    """REDIS_URL as given, once it names a topology; the message says what is wrong, never the URL (its passwords)."""
    raw = (env.get("REDIS_URL") or "").strip()
    if not raw:
        return None
    try:
        parse_redis_url(raw)
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL {exc}") from None
    return raw


# Variables that need nothing but their own value: (Settings field, variable, default, parser, what it must be).
_PLAIN_VARIABLES: tuple[tuple[str, str, Any, Callable[[str], Any], str], ...] = (
    ("workers", "GATEHOUSE_WORKERS", 1, int_in(1, 64), "an integer between 1 and 64"),
    ("database_url", "DATABASE_URL", None, url(("postgres", "postgresql")), "a postgresql:// URL"),
    ("admin_token_minutes", "GATEHOUSE_ADMIN_TOKEN_MINUTES", 60, int_in(1, 24 * 60), "minutes between 1 and 1440"),
    (
        "max_body_bytes",
        "GATEHOUSE_MAX_BODY_BYTES",
        1024 * 1024,
        int_in(1024, 64 * 1024 * 1024),
        "bytes between 1024 and 67108864",
    ),
    ("log_level", "GATEHOUSE_LOG_LEVEL", "INFO", log_level, "one of DEBUG, INFO, WARNING, ERROR"),
    (
        "trusted_proxies",
        "GATEHOUSE_TRUSTED_PROXIES",
        (),
        networks,
        "a comma-separated list of addresses or CIDR networks",
    ),
    ("graceful_shutdown_seconds", "GATEHOUSE_SHUTDOWN_GRACE_SECONDS", 20, int_in(1, 600), "seconds between 1 and 600"),
    (
        "secrets_key",
        "GATEHOUSE_SECRETS_KEY",
        None,
        parse_secrets_key,
        "32 random bytes in base64 (openssl rand -base64 32)",
    ),
    ("smtp_url", "SMTP_URL", None, smtp_url, "an smtp:// or smtps:// URL with a host"),
    (
        "mail_from",
        "GATEHOUSE_MAIL_FROM",
        "Gatehouse <no-reply@localhost>",
        mail_from,
        "an address like 'Shop <no-reply@shop.example>'",
    ),
    (
        "default_tenant_id",
        "GATEHOUSE_DEFAULT_TENANT_ID",
        None,
        int_in(1, 2**31 - 1),
        "a tenant id (a positive integer)",
    ),
    ("metrics_port", "GATEHOUSE_METRICS_PORT", None, int_in(1, 65535), "an integer between 1 and 65535"),
    ("redis_wait_replicas", "GATEHOUSE_REDIS_WAIT_REPLICAS", 0, int_in(0, 16), "an integer between 0 and 16"),
    ("redis_wait_timeout_ms", "GATEHOUSE_REDIS_WAIT_TIMEOUT_MS", 500, int_in(1, 1500), "1 to 1500 milliseconds"),
    ("hash_threads", "GATEHOUSE_HASH_THREADS", None, int_in(1, 256), "an integer between 1 and 256"),
    ("migrate_on_start", "GATEHOUSE_MIGRATE_ON_START", True, flag, "true or false"),
    ("webhook_workers", "GATEHOUSE_WEBHOOK_WORKERS", 1, int_in(0, 16), "an integer between 0 and 16"),
    ("webhook_concurrency", "GATEHOUSE_WEBHOOK_CONCURRENCY", 32, int_in(1, 1000), "an integer between 1 and 1000"),
    (
        "webhook_timeout_seconds",
        "GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS",
        10.0,
        float_in(0.1, 60),
        "seconds between 0.1 and 60",
    ),
    (
        "webhook_backoff_seconds",
        "GATEHOUSE_WEBHOOK_BACKOFF_SECONDS",
        5.0,
        float_in(0.01, 3600),
        "seconds between 0.01 and 3600",
    ),
    (
        "webhook_retry_seconds",
        "GATEHOUSE_WEBHOOK_RETRY_SECONDS",
        24 * 3600,
        int_in(1, 7 * 24 * 3600),
        "seconds between 1 and 604800",
    ),
    (
        "webhook_retention_days",
        "GATEHOUSE_WEBHOOK_RETENTION_DAYS",
        30,
        int_in(1, 3650),
        "days between 1 and 3650",
    ),
    (
        "webhook_allowed_networks",
        "GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS",
        (),
        networks,
        "a comma-separated list of addresses or CIDR networks",
    ),
)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    port = _read(env, "PORT", 8080, int_in(1, 65535), "an integer between 1 and 65535")
    host = _read(env, "GATEHOUSE_HOST", "127.0.0.1", str, "a host name or address")
    caps = _platform_caps(env)
    max_access, max_refresh = caps.max_access_token_minutes, caps.max_refresh_token_minutes
    admin_username, admin_password = _bootstrap_admin(env)
    plain = {
        field: _read(env, name, default, parse, expected) for field, name, default, parse, expected in _PLAIN_VARIABLES
    }
    return Settings(
        host=host,
        port=port,
        public_url=_read(
            env,
            "GATEHOUSE_PUBLIC_URL",
            f"http://{host}:{port}",
            public_url,
            "an absolute http(s) URL without query or fragment",
        ),
        data_dir=Path(env.get("GATEHOUSE_DATA_DIR") or ".gatehouse").resolve(),
        admin_username=admin_username,
        admin_password=admin_password,
        app_token_minutes=_read(
            env, "GATEHOUSE_APP_TOKEN_MINUTES", 60, int_in(1, max_access), f"minutes between 1 and {max_access}"
        ),
        app_refresh_token_minutes=_read(
            env,
            "GATEHOUSE_APP_REFRESH_TOKEN_MINUTES",
            24 * 60,
            int_in(1, max_refresh),
            f"minutes between 1 and {max_refresh}",
        ),
        caps=caps,
        db_pool=_database_pool(env),
        redis_url=_redis_url(env),
        **plain,
    )
