import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateLog } from '../fixtures/generate.js';
import { FIXTURES, ROOT, tmp, withSql } from './helpers.js';

/**
 * The bulk import's parse-ahead worker (src/ingest/parse-ahead.ts). A worker
 * thread runs only the built JavaScript, so these tests drive the built
 * modules (npm test builds first).
 */
const built = (p: string) => pathToFileURL(join(ROOT, 'dist/src', p)).href;
const { openStore } = (await import(built('store/open.js'))) as typeof import('../src/store/open.js');
const { importAll } = (await import(built('import/import.js'))) as typeof import('../src/import/import.js');
const { ParseAhead } = (await import(built('ingest/parse-ahead.js'))) as typeof import('../src/ingest/parse-ahead.js');
const { ingestStream } = (await import(built('ingest/ingest-stream.js'))) as typeof import('../src/ingest/ingest-stream.js');
type Ahead = InstanceType<typeof ParseAhead>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Columns that record when something was done, not what. */
const when = (column: string): boolean => column === 'at' || column.endsWith('_at') || column === 'first_seen';

/** Every row of every mirror table (the meta table aside, it holds timings), whatever the schema. */
function dump(dbPath: string): Record<string, unknown[][]> {
  return withSql(dbPath, (db) => {
    const out: Record<string, unknown[][]> = {};
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'meta' ORDER BY name").pluck().all() as string[];
    for (const t of tables) {
      const cols = (db.prepare(`SELECT * FROM "${t}" LIMIT 0`).columns() as { name: string }[]).map((c) => c.name).filter((c) => !when(c));
      const order = cols.map((_, i) => i + 1).join(', ');
      const rows = db.prepare(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${t}" ORDER BY ${order}`).raw().all() as unknown[][];
      // A rollup's sums are added batch by batch, and floating-point addition is not associative: 12 significant digits of them are the same however the lines were split.
      out[t] = rows.map((r) => r.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v)));
    }
    return out;
  });
}

/** A ParseAhead that counts the pieces the ingest took from it (proof that the worker path ran). */
function counted(ahead: Ahead | undefined): { ahead: Ahead; pieces: () => number } {
  if (!ahead) throw new Error('no built parse worker: run npx tsc -p tsconfig.json');
  let n = 0;
  const take = ahead.take.bind(ahead);
  ahead.take = () => {
    const p = take();
    if (p) n++;
    return p;
  };
  return { ahead, pieces: () => n };
}

type Summary = ReturnType<typeof importAll>;
const what = ({ seconds: _s, completedAt: _c, ...rest }: Summary) => rest;

/** Imports `dir` into two mirrors, one parsing inline and one in the worker, and checks they hold the same rows. */
function twins() {
  const dbs = { inline: join(tmp(), 'inline.db'), worker: join(tmp(), 'worker.db') };
  return (dir: string, opts: Parameters<typeof importAll>[2] = {}): { pieces: number; summary: Summary } => {
    const summaries: Summary[] = [];
    let pieces = 0;
    for (const mode of ['inline', 'worker'] as const) {
      const store = openStore(dbs[mode]);
      const w = mode === 'worker' ? counted(ParseAhead.create()) : undefined;
      try {
        summaries.push(importAll(store, dir, { bulk: true, batchBytes: 64 * 1024, parseWorker: mode === 'worker', parseAhead: w?.ahead, ...opts }));
      } finally {
        w?.ahead.close();
        store.close();
      }
      pieces = w?.pieces() ?? pieces;
    }
    expect(what(summaries[1]!)).toEqual(what(summaries[0]!));
    expect(dump(dbs.worker)).toEqual(dump(dbs.inline));
    return { pieces, summary: summaries[1]! };
  };
}

