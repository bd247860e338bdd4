-- issue events (METRICS.md helper 13) find one issue's events through this
-- index, already in log order, instead of walking every row. Only events of
-- a non-zero issue, the ones that helper can ask for: in real Shipwright
-- logs nine events in ten have issue 0 or none, and stay out of it.
CREATE INDEX events_issue ON events(stream, issue, ts_epoch, rank, "offset") WHERE issue != 0;
