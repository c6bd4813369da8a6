"""Measure what webhooks cost account writes, and how fast the outbox drains to a local receiver.

1. **Outbox overhead**: account creation (`POST /api/commerce/customer/accounts`, no password, so no Argon2
   hides the cost) on a tenant without endpoints (events off) and on one whose endpoint takes every event
   type (events on: each account writes its event and a delivery in its transaction), in alternating rounds,
   with delivery off (GATEHOUSE_WEBHOOK_WORKERS=0) so that only the write path is measured.
2. **Delivery rate**: the service restarts with delivery on and sends the backlog phase 1 left to a receiver
   on loopback (a minimal asyncio HTTP/1.1 server in this process, answering 204); the rate is events
   delivered per second from the first arrival to the last. A sample is verified with `standardwebhooks`.

    python -m bench.webhooks [--seconds 5] [--rounds 6] [--workers 2] [--concurrency 16] [--delivery-concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from datetime import date

from bench.harness import (
    Api,
    Databases,
    HttpConnection,
    bench_tenant,
    databases,
    log,
    run_loop,
    start_gatehouse,
    stop_gatehouse,
    write_readme_section,
)
from bench.throughput import Target, measure

ACCOUNTS = "/api/commerce/customer/accounts"


class Receiver(asyncio.Protocol):
    """Keep-alive HTTP/1.1: reads each request's head and body, answers 204, keeps a few for verification."""

    count = 0
    expected = 0
    done = asyncio.Event()  # set when `expected` distinct events have arrived
    first_at = 0.0
    last_at = 0.0
    ids: set[bytes] = set()  # one receiver per run: its class state is its state
    samples: list[tuple[bytes, bytes]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            if len(self.buffer) < end + 4 + length:
                return
            body, self.buffer = self.buffer[end + 4 : end + 4 + length], self.buffer[end + 4 + length :]
            self._received(head, body)
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # type: ignore[attr-defined]

    @classmethod
    def _received(cls, head: bytes, body: bytes) -> None:
        now = time.perf_counter()
        cls.first_at = cls.first_at or now
        cls.last_at, cls.count = now, cls.count + 1
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"webhook-id:"):
                cls.ids.add(line.split(b":", 1)[1].strip())
        if len(cls.samples) < 20:
            cls.samples.append((head, body))
        if len(cls.ids) >= cls.expected:
            cls.done.set()


