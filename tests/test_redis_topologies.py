"""REDIS_URL names a single server, a Sentinel-watched primary or a Cluster; the service runs on each.

The Sentinel and Cluster are real (tests/redis_topologies.py), on loopback, with passwords: the data nodes'
in front of the hosts, the Sentinels' own (a different one) in the query.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from service.platform.config import ConfigError, load_settings
from tests.conftest import Servers, admin_token, bearer, make_tenant, start_service, stop_service
from tests.redis_topologies import DATA_PASSWORD, SENTINEL_PASSWORD, ClusterTopology, SentinelTopology

# Each refused at start-up; the first three through the command line, the rest by the settings loader it runs.
BAD_URLS = [
    ("redis+sentinel://:hunter2-secret@s1:26379,s2:26379", "must name the primary the Sentinels monitor"),
    ("redis+cluster://:hunter2-secret@a:7000/3", "a Redis Cluster has database 0 only"),
    ("rediss+cluster://:hunter2-secret@a:7000?ssl_ca_certs=/no/such/ca.pem", "ssl_ca_certs names no readable file"),
    ("http://cache:6379", "must start with one of redis://"),
    ("redis+cluster://:hunter2-secret@a:7000,b:seventy", "malformed port"),
    ("redis://:hunter2-secret@cache:6379?ssl_ca_certs=/etc/ca.pem", "TLS options (ssl_…) but a scheme without TLS"),
    ("rediss://:hunter2-secret@cache:6379?ssl_cert_reqs=sometimes", "ssl_cert_reqs must be none, optional or required"),
    ("redis+sentinel://s1:26379/gh?sentinel_pasword=hunter2-secret", "unknown option(s) sentinel_pasword"),
    ("redis://:hunter2-secret@cache:6379/zero", "must name its database by number"),
    ("redis://:hunter2-secret@cache:99999", "Port out of range"),
    ("redis://a:6379,b:6379", "several nodes: redis+sentinel or redis+cluster"),
    ("unix://", "must name a socket path"),
]


@pytest.mark.parametrize(("url", "says"), BAD_URLS[:3])
def test_a_bad_redis_url_stops_start_up_saying_what_is_wrong(run_cli, url: str, says: str) -> None:
    result = run_cli("migrate", env={"REDIS_URL": url})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "REDIS_URL" in result.stderr and says in result.stderr, result.stderr
    assert "hunter2-secret" not in result.stderr and "Traceback" not in result.stderr  # never the password


@pytest.mark.parametrize(("url", "says"), BAD_URLS[3:])
def test_each_malformed_redis_url_is_named_and_explained(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"REDIS_URL": url})
    assert str(refused.value).startswith("REDIS_URL ") and says in str(refused.value)
    assert "hunter2-secret" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:p%40ss@cache:6379/2",
        "unix:///run/redis.sock?db=1",
        "rediss+sentinel://:data@s1,s2:26380,[::1]:26381/main?sentinel_password=other&ssl_cert_reqs=none&db=3",
        "rediss+cluster://user:data@a:7000,b:7001?ssl_check_hostname=false",
    ],
)
def test_each_documented_redis_url_form_is_accepted(url: str) -> None:
    assert load_settings({"REDIS_URL": url}).redis_url == url


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
    # The Sentinels have a password of their own (not the data nodes'): without it nothing is reachable.
    wrong = redis_sentinel.url.replace(f"?sentinel_password={SENTINEL_PASSWORD}", "")
    unready = start_service(Servers(servers.database_url, wrong), tmp_path / "wrong.log", ready_status=503)
    try:
        assert _ready(unready.base_url).json()["checks"]["redis"] == "unavailable"
    finally:
        stop_service(unready)
    assert "Traceback" not in unready.log_text()


def _readiness_until(base_url: str, status: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (answer := _ready(base_url)).status_code != status:
        assert answer.status_code in (200, 503) and time.monotonic() < deadline, answer.text
        time.sleep(0.1)


def test_the_service_runs_on_a_cluster_and_is_unready_only_while_a_primary_is_replaced(
    servers: Servers, redis_cluster: ClusterTopology, tmp_path: Path
) -> None:
    running = start_service(Servers(servers.database_url, redis_cluster.url), tmp_path / "cluster.log")
    try:
        assert _ready(running.base_url).json()["checks"] == {"postgres": "ok", "redis": "ok"}
        killed = redis_cluster.kill_primary_for("any key")
        _readiness_until(running.base_url, 503)  # a slot has no primary: the cluster serves nothing
        redis_cluster.wait_for_failover(killed, "any key")
        _readiness_until(running.base_url, 200)  # its replica took over: ready again, no restart
        redis_cluster.restore(killed)
    finally:
        stop_service(running)
    assert "Traceback" not in running.log_text()
    wrong = redis_cluster.url.replace(DATA_PASSWORD, "not-the-password")
    unready = start_service(Servers(servers.database_url, wrong), tmp_path / "wrong.log", ready_status=503)
    try:
        assert _ready(unready.base_url).json()["checks"]["redis"] == "unavailable"
    finally:
        stop_service(unready)
