-- As sql/012 does for SQLite (its comment says why): the rows mirrored so far
-- read their `ts` from their line again; ts_text_from, one value for every
-- host, moves past them.
INSERT INTO meta (host, key, value)
  SELECT host, 'ts_text_from', (SELECT (COALESCE(MAX(id), 0) + 1)::text FROM events) FROM (SELECT DISTINCT host FROM sources) h
  ON CONFLICT (host, key) DO UPDATE SET value = excluded.value;
