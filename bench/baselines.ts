import { closeSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { normalize } from '../src/ingest/normalize.js';
import type { LoggedEvent, NormalEvent } from '../src/model/event.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, RecordQuery } from '../src/model/query.js';
import { typeMatches } from '../src/model/rules.js';
import { groupEvents, type EventSource } from '../src/read/source.js';
import { toNumber, toText } from '../src/ingest/normalize.js';

/** Files of a stream oldest first (NAME.jsonl.N ... NAME.jsonl). */
export function streamPaths(dir: string, stream = 'events'): string[] {
  return readdirSync(dir)
    .filter((f) => f === `${stream}.jsonl` || f.startsWith(`${stream}.jsonl.`))
    .sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()) || (a.length - b.length))
    .map((f) => join(dir, f));
}

/** Reads files in 4 MiB chunks and hands over each line (without its newline). */
function forEachLine(paths: string[], fn: (line: string) => void): void {
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const p of paths) {
    const fd = openSync(p, 'r');
    let pos = 0;
    let rest = '';
    for (;;) {
      const len = readSync(fd, buf, 0, buf.length, pos);
      if (len === 0) break;
      pos += len;
      const parts = (rest + buf.toString('utf8', 0, len)).split('\n');
      rest = parts.pop()!;
      for (const l of parts) fn(l);
    }
    closeSync(fd);
  }
}

/** The practical limit of a scan: read in chunks, split on newlines, JSON.parse every line. Returns lines parsed. */
export function bareParseLoop(paths: string[]): number {
  let n = 0;
  forEachLine(paths, (l) => {
    try {
      JSON.parse(l);
      n++;
    } catch {
      // corrupt line
    }
  });
  return n;
}

/**
 * Inserts one event the plainest way into the mirror's own tables (sql/005:
 * the line in `lines`, the columns in `event_rows`, names by code), with
 * nothing else: no identity check, checkpoint, reject, token coding or
 * normalisation beyond picking the columns.
 */
