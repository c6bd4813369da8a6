"""What every benchmark shares: its log, real PostgreSQL and Redis, and Gatehouse started as `gatehouse serve` does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Databases:
    database_url: str
    redis_url: str
    postgres_pid: int | None  # the embedded PostgreSQL's postmaster; None for DATABASE_URL's


@contextmanager
def databases() -> Iterator[Databases]:
    """PostgreSQL and Redis: DATABASE_URL and REDIS_URL, or embedded servers in a temporary directory."""
    from service.platform.embedded import embedded_servers

    with (
        tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as data_dir,
        embedded_servers(Path(data_dir), os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")) as urls,
    ):
        pid_file = Path(data_dir) / "postgres" / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        yield Databases(urls.database_url or "", urls.redis_url or "", pid)


@dataclass(frozen=True)
class Service:
    base_url: str
    process: subprocess.Popen

    @property
    def host_and_port(self) -> tuple[str, int]:
        host, port = self.base_url.removeprefix("http://").split(":")
        return host, int(port)


@contextmanager
def service(dbs: Databases, workers: int, admin: tuple[str, str]) -> Iterator[Service]:
    """Gatehouse with `workers` processes and `admin` as its bootstrap platform admin, stopped afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dbs.database_url,
        "REDIS_URL": dbs.redis_url,
        "PORT": str(port),
        "GATEHOUSE_WORKERS": str(workers),
        "GATEHOUSE_LOG_LEVEL": "WARNING",
        "GATEHOUSE_ADMIN_USERNAME": admin[0],
        "GATEHOUSE_ADMIN_PASSWORD": admin[1],
    }
    log(f"starting Gatehouse with {workers} workers on port {port}")
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url, server)
        yield Service(base_url, server)
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_ready(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the service exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not become ready")


def write_readme_section(marker: str, text: str) -> None:
    """Replace what follows `marker` in bench/README.md, up to the next `<!-- ` marker (or the end), with `text`."""
    readme = ROOT / "bench" / "README.md"
    content = readme.read_text(encoding="utf-8")
    head, found, rest = content.partition(marker)
    if not found:
        raise SystemExit(f"bench/README.md has no {marker}")
    _, next_marker, tail = rest.partition("\n<!-- ")
    readme.write_text(f"{head}{marker}\n{text.rstrip()}\n" + (f"<!-- {tail}" if next_marker else ""), encoding="utf-8")
