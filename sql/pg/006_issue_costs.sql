-- Issue #24: what sql/008_issue_costs.sql adds for SQLite, per host.
--
-- issue_costs: per stream, type, UTC day, issue and model, the positive
-- cost_usd and the token sums of the other events with a cost (an event
-- with a negative token count is left to its row, events_odd_tokens).
-- `nulls` says which of issue (1), model (2) and type (4) were NULL; the
-- column holds 0 or '' then.
CREATE TABLE issue_costs (
  host     TEXT COLLATE "C" NOT NULL,
  stream   TEXT COLLATE "C" NOT NULL,
  type     TEXT COLLATE "C" NOT NULL,
  day      BIGINT NOT NULL,
  nulls    INTEGER NOT NULL,
  issue    DOUBLE PRECISION NOT NULL,
  model    TEXT COLLATE "C" NOT NULL,
  usd_sum  DOUBLE PRECISION NOT NULL,
  tok_in   DOUBLE PRECISION NOT NULL,
  tok_out  DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (stream, type, day, host, nulls, issue, model)
);

INSERT INTO issue_costs
  SELECT host, stream, COALESCE(type, ''), floor(ts_epoch / 86400)::bigint,
    (CASE WHEN issue IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END) | (CASE WHEN type IS NULL THEN 4 ELSE 0 END),
    COALESCE(issue, 0), COALESCE(model, ''),
    COALESCE(SUM(cost_usd) FILTER (WHERE cost_usd > 0), 0),
    COALESCE(SUM(CASE WHEN cost_usd > 0 THEN 0 ELSE input_tokens END), 0),
    COALESCE(SUM(CASE WHEN cost_usd > 0 THEN 0 ELSE output_tokens END), 0)
  FROM events
  WHERE cost_usd > 0 OR (COALESCE(input_tokens, 0) >= 0 AND COALESCE(output_tokens, 0) >= 0 AND (input_tokens > 0 OR output_tokens > 0))
  GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- all_totals: day_totals' counts with the day left out (counts only: their
-- difference is exact), kept equal to their sum by a trigger in every
-- transaction that changes day_totals.
CREATE TABLE all_totals (
  host   TEXT COLLATE "C" NOT NULL,
  stream TEXT COLLATE "C" NOT NULL,
  type   TEXT COLLATE "C" NOT NULL,
  nulls  INTEGER NOT NULL,
  stage  TEXT COLLATE "C" NOT NULL,
  model  TEXT COLLATE "C" NOT NULL,
  ok     INTEGER NOT NULL,
  n      BIGINT NOT NULL,
  PRIMARY KEY (stream, type, host, nulls, stage, model, ok)
);

INSERT INTO all_totals SELECT host, stream, type, nulls, stage, model, ok, SUM(n) FROM day_totals GROUP BY 1, 2, 3, 4, 5, 6, 7;

CREATE FUNCTION day_totals_roll() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An update of a cell never changes its key (the ingest adds to its values).
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE all_totals SET n = n - OLD.n
      WHERE host = OLD.host AND stream = OLD.stream AND type = OLD.type AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO all_totals VALUES (NEW.host, NEW.stream, NEW.type, NEW.nulls, NEW.stage, NEW.model, NEW.ok, NEW.n)
      ON CONFLICT (stream, type, host, nulls, stage, model, ok) DO UPDATE SET n = all_totals.n + excluded.n;
  ELSE
    DELETE FROM all_totals
      WHERE host = OLD.host AND stream = OLD.stream AND type = OLD.type AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok AND n <= 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER day_totals_roll AFTER INSERT OR UPDATE OF n OR DELETE ON day_totals FOR EACH ROW EXECUTE FUNCTION day_totals_roll();

-- The days after an all-time window's end, for every type at once (the
-- activity feed's total with no type asked for): the key leads with type.
CREATE INDEX day_totals_by_day ON day_totals(stream, day);