def _verify_samples(secret: str) -> None:
    from standardwebhooks import Webhook

    for head, body in Receiver.samples:
        lines = head.decode().split("\r\n")[1:]
        headers = {name.strip(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        Webhook(secret).verify(body.decode(), headers)


async def _tenants(base_url: str, args: argparse.Namespace, receiver_port: int) -> tuple[dict, dict, str]:
    """(events off, events on, the endpoint's secret)."""
    host, port = base_url.removeprefix("http://").split(":")
    api = Api(host, int(port))
    tenants = []
    for _ in range(2):
        setup = await bench_tenant(api, (args.admin_user, args.admin_password))
        tenants.append({"id": setup["tenant"], "app_headers": setup["app_headers"], "admin": setup["admin_headers"]})
    endpoint = await api.call(
        "POST",
        f"/admin/v1/tenants/{tenants[1]['id']}/webhook-endpoints",
        {"url": f"http://127.0.0.1:{receiver_port}/hook"},
        tenants[1]["admin"],
    )
    return tenants[0], tenants[1], endpoint["secret"]


async def _create_rate(base_url: str, args: argparse.Namespace, tenant: dict, name: str) -> tuple[float, int]:
    """Account creations/s on `tenant` for one round, and how many were created."""
    host, port = base_url.removeprefix("http://").split(":")
    headers = {**tenant["app_headers"], "content-type": "application/json"}

    async def create(conn: HttpConnection, index: int) -> bool:
        email = f"w-{secrets.token_hex(6)}@example.com".encode()
        status, _ = await conn.request("POST", ACCOUNTS, headers, b'{"emailAddress": "' + email + b'"}')
        return status == 201

    result = await measure(f"create ({name})", args.concurrency, create, Target(host, int(port), args.seconds), 1)
    return result.rate, result.count


async def _account_writes(
    base_url: str, args: argparse.Namespace, off: dict, on: dict
) -> tuple[float, float, float, int]:
    """Account creations/s with events off and on, the median of each, and their overhead as the median of each
    round's pair (the two run back to back, in alternating order): other load on a shared machine, and the
    tables growing, shift whole rounds, not one side of a pair."""
    rates: dict[str, list[float]] = {"off": [], "on": []}
    made_on = 0
    for round_number in range(args.rounds):
        for name in ("off", "on") if round_number % 2 == 0 else ("on", "off"):
            rate, count = await _create_rate(base_url, args, off if name == "off" else on, name)
            rates[name].append(rate)
            made_on += count if name == "on" else 0
    overheads = sorted(1 - on_rate / off_rate for off_rate, on_rate in zip(rates["off"], rates["on"], strict=True))
    return _median(rates["off"]), _median(rates["on"]), overheads[len(overheads) // 2], made_on


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


async def _drain(expected: int, seconds: float) -> float:
    Receiver.expected = expected
    try:
        await asyncio.wait_for(Receiver.done.wait(), seconds)
    except TimeoutError:
        raise SystemExit(f"only {len(Receiver.ids)} of {expected} events arrived in {seconds:.0f} s") from None
    return expected / max(Receiver.last_at - Receiver.first_at, 1e-9)


async def _bench(args: argparse.Namespace, urls: Databases) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", 0)
    receiver_port = server.sockets[0].getsockname()[1]
    env = {"GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}
    service, base_url = start_gatehouse(
        urls, args.workers, (args.admin_user, args.admin_password), GATEHOUSE_WEBHOOK_WORKERS="0", **env
    )
    try:
        off, on, secret = await _tenants(base_url, args, receiver_port)
        rate_off, rate_on, overhead, backlog = await _account_writes(base_url, args, off, on)
    finally:
        stop_gatehouse(service)
    log(f"delivering the backlog of {backlog} events")
    service, base_url = start_gatehouse(
        urls,
        args.workers,
        (args.admin_user, args.admin_password),
        GATEHOUSE_WEBHOOK_CONCURRENCY=str(args.delivery_concurrency),
        **env,
    )
    try:
        delivery_rate = await _drain(backlog, seconds=600)
        duplicates = Receiver.count - backlog
        # For comparison: writes while the same processes deliver each new event as it commits.
        rate_delivering, _ = await _create_rate(base_url, args, on, "on, delivered as they commit")
    finally:
        stop_gatehouse(service)
    _verify_samples(secret)
    server.close()
    return {
        "off": rate_off,
        "on": rate_on,
        "overhead": overhead,
        "delivering": rate_delivering,
        "backlog": backlog,
        "delivery": delivery_rate,
        "duplicates": duplicates,
    }


def render(numbers: dict[str, float], args: argparse.Namespace) -> str:
    return "\n".join(
        [
            (
                f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, {args.workers} service workers; "
                f"account creation: {args.rounds} rounds of {args.seconds:.0f} s each way, "
                f"{args.concurrency} connections; delivery: {args.workers} workers x 1 loop x "
                f"{args.delivery_concurrency} in flight."
            ),
            "",
            "| measure | result | goal |",
            "|---|---:|---|",
            f"| account creations/s, events off (no endpoint) | {numbers['off']:.0f} | |",
            f"| account creations/s, events on (written, not yet sent) | {numbers['on']:.0f} | |",
            f"| outbox overhead on account creation (median of the pairs) | {numbers['overhead']:.1%} | ≤ 10% |",
            (
                f"| deliveries/s to a local receiver ({numbers['backlog']:.0f} events of as many accounts) "
                f"| {numbers['delivery']:.0f} | ≥ 1,000/s |"
            ),
            f"| duplicate deliveries | {numbers['duplicates']:.0f} | 0 |",
            f"| account creations/s, events on and delivered as they commit | {numbers['delivering']:.0f} | |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--seconds", type=float, default=5, help="length of one round")
    parser.add_argument("--rounds", type=int, default=6, help="pairs of rounds (off, on); medians are reported")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--concurrency", type=int, default=16, help="connections creating accounts")
    parser.add_argument("--delivery-concurrency", type=int, default=64, help="deliveries in flight per loop")
    parser.add_argument("--write-readme", action="store_true", help="also write the table into bench/README.md")
    args = parser.parse_args()
    args.admin_user, args.admin_password = "bench-admin", secrets.token_urlsafe(18)
    with databases() as urls:
        numbers = run_loop(_bench(args, urls))
    table = render(numbers, args)
    print(table)
    if args.write_readme:
        write_readme_section("<!-- webhook results -->", table)
        log("wrote bench/README.md")
    return 0 if numbers["overhead"] <= 0.10 and numbers["delivery"] >= 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
