-- Issue #24: the timeline shows each stage event's `ts` as written, which
-- only its line held, so a day of the timeline looked up and parsed the line
-- of every stage event in it. event_rows keeps it now where the epoch does
-- not already tell it (NormalEvent.ts_text: a string `ts` other than the
-- ISO-8601 second of ts_epoch; NULL otherwise, which is most lines).
--
-- The rows mirrored before this migration have no ts_text: meta's
-- ts_text_from is the first line id that has one, and a read of ts_text
-- takes an older row's from its line (src/store/read-sql.ts). A rebuild, or
-- the window moving past them, leaves none of those.
ALTER TABLE event_rows ADD COLUMN ts_text TEXT;
INSERT OR REPLACE INTO meta (key, value) SELECT 'ts_text_from', COALESCE(MAX(id), 0) + 1 FROM lines;
