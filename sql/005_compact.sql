-- Issue #15: each text stored once, so the mirror stays near the size of its
-- logs. Stream and type names become small integer codes (streams, types);
-- each line is stored once, token-coded (src/store/line-codec.ts), in lines,
-- whose rowid is the row's id (commit order: the live feed's cursor) and
-- whose (source_id, "offset") is the row identity; the metric columns live
-- in event_rows, a table clustered by (stream, type, time), so it is the
-- covering index the type reads need and nothing is repeated. Ad-hoc SQL
-- keeps reading the view events, with the same columns as before and the
-- original line text.
CREATE TABLE streams (
  id   INTEGER PRIMARY KEY,
  name TEXT    NOT NULL UNIQUE
);
CREATE TABLE types (
  id   INTEGER PRIMARY KEY,
  name TEXT    NOT NULL UNIQUE
);

-- type_id and ts_epoch repeat the event's so that a line leads to its
-- event_rows row by key (feed, prune) without an index on id.
CREATE TABLE lines (
  id        INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  "offset"  INTEGER NOT NULL,
  type_id   INTEGER NOT NULL,   -- types.id, 0 for an event without a type
  ts_epoch  NUMERIC NOT NULL,
  line      TEXT    NOT NULL    -- token-coded; the events view decodes it
);
CREATE UNIQUE INDEX lines_identity ON lines(source_id, "offset");

CREATE TABLE event_rows (
  stream_id     INTEGER NOT NULL,
  type_id       INTEGER NOT NULL,
  ts_epoch      NUMERIC NOT NULL,
  rank          REAL    NOT NULL,
  id            INTEGER NOT NULL,   -- lines.id
  issue         NUMERIC,
  stage         TEXT,
  result        TEXT,
  duration_s    NUMERIC,
  cost_usd      NUMERIC,
  model         TEXT,
  input_tokens  NUMERIC,
  output_tokens NUMERIC,
  PRIMARY KEY (stream_id, type_id, ts_epoch, rank, id)
) WITHOUT ROWID;

INSERT INTO streams (name) SELECT DISTINCT stream FROM events ORDER BY stream;
INSERT INTO types (name) SELECT DISTINCT type FROM events WHERE type IS NOT NULL ORDER BY type;
INSERT INTO lines (id, source_id, "offset", type_id, ts_epoch, line)
  SELECT e.id, e.source_id, e."offset", COALESCE(t.id, 0), e.ts_epoch,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(e.line, ',"predicted_complexity":', char(20)), ',"estimated_cost_usd":', char(14)), ',"actual_iterations":', char(21)), ',"self_heal_count":', char(17)), ',"actual_failure":"', char(23)), ',"predicted_risk":', char(25)), ',"output_tokens":', char(7)), ',"failure_mode":"', char(19)), ',"input_tokens":', char(8)), ',"duration_s":', char(6)), ',"pipeline":"', char(16)), ',"template":"', char(31)), ',"ts_epoch":', char(1)), ',"success":"', char(12)), ',"cost_usd":', char(15)), ',"attempts":', char(28)), ',"result":"', char(18)), ',"attempt":', char(22)), ',"pr_url":"', char(26)), ',"stage":"', char(5)), ',"model":"', char(11)), ',"check":"', char(24)), ',"valid":"', char(30)), ',"type":"', char(2)), ',"issue":', char(3)), ',"count":', char(27)), ',"goal":"', char(29)), '{"ts":"', char(4))
  FROM events e LEFT JOIN types t ON t.name = e.type ORDER BY e.id;
INSERT INTO event_rows (stream_id, type_id, ts_epoch, rank, id, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens)
  SELECT s.id, COALESCE(t.id, 0), e.ts_epoch, e.rank, e.id, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model,
    e.input_tokens, e.output_tokens
  FROM events e JOIN streams s ON s.name = e.stream LEFT JOIN types t ON t.name = e.type;

CREATE TABLE legacy_entries_005 (
  key      TEXT    PRIMARY KEY,
  event_id INTEGER NOT NULL REFERENCES lines(id)
);
INSERT INTO legacy_entries_005 (key, event_id) SELECT key, event_id FROM legacy_entries;
DROP TABLE legacy_entries;
ALTER TABLE legacy_entries_005 RENAME TO legacy_entries;
DROP TABLE events;

-- The feed and timeline in log order, all types.
CREATE INDEX event_rows_log_order ON event_rows(stream_id, ts_epoch, rank, id);
-- One issue's events (METRICS.md helper 13); most events have issue 0 or none.
CREATE INDEX event_rows_issue ON event_rows(stream_id, issue, ts_epoch, rank, id) WHERE issue != 0;

-- One row per mirrored event, as before: what ad-hoc SQL reads, with the
-- original line text (decoded in layers, see src/store/line-codec.ts).
CREATE VIEW events AS
  SELECT id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens,
    output_tokens, line
  FROM (SELECT id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, replace(replace(replace(replace(replace(replace(replace(replace(line, char(24), ',"check":"'), char(25), ',"predicted_risk":'), char(26), ',"pr_url":"'), char(27), ',"count":'), char(28), ',"attempts":'), char(29), ',"goal":"'), char(30), ',"valid":"'), char(31), ',"template":"') AS line FROM (SELECT id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(line, char(14), ',"estimated_cost_usd":'), char(15), ',"cost_usd":'), char(16), ',"pipeline":"'), char(17), ',"self_heal_count":'), char(18), ',"result":"'), char(19), ',"failure_mode":"'), char(20), ',"predicted_complexity":'), char(21), ',"actual_iterations":'), char(22), ',"attempt":'), char(23), ',"actual_failure":"') AS line FROM (SELECT id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(line, char(1), ',"ts_epoch":'), char(2), ',"type":"'), char(3), ',"issue":'), char(4), '{"ts":"'), char(5), ',"stage":"'), char(6), ',"duration_s":'), char(7), ',"output_tokens":'), char(8), ',"input_tokens":'), char(11), ',"model":"'), char(12), ',"success":"') AS line FROM (SELECT l.id AS id, l.source_id AS source_id, l."offset" AS "offset", s.name AS stream, e.rank AS rank, t.name AS type,
    e.ts_epoch AS ts_epoch, e.issue AS issue, e.stage AS stage, e.result AS result, e.duration_s AS duration_s,
    e.cost_usd AS cost_usd, e.model AS model, e.input_tokens AS input_tokens, e.output_tokens AS output_tokens, l.line AS line
  FROM event_rows e JOIN lines l ON l.id = e.id JOIN streams s ON s.id = e.stream_id LEFT JOIN types t ON t.id = e.type_id))));
