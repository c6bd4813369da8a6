"""The Redis primary dies (SIGKILL) under a Sentinel: the service answers 503 meanwhile, never 500, a ticket
for an ended session or `active: true` for a revoked token, serves again once a replica is promoted, without
a restart, and, with GATEHOUSE_REDIS_WAIT_REPLICAS=1, loses no rotation or login it answered.

Replication on loopback is too quick to lose anything by chance, so the first test cuts the replica off
(SIGSTOP, and the primary drops its link) before the answered writes and kills the primary after them: with
WAIT off every one of them is lost, with it on none was answered, and nothing answered is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import (
    Servers,
    TenantFixture,
    admin_token,
    bearer,
    free_port,
    make_tenant,
    sign_up,
    start_service,
    stop_service,
)
from tests.redis_topologies import ClusterTopology, SentinelTopology

TICKETS = "/api/commerce/customer/authtickets"
PASSWORD = "a perfectly good passphrase"
WAITING = {"GATEHOUSE_REDIS_WAIT_REPLICAS": "1", "GATEHOUSE_REDIS_WAIT_TIMEOUT_MS": "300"}


async def _refresh(client: httpx.AsyncClient, tenant: TenantFixture, token: str) -> httpx.Response:
    return await client.put(f"{TICKETS}/refresh", params={"refreshToken": token}, headers=tenant.app_headers)


async def _login(client: httpx.AsyncClient, tenant: TenantFixture, email: str) -> httpx.Response:
    return await client.post(TICKETS, json={"username": email, "password": PASSWORD}, headers=tenant.app_headers)


async def _alive(client: httpx.AsyncClient, tenant: TenantFixture, refresh_token: str) -> bool:
    """Whether a refresh token still works, asked until the service answers (it may still be reconnecting)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = await _refresh(client, tenant, refresh_token)
        if response.status_code != 503:
            assert response.status_code in (200, 401), response.text
            return response.status_code == 200
        await asyncio.sleep(0.2)
    raise AssertionError("the service kept answering 503 after the failover")


async def _tenant_with_customers(client: httpx.AsyncClient, platform_admin: tuple[str, str], count: int):
    tenant = await make_tenant(client, bearer(await admin_token(client, *platform_admin)))
    tickets = [await sign_up(client, tenant, f"failover-{tenant.id}-{i}@example.com", PASSWORD) for i in range(count)]
    return tenant, tickets


async def _writes_lost_while_the_replica_is_cut_off(
    servers: Servers, sentinels: SentinelTopology, platform_admin: tuple[str, str], log: Path, env: dict[str, str]
) -> tuple[Counter[int], int, int]:
    """(statuses of the rotations and logins made while the replica was cut off, how many were answered 200,
    how many of those answered are gone after the failover)."""
    running = start_service(Servers(servers.database_url, sentinels.url), log, **env)
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            tenant, tickets = await _tenant_with_customers(client, platform_admin, 4)
            sentinels.wait_for_replication()
            primary, replica = sentinels.primary(), sentinels.replica()
            replica.pause()
            primary.client().client_kill_filter(_type="replica")  # what it writes now reaches no replica
            answers = [await _refresh(client, tenant, t["refreshToken"]) for t in tickets]
            answers += [await _login(client, tenant, t["customerAccount"]["emailAddress"]) for t in tickets]
            primary.kill()
            replica.resume()
            sentinels.wait_for_failover(primary)
            answered = [a.json()["refreshToken"] for a in answers if a.status_code == 200]
            lost = [token for token in answered if not await _alive(client, tenant, token)]
        sentinels.restore(primary)
        return Counter(a.status_code for a in answers), len(answered), len(lost)
    finally:
        stop_service(running)


async def test_answered_writes_survive_the_failover_only_when_they_wait_for_a_replica(
    servers: Servers, redis_sentinel: SentinelTopology, platform_admin: tuple[str, str], tmp_path: Path
) -> None:
    statuses, answered, lost = await _writes_lost_while_the_replica_is_cut_off(
        servers, redis_sentinel, platform_admin, tmp_path / "no-wait.log", {}
    )
    # WAIT off: every rotation and login was answered, and the promoted replica never had one of them.
    assert statuses == Counter({200: 8}) and answered == lost == 8, (statuses, answered, lost)

    statuses, answered, lost = await _writes_lost_while_the_replica_is_cut_off(
        servers, redis_sentinel, platform_admin, tmp_path / "wait.log", WAITING
    )
    # WAIT on: no replica confirmed them in time, so none was answered as done (503: retry), and none is lost.
    assert statuses == Counter({503: 8}) and answered == lost == 0, (statuses, answered, lost)


@dataclass
class _Load:
    """What the load saw, and when to stop it."""

    seen: Counter[int] = field(default_factory=Counter)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    served_again: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: int = 0  # served_again is set once this many 200s were seen in all

    def record(self, status: int) -> None:
        self.seen[status] += 1
        if status == 200 and self.wanted and self.seen[200] >= self.wanted:
            self.served_again.set()


