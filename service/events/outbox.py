"""The transactional outbox: an audited change becomes an event, written by the statement (so in the transaction)
of its audit row (`service.audit.repository`). An event is written only when an enabled endpoint of the tenant
subscribes to its type; it then gets one delivery per such endpoint when its transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.events import catalogue


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """The catalogue event of an audited change, as the outbox stores it."""

    type: str
    version: int
    account_id: int | None
    data: dict[str, Any]


def event_for(
    tenant_id: int | None, action: str, target_type: str, target_id: str, actor_name: str, details: dict[str, Any]
) -> OutboxEvent | None:
    """The event an audited action is, or None: not a catalogue event, or a platform action (no tenant)."""
    event = catalogue.event_of(action, details)
    if event is None or tenant_id is None:
        return None
    event_type, own_data = event
    account_id = int(target_id) if target_type == "customer_account" and target_id.isdigit() else None
    data = {"tenantId": tenant_id, "accountId": account_id, "actor": catalogue.actor_of(actor_name), **own_data}
    return OutboxEvent(event_type.name, event_type.version, account_id, data)
