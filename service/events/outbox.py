"""The transactional outbox: an audited change becomes an event, on the connection (so in the transaction) of
its audit row. An event is written only when an enabled endpoint of the tenant subscribes to its type; it
then gets one delivery per such endpoint when its transaction commits."""

from __future__ import annotations

from typing import Any

from service.events import catalogue
from service.events import repository as repo
from service.platform.db import Connection


async def emit(
    conn: Connection,
    tenant_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    actor_name: str,
    details: dict[str, Any],
) -> None:
    event = catalogue.event_of(action, details)
    if event is None or tenant_id is None:
        return
    event_type, own_data = event
    account_id = int(target_id) if target_type == "customer_account" and target_id.isdigit() else None
    data = {"tenantId": tenant_id, "accountId": account_id, "actor": catalogue.actor_of(actor_name), **own_data}
    await repo.insert_event(conn, tenant_id, event_type.name, event_type.version, account_id, data)
