"""What every benchmark shares: Gatehouse started as `gatehouse serve` runs it, on embedded or given servers, a
minimal HTTP client to drive it, and a tenant with an application to drive it through."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where in bench/README.md each benchmark's latest table goes: from its marker to the next heading.
THROUGHPUT_MARKER = "<!-- latest results -->"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class HttpConnection:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less than the server."""

    # Connections are recycled like a client pool does: the kernel hands each new connection to
    # whichever worker accepts first, so a fixed set opened at once can load workers unevenly.
    REQUESTS_PER_CONNECTION = 100

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is not None and self.used >= self.REQUESTS_PER_CONNECTION:
            self.writer.close()
            self.writer = None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.used = 0
        self.used += 1
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length) if length else b""


class Api:
    """JSON calls on one connection; any answer but 2xx stops the benchmark."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = HttpConnection(host, port)

    async def call(self, method: str, path: str, body: object | None = None, headers: dict | None = None) -> object:
        status, raw = await self.connection.request(
            method,
            path,
            {"content-type": "application/json", **(headers or {})},
            json.dumps(body).encode() if body is not None else b"",
        )
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {raw[:300]!r}")
        return json.loads(raw) if raw else {}


async def bench_tenant(api: Api, admin: tuple[str, str], settings: dict | None = None) -> dict:
    """A tenant with an application of every behavior: its id, the application's headers and Basic credentials."""
    token = (await api.call("POST", "/admin/v1/token", {"username": admin[0], "password": admin[1]}))["accessToken"]
    admin_headers = {"authorization": f"Bearer {token}"}
    tenant = await api.call("POST", "/admin/v1/tenants", {"name": "bench"}, admin_headers)
    if settings:
        await api.call("PUT", f"/admin/v1/tenants/{tenant['id']}/settings", settings, admin_headers)
    behaviors = [b["name"] for b in await api.call("GET", "/admin/v1/behaviors", None, admin_headers)]
    app = await api.call(
        "POST",
        f"/admin/v1/tenants/{tenant['id']}/applications",
        {"name": "bench", "behaviors": behaviors},
        admin_headers,
    )
    ticket = await api.call(
        "POST",
        "/api/platform/applications/authtickets/oauth",
        {"client_id": app["clientId"], "client_secret": app["clientSecret"], "grant_type": "client_credentials"},
    )
    basic = base64.b64encode(f"{app['clientId']}:{app['clientSecret']}".encode()).decode()
    return {
        "tenant": tenant["id"],
        "admin_headers": admin_headers,
        "app_headers": {"authorization": f"Bearer {ticket['access_token']}"},
        "basic": basic,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base_url: str, server: subprocess.Popen) -> None:
    import urllib.request

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


@dataclass(frozen=True)
class Databases:
    database_url: str
    redis_url: str
    postgres_pid: int | None  # the embedded PostgreSQL's postmaster; None for DATABASE_URL's
    postgres_log: Path | None  # the embedded PostgreSQL's server log; None for DATABASE_URL's


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
        server_log = Path(data_dir) / "postgres" / "log"
        yield Databases(urls.database_url or "", urls.redis_url or "", pid, server_log if pid else None)


def start_gatehouse(
    dbs: Databases, workers: int, admin: tuple[str, str], **extra_env: str
) -> tuple[subprocess.Popen, str]:
    """`gatehouse serve` with `workers` processes and the bootstrap admin `admin`, once ready; its base URL."""
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
        **extra_env,
    }
    log(f"starting Gatehouse with {workers} workers on port {port}")
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_ready(base_url, server)
    return server, base_url


def stop_gatehouse(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


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
    server, base_url = start_gatehouse(dbs, workers, admin)
    try:
        yield Service(base_url, server)
    finally:
        stop_gatehouse(server)


@contextmanager
def gatehouse(workers: int, admin: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """Gatehouse with `workers` processes on its own servers (or DATABASE_URL / REDIS_URL): yields its base URL
    and the database's."""
    with databases() as dbs, service(dbs, workers, admin) as server:
        yield server.base_url, dbs.database_url


def run_loop(coroutine):  # type: ignore[no-untyped-def]
    """uvloop when present (it is a service dependency): the load generator must stay cheap."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """--json (the figures as JSON instead of the table) and --write-readme (the table into bench/README.md too)."""
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    parser.add_argument("--write-readme", action="store_true", help="also write the table into bench/README.md")


def write_readme_section(marker: str, text: str) -> None:
    """Replace what follows `marker` in bench/README.md, up to the next `<!-- ` marker (its end marker), with
    `text`: each benchmark rewrites its own table and nothing else."""
    readme = ROOT / "bench" / "README.md"
    content = readme.read_text(encoding="utf-8")
    head, found, rest = content.partition(marker)
    if not found:
        raise SystemExit(f"bench/README.md has no {marker}")
    _, next_marker, tail = rest.partition("\n<!-- ")
    readme.write_text(f"{head}{marker}\n{text.rstrip()}\n" + (f"<!-- {tail}" if next_marker else ""), encoding="utf-8")
