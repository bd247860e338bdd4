-- Issue #24: what sql/006_day_totals.sql keeps for SQLite, per host: the
-- count and duration sum of the events per stream, type, UTC day, stage,
-- model and success, written by the ingest with the rows. The key leads with
-- stream, type and day, so a window over every host reads one range.
-- `nulls` says which of stage (1), model (2) and type (4) the events had as
-- NULL; the column holds '' then.
CREATE TABLE day_totals (
  host         TEXT COLLATE "C" NOT NULL,
  stream       TEXT COLLATE "C" NOT NULL,
  type         TEXT COLLATE "C" NOT NULL,
  day          BIGINT  NOT NULL,
  nulls        INTEGER NOT NULL,
  stage        TEXT COLLATE "C" NOT NULL,
  model        TEXT COLLATE "C" NOT NULL,
  ok           INTEGER NOT NULL,
  n            BIGINT  NOT NULL,
  duration_sum DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (stream, type, day, host, nulls, stage, model, ok)
);

INSERT INTO day_totals (host, stream, type, day, nulls, stage, model, ok, n, duration_sum)
  SELECT host, stream, COALESCE(type, ''), floor(ts_epoch / 86400)::bigint,
    (CASE WHEN stage IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END) | (CASE WHEN type IS NULL THEN 4 ELSE 0 END),
    COALESCE(stage, ''), COALESCE(model, ''), CASE WHEN result = 'success' THEN 1 ELSE 0 END, COUNT(*), COALESCE(SUM(duration_s), 0)
  FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

DROP TABLE stage_totals;