function plainInserter(db: BetterSqlite3.Database, sourcePath: string): (offset: number, e: NormalEvent, line: string) => void {
  db.prepare(`INSERT OR IGNORE INTO sources (id, stream, path, dev, ino, rank, head_len, head_hash, first_seen, updated_at)
    VALUES (1, 'events', ?, 0, 0, 1, 0, '', '', '')`).run(sourcePath);
  db.prepare("INSERT OR IGNORE INTO streams (id, name) VALUES (1, 'events')").run();
  const addType = db.prepare('INSERT INTO types (name) VALUES (?)');
  const types = new Map<string | null, number>([[null, 0]]);
  const line = db.prepare('INSERT INTO lines (source_id, "offset", type_id, ts_epoch, line) VALUES (1, ?, ?, ?, ?)');
  const row = db.prepare(`INSERT INTO event_rows (stream_id, type_id, ts_epoch, rank, id, issue, stage, result, duration_s, cost_usd, model,
    input_tokens, output_tokens) VALUES (1, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  return (offset, e, text) => {
    let type = types.get(e.type);
    if (type === undefined) types.set(e.type, (type = Number(addType.run(e.type).lastInsertRowid)));
    const id = line.run(offset, type, e.ts_epoch, text).lastInsertRowid;
    row.run(type, e.ts_epoch, id, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model, e.input_tokens, e.output_tokens);
  };
}

const plainFields = (o: Record<string, unknown>): NormalEvent => ({
  type: typeof o.type === 'string' ? o.type : null, ts_epoch: typeof o.ts_epoch === 'number' ? o.ts_epoch : 0,
  issue: (o.issue as number) ?? null, stage: (o.stage as string) ?? null, result: (o.result as string) ?? null,
  duration_s: (o.duration_s as number) ?? null, cost_usd: (o.cost_usd as number) ?? null, model: (o.model as string) ?? null,
  input_tokens: (o.input_tokens as number) ?? null, output_tokens: (o.output_tokens as number) ?? null, ts_text: null,
});

/**
 * The practical limit of an import: the bare parse loop plus a batched
 * insert into the same tables and indexes, nothing else (no identity, no
 * checkpoints, no rejects, no normalisation).
 */
export function bareImportLoop(db: BetterSqlite3.Database, paths: string[]): number {
  const insert = plainInserter(db, 'bench');
  let n = 0;
  let batch: [number, Record<string, unknown>, string][] = [];
  const flush = db.transaction((rows: typeof batch) => {
    for (const [off, o, l] of rows) insert(off, plainFields(o), l);
  });
  forEachLine(paths, (l) => {
    try {
      const o = JSON.parse(l);
      if (o && typeof o === 'object' && !Array.isArray(o)) {
        batch.push([n, o, l]);
        n++;
        if (batch.length >= 50_000) {
          flush(batch);
          batch = [];
        }
      }
    } catch {
      // corrupt line
    }
  });
  flush(batch);
  return n;
}

/**
 * What the dashboard does today, per request: read the whole log, split it,
 * JSON.parse every line, filter in JS. Wrapped as an EventSource so the very
 * same metric code runs on it.
 */
export class WholeFileSource implements EventSource {
  readonly kind = 'scan';
  constructor(private readonly paths: string[]) {}

  private all(): { e: Record<string, unknown>; text: string }[] {
    const out: { e: Record<string, unknown>; text: string }[] = [];
    for (const p of this.paths) {
      for (const text of readFileSync(p, 'utf8').split('\n')) {
        try {
          const e = JSON.parse(text);
          if (e && typeof e === 'object' && !Array.isArray(e)) out.push({ e, text });
        } catch {
          // corrupt line
        }
      }
    }
    return out;
  }

  events(q: EventQuery): NormalEvent[] {
    const types = new Set(q.types);
    return this.all()
      .filter(({ e }) => types.has(toText(e.type) as string))
      .map(({ e }) => normalize(e))
      .filter((n) => (q.since === undefined || n.ts_epoch >= q.since) && (q.until === undefined || n.ts_epoch < q.until)
        && (q.upTo === undefined || n.ts_epoch <= q.upTo) && (!q.timed || n.ts_epoch !== 0))
      .sort((a, b) => a.ts_epoch - b.ts_epoch);
  }

  groups(q: GroupQuery): GroupRow[] {
    return groupEvents(this.events(q), q);
  }

  feed(q: FeedQuery): FeedPage {
    const rows = this.all()
      .filter(({ e }) => typeMatches(toText(e.type), q.type) && (q.issue === undefined || toNumber(e.issue) === q.issue))
      .map(({ e }) => ({ e, ts: normalize(e).ts_epoch }))
      .filter(({ ts }) => q.upTo === undefined || ts <= q.upTo)
      .sort((a, b) => a.ts - b.ts)
      .reverse();
    return { events: rows.slice(q.offset, q.offset + q.limit).map((r) => r.e), total: rows.length, nextCursor: null };
  }

  records(q: RecordQuery): LoggedEvent[] {
    const types = q.types && new Set(q.types);
    const all = this.all()
      .filter(({ e }) => !types || types.has(toText(e.type) as string))
      .map(({ e }) => ({ event: normalize(e), value: e }))
      .filter(({ event: n }) => (q.issue === undefined || n.issue === q.issue) && (q.since === undefined || n.ts_epoch >= q.since)
        && (q.upTo === undefined || n.ts_epoch <= q.upTo))
      .sort((a, b) => a.event.ts_epoch - b.event.ts_epoch);
    return q.last === undefined ? all : all.slice(Math.max(0, all.length - q.last));
  }
}

/**
 * The raw limit of a per-event dual-write: for each event one `writeSync` of
 * its line to an O_APPEND descriptor, then the plain INSERTs into the same
 * tables and indexes and a COMMIT (BEGIN IMMEDIATE, as the writer takes the
 * write lock). No checkpoint, identity check, read-back or hashing.
 */
export function rawDualWriteLoop(db: BetterSqlite3.Database, path: string, n: number, event: (i: number) => Record<string, unknown>): void {
  const insert = plainInserter(db, 'events.jsonl');
  const one = db.transaction(insert);
  const fd = openSync(path, 'a');
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const value = { ts: new Date().toISOString(), ts_epoch: Math.floor(Date.now() / 1000), ...event(i) };
    const line = JSON.stringify(value);
    const bytes = Buffer.from(`${line}\n`);
    writeSync(fd, bytes);
    one.immediate(offset, normalize(value), line);
    offset += bytes.length;
  }
  closeSync(fd);
}
