import { appendFileSync, closeSync, copyFileSync, fstatSync, openSync, readFileSync, renameSync, statSync, type Stats, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importAll } from '../src/import/import.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import { resolveIngestOptions } from '../src/ingest/options.js';
import { resolveSource } from '../src/ingest/sources.js';
import { verifyMirror } from '../src/ops/verify.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/api.js';
import { FIXTURES, tmp, withSql } from './helpers.js';

const line = (o: Record<string, unknown>): string => `${JSON.stringify(o)}\n`;
const ev = (n: number, extra: Record<string, unknown> = {}): string =>
  line({ ts: '2026-02-10T00:00:00Z', ts_epoch: 1770681600 + n, type: 'test.event', n, ...extra });
/** Event n, all at the same time: only log order tells them apart. */
const tied = (n: number): string => line({ ts: '2026-02-10T00:00:00Z', ts_epoch: 1770681600, type: 'test.event', n });

function setup(): { dir: string; store: Store; file: string } {
  const dir = tmp();
  return { dir, store: openStore(join(dir, 'mirror.db')), file: join(dir, 'events.jsonl') };
}

const resolveLiveIn = (store: Store, dir: string, fd: number, st: Stats) =>
  resolveSource(store, dir, { stream: 'events', name: 'events.jsonl', rotation: 0, fd, st }, undefined, resolveIngestOptions());

/** Resolves the live file as an ingest pass does (in a write transaction), optionally with an fstat taken earlier. */
function resolveLive(store: Store, dir: string, file: string, st?: Stats) {
  const fd = openSync(file, 'r');
  try {
    return store.transaction(resolveLiveIn)(store, dir, fd, st ?? fstatSync(fd));
  } finally {
    closeSync(fd);
  }
}

const lines = (store: Store): string[] =>
  withSql(store.path, (db) => db.prepare('SELECT line FROM events ORDER BY ts_epoch, rank, "offset"').all() as { line: string }[]).map((r) => r.line);
const count = (store: Store, table: 'events' | 'rejects'): number => (table === 'events' ? store.countEvents() : store.countRejects());

describe('import of the real Shipwright log (events-a.jsonl)', () => {
  it('gives 29,471 events and 342 rejects with byte offsets, adds nothing the second time, and verifies', () => {
    const dir = tmp();
    copyFileSync(join(FIXTURES, 'shipwright/events-a.jsonl'), join(dir, 'events.jsonl'));
    const store = openStore(join(dir, 'mirror.db'));
    const first = importAll(store, dir);
    expect(first.rows).toBe(29_471);
    expect(first.rejects).toBe(342);
    expect(first.rejectsByReason).toEqual({ invalid_json: 341, not_object: 1 });
    const rejects = withSql(store.path, (db) => db.prepare('SELECT "offset", length, reason, sample FROM rejects ORDER BY "offset"').all()) as {
      offset: number; length: number; reason: string; sample: string;
    }[];
    expect(rejects[0]).toEqual({ offset: 0, length: 2, reason: 'not_object', sample: '[]' });
    // Every reject's offset points at the start of a line, and its length ends at a newline.
    const bytes = readFileSync(join(dir, 'events.jsonl'));
    for (const r of rejects) {
      expect(r.offset === 0 || bytes[r.offset - 1] === 10).toBe(true);
      expect(bytes[r.offset + r.length]).toBe(10);
    }
    const second = importAll(store, dir);
    expect(second.rows).toBe(0);
    expect(second.rejects).toBe(0);
    expect(count(store, 'events')).toBe(29_471);
    expect(verifyMirror(store, dir).ok).toBe(true);
    store.close();
  });
});

