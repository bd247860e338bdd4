-- Issue #24: day_totals also keeps, per cell, what stage performance and the
-- cost helpers need, so that they too read a window's whole days from it:
-- the least and greatest duration (an absent one as 0), the sum of the
-- positive cost_usd, and the token sums of the other events (priced when
-- read, so a changed price table applies to the past). An event with a
-- negative token count is left out of the token sums and priced from its row
-- (its cost may be <= 0, which the cost helpers skip); event_rows_odd_tokens
-- finds those rows without walking the window.
DROP TABLE day_totals;
CREATE TABLE day_totals (
  stream_id    INTEGER NOT NULL,
  type_id      INTEGER NOT NULL,   -- types.id, 0 for an event without a type
  day          INTEGER NOT NULL,   -- floor(ts_epoch / 86400)
  nulls        INTEGER NOT NULL,   -- stage (1) and model (2) were NULL; the column holds ''
  stage        TEXT    NOT NULL,
  model        TEXT    NOT NULL,
  ok           INTEGER NOT NULL,   -- result = 'success'
  n            INTEGER NOT NULL,
  duration_sum REAL    NOT NULL,
  dur_min      REAL    NOT NULL,
  dur_max      REAL    NOT NULL,
  usd_sum      REAL    NOT NULL,
  tok_in       REAL    NOT NULL,
  tok_out      REAL    NOT NULL,
  PRIMARY KEY (stream_id, type_id, day, nulls, stage, model, ok)
) WITHOUT ROWID;

INSERT INTO day_totals
  SELECT stream_id, type_id, CAST(floor(ts_epoch / 86400.0) AS INTEGER),
    (CASE WHEN stage IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END),
    COALESCE(stage, ''), COALESCE(model, ''), CASE WHEN result = 'success' THEN 1 ELSE 0 END,
    COUNT(*), TOTAL(duration_s), MIN(COALESCE(duration_s, 0)), MAX(COALESCE(duration_s, 0)),
    TOTAL(CASE WHEN cost_usd > 0 THEN cost_usd END),
    TOTAL(CASE WHEN cost_usd > 0 OR input_tokens < 0 OR output_tokens < 0 THEN 0 ELSE input_tokens END),
    TOTAL(CASE WHEN cost_usd > 0 OR input_tokens < 0 OR output_tokens < 0 THEN 0 ELSE output_tokens END)
  FROM event_rows GROUP BY 1, 2, 3, 4, 5, 6, 7;

CREATE INDEX event_rows_odd_tokens ON event_rows(stream_id, type_id, ts_epoch) WHERE input_tokens < 0 OR output_tokens < 0;