async def _chain(client: httpx.AsyncClient, tenant: TenantFixture, token: str, load: _Load) -> str:
    """Follow one rotation chain until the load stops: every 200's token is the next request's; after a 503 the
    same token is sent again. The last token answered is returned."""
    while not load.stop.is_set():
        response = await _refresh(client, tenant, token)
        load.record(response.status_code)
        assert response.status_code in (200, 503), response.text
        if response.status_code == 200:
            token = response.json()["refreshToken"]
        else:
            await asyncio.sleep(0.05)
    return token


async def _logins(client: httpx.AsyncClient, tenant: TenantFixture, email: str, load: _Load) -> list[str]:
    """Log in again and again until the load stops; the refresh tokens of the logins answered 200."""
    answered = []
    while not load.stop.is_set():
        response = await _login(client, tenant, email)
        load.record(response.status_code)
        assert response.status_code in (200, 503), response.text
        if response.status_code == 200:
            answered.append(response.json()["refreshToken"])
        else:
            await asyncio.sleep(0.05)
    return answered


async def _ended_stays_ended(client: httpx.AsyncClient, tenant: TenantFixture, ended: dict, load: _Load) -> None:
    """A logged-out session's refresh token never yields a ticket, its access token is never active."""
    introspector = httpx.BasicAuth(tenant.client_id, tenant.client_secret)
    url = f"/tenants/{tenant.id}/oauth2/introspect"
    while not load.stop.is_set():
        refresh = await _refresh(client, tenant, ended["refreshToken"])
        active = await client.post(url, data={"token": ended["accessToken"]}, auth=introspector)
        load.record(refresh.status_code)
        assert refresh.status_code in (401, 503), refresh.text
        assert active.status_code == 503 or active.json() == {"active": False}, active.text
        await asyncio.sleep(0.02)


async def _redis_errors_counted(client: httpx.AsyncClient, metrics_port: int) -> dict[str, float]:
    scraped = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    return {
        sample.labels["backend"]: sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "gatehouse_backend_errors_total"
    }


async def kill_the_primary_under_load(
    topology: SentinelTopology | ClusterTopology, servers: Servers, platform_admin: tuple[str, str], log: Path
) -> None:
    """Refresh chains, logins and checks of an ended session run while the primary of a key's slot is SIGKILLed
    and replaced: 503s meanwhile and nothing worse, then service again, and every answered write still there."""
    metrics_port = free_port()
    running = start_service(Servers(servers.database_url, topology.url), log,
                            GATEHOUSE_METRICS_PORT=str(metrics_port), **WAITING)  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            tenant, tickets = await _tenant_with_customers(client, platform_admin, 8)
            ended, logging_in = tickets.pop(), tickets.pop()
            logout = await client.delete(TICKETS, params={"refreshToken": ended["refreshToken"]},
                                         headers=tenant.app_headers)  # fmt: skip
            assert logout.status_code == 204
            load = _Load()
            chains = asyncio.gather(*(_chain(client, tenant, t["refreshToken"], load) for t in tickets))
            checks = asyncio.ensure_future(_ended_stays_ended(client, tenant, ended, load))
            logins = asyncio.ensure_future(_logins(client, tenant, logging_in["customerAccount"]["emailAddress"], load))
            await asyncio.sleep(1)
            killed = topology.kill_primary_for("any key")
            await asyncio.to_thread(topology.wait_for_failover, killed, "any key")
            assert (await client.get("/health/ready")).status_code == 200  # the service found the new primary
            # WAIT 1 needs a replica: the promoted one has none until the killed one is back, as its replica.
            await asyncio.to_thread(topology.restore, killed)
            load.wanted = load.seen[200] + 5 * len(tickets)
            await asyncio.wait_for(load.served_again.wait(), 30)  # the chains are served again, no restart
            load.stop.set()
            last_tokens, _, logged_in = await asyncio.gather(chains, checks, logins)
            assert load.seen[503] > 0 and logged_in, load.seen
            # Every chain's last answered rotation, and every answered login, is on the promoted replica.
            answered = [*last_tokens, *logged_in]
            assert [await _alive(client, tenant, token) for token in answered] == [True] * len(answered)
            errors = await _redis_errors_counted(client, metrics_port)  # each 503 was a Redis error, counted once
            assert errors.get("redis", 0) >= load.seen[503] and "postgres" not in errors, errors
    finally:
        stop_service(running)
    assert "Traceback" not in running.log_text()


async def test_killing_the_primary_under_load_is_503_then_service_again_with_nothing_answered_lost(
    servers: Servers, redis_sentinel: SentinelTopology, platform_admin: tuple[str, str], tmp_path: Path
) -> None:
    await kill_the_primary_under_load(redis_sentinel, servers, platform_admin, tmp_path / "load.log")


async def test_killing_a_cluster_primary_under_load_is_503_then_service_again_with_nothing_answered_lost(
    servers: Servers, redis_cluster: ClusterTopology, platform_admin: tuple[str, str], tmp_path: Path
) -> None:
    await kill_the_primary_under_load(redis_cluster, servers, platform_admin, tmp_path / "load.log")
