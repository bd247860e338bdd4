-- One row per file generation we have read from. A rename keeps the row
-- (path is updated); truncation or replacement in place starts a new row with
-- generation + 1. rank orders sources of a stream in log order.
CREATE TABLE sources (
  id          INTEGER PRIMARY KEY,
  stream      TEXT    NOT NULL,
  kind        TEXT    NOT NULL DEFAULT 'jsonl',   -- 'jsonl' | 'legacy-costs'
  path        TEXT    NOT NULL,                   -- relative to the log dir, as last seen
  dev         INTEGER NOT NULL,
  ino         INTEGER NOT NULL,
  generation  INTEGER NOT NULL DEFAULT 0,
  rank        REAL    NOT NULL,
  head_len    INTEGER NOT NULL,
  head_hash   TEXT    NOT NULL,
  "offset"    INTEGER NOT NULL DEFAULT 0,          -- checkpoint: bytes consumed
  marker_hash TEXT    NOT NULL DEFAULT '',         -- hash of the bytes just before "offset"
  size        INTEGER NOT NULL DEFAULT 0,          -- size when last read
  state       TEXT    NOT NULL DEFAULT 'active',   -- active | copy | gone | replaced
  copy_of     INTEGER REFERENCES sources(id),
  rows        INTEGER NOT NULL DEFAULT 0,
  rejects     INTEGER NOT NULL DEFAULT 0,
  blanks      INTEGER NOT NULL DEFAULT 0,
  first_seen  TEXT    NOT NULL,
  updated_at  TEXT    NOT NULL
);
CREATE INDEX sources_inode ON sources(stream, dev, ino);

-- One row per mirrored event. (source_id, "offset") is the row identity:
-- the backstop that makes a second ingest of the same bytes a no-op.
CREATE TABLE events (
  id            INTEGER PRIMARY KEY,
  source_id     INTEGER NOT NULL REFERENCES sources(id),
  "offset"      INTEGER NOT NULL,
  stream        TEXT    NOT NULL,
  rank          REAL    NOT NULL,
  type          TEXT,
  ts_epoch      NUMERIC NOT NULL,
  issue         NUMERIC,
  stage         TEXT,
  result        TEXT,
  duration_s    NUMERIC,
  cost_usd      NUMERIC,
  model         TEXT,
  input_tokens  NUMERIC,
  output_tokens NUMERIC,
  line          TEXT    NOT NULL
);
CREATE UNIQUE INDEX events_identity ON events(source_id, "offset");
-- Metric reads: some types in a time window, or all time, in log order. It
-- carries the log-order key and every column a metric aggregates, so those
-- queries never touch the table rows (measured: 62 ms -> 11 ms for 30 days of
-- pipeline events on a 1M-event mirror).
CREATE INDEX events_type_time ON events(stream, type, ts_epoch, rank, "offset", stage, result, duration_s, issue, model,
  cost_usd, input_tokens, output_tokens);
CREATE INDEX events_log_order ON events(stream, ts_epoch, rank, "offset");

-- One row per line that could not become an event.
CREATE TABLE rejects (
  id        INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  stream    TEXT    NOT NULL,
  path      TEXT    NOT NULL,
  "offset"  INTEGER NOT NULL,
  length    INTEGER NOT NULL,
  reason    TEXT    NOT NULL,  -- invalid_json | not_object | invalid_utf8 | line_too_long
  sample    TEXT    NOT NULL,
  at        TEXT    NOT NULL
);
CREATE UNIQUE INDEX rejects_identity ON rejects(source_id, "offset");

-- Legacy JSON state (costs.json): one row per imported entry occurrence, so a
-- re-import of a changed file adds only entries it has not seen.
CREATE TABLE legacy_entries (
  key      TEXT    PRIMARY KEY,  -- sha1 of the entry's canonical JSON + '#' + occurrence
  event_id INTEGER NOT NULL REFERENCES events(id)
);

-- Small key/value facts: last completed import, mirror-skip counters.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