/** A log with every kind of line the ingest tells apart, among generated events. */
function everyKind(dir: string): void {
  const src = tmp();
  generateLog({ dir: src, lines: 60_000, seed: 21 });
  const lines = readFileSync(join(src, 'events.jsonl')).toString('latin1').split('\n').filter((l) => l !== '');
  const special = [
    Buffer.from('{"type":"broken", "x": \n'), // invalid_json
    Buffer.from('[1,2,3]\n"text"\n42\nnull\n'), // not_object
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]), // invalid_utf8
    Buffer.from(`{"type":"long","pad":"${'x'.repeat(3000)}"}\n`), // line_too_long (maxLineBytes 2048)
    Buffer.from('\n   \t \r\n'), // blanks
    Buffer.from('{"type":"unicodé","stage":"日本😀","model":"m\u00e9","result":"ok"}\n'),
    Buffer.from('{"type":"crlf","ts_epoch":"1700000000"}\r\n'),
    Buffer.from('  {"type":"indented","issue":"12","cost_usd":"0.5"}\n'),
  ];
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    parts.push(Buffer.from(`${l}\n`, 'latin1'));
    if (i % 5000 === 4999) parts.push(...special);
    // A line longer than a whole read chunk (4 MiB): skipped without being held.
    if (i === 30_000) parts.push(Buffer.from(`{"huge":"${'y'.repeat(5 * 1024 * 1024)}"}\n`));
  });
  parts.push(Buffer.from('{"type":"unterminated", "x": '));
  writeFileSync(join(dir, 'events.jsonl'), Buffer.concat(parts));
}

