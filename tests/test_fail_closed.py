"""With Redis gone, login, refresh and introspection answer 503 — never a ticket, never active: true —
and recover by themselves when Redis is back."""

from __future__ import annotations

import asyncio
import base64

import httpx

from service.applications.state import FRESH_SECONDS as APP_STATE_FRESH_SECONDS
from service.platform.embedded import _start_redis
from service.tokens.keys import CACHE_SECONDS as KEY_CACHE_SECONDS
from tests.conftest import Servers, make_tenant, start_service, stop_service, unique

TICKETS = "/api/commerce/customer/authtickets"


async def test_fail_closed_while_redis_is_down(servers: Servers, tmp_path, platform_admin) -> None:
    redis_dir = tmp_path / "redis"
    redis_url, redis_process = _start_redis(redis_dir)
    service = start_service(Servers(servers.database_url, redis_url), tmp_path / "service.log")
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            token = (
                await client.post(
                    "/admin/v1/token", json={"username": platform_admin[0], "password": platform_admin[1]}
                )
            ).json()
            tenant = await make_tenant(client, {"Authorization": f"Bearer {token['accessToken']}"})
            email = f"{unique('fc')}@example.com"
            ticket = (
                await client.post(
                    "/api/commerce/customer/accounts/Add-Account-And-Login",
                    json={"account": {"emailAddress": email}, "password": "redis outage drill"},
                    headers=tenant.app_headers,
                )
            ).json()
            basic = base64.b64encode(f"{tenant.client_id}:{tenant.client_secret}".encode()).decode()

            async def attempts() -> list[httpx.Response]:
                return [
                    await client.post(
                        TICKETS, json={"username": email, "password": "redis outage drill"}, headers=tenant.app_headers
                    ),
                    await client.put(
                        f"{TICKETS}/refresh",
                        params={"refreshToken": ticket["refreshToken"]},
                        headers=tenant.app_headers,
                    ),
                    await client.post(
                        f"/tenants/{tenant.id}/oauth2/introspect",
                        data={"token": ticket["accessToken"]},
                        headers={"Authorization": f"Basic {basic}"},
                    ),
                ]

            redis_process.terminate()
            redis_process.wait(timeout=10)
            for response in await attempts():
                assert response.status_code == 503, response.text
                assert "active" not in response.json() and "accessToken" not in response.json()
            assert (await client.get("/health/ready")).status_code == 503

            redis_url_again, redis_process = _start_redis(redis_dir)
            assert redis_url_again == redis_url
            login, refresh, introspection = await attempts()
            assert login.status_code == 200 and refresh.status_code == 200, (login.text, refresh.text)
            # The session survived the outage (Redis keeps its data on disk), so its access token is active again.
            assert introspection.status_code == 200 and introspection.json()["active"] is True
    finally:
        stop_service(service)
        redis_process.terminate()
        redis_process.wait(timeout=10)


async def test_login_fails_closed_while_postgres_is_down(tmp_path, platform_admin) -> None:
    """A PostgreSQL of its own, stopped under a running service: logins answer 503, then recover.

    Its Redis is its own too: a fresh database numbers its applications from 1, and another deployment's cached
    state for the same ids would expire during the outage and send the service to PostgreSQL."""
    from service.platform.embedded import _start_postgres

    pg_dir = tmp_path / "pg"
    pg_dir.mkdir()
    database_url, pg_server = _start_postgres(pg_dir)
    redis_url, redis_process = _start_redis(tmp_path / "redis")
    service = start_service(
        Servers(database_url, redis_url),
        tmp_path / "service.log",
        GATEHOUSE_ADMIN_USERNAME=platform_admin[0],
        GATEHOUSE_ADMIN_PASSWORD=platform_admin[1],
    )
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            token = (
                await client.post(
                    "/admin/v1/token", json={"username": platform_admin[0], "password": platform_admin[1]}
                )
            ).json()
            tenant = await make_tenant(client, {"Authorization": f"Bearer {token['accessToken']}"})
            email = f"{unique('pg')}@example.com"
            created = await client.post(
                "/api/commerce/customer/accounts/Add-Account-And-Login",
                json={"account": {"emailAddress": email}, "password": "postgres outage drill"},
                headers=tenant.app_headers,
            )
            assert created.status_code == 200, created.text

            async def login() -> httpx.Response:
                return await client.post(
                    TICKETS, json={"username": email, "password": "postgres outage drill"}, headers=tenant.app_headers
                )

            ticket = created.json()

            async def introspect(token: str) -> httpx.Response:
                return await client.post(
                    f"/tenants/{tenant.id}/oauth2/introspect",
                    data={"token": token},
                    auth=httpx.BasicAuth(tenant.client_id, tenant.client_secret),
                )

            assert (await introspect(ticket["jwtAccessToken"])).json()["active"] is True  # the keys are cached

            pg_server.cleanup()  # stops the server: nothing else uses it
            down = await login()
            assert down.status_code == 503 and "accessToken" not in down.json(), down.text
            assert (await client.get("/health/ready")).status_code == 503
            # Longer than every cache lifetime (signing keys, application state): JWTs still verify, opaque tokens
            # still resolve, the introspecting client and the calling application are still known, tickets still
            # refresh — all from what the process and Redis hold.
            await asyncio.sleep(max(KEY_CACHE_SECONDS, APP_STATE_FRESH_SECONDS) + 1)
            for token in (ticket["jwtAccessToken"], ticket["accessToken"]):
                during = await introspect(token)
                assert during.status_code == 200 and during.json()["active"] is True, during.text
            refreshed = await client.put(
                f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
            )
            assert refreshed.status_code == 200 and refreshed.json()["accessToken"], refreshed.text

            again_url, pg_server = _start_postgres(pg_dir)
            assert again_url == database_url
            assert (await login()).status_code == 200
    finally:
        stop_service(service)
        pg_server.cleanup()
        redis_process.terminate()
        redis_process.wait(timeout=10)
