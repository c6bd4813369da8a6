"""GET /metrics on GATEHOUSE_METRICS_PORT: Prometheus text of every worker together, parsed by prometheus_client's
own parser, with no user, token, email or address in any label."""

from __future__ import annotations

import base64
import secrets

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Servers, bearer, free_port, make_tenant, start_service, stop_service, unique

PASSWORD = "a metrics passphrase"
TICKETS = "/api/commerce/customer/authtickets"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_every_worker_and_name_no_one(servers: Servers, tmp_path, platform_admin) -> None:
    metrics_port = free_port()
    service = start_service(
        servers, tmp_path / "service.log", GATEHOUSE_METRICS_PORT=str(metrics_port), GATEHOUSE_WORKERS="2"
    )
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            signed_in = await client.post(
                "/admin/v1/token", json={"username": platform_admin[0], "password": platform_admin[1]}
            )
            tenant = await make_tenant(client, bearer(signed_in.json()["accessToken"]))
            email = f"{unique('metrics')}@example.com"
            signup = await client.post(
                "/api/commerce/customer/accounts/Add-Account-And-Login",
                json={"account": {"emailAddress": email}, "password": PASSWORD},
                headers=tenant.app_headers,
            )
            ticket = signup.json()
            app = tenant.app_headers
            wrong = await client.post(TICKETS, json={"username": email, "password": "x"}, headers=app)
            right = await client.post(TICKETS, json={"username": email, "password": PASSWORD}, headers=app)
            refreshed = await client.put(
                f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
            )
            basic = base64.b64encode(f"{tenant.client_id}:{tenant.client_secret}".encode()).decode()
            for token in (refreshed.json()["accessToken"], secrets.token_urlsafe(24)):
                await client.post(
                    f"/tenants/{tenant.id}/oauth2/introspect",
                    data={"token": token},
                    headers={"Authorization": f"Basic {basic}"},
                )
            assert [a.status_code for a in (signup, wrong, right, refreshed)] == [200, 401, 200, 200]
            assert (await client.get("/metrics")).status_code == 404  # not on the API's port
        # A new connection each time, so that both workers take some of them.
        async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as fresh:
            for _ in range(20):
                await fresh.get(f"{service.base_url}/health/live")
            scraped = await fresh.get(f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        stop_service(service)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    samples = _samples(scraped.text)
    requests = "gatehouse_http_request_duration_seconds_count"
    assert _value(samples, requests, route="/health/live", method="GET", status="200") == 20
    assert _value(samples, requests, route="/api/commerce/customer/authtickets", method="POST", status="401") == 1
    assert _value(samples, "gatehouse_events_total", action="login.failed") == 1
    assert _value(samples, "gatehouse_events_total", action="login.succeeded") == 1
    assert _value(samples, "gatehouse_refresh_rotations_total", outcome="rotated") == 1
    assert _value(samples, "gatehouse_introspections_total", result="active") == 1
    assert _value(samples, "gatehouse_introspections_total", result="inactive") == 1
    assert _value(samples, "gatehouse_argon2_queue_wait_seconds_count") >= 2
    # Each worker's pool keeps at least two connections open: four means both workers are counted.
    assert _value(samples, "gatehouse_postgres_pool_connections", state="open") >= 4
    labels = " ".join(value for _, pairs in samples for _, value in pairs)
    for secret in (email, ticket["accessToken"], ticket["refreshToken"], "127.0.0.1"):
        assert secret not in labels
