-- Issue #24: DORA's lead time and time to restore without reading every
-- pipeline event of the window.
--
-- Log order is by ts_epoch first, so a window is one run of each stream's
-- events in log order, and the pairing of docs/metrics.md helper 4 inside a
-- window equals the pairing over the whole stream with a partner before the
-- window left out. dora_pairs keeps, per successful pipeline.completed of a
-- non-zero issue, the epoch of the start it pairs with (lead_from: the
-- issue's latest pipeline.started before it, epoch > 0, when the completion
-- is later) and of the failure it ends (fail_from: the issue's latest failed
-- completion, epoch > 0, since its previous success, when the completion is
-- later); a completion with neither has no row. A window's samples are the
-- rows inside it whose partner is inside it too.
--
-- The ingest recomputes the rows of each issue a batch touches, from the
-- batch's earliest event of that issue on, in the batch's transaction; prune
-- does the same for the issues whose rows it drops.
CREATE TABLE dora_pairs (
  stream_id INTEGER NOT NULL,
  ts_epoch  NUMERIC NOT NULL,
  rank      REAL    NOT NULL,
  id        INTEGER NOT NULL,   -- lines.id of the completion
  issue     NUMERIC NOT NULL,
  lead_from NUMERIC,
  fail_from NUMERIC,
  PRIMARY KEY (stream_id, ts_epoch, rank, id)
) WITHOUT ROWID;
CREATE INDEX dora_pairs_issue ON dora_pairs(stream_id, issue, ts_epoch);

-- Filled from the rows by the store (src/store/statements.ts, rebuildPairs)
-- right after this migration, and after a bulk load; reads use the rows
-- until then.
INSERT INTO meta (key, value) VALUES ('pairs_pending', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value;
