-- Issue #24: per stream, type, UTC day, stage, model and success, the count
-- and duration sum of the events, kept by the ingest in the same transaction
-- as the rows they summarise (src/ingest/day-tally.ts). A windowed count or
-- sum reads its whole days here and only the partial days at its edges from
-- the rows (src/store/day-plan.ts), so its cost follows the days of the
-- window, not the events in them. It replaces stage_totals, which was its
-- all-time special case.
-- A key column cannot be NULL: `nulls` says which of stage (1) and model (2)
-- the events had as NULL, and the column holds '' then.
CREATE TABLE day_totals (
  stream_id    INTEGER NOT NULL,
  type_id      INTEGER NOT NULL,   -- types.id, 0 for an event without a type
  day          INTEGER NOT NULL,   -- floor(ts_epoch / 86400)
  nulls        INTEGER NOT NULL,
  stage        TEXT    NOT NULL,
  model        TEXT    NOT NULL,
  ok           INTEGER NOT NULL,   -- result = 'success'
  n            INTEGER NOT NULL,
  duration_sum REAL    NOT NULL,
  PRIMARY KEY (stream_id, type_id, day, nulls, stage, model, ok)
) WITHOUT ROWID;

INSERT INTO day_totals (stream_id, type_id, day, nulls, stage, model, ok, n, duration_sum)
  SELECT stream_id, type_id, CAST(floor(ts_epoch / 86400.0) AS INTEGER),
    (CASE WHEN stage IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END),
    COALESCE(stage, ''), COALESCE(model, ''), CASE WHEN result = 'success' THEN 1 ELSE 0 END, COUNT(*), TOTAL(duration_s)
  FROM event_rows GROUP BY 1, 2, 3, 4, 5, 6, 7;

DROP TABLE stage_totals;
