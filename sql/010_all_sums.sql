-- Issue #24: all_totals also keeps day_totals' duration sums with the day
-- left out, so that an all-time mean (metrics history's mean duration of
-- successful completions and of each stage) reads one cell per key instead
-- of one per day of the log.
--
-- An all-time read takes away the cells of the days after its window's end,
-- and a difference of floating-point sums need not be exact: 0.5 + 0.5 + 0.4
-- less 0.4 is 0.9999999999999999, and a mean rounded to a whole second comes
-- out the other way. Whole numbers add up exactly while they stay small, so
-- the sum is read only while `inexact` is 0: it becomes 1, and stays 1 until
-- the cell is emptied, once a day cell of the key has held a sum that is not
-- a whole number below 2^40 or the key's own sum has reached 2^52. Then the
-- read sums the days, as before. Shipwright writes whole seconds.
DROP TRIGGER day_totals_added;
DROP TRIGGER day_totals_changed;
DROP TRIGGER day_totals_dropped;
DROP TABLE all_totals;

CREATE TABLE all_totals (
  stream_id    INTEGER NOT NULL,
  type_id      INTEGER NOT NULL,
  nulls        INTEGER NOT NULL,
  stage        TEXT    NOT NULL,
  model        TEXT    NOT NULL,
  ok           INTEGER NOT NULL,
  n            INTEGER NOT NULL,
  duration_sum REAL    NOT NULL,
  inexact      INTEGER NOT NULL,
  PRIMARY KEY (stream_id, type_id, nulls, stage, model, ok)
) WITHOUT ROWID;

INSERT INTO all_totals
  SELECT stream_id, type_id, nulls, stage, model, ok, SUM(n), TOTAL(duration_sum),
    MAX(NOT (abs(duration_sum) < 1099511627776 AND duration_sum = CAST(duration_sum AS INTEGER))) OR TOTAL(abs(duration_sum)) >= 4503599627370496
  FROM day_totals GROUP BY 1, 2, 3, 4, 5, 6;

CREATE TRIGGER day_totals_added AFTER INSERT ON day_totals BEGIN
  INSERT INTO all_totals VALUES (NEW.stream_id, NEW.type_id, NEW.nulls, NEW.stage, NEW.model, NEW.ok, NEW.n, NEW.duration_sum,
      NOT (abs(NEW.duration_sum) < 1099511627776 AND NEW.duration_sum = CAST(NEW.duration_sum AS INTEGER)))
    ON CONFLICT (stream_id, type_id, nulls, stage, model, ok) DO UPDATE SET n = n + excluded.n,
      duration_sum = COALESCE(duration_sum + excluded.duration_sum, duration_sum),
      inexact = inexact OR excluded.inexact OR abs(duration_sum + excluded.duration_sum) >= 4503599627370496;
END;

-- An update of a cell never changes its key (the ingest adds to its values).
CREATE TRIGGER day_totals_changed AFTER UPDATE OF n ON day_totals BEGIN
  UPDATE all_totals SET n = n + NEW.n - OLD.n,
      -- Infinity less infinity is NaN, which SQLite stores as NULL: the sum (unread once inexact) keeps its infinity.
      duration_sum = COALESCE(duration_sum + (NEW.duration_sum - OLD.duration_sum), duration_sum),
      inexact = inexact OR NOT (abs(NEW.duration_sum) < 1099511627776 AND NEW.duration_sum = CAST(NEW.duration_sum AS INTEGER))
        OR abs(duration_sum + (NEW.duration_sum - OLD.duration_sum)) >= 4503599627370496
    WHERE stream_id = OLD.stream_id AND type_id = OLD.type_id AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok;
END;

CREATE TRIGGER day_totals_dropped AFTER DELETE ON day_totals BEGIN
  UPDATE all_totals SET n = n - OLD.n, duration_sum = COALESCE(duration_sum - OLD.duration_sum, duration_sum),
      inexact = inexact OR abs(duration_sum - OLD.duration_sum) >= 4503599627370496
    WHERE stream_id = OLD.stream_id AND type_id = OLD.type_id AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok;
  DELETE FROM all_totals
    WHERE stream_id = OLD.stream_id AND type_id = OLD.type_id AND nulls = OLD.nulls AND stage = OLD.stage AND model = OLD.model AND ok = OLD.ok AND n <= 0;
END;
