-- ts_text now keeps a `ts` that a text column cannot hold exactly (a lone
-- surrogate, a NUL) or that starts with U+FFFF as U+FFFF followed by its
-- JSON text (model/rules.ts, writtenTs). The rows 011 wrote kept a lone
-- surrogate as its escape and such a `ts` as it was, so the rows mirrored
-- so far read their `ts` from their line again, as rows from before 011 do:
-- ts_text_from moves past them. Only the timeline reads ts_text, and only
-- for the rows of its window.
INSERT OR REPLACE INTO meta (key, value) SELECT 'ts_text_from', COALESCE(MAX(id), 0) + 1 FROM lines;
