"""Events for other services: a fixed catalogue, a transactional outbox, and signed webhook deliveries.

Every change Gatehouse makes is audited in its own transaction (`service.audit.record`); the audit
trail hands each audited action to `outbox.emit`, which maps it to a catalogue event and writes the
event, with one delivery per subscribed endpoint, on the same connection. So an event exists exactly
when its change committed, whichever surface (Kibo, Magento, admin) made it. The delivery worker
(`delivery.py`) sends them per the Standard Webhooks specification.
"""
