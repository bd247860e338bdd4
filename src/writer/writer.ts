import { closeSync, fstatSync, fsyncSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MirrorError, sqliteCode } from '../errors.js';
import { ingestLive, type LiveHint } from '../ingest/ingest-live.js';
import { assertDir } from '../ingest/layout.js';
import { openStore, translateOpenError, type Store } from '../store/open.js';
import { isPgUrl, openPgStore, redact, translatePgError } from '../store/pg/open.js';
import { serializeEvent } from './serialize.js';

export type Durability = 'none' | 'fsync' | { intervalMs: number };

export interface WriterOptions {
  /** The log directory; stream NAME is appended to DIR/NAME.jsonl. */
  dir: string;
  /** The mirror (default DIR/mirror.db). The writer never creates it: run `import` once. */
  db?: string;
  /** none (default): the OS flushes; fsync: after every append; { intervalMs }: every so often. */
  durability?: Durability;
  /** per-event (default): mirror after each append; batched: group commit every batchMaxEvents or batchMaxDelayMs. */
  mode?: 'per-event' | 'batched';
  /** false: append to the file only. */
  mirror?: boolean;
  /** How long the mirror step may wait for another process's lock, ms (default 20). */
  budgetMs?: number;
  /** After a failed mirror step, appends skip the mirror for this long, ms (default 1000). */
  retryAfterMs?: number;
  /** An unterminated last line idle this long is a fragment nobody will finish: end it before appending (default 60 s). */
  fragmentGraceMs?: number;
  batchMaxEvents?: number;
  batchMaxDelayMs?: number;
  /** Told once per kind of mirror problem (default: one line on stderr). */
  onProblem?: (err: MirrorError) => void;
  /** With a postgres:// db: this machine's host id (default: the hostname). */
  hostId?: string;
}

export interface AppendResult {
  /** Bytes written to the file. */
  bytes: number;
  /** The mirror step ran (per-event mode); false when skipped or deferred to the batch. */
  mirrored: boolean;
}

export interface WriterStats {
  appended: number;
  /** Appends whose mirror step ran (per-event) or that a batch commit covered (batched). */
  mirrored: number;
  /** Appends whose mirror step was skipped (the next ingest picks them up). */
  skipped: number;
  /** Batched mode: appends waiting for the next group commit. */
  pending: number;
  /** The last mirror problem, until a mirror step succeeds again. */
  problem: string | null;
}

export interface Writer {
  /** Appends one event (JSONL first, authoritative), then mirrors it within the budget. Throws only for the file. */
  append(stream: string, event: Record<string, unknown>): AppendResult;
  /** Mirrors everything appended so far (batched mode) and fsyncs when durability asks for it. */
  flush(): WriterStats;
  stats(): WriterStats;
  close(): void;
}

interface OpenStream {
  path: string;
  fd: number;
  ino: number;
  pending: number;
  dirty: boolean;
  /** A write of ours failed or was short: the file may end in our fragment, to be ended before the next line. */
  broken: boolean;
  /** When the path was last checked for rotation. */
  checkedAt: number;
  hint?: LiveHint;
}

const NEWLINE = Buffer.from('\n');

function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const b = Buffer.alloc(1);
  return readSync(fd, b, 0, 1, size - 1) === 1 && b[0] === 10;
}

/**
 * Does the file end in an unterminated line nobody has written to for
 * `graceMs`? A line another program is still writing is left alone.
 */
function staleFragment(fd: number, graceMs: number, now: number): boolean {
  const st = fstatSync(fd);
  return st.size > 0 && now - st.mtimeMs >= graceMs && !endsWithNewline(fd);
}

/** How often the path and the DB file are re-checked for rotation or replacement: a stat per append is measurable. */
const RECHECK_MS = 100;

const STREAM_RE = /^[\w.-]+$/;

/** The PostgreSQL mirror step's bounds: a lost server delays an append by at most about this much, once per retry period. */
const PG_CONNECT_MS = 500;
const PG_STATEMENT_MS = 2000;

