-- Issue #24: events keeps the line's `ts` where the epoch does not tell it,
-- as sql/011 does for SQLite (its comment says why and what NULL means). The
-- rows mirrored before have none: meta's ts_text_from, the same for every
-- host since event ids are one sequence, is the first id that has one, and
-- a read takes an older row's from its line (src/store/pg/read-sql.ts).
ALTER TABLE events ADD COLUMN ts_text TEXT;
INSERT INTO meta (host, key, value)
  SELECT host, 'ts_text_from', (SELECT (COALESCE(MAX(id), 0) + 1)::text FROM events) FROM (SELECT DISTINCT host FROM sources) h;
