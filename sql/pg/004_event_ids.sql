-- The live feed follows the fleet's events by id (commit order, kept so by
-- the event-order lock every batch takes before its first row): the newest
-- id and the rows after one are read by this index, not a scan of every host.
CREATE UNIQUE INDEX events_id ON events(id);
