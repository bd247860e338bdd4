import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markerHash } from '../src/ingest/identity.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import { openStore, type SqliteStore } from '../src/store/open.js';
import { tmp, withSql } from './helpers.js';

const line = (i: number): string =>
  `${JSON.stringify({ ts_epoch: 1767225600 + i, type: i % 3 === 0 ? 'stage.completed' : 't', stage: `s${i % 4}`, duration_s: i })}\n`;
const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, k) => line(from + k)).join('');

/** Moves the source's checkpoint back to the start of line `i`, as if those lines had never been read (they stay mirrored). */
function rewind(store: SqliteStore, path: string, text: string, i: number): void {
  const offset = Buffer.byteLength(text.split('\n').slice(0, i).map((l) => `${l}\n`).join(''));
  const fd = openSync(path, 'r');
  const marker = markerHash(fd, offset);
  closeSync(fd);
  withSql(store.path, (db) => db.prepare('UPDATE sources SET "offset" = ?, marker_hash = ?').run(offset, marker));
}

describe('ingest inserts events by groups of 25 per statement', () => {
  it('counts duplicates and stage totals exactly when a group meets rows already mirrored', () => {
    const dir = tmp();
    const path = join(dir, 'events.jsonl');
    let text = lines(0, 60);
    writeFileSync(path, text);
    const store = openStore(join(dir, 'mirror.db'));
    expect(ingestStream(store, dir, 'events')).toMatchObject({ rows: 60, duplicates: 0 });

    rewind(store, path, text, 10);
    expect(ingestStream(store, dir, 'events')).toMatchObject({ rows: 0, duplicates: 50 });

    text += lines(60, 97);
    writeFileSync(path, lines(60, 97), { flag: 'a' });
    // 13 lines already mirrored, then 37 new: the first group meets duplicates, later groups and the rest do not.
    rewind(store, path, text, 47);
    expect(ingestStream(store, dir, 'events')).toMatchObject({ rows: 37, duplicates: 13 });

    expect(store.countEvents()).toBe(97);
    const sorted = (t: object[]) => t.map((c) => JSON.stringify(c)).sort();
    expect(sorted(store.dayTotalsKept())).toEqual(sorted(store.dayTotalsFromRows()));
    store.close();
  });
});
