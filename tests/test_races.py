"""Concurrent writes to one tenant never answer 500: a fixed lock order makes deletes wait for the changes they race."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import make_tenant, unique


async def test_deleting_a_tenant_while_it_is_being_changed_is_never_a_500(
    client: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    statuses: list[int] = []
    for _ in range(6):
        tenant = await make_tenant(client, platform_headers)
        base = f"/admin/v1/tenants/{tenant.id}"
        apps = (await client.get(f"{base}/applications", headers=platform_headers)).json()
        settings = (await client.get(f"{base}/settings", headers=platform_headers)).json()
        account = await client.post(
            "/api/commerce/customer/accounts", json={"emailAddress": f"{unique('race')}@example.com"},
            headers=tenant.app_headers,
        )  # fmt: skip
        changes = [
            client.patch(f"{base}/applications/{apps[0]['id']}", json={"name": unique("a")}, headers=platform_headers),
            client.put(f"{base}/settings", json=settings, headers=platform_headers),
            client.post(f"{base}/sites", json={"code": unique("s").replace("-", "_")[:20], "name": "S",
                                                "customerSetCode": "default"}, headers=platform_headers),
            client.patch(base, json={"name": unique("renamed")}, headers=platform_headers),
            client.put(f"/api/commerce/customer/accounts/{account.json()['id']}", json={"firstName": "R"},
                       headers=tenant.app_headers),
            client.post(f"{base}/signing-keys/rotate", headers=platform_headers),
        ]  # fmt: skip
        answers = await asyncio.gather(client.delete(base, headers=platform_headers), *changes)
        statuses += [answer.status_code for answer in answers]
        assert all(answer.status_code < 500 for answer in answers), [(a.status_code, a.text[:200]) for a in answers]
    assert 204 in statuses  # the deletes did happen


async def test_deleting_an_account_or_an_application_while_it_is_being_changed_is_never_a_500(
    client: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    tenant = await make_tenant(client, platform_headers)
    h = tenant.app_headers
    apps_url = f"/admin/v1/tenants/{tenant.id}/applications"
    for _ in range(6):
        account = (
            await client.post(
                "/api/commerce/customer/accounts", json={"emailAddress": f"{unique('race')}@example.com"}, headers=h
            )
        ).json()
        url = f"/api/commerce/customer/accounts/{account['id']}"
        contact = (
            await client.post(f"{url}/contacts", json={"firstName": "C", "email": "c@example.com"}, headers=h)
        ).json()
        app = (await client.post(apps_url, json={"name": unique("racing")}, headers=platform_headers)).json()
        app_url = f"{apps_url}/{app['id']}"
        answers = await asyncio.gather(
            client.put(url, json={"firstName": "R"}, headers=h),
            client.post(f"{url}/contacts", json={"firstName": "D"}, headers=h),
            client.put(f"{url}/contacts/{contact['id']}", json={"firstName": "E"}, headers=h),
            client.delete(f"{url}/contacts/{contact['id']}", headers=h),
            client.post(f"{url}/Set-Login-Locked", json=True, headers=h),
            client.patch(app_url, json={"name": unique("renamed")}, headers=platform_headers),
            client.post(f"{app_url}/rotate-secret", headers=platform_headers),
            # The deletes go last, so the changes above are under way when they arrive.
            client.delete(url, headers=h),
            client.delete(app_url, headers=platform_headers),
        )
        assert all(answer.status_code < 500 for answer in answers), [(a.status_code, a.text[:200]) for a in answers]
        # Every write locks the account's row first (accounts.lookups.lock_account): the deletes wait, never fail.
        assert [answers[-2].status_code, answers[-1].status_code] == [204, 204], [a.status_code for a in answers]
