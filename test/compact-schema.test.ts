import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReader } from '../src/api/reader.js';
import { importAll } from '../src/import/import.js';
import { verifyMirror } from '../src/ops/verify.js';
import { decodeLine, encodeLine, LINE_CODES, LINE_TOKENS } from '../src/model/line-tokens.js';
import { decodeLineSql, encodeLineSql } from '../src/store/line-codec.js';
import { LATEST_VERSION, migrations } from '../src/store/migrations.js';
import { openStore } from '../src/store/open.js';
import { FIXTURES, mirrorAtSchema4, tmp, withSql } from './helpers.js';
import { allHelpers } from './metrics-helpers.js';

/** Lines without their event row, or rows without their line. */
const verifyRows = (db: string) =>
  withSql(db, (d) => d.prepare('SELECT l.id FROM lines l WHERE NOT EXISTS (SELECT 1 FROM event_rows e WHERE e.id = l.id) UNION ALL SELECT e.id FROM event_rows e WHERE NOT EXISTS (SELECT 1 FROM lines l WHERE l.id = e.id)').all());

const fixtureLines = (): string[] =>
  ['events-a.jsonl', 'events-b.jsonl'].flatMap((f) => readFileSync(join(FIXTURES, 'shipwright', f), 'utf8').split('\n')).filter((l) => {
    try {
      JSON.parse(l);
      return true;
    } catch {
      return false;
    }
  });

const tricky = [
  '{}',
  '{"ts":"x","ts_epoch":1,"type":"a"}',
  // Tokens inside string values, escaped control characters, non-ASCII and astral characters, a token at the very end.
  '{"text":",\\"type\\":\\"x\\",\\"issue\\":","u":"\\u0001\\u001f","k":"é漢🚀","z":{"ts":"","ts_epoch":0},"a":[1,{"type":"b"}],"count":',
  '  {"ts":"2026"  ,"type":"spaced"}  ',
];

describe('token-coded lines (src/model/line-tokens.ts, src/store/line-codec.ts)', () => {
  it('decode(encode(line)) is the line, byte for byte, for every valid line of the Shipwright fixture and tricky ones', () => {
    const lines = [...fixtureLines(), ...tricky];
    let plain = 0;
    let coded = 0;
    for (const line of lines) {
      const stored = encodeLine(line);
      expect(decodeLine(stored)).toBe(line);
      plain += Buffer.byteLength(line);
      coded += Buffer.byteLength(stored);
    }
    // What the coding is for: about half the bytes on real logs.
    expect(coded / plain).toBeLessThan(0.6);
  });

  it('the code bytes cannot occur in JSON text, and a line holding one raw is refused rather than stored ambiguously', () => {
    expect(LINE_CODES).toHaveLength(LINE_TOKENS.length);
    for (const c of LINE_CODES) {
      const ch = String.fromCharCode(c);
      expect(() => JSON.parse(`{"a":"${ch}"}`)).toThrow();
      expect(() => JSON.parse(`{${ch}"a":1}`)).toThrow();
      expect(() => encodeLine(`{"a":"${ch}"}`)).toThrow(/raw control bytes/);
    }
  });

  it('the events view of sql/005 decodes in plain SQL exactly as decodeLine, and the migration codes exactly as it decodes', () => {
    const sql005 = migrations().find((m) => m.version === 5)!.sql;
    expect(sql005).toContain(encodeLineSql('e.line'));
    const dir = tmp();
    const store = openStore(join(dir, 'm.db'));
    store.close();
    const lines = [...fixtureLines().slice(0, 3000), ...tricky];
    withSql(join(dir, 'm.db'), (db) => {
      const view = db.prepare(`SELECT line FROM ${decodeLineSql('id', '(SELECT 1 AS id, ? AS line)')}`).pluck();
      const sqlEncode = db.prepare(`SELECT ${encodeLineSql('?')}`).pluck();
      for (const line of lines) {
        expect(view.get(encodeLine(line))).toBe(line);
        expect(view.get(sqlEncode.get(line))).toBe(line);
      }
    });
  });
});

/** A fresh mirror with one live source of stream `events`. */
function storeWithSource() {
  const store = openStore(join(tmp(), 'm.db'));
  const src = store.transaction(() => store.insertSource({ stream: 'events', kind: 'jsonl', path: 'events.jsonl', dev: 1, ino: 1, generation: 0, rank: 0, head_len: 0, head_hash: '', state: 'active', copy_of: null, now: 'now' }))();
  return { store, src };
}

/** An event of `type` at `ts_epoch`, line `{"type":…,"n":offset}`, at `offset` of the source. */
const eventRow = (sourceId: number, offset: number, type: string, ts_epoch: number) => ({
  sourceId, offset, stream: 'events', rank: 0, line: `{"type":"${type}","n":${offset}}`,
  fields: { type, ts_epoch, issue: null, stage: null, result: null, duration_s: null, cost_usd: null, model: null, input_tokens: null, output_tokens: null },
});

