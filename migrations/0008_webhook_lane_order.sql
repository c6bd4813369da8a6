-- A delivery's place in its lane is taken when its transaction commits, not when its row is written.
--
-- Identity values are handed out as statements run, so a transaction that writes its event first and then
-- waits for a lock another change holds would commit after that change with the smaller id, and a lane
-- ordered by id would tell the two changes in the other order than they happened. A deferred constraint
-- trigger runs at COMMIT, after every statement of the transaction and so after every lock it waited for:
-- a change that had to wait for another one always takes the later place, and its event goes out after.

ALTER TABLE webhook_deliveries ADD COLUMN lane_position bigint;  -- NULL only until its transaction commits

CREATE SEQUENCE webhook_lane_positions AS bigint;
UPDATE webhook_deliveries SET lane_position = id;  -- the rows already there keep their order
SELECT setval('webhook_lane_positions', greatest(coalesce(max(id), 0), 1)) FROM webhook_deliveries;

CREATE FUNCTION webhook_delivery_takes_its_lane_position() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE webhook_deliveries SET lane_position = nextval('webhook_lane_positions') WHERE id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER webhook_delivery_lane_position AFTER INSERT ON webhook_deliveries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_delivery_takes_its_lane_position();

DROP INDEX webhook_deliveries_pending;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, lane, lane_position)
    WHERE state = 'pending';

-- Retention: events older than GATEHOUSE_WEBHOOK_RETENTION_DAYS with no delivery still pending are deleted
-- (service/events/repository.py: prune), their deliveries with them through this index.
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id);
