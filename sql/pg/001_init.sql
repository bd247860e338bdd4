-- The PostgreSQL mirror of a fleet: the SQLite schema (sql/001 to 004)
-- with a host column, so that many machines feed one database. Text that
-- metrics sort or compare is COLLATE "C": byte order, as SQLite's BINARY, so
-- both engines return events in the same log order.

-- One row per file generation of one host.
CREATE TABLE sources (
  id          BIGSERIAL PRIMARY KEY,
  host        TEXT COLLATE "C" NOT NULL,
  stream      TEXT COLLATE "C" NOT NULL,
  kind        TEXT    NOT NULL DEFAULT 'jsonl',
  path        TEXT    NOT NULL,
  dev         BIGINT  NOT NULL,
  ino         BIGINT  NOT NULL,
  generation  INTEGER NOT NULL DEFAULT 0,
  rank        DOUBLE PRECISION NOT NULL,
  head_len    INTEGER NOT NULL,
  head_hash   TEXT    NOT NULL,
  "offset"    BIGINT  NOT NULL DEFAULT 0,
  marker_hash TEXT    NOT NULL DEFAULT '',
  size        BIGINT  NOT NULL DEFAULT 0,
  state       TEXT    NOT NULL DEFAULT 'active',
  copy_of     BIGINT  REFERENCES sources(id),
  held_at     BIGINT  NOT NULL DEFAULT 0,
  held_len    BIGINT  NOT NULL DEFAULT 0,
  mtime_ms    DOUBLE PRECISION NOT NULL DEFAULT 0,
  tail_len    BIGINT  NOT NULL DEFAULT 0,
  rows        BIGINT  NOT NULL DEFAULT 0,
  rejects     BIGINT  NOT NULL DEFAULT 0,
  blanks      BIGINT  NOT NULL DEFAULT 0,
  first_seen  TEXT    NOT NULL,
  updated_at  TEXT    NOT NULL
);
CREATE INDEX sources_inode ON sources(host, stream, dev, ino);

-- Row identity: (host, source, offset); source ids are already per host, the
-- host in the key makes the rule readable and lets Citus distribute by host.
CREATE TABLE events (
  id            BIGSERIAL,
  host          TEXT COLLATE "C" NOT NULL,
  source_id     BIGINT  NOT NULL,
  "offset"      BIGINT  NOT NULL,
  stream        TEXT COLLATE "C" NOT NULL,
  rank          DOUBLE PRECISION NOT NULL,
  type          TEXT COLLATE "C",
  ts_epoch      DOUBLE PRECISION NOT NULL,
  issue         DOUBLE PRECISION,
  stage         TEXT COLLATE "C",
  result        TEXT COLLATE "C",
  duration_s    DOUBLE PRECISION,
  cost_usd      DOUBLE PRECISION,
  model         TEXT COLLATE "C",
  input_tokens  DOUBLE PRECISION,
  output_tokens DOUBLE PRECISION,
  line          TEXT    NOT NULL,
  PRIMARY KEY (host, source_id, "offset")
);
-- Metric reads: some types of some streams in a time window, in log order;
-- INCLUDE makes it cover every column a metric aggregates (index-only scans).
CREATE INDEX events_type_time ON events(stream, type, ts_epoch, host, rank, "offset")
  INCLUDE (stage, result, duration_s, issue, model, cost_usd, input_tokens, output_tokens);
CREATE INDEX events_log_order ON events(stream, ts_epoch, host, rank, "offset");
CREATE INDEX events_issue ON events(stream, issue, ts_epoch, host, rank, "offset") WHERE issue != 0;

CREATE TABLE rejects (
  id        BIGSERIAL PRIMARY KEY,
  host      TEXT COLLATE "C" NOT NULL,
  source_id BIGINT  NOT NULL REFERENCES sources(id),
  stream    TEXT COLLATE "C" NOT NULL,
  path      TEXT    NOT NULL,
  "offset"  BIGINT  NOT NULL,
  length    BIGINT  NOT NULL,
  reason    TEXT    NOT NULL,
  sample    TEXT    NOT NULL,
  at        TEXT    NOT NULL,
  hash      TEXT,
  UNIQUE (host, source_id, "offset")
);

-- Small key/value facts per host: last completed import, mirror-skip counters.
CREATE TABLE meta (
  host  TEXT COLLATE "C" NOT NULL,
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (host, key)
);

-- All-time stage.completed per host, stream and stage, kept with the rows.
CREATE TABLE stage_totals (
  host         TEXT COLLATE "C" NOT NULL,
  stream       TEXT COLLATE "C" NOT NULL,
  stage        TEXT COLLATE "C" NOT NULL,
  n            BIGINT NOT NULL,
  duration_sum DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (host, stream, stage)
);
