"""Gatehouse through a real PgBouncer in transaction-pooling mode, in front of the test PostgreSQL.

With GATEHOUSE_DB_TRANSACTION_POOLING=true, migrations, a signup, a login, a refresh, an account update and
a deletion all work through it; the same calls with the setting off fail on prepared statements, which is
why the setting exists. Skipped without PgBouncer: `apt-get install pgbouncer` (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from service.platform.embedded import _start_redis
from tests.conftest import (
    Servers,
    ServiceProcess,
    TenantFixture,
    free_port,
    make_tenant,
    start_service,
    stop_service,
    unique,
)

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
needs_pgbouncer = pytest.mark.skipif(
    not Path(PGBOUNCER).exists(), reason="no pgbouncer: `apt-get install pgbouncer` (.ci/run installs it)"
)

ACCOUNTS = "/api/commerce/customer/accounts"
TICKETS = "/api/commerce/customer/authtickets"
PASSWORD = "through the bouncer"
ADMIN = ("bouncer-root", secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Upstream:
    """Where PgBouncer connects: the PostgreSQL that DATABASE_URL names, as libpq key=value pairs."""

    host: str
    port: int
    user: str
    password: str | None

    @classmethod
    def of(cls, database_url: str) -> Upstream:
        parts = urlsplit(database_url)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]  # the embedded server listens on a socket only
        host = socket_dir or parts.hostname or "127.0.0.1"
        return cls(host, parts.port or 5432, parts.username or "postgres", parts.password or None)

    def connstring(self, dbname: str) -> str:
        password = f" password={self.password}" if self.password else ""
        return f"host={self.host} port={self.port} dbname={dbname} user={self.user}{password}"

    def run_as(self) -> list[str]:
        """PgBouncer refuses to run as root: run it as the owner of PostgreSQL's socket, who may open it."""
        if os.geteuid() != 0:
            return []
        owner = pwd.getpwuid(Path(self.host).stat().st_uid).pw_name if self.host.startswith("/") else "nobody"
        return ["-u", owner]


def _version() -> tuple[int, ...]:
    printed = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", printed)
    assert match, printed
    return tuple(int(part) for part in match.groups())