describe('line handling', () => {
  it('leaves an unterminated last line pending and takes it exactly once when finished', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2).trimEnd().slice(0, 20));
    const t1 = ingestStream(store, dir, 'events');
    expect(t1.rows).toBe(1);
    expect(t1.pendingBytes).toBe(20);
    appendFileSync(file, `${ev(2).slice(20)}`);
    const t2 = ingestStream(store, dir, 'events');
    expect(t2.rows).toBe(1);
    expect(t2.pendingBytes).toBe(0);
    expect(ingestStream(store, dir, 'events').rows).toBe(0);
    expect(lines(store)).toEqual([ev(1).trimEnd(), ev(2).trimEnd()]);
  });

  it('takes an unterminated tail with final, and rejects it when it does not parse', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2).trimEnd());
    expect(ingestStream(store, dir, 'events', { final: true }).rows).toBe(2);
    writeFileSync(join(dir, 'other.jsonl'), `${ev(3)}{"cut":`);
    const t = ingestStream(store, dir, 'other', { final: true });
    expect(t.rows).toBe(1);
    expect(t.rejectsByReason).toEqual({ invalid_json: 1 });
  });

  it('rejects invalid JSON, non-objects, invalid UTF-8 and over-long lines, and skips blank lines', () => {
    const { dir, store, file } = setup();
    const bad = Buffer.concat([Buffer.from('{"type":"x","s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    writeFileSync(file, Buffer.concat([
      Buffer.from(ev(1)), Buffer.from('{"type":\n'), Buffer.from('[1,2]\n'), Buffer.from('"str"\n'), Buffer.from('null\n'),
      bad, Buffer.from('\n  \r\n'), Buffer.from(line({ type: 'big', pad: 'x'.repeat(3000) })), Buffer.from(ev(2)),
    ]));
    const t = ingestStream(store, dir, 'events', { maxLineBytes: 1000 });
    expect(t.rows).toBe(2);
    expect(t.blanks).toBe(2);
    expect(t.rejectsByReason).toEqual({ invalid_json: 1, not_object: 3, invalid_utf8: 1, line_too_long: 1 });
    const long = withSql(store.path, (db) => db.prepare("SELECT length, sample FROM rejects WHERE reason = 'line_too_long'").get()) as { length: number; sample: string };
    expect(long.length).toBe(line({ type: 'big', pad: 'x'.repeat(3000) }).length - 1);
    expect(long.sample.startsWith('{"type":"big"')).toBe(true);
    expect(verifyMirror(store, dir, { maxLineBytes: 1000 }).ok).toBe(true);
  });

  it('handles a line longer than the read chunk (5 MiB) without holding it', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + line({ type: 'huge', pad: 'y'.repeat(5 * 1024 * 1024) }) + ev(2));
    const t = ingestStream(store, dir, 'events');
    expect(t.rows).toBe(2);
    expect(t.rejectsByReason).toEqual({ line_too_long: 1 });
  });
});

