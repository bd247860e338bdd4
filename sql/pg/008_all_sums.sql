-- Issue #24: all_totals also keeps day_totals' duration sums with the day
-- left out, and `inexact`, as sql/010 does for SQLite (its comment says why
-- a sum is read only while it is exact): an all-time mean reads one cell per
-- key instead of one per day.
ALTER TABLE all_totals ADD COLUMN duration_sum DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE all_totals ADD COLUMN inexact BOOLEAN NOT NULL DEFAULT false;

CREATE FUNCTION whole_below_2_40(x DOUBLE PRECISION) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT abs(x) < 1099511627776 AND x = trunc(x) $$;

UPDATE all_totals a SET duration_sum = d.s, inexact = d.inexact
  FROM (SELECT host, stream, type, nulls, stage, model, ok, SUM(duration_sum) AS s,
          bool_or(NOT whole_below_2_40(duration_sum)) OR SUM(abs(duration_sum)) >= 4503599627370496 AS inexact
        FROM day_totals GROUP BY 1, 2, 3, 4, 5, 6, 7) d
  WHERE a.host = d.host AND a.stream = d.stream AND a.type = d.type AND a.nulls = d.nulls AND a.stage = d.stage AND a.model = d.model AND a.ok = d.ok;

CREATE OR REPLACE FUNCTION day_totals_roll() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An update of a cell never changes its key (the ingest adds to its values).
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE all_totals SET n = n - OLD.n, duration_sum = duration_sum - OLD.duration_sum,
        inexact = inexact OR abs(duration_sum - OLD.duration_sum) >= 4503599627370496
      WHERE host = OLD.host AND stream = OLD.stream AND type = OLD.type AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO all_totals VALUES (NEW.host, NEW.stream, NEW.type, NEW.nulls, NEW.stage, NEW.model, NEW.ok, NEW.n, NEW.duration_sum,
        NOT whole_below_2_40(NEW.duration_sum))
      ON CONFLICT (stream, type, host, nulls, stage, model, ok) DO UPDATE SET n = all_totals.n + excluded.n,
        duration_sum = all_totals.duration_sum + excluded.duration_sum,
        inexact = all_totals.inexact OR excluded.inexact OR abs(all_totals.duration_sum + excluded.duration_sum) >= 4503599627370496;
  ELSE
    DELETE FROM all_totals
      WHERE host = OLD.host AND stream = OLD.stream AND type = OLD.type AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok AND n <= 0;
  END IF;
  RETURN NULL;
END $$;