def _ini(upstream: Upstream, dbname: str, port: int) -> str:
    lines = [
        "[databases]",
        f"gatehouse = {upstream.connstring(dbname)}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = any",  # every client logs in as the user of the [databases] line
        "pool_mode = transaction",
        "default_pool_size = 4",
        # Each transaction takes the next server connection in turn, as it would under load. With the
        # default (the last one used), calls made one after another would keep one server connection
        # and hide what transaction pooling does to prepared statements.
        "server_round_robin = 1",
        # No ignore_startup_parameters: asyncpg sends nothing beyond user, database and client_encoding
        # (extra_float_digits, which PgBouncer refuses unless told to ignore it, is psycopg's and JDBC's).
    ]
    if _version() >= (1, 21):
        # Newer PgBouncers can track protocol-level prepared statements; 0 is the PgBouncer without
        # that (Debian 12's 1.18, most managed poolers), the one the setting exists for.
        lines.append("max_prepared_statements = 0")
    return "\n".join(lines) + "\n"


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"pgbouncer did not listen within 15 s:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.fixture
def bouncer_url(servers: Servers, fresh_database: str, tmp_path: Path) -> Iterator[str]:
    upstream, port = Upstream.of(servers.database_url), free_port()
    ini, log = tmp_path / "pgbouncer.ini", tmp_path / "pgbouncer.log"
    # An empty database, so that the migrations, too, run through PgBouncer.
    ini.write_text(_ini(upstream, urlsplit(fresh_database).path.lstrip("/"), port), encoding="utf-8")
    with log.open("wb") as out:
        process = subprocess.Popen([PGBOUNCER, *upstream.run_as(), str(ini)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        yield f"postgresql://{upstream.user}@127.0.0.1:{port}/gatehouse"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A Redis of its own: a fresh database numbers its applications from 1, as another test's may have."""
    url, process = _start_redis(tmp_path / "redis")
    yield url
    process.terminate()
    process.wait(timeout=10)


async def account_and_login_calls(client: httpx.AsyncClient, tenant: TenantFixture) -> list[httpx.Response]:
    """Signup, login, refresh, update and delete, in order; it stops at the first that fails."""
    email, h = f"{unique('pgb')}@example.com", tenant.app_headers
    responses = [
        await client.post(
            f"{ACCOUNTS}/Add-Account-And-Login",
            json={"account": {"emailAddress": email, "firstName": "Bo"}, "password": PASSWORD},
            headers=h,
        )
    ]
    if responses[-1].status_code != 200:
        return responses
    ticket = responses[-1].json()
    account = f"{ACCOUNTS}/{ticket['customerAccount']['id']}"
    steps = [
        lambda: client.post(TICKETS, json={"username": email, "password": PASSWORD}, headers=h),
        lambda: client.put(f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=h),
        lambda: client.put(account, json={**ticket["customerAccount"], "firstName": "Bouncer"}, headers=h),
        lambda: client.delete(account, headers=h),
        lambda: client.get(account, headers=h),
    ]
    for step in steps:
        responses.append(await step())
        if responses[-1].status_code >= 500:
            break
    return responses


def start_behind(bouncer_url: str, redis_url: str, log: Path, **env: str) -> ServiceProcess:
    return start_service(
        Servers(bouncer_url, redis_url),
        log,
        GATEHOUSE_ADMIN_USERNAME=ADMIN[0],
        GATEHOUSE_ADMIN_PASSWORD=ADMIN[1],
        **env,
    )


@contextlib.asynccontextmanager
async def pooled_service(bouncer_url: str, redis_url: str, log: Path) -> AsyncIterator[tuple[str, TenantFixture]]:
    """Gatehouse with GATEHOUSE_DB_TRANSACTION_POOLING=true behind PgBouncer, and a tenant made through it."""
    pooled = start_behind(bouncer_url, redis_url, log, GATEHOUSE_DB_TRANSACTION_POOLING="true")
    try:
        async with httpx.AsyncClient(base_url=pooled.base_url, timeout=30) as client:
            token = (await client.post("/admin/v1/token", json={"username": ADMIN[0], "password": ADMIN[1]})).json()
            yield pooled.base_url, await make_tenant(client, {"Authorization": f"Bearer {token['accessToken']}"})
    finally:
        stop_service(pooled)
    assert "prepared statement" not in pooled.log_text()


@needs_pgbouncer
async def test_accounts_and_logins_work_through_pgbouncer_with_the_setting(
    bouncer_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        pooled_service(bouncer_url, redis_url, tmp_path / "pooled.log") as (base_url, tenant),
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        for _ in range(3):  # every server connection of PgBouncer's pool serves some of them
            responses = await account_and_login_calls(client, tenant)
            assert [r.status_code for r in responses] == [200, 200, 200, 200, 204, 404], responses[-1].text
            assert responses[3].json()["firstName"] == "Bouncer"


@needs_pgbouncer
async def test_without_the_setting_the_same_calls_fail_on_prepared_statements(
    bouncer_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with pooled_service(bouncer_url, redis_url, tmp_path / "pooled.log") as (_, tenant):
        pass  # the database is migrated, with a tenant and an application
    plain = start_behind(bouncer_url, redis_url, tmp_path / "plain.log")
    try:
        async with httpx.AsyncClient(base_url=plain.base_url, timeout=30) as client:
            walks = [await account_and_login_calls(client, tenant) for _ in range(3)]
    finally:
        stop_service(plain)
    statuses = [r.status_code for walk in walks for r in walk]
    assert 500 in statuses, statuses
    # asyncpg prepared a named statement on one server connection and PgBouncer ran the next step on another.
    assert re.search(r'prepared statement \\"__asyncpg_stmt_\w+__\\" does not exist', plain.log_text())


async def test_pool_sizes_per_worker_are_settings(servers: Servers, fresh_database: str, tmp_path: Path) -> None:
    """Straight to PostgreSQL: each of two workers keeps exactly GATEHOUSE_DB_POOL_{MIN,MAX}_SIZE=3 connections."""
    service = start_service(
        Servers(fresh_database, servers.redis_url),
        tmp_path / "service.log",
        GATEHOUSE_WORKERS="2",
        GATEHOUSE_DB_POOL_MIN_SIZE="3",
        GATEHOUSE_DB_POOL_MAX_SIZE="3",
    )
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            await asyncio.gather(*(client.get("/health/ready") for _ in range(40)))
        conn = await asyncpg.connect(servers.database_url)
        try:
            # The service is ready once one worker is: the other may still be opening its pool.
            count = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'"
            for _ in range(100):
                connections = await conn.fetchval(count, urlsplit(fresh_database).path.lstrip("/"))
                if connections >= 2 * 3:
                    break
                await asyncio.sleep(0.1)
        finally:
            await conn.close()
    finally:
        stop_service(service)
    assert connections == 2 * 3
