-- Issue #24: DORA's pairs, as sql/009 keeps them for SQLite (its comment
-- says why a window can read them): per host and stream, each successful
-- pipeline.completed of a non-zero issue with the epochs of the start
-- (lead_from) and the failure (fail_from) it pairs with in that host's log
-- order. id is the completion's events.id.
CREATE TABLE dora_pairs (
  host      TEXT COLLATE "C" NOT NULL,
  stream    TEXT COLLATE "C" NOT NULL,
  ts_epoch  DOUBLE PRECISION NOT NULL,
  rank      DOUBLE PRECISION NOT NULL,
  id        BIGINT NOT NULL,
  issue     DOUBLE PRECISION NOT NULL,
  lead_from DOUBLE PRECISION,
  fail_from DOUBLE PRECISION,
  PRIMARY KEY (stream, ts_epoch, host, rank, id)
);
CREATE INDEX dora_pairs_issue ON dora_pairs(host, stream, issue, ts_epoch);

-- Each host's store fills its own from the rows when it next opens for
-- writing (src/store/pg/statements.ts REBUILD_PAIRS); reads pair the rows
-- of a host until then.
INSERT INTO meta (host, key, value) SELECT DISTINCT host, 'pairs_pending', '1' FROM sources
  ON CONFLICT (host, key) DO UPDATE SET value = excluded.value;
