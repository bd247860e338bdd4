-- issue events (METRICS.md helper 13) and the activity feed's issue filter
-- find one issue's events through this index, already in log order, instead
-- of walking every row.
CREATE INDEX events_issue ON events(stream, issue, ts_epoch, rank, "offset");
