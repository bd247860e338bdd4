-- Legacy JSON state (costs.json), as sql/001's legacy_entries: one row per
-- imported entry occurrence and host, so a re-import of a changed file adds
-- only entries it has not seen. The event is named by its identity (source,
-- offset): events arrive by COPY, which returns no row id. The key is
-- COLLATE "C" because occurrences are counted by a byte-order range
-- (digest#1 .. digest#n).
CREATE TABLE legacy_entries (
  host      TEXT COLLATE "C" NOT NULL,
  key       TEXT COLLATE "C" NOT NULL,
  source_id BIGINT NOT NULL,
  "offset"  BIGINT NOT NULL,
  PRIMARY KEY (host, key),
  FOREIGN KEY (host, source_id, "offset") REFERENCES events (host, source_id, "offset")
);
