-- Recognising lines the mirror already holds (README "How it stays
-- exactly-once"): a generation whose first held_len bytes are lines of the
-- generation copy_of, starting at that generation's byte held_at, holds no
-- rows for them. While state = 'copy' it still follows copy_of and its
-- checkpoint equals held_len.
ALTER TABLE sources ADD COLUMN held_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN held_len INTEGER NOT NULL DEFAULT 0;
-- mtime when last read: a file rewritten in place without growing is re-checked.
ALTER TABLE sources ADD COLUMN mtime_ms REAL NOT NULL DEFAULT 0;
-- Bytes of an unterminated tail taken as the last reject: provisional until
-- the line is finished, when the complete line replaces it.
ALTER TABLE sources ADD COLUMN tail_len INTEGER NOT NULL DEFAULT 0;
-- Rejects keep only a sample of their line; the hash of the whole line lets a
-- later generation recognise it (NULL for lines too long to hold).
ALTER TABLE rejects ADD COLUMN hash TEXT;
