import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { MirrorError } from '../errors.js';
import { assertDir } from '../ingest/layout.js';
import { Batcher } from './batcher.js';
import { DurabilityPolicy, type Durability } from './durability.js';
import { MirrorStep } from './mirror-step.js';
import { serializeEvent } from './serialize.js';
import { endsWithNewline, StreamFiles } from './streams.js';

export type { Durability } from './durability.js';

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
  /**
   * Lines the mirror steps found malformed and mirrored as rejects: a line of
   * ours glued onto another writer's unfinished line, or another writer's bad line.
   */
  rejected: number;
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

const NEWLINE = Buffer.from('\n');

/**
 * The dual writer: each event is appended to its stream's file first (the
 * file is the truth), then mirrored per event or in groups. The jobs live
 * beside it: streams.ts (open files, rotation, fragments), durability.ts
 * (fsync), mirror-step.ts (the connection and one mirror step), batcher.ts
 * (group commit).
 */
export function createWriter(opts: WriterOptions): Writer {
  assertDir(opts.dir);
  const mode = opts.mode ?? 'per-event';
  const files = new StreamFiles(opts.dir, opts.fragmentGraceMs ?? 60_000);
  const durability = new DurabilityPolicy(opts.durability ?? 'none', files);
  const counters = { appended: 0, mirrored: 0, skipped: 0 };
  const step = new MirrorStep({
    enabled: opts.mirror !== false,
    dir: opts.dir,
    dbPath: opts.db ?? join(opts.dir, 'mirror.db'),
    files,
    budgetMs: opts.budgetMs ?? 20,
    retryAfterMs: opts.retryAfterMs ?? 1000,
    hostId: opts.hostId,
    onProblem: opts.onProblem ?? ((e: MirrorError) => process.stderr.write(`jsonl-mirror: mirror skipped: ${e.message}\n`)),
  });
  const batcher = new Batcher(files, step, counters, opts.batchMaxEvents ?? 1000, opts.batchMaxDelayMs ?? 50);
  let closed = false;

  const stats = (): WriterStats => ({
    ...counters,
    pending: [...files.values()].reduce((a, s) => a + s.pending, 0),
    rejected: step.rejected,
    problem: step.problem?.message ?? null,
  });

  return {
    append(stream, event) {
      if (closed) throw new MirrorError('WRITE_FAILED', 'this writer is closed; create a new one');
      const serialized = serializeEvent(event);
      const s = files.get(stream);
      // Never glue a line onto a fragment: end it first, so it becomes one reject and this line stays whole.
      const line = s.broken && !endsWithNewline(s.fd) ? Buffer.concat([NEWLINE, serialized]) : serialized;
      let written: number;
      try {
        written = writeSync(s.fd, line);
        durability.afterWrite(s.fd);
      } catch (err) {
        s.broken = true;
        s.own = null;
        throw new MirrorError('WRITE_FAILED', `cannot append to ${s.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
          'free space or fix the permissions and append again: the next append ends any fragment left first', { cause: err });
      }
      if (written !== line.length) {
        s.broken = true;
        s.own = null;
        throw new MirrorError('WRITE_FAILED', `short write to ${s.path}: ${written} of ${line.length} bytes (disk full?); ` +
          'free space and append again: the next append ends the fragment first, which becomes one rejected line');
      }
      s.broken = false;
      s.dirty = true;
      // The fast path knows this file's new bytes only while every one of them is a whole line of ours.
      if (s.own !== null && line === serialized) s.own.lines.push(serialized);
      else s.own = null;
      counters.appended++;
      if (mode === 'batched') {
        batcher.add(s);
        return { bytes: written, mirrored: false };
      }
      const mirrored = step.run(stream, s, 1);
      if (mirrored) counters.mirrored++;
      else counters.skipped++;
      return { bytes: written, mirrored };
    },
    flush() {
      batcher.flush();
      durability.flush();
      return stats();
    },
    stats,
    close() {
      if (closed) return;
      this.flush();
      closed = true;
      durability.stop();
      files.closeAll();
      step.close();
    },
  };
}