function mirrorError(err: unknown, dbPath: string): MirrorError {
  if (isPgUrl(dbPath)) {
    const e = translatePgError(err, redact(dbPath));
    return e instanceof MirrorError ? e : new MirrorError('DB_OPEN_FAILED', `${redact(dbPath)}: ${(e as Error).message}`, { cause: err });
  }
  if (err instanceof MirrorError) return err;
  const code = sqliteCode(err) ?? '';
  if (code.startsWith('SQLITE_BUSY')) return new MirrorError('DB_LOCKED', `${dbPath} is locked by another process; appends go on, the mirror catches up later`);
  return translateOpenError(err, dbPath) as MirrorError;
}

export function createWriter(opts: WriterOptions): Writer {
  assertDir(opts.dir);
  const dbPath = opts.db ?? join(opts.dir, 'mirror.db');
  const pg = isPgUrl(dbPath);
  const mode = opts.mode ?? 'per-event';
  const budgetMs = opts.budgetMs ?? 20;
  const retryAfterMs = opts.retryAfterMs ?? 1000;
  const fragmentGraceMs = opts.fragmentGraceMs ?? 60_000;
  const batchMaxEvents = opts.batchMaxEvents ?? 1000;
  const batchMaxDelayMs = opts.batchMaxDelayMs ?? 50;
  const durability = opts.durability ?? 'none';
  const onProblem = opts.onProblem ?? ((e: MirrorError) => process.stderr.write(`jsonl-mirror: mirror skipped: ${e.message}\n`));
  const streams = new Map<string, OpenStream>();
  const counters = { appended: 0, mirrored: 0, skipped: 0 };
  let store: Store | undefined;
  let dbCheckedAt = 0;
  let nextAttempt = 0;
  let problem: MirrorError | undefined;
  let reported = new Set<string>();
  let skippedSinceSuccess = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const fsyncTimer = typeof durability === 'object'
    ? setInterval(() => {
        for (const s of streams.values()) if (s.dirty) { fsyncSync(s.fd); s.dirty = false; }
      }, durability.intervalMs).unref()
    : undefined;

  function openStream(stream: string): OpenStream {
    if (!STREAM_RE.test(stream)) {
      throw new MirrorError('INVALID_ARGUMENT', `stream name "${stream}" may only hold letters, digits, '_', '-' and '.'`);
    }
    const path = join(opts.dir, `${stream}.jsonl`);
    let s = streams.get(stream);
    const now = Date.now();
    let carried = 0;
    let recheck = !s;
    if (s && now - s.checkedAt >= RECHECK_MS) {
      s.checkedAt = now;
      recheck = true;
      const onDisk = statSync(path, { throwIfNoEntry: false });
      // Rotated or deleted under us: write to whatever is at the path now.
      if (!onDisk || onDisk.ino !== s.ino) {
        closeSync(s.fd);
        streams.delete(stream);
        carried = s.pending; // appended, not yet counted as mirrored or skipped: the next batch counts them
        s = undefined;
      }
    }
    if (!s) {
      let fd: number;
      try {
        fd = openSync(path, 'a+');
      } catch (err) {
        throw new MirrorError('WRITE_FAILED', `cannot open ${path} for appending (${(err as NodeJS.ErrnoException).code}); check the directory's permissions`, { cause: err });
      }
      s = { path, fd, ino: fstatSync(fd).ino, pending: carried, dirty: false, broken: false, checkedAt: now };
      streams.set(stream, s);
    }
    if (recheck && !s.broken) s.broken = staleFragment(s.fd, fragmentGraceMs, now);
    return s;
  }

  function report(err: MirrorError): void {
    problem = err;
    if (reported.has(err.code)) return;
    reported.add(err.code);
    onProblem(err);
  }

  /** The mirror of one stream; never throws. */
  function mirror(stream: string, s: OpenStream, events: number): boolean {
    if (opts.mirror === false) return false;
    const now = Date.now();
    if (now < nextAttempt) {
      skippedSinceSuccess += events;
      return false;
    }
    try {
      if (store && now - dbCheckedAt >= RECHECK_MS) {
        dbCheckedAt = now;
        if (store.movedOnDisk()) {
          store.close();
          store = undefined;
        }
      }
      if (!store && pg) {
        // A server that is away costs one bounded connection attempt per retry period, never a failed append.
        store = openPgStore(dbPath, { hostId: opts.hostId, migrate: false, connectMs: PG_CONNECT_MS, statementMs: PG_STATEMENT_MS });
        dbCheckedAt = now;
        for (const o of streams.values()) o.hint = undefined;
      }
      if (!store) {
        store = openStore(dbPath, { mustExist: true, busyTimeoutMs: budgetMs });
        dbCheckedAt = now;
        for (const o of streams.values()) o.hint = undefined;
      }
      s.hint = ingestLive(store, opts.dir, stream, s.fd, { maxBatches: 1, batchBytes: 256 * 1024 }, s.hint).source;
      if (skippedSinceSuccess > 0) {
        const prev = Number(store.getMeta('mirror_skips') ?? 0);
        store.setMeta('mirror_skips', String(prev + skippedSinceSuccess));
        skippedSinceSuccess = 0;
      }
      problem = undefined;
      reported = new Set();
      return true;
    } catch (err) {
      const e = mirrorError(err, dbPath);
      if (e.code !== 'DB_LOCKED' && store) {
        store.close();
        store = undefined;
      }
      report(e);
      nextAttempt = now + retryAfterMs;
      skippedSinceSuccess += events;
      return false;
    }
  }

  function flushBatch(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const [stream, s] of streams) {
      if (s.pending === 0) continue;
      const n = s.pending;
      s.pending = 0;
      if (mirror(stream, s, n)) counters.mirrored += n;
      else counters.skipped += n;
    }
  }

  const stats = (): WriterStats => ({
    ...counters,
    pending: [...streams.values()].reduce((a, s) => a + s.pending, 0),
    problem: problem?.message ?? null,
  });

  return {
    append(stream, event) {
      if (closed) throw new MirrorError('WRITE_FAILED', 'this writer is closed; create a new one');
      const serialized = serializeEvent(event);
      const s = openStream(stream);
      // Never glue a line onto a fragment: end it first, so it becomes one reject and this line stays whole.
      const line = s.broken && !endsWithNewline(s.fd) ? Buffer.concat([NEWLINE, serialized]) : serialized;
      let written: number;
      try {
        written = writeSync(s.fd, line);
        if (durability === 'fsync') fsyncSync(s.fd);
      } catch (err) {
        s.broken = true;
        throw new MirrorError('WRITE_FAILED', `cannot append to ${s.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
          'free space or fix the permissions and append again: the next append ends any fragment left first', { cause: err });
      }
      if (written !== line.length) {
        s.broken = true;
        throw new MirrorError('WRITE_FAILED', `short write to ${s.path}: ${written} of ${line.length} bytes (disk full?); ` +
          'free space and append again: the next append ends the fragment first, which becomes one rejected line');
      }
      s.broken = false;
      s.dirty = true;
      counters.appended++;
      if (mode === 'batched') {
        s.pending++;
        if (s.pending >= batchMaxEvents) flushBatch();
        else timer ??= setTimeout(flushBatch, batchMaxDelayMs);
        return { bytes: written, mirrored: false };
      }
      const mirrored = mirror(stream, s, 1);
      if (mirrored) counters.mirrored++;
      else counters.skipped++;
      return { bytes: written, mirrored };
    },
    flush() {
      flushBatch();
      if (durability !== 'none') for (const s of streams.values()) if (s.dirty) { fsyncSync(s.fd); s.dirty = false; }
      return stats();
    },
    stats,
    close() {
      if (closed) return;
      this.flush();
      closed = true;
      if (fsyncTimer) clearInterval(fsyncTimer);
      for (const s of streams.values()) closeSync(s.fd);
      streams.clear();
      store?.close();
    },
  };
}