describe('the compact schema (sql/005)', () => {
  it('migrating a schema-4 mirror keeps every row, id and line, and every helper answers as a fresh import does', () => {
    const dir = tmp();
    copyFileSync(join(FIXTURES, 'shipwright/events-a.jsonl'), join(dir, 'events.jsonl.1'));
    copyFileSync(join(FIXTURES, 'shipwright/events-b.jsonl'), join(dir, 'events.jsonl'));
    copyFileSync(join(FIXTURES, 'example/costs.json'), join(dir, 'costs.json'));
    const fresh = openStore(join(dir, 'fresh.db'));
    importAll(fresh, dir);
    fresh.close();
    const oldDb = join(dir, 'old.db');
    mirrorAtSchema4(join(dir, 'fresh.db'), oldDb);
    const rowsOf = (db: string) =>
      withSql(db, (d) => d.prepare('SELECT id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, line FROM events ORDER BY id').all());
    const before = rowsOf(oldDb);
    expect(before.length).toBeGreaterThan(57_000);

    const migrated = openStore(oldDb);
    expect(migrated.schemaVersion).toBe(LATEST_VERSION());
    expect(verifyMirror(migrated, dir).ok).toBe(true);
    migrated.close();
    expect(rowsOf(oldDb)).toEqual(before);
    expect(rowsOf(oldDb)).toEqual(rowsOf(join(dir, 'fresh.db')));

    const now = 1770900000;
    const a = allHelpers(createReader({ dir, db: oldDb, source: 'sqlite' }), now);
    const b = allHelpers(createReader({ dir, db: join(dir, 'fresh.db'), source: 'sqlite' }), now);
    const scan = allHelpers(createReader({ dir, source: 'scan' }), now);
    expect(a).toEqual(b);
    expect(a).toEqual(scan);
    // A second import finds nothing new: the identity survived the migration.
    const again = openStore(oldDb);
    expect(importAll(again, dir).rows).toBe(0);
    again.close();
  });

  it('a type code added in a transaction that rolled back is not reused for a later event of that type', () => {
    const { store, src } = storeWithSource();
    const row = (offset: number) => eventRow(src.id, offset, 'brand.new', 5);
    const failing = () => {
      store.insertEvent(row(0));
      throw new Error('rolled back');
    };
    expect(() => store.transaction(failing)()).toThrow('rolled back');
    store.transaction(() => store.insertEvent(row(10)))();
    expect(store.events({ streams: ['events'], types: ['brand.new'] })).toEqual([expect.objectContaining({ type: 'brand.new', ts_epoch: 5 })]);
    expect(withSql(store.path, (db) => db.prepare('SELECT type, line FROM events').all())).toEqual([{ type: 'brand.new', line: '{"type":"brand.new","n":10}' }]);
    store.close();
  });

  it('during a bulk load, rows held back for sorting commit with their lines, and go with a transaction or savepoint that fails', () => {
    const { store, src } = storeWithSource();
    const row = (offset: number) => eventRow(src.id, offset, `t${offset % 3}`, 1000 - offset);
    const counts = () => withSql(store.path, (db) => db.prepare('SELECT (SELECT COUNT(*) FROM lines) AS lines, (SELECT COUNT(*) FROM event_rows) AS rows').get());
    store.enterBulkLoad();
    // 60 rows: two groups of 25 and ten alone, all held back until the commit.
    store.transaction(() => {
      for (let o = 0; o < 50; o += 25) expect(store.insertEventGroup(Array.from({ length: 25 }, (_, i) => row(o + i)))).toBe(true);
      for (let o = 50; o < 60; o++) store.insertEvent(row(o));
    })();
    expect(counts()).toEqual({ lines: 60, rows: 60 });
    // A failing transaction takes its held rows with its lines.
    expect(() => store.transaction(() => {
      store.insertEvent(row(60));
      throw new Error('fails');
    })()).toThrow('fails');
    expect(counts()).toEqual({ lines: 60, rows: 60 });
    // A savepoint that fails inside a transaction that goes on: the rows held before it still commit.
    const inner = () => {
      store.insertEvent(row(61));
      throw new Error('inner fails');
    };
    store.transaction(() => {
      store.insertEvent(row(62));
      expect(() => store.transaction(inner)()).toThrow('inner fails');
      store.insertEvent(row(63));
    })();
    expect(counts()).toEqual({ lines: 62, rows: 62 });
    store.finishIndexes();
    expect(store.events({ streams: ['events'], types: ['t0', 't1', 't2'] }).map((e) => e.ts_epoch)).toEqual(
      [...Array.from({ length: 60 }, (_, i) => i), 62, 63].map((o) => 1000 - o).sort((a, b) => a - b));
    expect(verifyRows(store.path)).toEqual([]);
    store.close();
  });
});
