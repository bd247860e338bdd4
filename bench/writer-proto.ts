import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { normalize } from '../src/ingest/normalize.js';
import { MARKER_BYTES } from '../src/ingest/identity.js';
import { openStore } from '../src/store/open.js';
import Database from 'better-sqlite3';
type Database = InstanceType<typeof Database>;
import { serializeEvent } from '../src/writer/serialize.js';
import { rawDualWriteLoop } from './baselines.js';

/**
 * Issue #15 writer prototypes, outside the product code. "fast" is the fast
 * path the issue asks for: after the append, under the write lock, when the
 * bytes after the checkpoint are exactly this writer's line (size - offset =
 * its length, the marker before the checkpoint unchanged), insert the
 * already-normalised event and move the checkpoint, without reading the
 * line back or parsing it again. "fast-batched" does the same for a group
 * of appends in one transaction. Prints appends/s per variant.
 *
 *   node dist/bench/writer-proto.js --variant raw,fast,fast-batched --n 50000
 */
const o = new Command('writer-proto')
  .option('--variant <list>', 'raw, raw-ckpt (wal_autocheckpoint 10000), fast, fast-batched', 'raw,fast,fast-batched')
  .option('--n <n>', 'appends per run', Number, 50_000)
  .option('--runs <n>', 'runs per variant', Number, 2)
  .option('--dir <dir>', 'scratch directory', '/tmp/writer-proto')
  .parse()
  .opts();

const event = (i: number) => ({ type: 'stage.completed', issue: i % 400, stage: 'build', duration_s: 12, model: 'sonnet' });
/** Parts of the fast path left out, to see what each costs (PROTO_SKIP=marker,stages). */
const skip = new Set((process.env.PROTO_SKIP ?? '').split(','));
const sha1 = (b: Buffer) => (b.length === 0 ? '' : createHash('sha1').update(b).digest('hex'));

function setup(pragmas: string[]): { db: Database; close(): void; path: string } {
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir);
  const dbPath = join(o.dir, 'mirror.db');
  openStore(dbPath).close();
  const db = new Database(dbPath);
  for (const p of pragmas) db.pragma(p);
  return { db, close: () => db.close(), path: join(o.dir, 'events.jsonl') };
}

function fast(db: Database, path: string, n: number, group: number): void {
  const fd = openSync(path, 'a+');
  const st0 = fstatSync(fd);
  db.prepare(`INSERT INTO sources (id, stream, path, dev, ino, rank, head_len, head_hash, first_seen, updated_at)
    VALUES (1, 'events', 'events.jsonl', ?, ?, 1, 0, '', '', '')`).run(st0.dev, st0.ino);
  const byId = db.prepare('SELECT "offset", marker_hash, size FROM sources WHERE id = ?');
  const ins = db.prepare(`INSERT OR IGNORE INTO events (source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s,
    cost_usd, model, input_tokens, output_tokens, line) VALUES (1, ?, 'events', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const ckpt = db.prepare('UPDATE sources SET "offset" = ?, marker_hash = ?, size = ?, rows = rows + ? WHERE id = 1');
  const stage = db.prepare(`INSERT INTO stage_totals (stream, stage, n, duration_sum) VALUES ('events', ?, ?, ?)
    ON CONFLICT (stream, stage) DO UPDATE SET n = n + excluded.n, duration_sum = duration_sum + excluded.duration_sum`);
  const marker = Buffer.allocUnsafe(MARKER_BYTES);
  let fallbacks = 0;
  type Pending = { bytes: Buffer; text: string; value: Record<string, unknown> };
  const mirror = db.transaction((pending: Pending[]) => {
    const src = byId.get(1) as { offset: number; marker_hash: string; size: number };
    const size = fstatSync(fd).size;
    const total = pending.reduce((a, p) => a + p.bytes.length, 0);
    // Another writer's bytes are in between, or the file changed: the ingest path (not prototyped) takes over.
    const got = skip.has('marker') ? 0 : readSync(fd, marker, 0, Math.min(MARKER_BYTES, src.offset), src.offset - Math.min(MARKER_BYTES, src.offset));
    if (size - src.offset !== total || (!skip.has('marker') && sha1(marker.subarray(0, got)) !== src.marker_hash)) {
      fallbacks++;
      return;
    }
    let offset = src.offset;
    const stages = new Map<string, [number, number]>();
    for (const p of pending) {
      const e = normalize(p.value);
      ins.run(offset, e.type, e.ts_epoch, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model, e.input_tokens, e.output_tokens, p.text);
      if (e.type === 'stage.completed' && e.stage !== null) {
        const t = stages.get(e.stage) ?? [0, 0];
        t[0]++;
        t[1] += e.duration_s ?? 0;
        stages.set(e.stage, t);
      }
      offset += p.bytes.length;
    }
    if (!skip.has('stages')) for (const [k, [c, d]] of stages) stage.run(k, c, d);
    // The marker is the last bytes of what was just written, taken from memory.
    const tail = Buffer.concat(pending.slice(-2).map((p) => p.bytes));
    ckpt.run(offset, skip.has('marker') ? '' : sha1(tail.subarray(Math.max(0, tail.length - MARKER_BYTES))), size, pending.length);
  });
  let pending: Pending[] = [];
  for (let i = 0; i < n; i++) {
    const value = { ts: new Date().toISOString(), ts_epoch: Math.floor(Date.now() / 1000), ...event(i) };
    const bytes = serializeEvent(value);
    const text = bytes.toString('utf8', 0, bytes.length - 1);
    writeSync(fd, bytes);
    pending.push({ bytes, text, value });
    if (pending.length >= group) {
      mirror.immediate(pending);
      pending = [];
    }
  }
  if (pending.length) mirror.immediate(pending);
  closeSync(fd);
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  if (fallbacks > 0 || rows !== n) throw new Error(`fast path: ${fallbacks} fallbacks, ${rows} of ${n} rows`);
}

for (const variant of String(o.variant).split(',')) {
  const times: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const pragmas = variant === 'raw-ckpt' ? ['wal_autocheckpoint = 10000'] : [];
    if (process.env.PROTO_SYNC) pragmas.push(`synchronous = ${process.env.PROTO_SYNC}`);
    const { db, close, path } = setup(pragmas);
    const t = performance.now();
    if (variant.startsWith('raw')) rawDualWriteLoop(db, path, o.n, event);
    else if (variant === 'fast') fast(db, path, o.n, 1);
    else if (variant === 'fast-batched') fast(db, path, o.n, 1000);
    else throw new Error(`unknown variant ${variant}`);
    times.push(performance.now() - t);
    close();
  }
  const rates = times.map((ms) => Math.round(o.n / (ms / 1000)));
  process.stdout.write(`${JSON.stringify({ variant, n: o.n, appendsPerS: rates })}\n`);
}
rmSync(o.dir, { recursive: true, force: true });
