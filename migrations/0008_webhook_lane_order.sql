-- An event's deliveries are queued when its transaction commits, not when the event is written.
--
-- Identity values are handed out as statements run, so a transaction that writes its event first and then
-- waits for a lock another change holds would commit after that change with the smaller delivery id, and a
-- lane ordered by id would tell the two changes in the other order than they happened. A deferred constraint
-- trigger runs at COMMIT, after every statement of the transaction and so after every lock it waited for:
-- the deliveries of a change that had to wait for another one always get the later ids, and go out after.

CREATE FUNCTION webhook_event_queues_its_deliveries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, lane)
    SELECT NEW.tenant_id, e.id, NEW.id, coalesce(NEW.account_id, 0)
    FROM webhook_endpoints e
    WHERE e.tenant_id = NEW.tenant_id AND e.is_enabled AND NEW.type = ANY (e.event_types);
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER webhook_event_deliveries AFTER INSERT ON webhook_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_event_queues_its_deliveries();

-- Retention: events older than GATEHOUSE_WEBHOOK_RETENTION_DAYS with no delivery still pending are deleted
-- (service/events/repository.py: prune), their deliveries with them, found through this index. A BRIN index:
-- deliveries are written in the order of their events, so ranges of pages summarise event ids well, and
-- writing a delivery costs next to nothing more (a B-tree here took some 10% off the rate of account writes).
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries USING brin (event_id) WITH (pages_per_range = 16);
