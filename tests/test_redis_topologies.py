"""REDIS_URL names a single server, a Sentinel-watched primary or a Cluster; the service runs on each.

The Sentinel and Cluster are real (tests/redis_topologies.py), on loopback, with passwords: the data nodes'
in front of the hosts, the Sentinels' own (a different one) in the query.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import Servers, admin_token, bearer, make_tenant, start_service, stop_service
from tests.redis_topologies import DATA_PASSWORD, SENTINEL_PASSWORD, ClusterTopology, SentinelTopology


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://cache:6379", "must start with one of redis://"),
        ("redis+sentinel://:hunter2-secret@s1:26379,s2:26379", "must name the primary the Sentinels monitor"),
        ("redis+cluster://:hunter2-secret@a:7000/3", "a Redis Cluster has database 0 only"),
        ("redis+cluster://:hunter2-secret@a:7000,b:seventy", "malformed port"),
        ("redis://:hunter2-secret@cache:6379?ssl_ca_certs=/etc/ca.pem", "TLS options (ssl_…) but a scheme without TLS"),
        ("rediss+cluster://:hunter2-secret@a:7000?ssl_ca_certs=/no/such/ca.pem", "ssl_ca_certs names no readable file"),
        ("redis+sentinel://s1:26379/gh?sentinel_pasword=hunter2-secret", "unknown option(s) sentinel_pasword"),
        ("redis://:hunter2-secret@cache:6379/zero", "must name its database by number"),
        ("redis://a:6379,b:6379", "several nodes: redis+sentinel or redis+cluster"),
    ],
)
def test_a_bad_redis_url_stops_start_up_saying_what_is_wrong(run_cli, url: str, says: str) -> None:
    result = run_cli("migrate", env={"REDIS_URL": url})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "REDIS_URL" in result.stderr and says in result.stderr, result.stderr
    assert "hunter2-secret" not in result.stderr and "Traceback" not in result.stderr  # never the password


def _ready(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/health/ready", timeout=10)


async def test_the_service_runs_on_sentinels_and_follows_their_password(
    servers: Servers, redis_sentinel: SentinelTopology, platform_admin: tuple[str, str], tmp_path: Path
) -> None:
    running = start_service(Servers(servers.database_url, redis_sentinel.url), tmp_path / "sentinel.log")
    try:
        assert _ready(running.base_url).json()["checks"]["redis"] == "ok"
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            # Admin tokens, tenant admins and an application's ticket all go through the Sentinels' primary.
            tenant = await make_tenant(client, bearer(await admin_token(client, *platform_admin)), behaviors=[])
            assert tenant.app_headers["Authorization"].startswith("Bearer ")
    finally:
        stop_service(running)
    primary = redis_sentinel.primary().client()
    assert primary.dbsize() > 0  # what the service wrote is in the primary the Sentinels named
    # The Sentinels' own password is not the data nodes': without it, or with theirs, nothing is reachable.
    for wrong in (redis_sentinel.url.replace(f"?sentinel_password={SENTINEL_PASSWORD}", ""),
                  redis_sentinel.url.replace(SENTINEL_PASSWORD, DATA_PASSWORD)):  # fmt: skip
        unready = start_service(Servers(servers.database_url, wrong), tmp_path / "wrong.log", ready_status=503)
        try:
            assert _ready(unready.base_url).json()["checks"]["redis"] == "unavailable"
        finally:
            stop_service(unready)
        assert "Traceback" not in unready.log_text()


def test_the_service_runs_on_a_cluster_with_the_nodes_password(
    servers: Servers, redis_cluster: ClusterTopology, tmp_path: Path
) -> None:
    running = start_service(Servers(servers.database_url, redis_cluster.url), tmp_path / "cluster.log")
    try:
        assert _ready(running.base_url).json()["checks"] == {"postgres": "ok", "redis": "ok"}
    finally:
        stop_service(running)
    wrong = redis_cluster.url.replace(DATA_PASSWORD, "not-the-password")
    unready = start_service(Servers(servers.database_url, wrong), tmp_path / "wrong.log", ready_status=503)
    try:
        assert _ready(unready.base_url).json()["checks"]["redis"] == "unavailable"
    finally:
        stop_service(unready)