describe('bulk import: parsing in a worker thread', () => {
  it('gives the rows, rejects, blanks and checkpoints of the inline path on fixtures/shipwright', () => {
    const { pieces, summary } = twins()(join(FIXTURES, 'shipwright'));
    expect(pieces).toBeGreaterThan(20);
    expect(summary.rejects).toBeGreaterThan(0);
  });

  it('gives the same on a log with every reject kind, multi-byte text, an unterminated tail taken and then completed', () => {
    const dir = tmp();
    everyKind(dir);
    const step = twins();
    // The unterminated last line is taken as a provisional reject (final), then read again whole once completed.
    const first = step(dir, { final: true, maxLineBytes: 2048 });
    expect(first.pieces).toBeGreaterThan(100);
    expect(Object.keys(first.summary.rejectsByReason).sort()).toEqual(['invalid_json', 'invalid_utf8', 'line_too_long', 'not_object']);
    expect(first.summary.blanks).toBeGreaterThan(0);
    const more = readFileSync(join(dir, 'events.jsonl')).subarray(0, 400_000).toString('latin1');
    appendFileSync(join(dir, 'events.jsonl'), Buffer.from(`"done"}\n${more.slice(more.indexOf('\n') + 1, more.lastIndexOf('\n') + 1)}[\n{"type":"half`, 'latin1'));
    const second = step(dir, { maxLineBytes: 2048 });
    expect(second.pieces).toBeGreaterThan(0);
    expect(second.summary.pendingBytes).toBe('{"type":"half'.length);
  });

  it('an import killed (SIGKILL) while the worker parses ahead resumes to exactly the mirror of an inline import', async () => {
    const dir = tmp();
    generateLog({ dir, lines: 200_000, seed: 13 });
    const cleanDb = join(tmp(), 'clean.db');
    const clean = openStore(cleanDb);
    importAll(clean, dir, { bulk: true, parseWorker: false, batchBytes: 256 * 1024 });
    clean.close();

    const db = join(tmp(), 'killed.db');
    // Says "worker" once the ingest has taken a piece from the worker thread.
    const script = `
      const { openStore } = await import(${JSON.stringify(built('store/open.js'))});
      const { importAll } = await import(${JSON.stringify(built('import/import.js'))});
      const { ParseAhead } = await import(${JSON.stringify(built('ingest/parse-ahead.js'))});
      const ahead = ParseAhead.create();
      const take = ahead.take.bind(ahead);
      let told = false;
      ahead.take = () => { const p = take(); if (p && !told) { told = true; process.stdout.write('worker\\n'); } return p; };
      importAll(openStore(${JSON.stringify(db)}), ${JSON.stringify(dir)}, { bulk: true, parseAhead: ahead, batchBytes: 256 * 1024 });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((res) => child.on('exit', res));
    let said = '';
    child.stdout.on('data', (c) => (said += c));
    let rows = 0;
    for (let i = 0; i < 1000 && rows <= 1000; i++) {
      await sleep(5);
      if (!said.includes('worker')) continue;
      try {
        rows = withSql(db, (d) => d.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);
      } catch {
        // not created yet
      }
    }
    child.kill('SIGKILL');
    await exited;
    expect(said).toContain('worker');
    const partial = withSql(db, (d) => d.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(200_000);

    const store = openStore(db);
    const w = counted(ParseAhead.create());
    try {
      importAll(store, dir, { parseAhead: w.ahead, batchBytes: 256 * 1024 });
    } finally {
      w.ahead.close();
      store.close();
    }
    expect(w.pieces()).toBeGreaterThan(0);
    expect(dump(db)).toEqual(dump(cleanDb));
  });

  it('an ingester that moves the checkpoint between two batches: the batch reads inline, the worker starts again after it, no line twice', () => {
    const dir = tmp();
    generateLog({ dir, lines: 120_000, seed: 19 });
    const cleanDb = join(tmp(), 'clean.db');
    const clean = openStore(cleanDb);
    importAll(clean, dir, { bulk: false });
    clean.close();

    const db = join(tmp(), 'raced.db');
    const store = openStore(db);
    const ahead = ParseAhead.create()!;
    const take = ahead.take.bind(ahead);
    const starts: number[] = [];
    let moved = -1;
    ahead.take = () => {
      const p = take();
      if (p && p.from !== starts.at(-1)) {
        starts.push(p.from);
        // Between the first and second batch (no transaction open): another connection takes the next batch itself.
        if (starts.length === 2) {
          const other = openStore(db);
          ingestStream(other, dir, 'events', { maxBatches: 1, batchBytes: 256 * 1024 });
          moved = other.allSources().find((s) => s.path.endsWith('events.jsonl'))!.offset;
          other.close();
        }
      }
      return p;
    };
    try {
      importAll(store, dir, { bulk: true, parseAhead: ahead, batchBytes: 256 * 1024 });
    } finally {
      ahead.close();
      store.close();
    }
    // The batch after the race is read inline from `moved`; the worker then goes on from the checkpoint after it.
    expect(moved).toBeGreaterThan(starts[1]!);
    expect(starts.length).toBeGreaterThan(2);
    expect(starts[2]!).toBeGreaterThan(moved);
    expect(dump(db)).toEqual(dump(cleanDb));
  });

  for (const fault of ['exit', 'throw'] as const) {
    it(`a worker that ${fault === 'exit' ? 'exits' : 'throws'} mid-load stops the import with a clear error, and the next import loses nothing`, () => {
      const dir = tmp();
      generateLog({ dir, lines: 120_000, seed: 17 });
      const cleanDb = join(tmp(), 'clean.db');
      const clean = openStore(cleanDb);
      importAll(clean, dir, { bulk: false });
      clean.close();

      // The real worker, with a fault planted at its 100th piece (in the load's second or third batch).
      const faulty = join(tmp(), 'faulty-worker.mjs');
      writeFileSync(faulty, `
        import { MessagePort } from 'node:worker_threads';
        const post = MessagePort.prototype.postMessage;
        let pieces = 0;
        MessagePort.prototype.postMessage = function (m, t) {
          if (m && m.piece && ++pieces === 100) {
            ${fault === 'exit' ? 'process.exit(3);' : "throw new Error('planted fault');"}
          }
          return post.call(this, m, t);
        };
        await import(${JSON.stringify(built('ingest/parse-worker.js'))});`);
      const db = join(tmp(), 'faulted.db');
      const store = openStore(db);
      const ahead = ParseAhead.create(pathToFileURL(faulty))!;
      let error: { code?: string; message?: string } | undefined;
      try {
        importAll(store, dir, { bulk: true, parseAhead: ahead, batchBytes: 256 * 1024 });
      } catch (err) {
        error = err as typeof error;
      } finally {
        ahead.close();
        store.close();
      }
      expect(error?.code).toBe('INGEST_WORKER_FAILED');
      expect(error?.message).toMatch(fault === 'exit' ? /its thread exited/ : /planted fault/);
      expect(error?.message).toMatch(/run the import again/);
      const kept = withSql(db, (d) => d.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(120_000);

      const again = openStore(db);
      importAll(again, dir);
      again.close();
      expect(dump(db)).toEqual(dump(cleanDb));
    });
  }
});
