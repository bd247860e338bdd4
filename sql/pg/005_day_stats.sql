-- Issue #24: what sql/007_day_stats.sql adds for SQLite, per host: the least
-- and greatest duration (an absent one as 0), the sum of the positive
-- cost_usd and the token sums of the other events (priced when read), so
-- that stage performance and the cost helpers read a window's whole days
-- here. An event with a negative token count is priced from its row, found
-- through events_odd_tokens.
DROP TABLE day_totals;
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
  dur_min      DOUBLE PRECISION NOT NULL,
  dur_max      DOUBLE PRECISION NOT NULL,
  usd_sum      DOUBLE PRECISION NOT NULL,
  tok_in       DOUBLE PRECISION NOT NULL,
  tok_out      DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (stream, type, day, host, nulls, stage, model, ok)
);

INSERT INTO day_totals
  SELECT host, stream, COALESCE(type, ''), floor(ts_epoch / 86400)::bigint,
    (CASE WHEN stage IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END) | (CASE WHEN type IS NULL THEN 4 ELSE 0 END),
    COALESCE(stage, ''), COALESCE(model, ''), CASE WHEN result = 'success' THEN 1 ELSE 0 END,
    COUNT(*), COALESCE(SUM(duration_s), 0), MIN(COALESCE(duration_s, 0)), MAX(COALESCE(duration_s, 0)),
    COALESCE(SUM(cost_usd) FILTER (WHERE cost_usd > 0), 0),
    COALESCE(SUM(CASE WHEN cost_usd > 0 OR input_tokens < 0 OR output_tokens < 0 THEN 0 ELSE input_tokens END), 0),
    COALESCE(SUM(CASE WHEN cost_usd > 0 OR input_tokens < 0 OR output_tokens < 0 THEN 0 ELSE output_tokens END), 0)
  FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

CREATE INDEX events_odd_tokens ON events(stream, type, ts_epoch) WHERE input_tokens < 0 OR output_tokens < 0;
