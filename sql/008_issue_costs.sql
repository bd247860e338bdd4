-- Issue #24: two more rollups, kept with the rows as day_totals is.
--
-- issue_costs: per stream, type, UTC day, issue and model, what the cost
-- breakdown by issue sums: the positive cost_usd, and the token sums of the
-- other events with a cost (priced when read, by model). As in day_totals,
-- an event with a negative token count is left to its row
-- (event_rows_odd_tokens). `nulls` says which of issue (1) and model (2)
-- the events had as NULL; the column holds 0 or '' then.
CREATE TABLE issue_costs (
  stream_id INTEGER NOT NULL,
  type_id   INTEGER NOT NULL,
  day       INTEGER NOT NULL,
  nulls     INTEGER NOT NULL,
  issue     NUMERIC NOT NULL,
  model     TEXT    NOT NULL,
  usd_sum   REAL    NOT NULL,
  tok_in    REAL    NOT NULL,
  tok_out   REAL    NOT NULL,
  PRIMARY KEY (stream_id, type_id, day, nulls, issue, model)
) WITHOUT ROWID;

INSERT INTO issue_costs
  SELECT stream_id, type_id, CAST(floor(ts_epoch / 86400.0) AS INTEGER),
    (CASE WHEN issue IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END), COALESCE(issue, 0), COALESCE(model, ''),
    TOTAL(CASE WHEN cost_usd > 0 THEN cost_usd END),
    TOTAL(CASE WHEN cost_usd > 0 THEN 0 ELSE input_tokens END),
    TOTAL(CASE WHEN cost_usd > 0 THEN 0 ELSE output_tokens END)
  FROM event_rows
  WHERE cost_usd > 0 OR (COALESCE(input_tokens, 0) >= 0 AND COALESCE(output_tokens, 0) >= 0 AND (input_tokens > 0 OR output_tokens > 0))
  GROUP BY 1, 2, 3, 4, 5, 6;

-- all_totals: day_totals' counts with the day left out, so an all-time
-- count reads one cell per key instead of one per day (it takes away the
-- counts of the days after its end). Counts only: whole numbers, so the
-- difference is exact, where one of floating-point sums need not be.
-- Triggers keep it equal to the sum of day_totals in every transaction
-- that changes day_totals.
CREATE TABLE all_totals (
  stream_id INTEGER NOT NULL,
  type_id   INTEGER NOT NULL,
  nulls     INTEGER NOT NULL,
  stage     TEXT    NOT NULL,
  model     TEXT    NOT NULL,
  ok        INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY (stream_id, type_id, nulls, stage, model, ok)
) WITHOUT ROWID;

INSERT INTO all_totals SELECT stream_id, type_id, nulls, stage, model, ok, SUM(n) FROM day_totals GROUP BY 1, 2, 3, 4, 5, 6;

CREATE TRIGGER day_totals_added AFTER INSERT ON day_totals BEGIN
  INSERT INTO all_totals VALUES (NEW.stream_id, NEW.type_id, NEW.nulls, NEW.stage, NEW.model, NEW.ok, NEW.n)
    ON CONFLICT (stream_id, type_id, nulls, stage, model, ok) DO UPDATE SET n = n + excluded.n;
END;

-- An update of a cell never changes its key (the ingest adds to its values).
CREATE TRIGGER day_totals_changed AFTER UPDATE OF n ON day_totals BEGIN
  UPDATE all_totals SET n = n + NEW.n - OLD.n
    WHERE stream_id = OLD.stream_id AND type_id = OLD.type_id AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok;
END;

CREATE TRIGGER day_totals_dropped AFTER DELETE ON day_totals BEGIN
  UPDATE all_totals SET n = n - OLD.n
    WHERE stream_id = OLD.stream_id AND type_id = OLD.type_id AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok;
  DELETE FROM all_totals
    WHERE stream_id = OLD.stream_id AND type_id = OLD.type_id AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok AND n <= 0;
END;

-- The days after an all-time window's end, for every type at once (the
-- activity feed's total with no type asked for): the key leads with type.
CREATE INDEX day_totals_by_day ON day_totals(stream_id, day);
