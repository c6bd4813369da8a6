"""Nothing lost, nothing done twice: a service killed with SIGKILL mid-delivery, and two instances sharing one outbox.

Each test starts the only services that deliver while it runs (tests/test_webhooks.py has stopped its own by
then), so every attempt made is one of theirs.
"""

from __future__ import annotations

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
    start_service,
    stop_service,
)
from tests.webhook_support import (
    ACCOUNTS,
    HOOKED,
    Receiver,
    add_endpoint,
    deliveries,
    of_account,
    signup,
    verified,
    wait_for,
)


async def _tenant(base_url: str, platform_admin: tuple[str, str]) -> TenantFixture:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        return await make_tenant(http, bearer(await admin_token(http, *platform_admin)))


async def test_a_service_killed_mid_delivery_delivers_after_its_restart(
    servers: Servers, tmp_path: Path, platform_admin: tuple[str, str]
) -> None:
    receiver = Receiver(hang_seconds=30)
    receiver.start()
    env = {**HOOKED, "GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS": "5"}
    path = receiver.path()
    receiver.modes[path] = "hang"  # the first attempt is under way when the service dies
    first = start_service(servers, tmp_path / "first.log", **env)
    try:
        tenant = await _tenant(first.base_url, platform_admin)
        async with httpx.AsyncClient(base_url=first.base_url, timeout=30) as http:
            endpoint = await add_endpoint(http, tenant, receiver.url(path))
            account = (await signup(http, tenant))["customerAccount"]  # committed, with its event
        await wait_for(lambda: len(receiver.at(path)) == 1, what="the first attempt")
    finally:
        first.process.kill()  # SIGKILL: no shutdown, no write of anything
        first.process.wait()
    receiver.modes[path] = "ok"
    second = start_service(servers, tmp_path / "second.log", **env)
    try:
        # The dead process's claim lapses (timeout + 10 s); then the delivery goes out again.
        await wait_for(lambda: len(receiver.at(path)) >= 2, seconds=40, what="the delivery after the restart")
        async with httpx.AsyncClient(base_url=second.base_url, timeout=30) as http:
            listed = await deliveries(http, tenant, endpoint)
    finally:
        stop_service(second)
    events = verified(receiver.at(path), endpoint["secret"])
    assert len(events) == 2 and events[0]["id"] == events[1]["id"]  # one event, twice: its id tells the receiver
    assert of_account(events[:1], account["id"]) == ["customer.created"]
    assert len(listed) == 1 and listed[0]["attempts"] == 2


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name + "".join(f"|{v}" for v in sample.labels.values()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_two_instances_share_the_outbox_and_send_nothing_twice(
    servers: Servers, tmp_path: Path, platform_admin: tuple[str, str]
) -> None:
    receiver = Receiver()
    receiver.start()
    path = receiver.path()
    env = {**HOOKED, "GATEHOUSE_WEBHOOK_CONCURRENCY": "4"}  # small claims, so that both instances take some
    ports = [free_port(), free_port()]
    instances = [
        start_service(servers, tmp_path / f"{n}.log", **env, GATEHOUSE_METRICS_PORT=str(port))
        for n, port in enumerate(ports)
    ]
    try:
        tenant = await _tenant(instances[0].base_url, platform_admin)
        async with httpx.AsyncClient(base_url=instances[0].base_url, timeout=30) as one:
            endpoint = await add_endpoint(one, tenant, receiver.url(path))
            accounts = [(await signup(one, tenant))["customerAccount"] for _ in range(20)]
        async with httpx.AsyncClient(base_url=instances[1].base_url, timeout=30) as other:
            for account in accounts:
                changed = await other.put(
                    f"{ACCOUNTS}/{account['id']}", json={"lastName": "Two"}, headers=tenant.app_headers
                )
                assert changed.status_code == 200
        await wait_for(lambda: len(receiver.at(path)) >= 40)
        async with httpx.AsyncClient() as scraper:
            scrapes = [(await scraper.get(f"http://127.0.0.1:{port}/metrics")).text for port in ports]
    finally:
        for instance in instances:
            stop_service(instance)
    events = verified(receiver.at(path), endpoint["secret"])
    assert len(events) == 40 and len({e["id"] for e in events}) == 40  # none lost, none sent twice
    for account in accounts:
        assert of_account(events, account["id"]) == ["customer.created", "customer.updated"]
    sent = [_samples(text).get("gatehouse_webhook_attempts_total|delivered", 0) for text in scrapes]
    assert sum(sent) == 40 and all(count > 0 for count in sent), sent
    for text in scrapes:
        samples = _samples(text)
        assert "gatehouse_webhook_outbox_depth" in samples
        assert samples["gatehouse_webhook_delivery_latency_seconds_count"] > 0