describe('file identity', () => {
  it('rename rotation between two ingests adds only the new lines, and drains lines written to the old file', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2));
    ingestStream(store, dir, 'events');
    appendFileSync(file, ev(3)); // written before the rename, never ingested
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, ev(4)); // through the old handle after the rename
    writeFileSync(file, ev(5));
    const t = ingestStream(store, dir, 'events');
    expect(t.rows).toBe(3);
    expect(lines(store)).toEqual([1, 2, 3, 4, 5].map((n) => ev(n).trimEnd()));
    const paths = withSql(store.path, (db) => db.prepare("SELECT path FROM sources WHERE state = 'active' ORDER BY rank").all());
    expect(paths).toEqual([{ path: 'events.jsonl.1' }, { path: 'events.jsonl' }]);
    expect(verifyMirror(store, dir).ok).toBe(true);
  });

  it('truncation in place starts a new generation at offset 0 and keeps the old rows', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2));
    ingestStream(store, dir, 'events');
    truncateSync(file, 0);
    appendFileSync(file, ev(3));
    expect(ingestStream(store, dir, 'events').rows).toBe(1);
    expect(lines(store)).toEqual([1, 2, 3].map((n) => ev(n).trimEnd()));
    const gens = withSql(store.path, (db) => db.prepare('SELECT generation, state FROM sources ORDER BY id').all());
    expect(gens).toEqual([{ generation: 0, state: 'replaced' }, { generation: 1, state: 'active' }]);
  });

  it('truncation followed by more bytes than before is still a new generation', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1));
    ingestStream(store, dir, 'events');
    writeFileSync(file, ev(7) + ev(8) + ev(9)); // same inode, longer, different content
    expect(ingestStream(store, dir, 'events').rows).toBe(3);
    expect(count(store, 'events')).toBe(4);
  });

  it('a different file replacing the old one at the same path is never taken for the old one', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2));
    ingestStream(store, dir, 'events');
    rmSync(file);
    writeFileSync(file, ev(11) + ev(12) + ev(13));
    expect(ingestStream(store, dir, 'events').rows).toBe(3);
    expect(count(store, 'events')).toBe(5);
    // The new file often reuses the inode: the old source is then 'replaced', else 'gone'.
    const states = (withSql(store.path, (db) => db.prepare('SELECT state FROM sources ORDER BY id').all()) as { state: string }[]).map((r) => r.state);
    expect(states).toHaveLength(2);
    expect(['gone', 'replaced']).toContain(states[0]);
    expect(states[1]).toBe('active');
  });

  it('copytruncate: the copy is not ingested twice and lines written before the truncate are not lost', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2));
    ingestStream(store, dir, 'events');
    appendFileSync(file, ev(3));
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    appendFileSync(file, ev(4));
    // Two files, though the pass that found the original truncated lists them again.
    expect(ingestStream(store, dir, 'events')).toMatchObject({ rows: 2, files: 2 });
    expect(lines(store)).toEqual([1, 2, 3, 4].map((n) => ev(n).trimEnd()));
    // The copy's first two lines are held from the original, and verify counts them with its own.
    expect(verifyMirror(store, dir)).toMatchObject({ ok: true, files: 2, lines: 4, events: 4, rejects: 0 });
  });

  it('copytruncate seen half-way (copy made, not yet truncated) still ingests each line once', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1));
    ingestStream(store, dir, 'events');
    appendFileSync(file, ev(2));
    copyFileSync(file, `${file}.1`);
    expect(ingestStream(store, dir, 'events').rows).toBe(1); // from the live file; the copy is known as a copy
    truncateSync(file, 0);
    appendFileSync(file, ev(3));
    expect(ingestStream(store, dir, 'events').rows).toBe(1);
    expect(lines(store)).toEqual([1, 2, 3].map((n) => ev(n).trimEnd()));
    expect(verifyMirror(store, dir).ok).toBe(true);
  });

  it('copytruncate after a pass listed the directory: the live file is resolved first, and the copy still holds the old generation lines', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2));
    ingestStream(store, dir, 'events');
    appendFileSync(file, ev(3)); // not ingested yet: only in the copy once the live file is truncated
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    appendFileSync(file, ev(4));
    // A pass whose listing predates the copy reaches the live file without having seen the copy.
    const r = resolveLive(store, dir, file);
    expect(r).toMatchObject({ kind: 'ingest', replaced: true });
    expect(withSql(store.path, (db) => db.prepare('SELECT path, state FROM sources ORDER BY id').all())).toEqual([
      { path: 'events.jsonl', state: 'replaced' },
      { path: 'events.jsonl', state: 'active' },
    ]);
    expect(ingestStream(store, dir, 'events').rows).toBe(2);
    expect(lines(store)).toEqual([1, 2, 3, 4].map((n) => ev(n).trimEnd()));
    expect(verifyMirror(store, dir).ok).toBe(true);
  });

  it('copytruncate keeps log order at equal times: the copy lines sort after the lines it holds and before the new generation', () => {
    for (const listedFirst of [false, true]) {
      const { dir, store, file } = setup();
      writeFileSync(file, tied(1));
      ingestStream(store, dir, 'events');
      appendFileSync(file, tied(2)); // read only from the copy
      copyFileSync(file, `${file}.1`);
      truncateSync(file, 0);
      appendFileSync(file, tied(3));
      if (listedFirst) resolveLive(store, dir, file); // a pass that saw the truncate before the copy
      ingestStream(store, dir, 'events');
      expect(lines(store), `listed first: ${listedFirst}`).toEqual([1, 2, 3].map((n) => tied(n).trimEnd()));
      expect(verifyMirror(store, dir).ok).toBe(true);
    }
  });

  it('a new file on the inode of an empty generation seen before keeps log order: the old source is placed again, not kept at its rank', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, '');
    ingestStream(store, dir, 'events'); // an empty generation: no row keeps its rank
    renameSync(file, `${file}.1`);
    writeFileSync(file, tied(1));
    ingestStream(store, dir, 'events');
    rmSync(`${file}.1`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, tied(2));
    // The new live file got the deleted empty file's inode, as filesystems reuse them.
    const { ino } = statSync(file);
    withSql(store.path, (db) => db.prepare('UPDATE sources SET ino = ? WHERE id = 1').run(ino));
    ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
    expect(lines(store)).toEqual([1, 2].map((n) => tied(n).trimEnd()));
    expect(verifyMirror(store, dir).ok).toBe(true);
  });

  it('a copy of a file the mirror has not read yet (it was empty when first seen) is not read twice', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, '');
    ingestStream(store, dir, 'events'); // the source is registered with an empty head and checkpoint 0
    appendFileSync(file, ev(1) + ev(2));
    copyFileSync(file, `${file}.1`); // copytruncate, caught between the copy and the truncate
    expect(ingestStream(store, dir, 'events').rows).toBe(2);
    truncateSync(file, 0);
    appendFileSync(file, ev(3));
    expect(ingestStream(store, dir, 'events').rows).toBe(1);
    expect(lines(store)).toEqual([1, 2, 3].map((n) => ev(n).trimEnd()));
    expect(verifyMirror(store, dir).ok).toBe(true);
  });

  it('a new generation registered from a stale fstat records the head it actually read', () => {
    const { dir, store, file } = setup();
    writeFileSync(file, ev(1) + ev(2));
    ingestStream(store, dir, 'events');
    const stale = statSync(file); // the size before the truncate
    truncateSync(file, 0);
    appendFileSync(file, ev(3));
    const r = resolveLive(store, dir, file, stale);
    expect(r.kind === 'ingest' && r.src.head_len).toBe(ev(3).length);
    expect(ingestStream(store, dir, 'events').rows).toBe(1);
    appendFileSync(file, ev(4));
    expect(ingestStream(store, dir, 'events').rows).toBe(1);
    expect(lines(store)).toEqual([1, 2, 3, 4].map((n) => ev(n).trimEnd()));
  });

  it('a deleted file keeps its rows as history, marked gone', () => {
    const { dir, store, file } = setup();
    writeFileSync(`${file}.1`, ev(1));
    writeFileSync(file, ev(2));
    ingestStream(store, dir, 'events');
    rmSync(`${file}.1`);
    ingestStream(store, dir, 'events');
    expect(count(store, 'events')).toBe(2);
    expect(withSql(store.path, (db) => db.prepare("SELECT path FROM sources WHERE state = 'gone'").all())).toEqual([{ path: 'events.jsonl.1' }]);
  });

  it('imports rotated files oldest first so log order holds across files', () => {
    const { dir, store, file } = setup();
    writeFileSync(`${file}.2`, ev(1, { ts_epoch: 5 }));
    writeFileSync(`${file}.1`, ev(2, { ts_epoch: 5 }));
    writeFileSync(file, ev(3, { ts_epoch: 5 }));
    importAll(store, dir);
    expect(lines(store)).toEqual([1, 2, 3].map((n) => ev(n, { ts_epoch: 5 }).trimEnd()));
  });
});
