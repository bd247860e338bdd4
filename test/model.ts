import {
  appendFileSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync,
  unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parseStreamFile } from '../src/model/streams.js';

/**
 * The log side of the model-based tests: a live file and its rotated files,
 * changed the ways real tools change them. Every line carries its number n
 * and has the same length (so a rewrite in place can swap lines), valid
 * lines `{"ts_epoch":n,"type":"t","n":n,"p":"..."}`, malformed ones `{"broken":n,...`.
 */
export type Op =
  | 'valid' | 'bad' | 'half' | 'short' | 'rotate' | 'copytruncate' | 'copytruncate-split' | 'copytruncate-split-ingest'
  | 'tail-rewrite' | 'samesize' | 'truncate' | 'recreate'
  | 'rotate-dated' | 'rotate-olddir' | 'gzip-now' | 'gzip-delayed' | 'rename-away' | 'symlink-retarget';

/** The history folder (logrotate's olddir) the model's log folder names in its jsonl-mirror.json. */
export const HISTORY = 'old';

export const LINE_BYTES = 64;

export function validLine(n: number): string {
  const base = `{"ts_epoch":${n},"type":"t","n":${n},"p":""}`;
  return `${base.slice(0, -2)}${'x'.repeat(LINE_BYTES - 1 - base.length)}"}\n`;
}

export function badLine(n: number): string {
  const base = `{"broken":${n},`;
  return `${base}${'z'.repeat(LINE_BYTES - 1 - base.length)}\n`;
}

/** The number a line or a reject sample carries. */
export const numberOf = (text: string): number => Number(/\d+/.exec(text)![0]);

export interface Lines {
  valid: number[];
  bad: number[];
}

/** Adds the complete lines of `text` to `out`. */
export function addLines(out: Lines, text: string): void {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  for (const l of complete.split('\n')) {
    if (l === '') continue;
    if (l.startsWith('{"ts_epoch"') && l.endsWith('"}')) out.valid.push(numberOf(l));
    else out.bad.push(numberOf(l));
  }
}

/** Complete lines of every generation of stream `events` on disk: the folder's and its history folder's, archives inflated. */
export function linesInFiles(dir: string): Lines {
  const out: Lines = { valid: [], bad: [] };
  const folders = [dir, join(dir, HISTORY)].filter((d) => existsSync(d));
  for (const folder of folders) {
    for (const f of readdirSync(folder)) {
      const g = parseStreamFile(f);
      if (g?.stream !== 'events' || (folder !== dir && g.rotation === 0)) continue;
      let raw: Buffer;
      try {
        raw = readFileSync(join(folder, f));
      } catch {
        continue; // a symlink whose target was removed
      }
      addLines(out, (g.compressed ? gunzipSync(raw) : raw).toString('utf8'));
    }
  }
  return out;
}

/**
 * Applies operations to the files. `ingest` is called where an operation
 * needs the mirror caught up first (a truncation destroys lines: they count
 * only once mirrored) or between the steps of a copytruncate.
 */
export class LogModel {
  readonly live: string;
  n = 0;
  /** The rest of a line whose start was written ('half'), or a fragment a failed write left ('short'). */
  private partial: string | undefined;
  private fragment = false;
  private clock = Date.now();

  /** Names for rotations that give each generation its own: dated suffixes, moved-away files, symlink targets. */
  private stamp = 2026120100;

  constructor(readonly dir: string, private readonly ingest: () => Promise<void> | void) {
    this.live = join(dir, 'events.jsonl');
    writeFileSync(this.live, '');
    for (const d of [HISTORY, 'away', 'targets']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'jsonl-mirror.json'), JSON.stringify({ historyDir: HISTORY }));
  }

  /** Ends a half-written line (its writer finishes it) or a fragment (the next append of a writer ends it with a newline). */
  settle(): void {
    if (this.partial !== undefined) appendFileSync(this.live, this.partial);
    else if (this.fragment) appendFileSync(this.live, '\n');
    this.partial = undefined;
    this.fragment = false;
  }

  /** logrotate's renumbering, archives included, in the log folder or in the history folder. */
  private shift(folder = this.dir): void {
    const rotated = readdirSync(folder)
      .map((f) => ({ f, g: parseStreamFile(f) }))
      .filter(({ g }) => g?.stream === 'events' && g.number !== undefined)
      .sort((a, b) => b.g!.number! - a.g!.number!);
    for (const { f, g } of rotated) renameSync(join(folder, f), join(folder, `events.jsonl.${g!.number! + 1}${g!.compressed ? '.gz' : ''}`));
  }

  /** The rotated generations not yet compressed, newest first (dated by suffix, numbered by number). */
  private plainRotated(): string[] {
    const out: { path: string; order: number }[] = [];
    for (const folder of [this.dir, join(this.dir, HISTORY)]) {
      for (const f of readdirSync(folder)) {
        const g = parseStreamFile(f);
        if (g?.stream !== 'events' || g.rotation === 0 || g.compressed) continue;
        out.push({ path: join(folder, f), order: g.number !== undefined ? -g.number : Number(g.dated!.replace(/\D/g, '')) });
      }
    }
    return out.sort((a, b) => b.order - a.order).map((o) => o.path);
  }

  /** gzip: the archive beside the file, its mtime kept, the file removed. */
  private gzip(path: string): void {
    const st = statSync(path);
    writeFileSync(`${path}.gz`, gzipSync(readFileSync(path)));
    utimesSync(`${path}.gz`, st.atime, st.mtime);
    unlinkSync(path);
  }


  /** copytruncate's two steps, with `between` run after the copy. */
  async copytruncate(between?: () => Promise<void> | void): Promise<void> {
    this.shift();
    copyFileSync(this.live, `${this.live}.1`);
    await between?.();
    truncateSync(this.live, 0);
  }

  /** The mtime a write moves: steps apart by more than the filesystem's timestamp granularity. */
  private touch(path: string): void {
    this.clock += 1000;
    utimesSync(path, new Date(this.clock), new Date(this.clock));
  }

  async apply(op: Op, k: number): Promise<void> {
    if (!['valid', 'bad', 'half', 'short'].includes(op)) this.settle();
    switch (op) {
      case 'valid':
      case 'bad':
        this.settle();
        this.n++;
        appendFileSync(this.live, op === 'valid' ? validLine(this.n) : badLine(this.n));
        break;
      case 'half': {
        this.settle();
        this.n++;
        const l = validLine(this.n);
        appendFileSync(this.live, l.slice(0, 20));
        this.partial = l.slice(20);
        break;
      }
      case 'short':
        // A write cut short (a full disk): the start of a line stays, and becomes one rejected line.
        this.settle();
        this.n++;
        appendFileSync(this.live, validLine(this.n).slice(0, 12 + String(this.n).length + (k % 30)));
        this.fragment = true;
        break;
      case 'rotate':
        this.shift();
        renameSync(this.live, `${this.live}.1`);
        writeFileSync(this.live, '');
        break;
      case 'copytruncate':
        await this.copytruncate();
        break;
      case 'copytruncate-split':
      case 'copytruncate-split-ingest':
        // logrotate does not stop writers: lines written between the copy and the truncate are lost unless mirrored by then.
        await this.copytruncate(async () => {
          for (let i = 0; i <= k % 3; i++) {
            this.n++;
            appendFileSync(this.live, validLine(this.n));
          }
          if (op === 'copytruncate-split-ingest') await this.ingest();
        });
        break;
      case 'tail-rewrite': {
        // tail -n K events.jsonl > events.jsonl.rotating && mv events.jsonl.rotating events.jsonl
        const lines = readFileSync(this.live, 'utf8').split('\n').slice(0, -1);
        const keep = lines.slice(Math.max(0, lines.length - 1 - (k % Math.max(1, lines.length))));
        writeFileSync(`${this.live}.rotating`, keep.map((l) => `${l}\n`).join(''));
        renameSync(`${this.live}.rotating`, this.live);
        break;
      }
      case 'samesize': {
        // Rewritten in place: lines wholly after the first KiB and before the last 64 bytes are replaced by new ones.
        const text = readFileSync(this.live, 'utf8');
        if (text.length < 1024 + 3 * LINE_BYTES) break;
        await this.ingest();
        const lines = text.split('\n').slice(0, -1);
        const first = Math.ceil(1024 / LINE_BYTES);
        const last = lines.length - 2;
        for (let i = first; i < last; i++) {
          if (!lines[i]!.startsWith('{"ts_epoch"')) continue;
          this.n++;
          lines[i] = validLine(this.n).trimEnd();
        }
        writeFileSync(this.live, lines.map((l) => `${l}\n`).join(''));
        this.touch(this.live);
        break;
      }
      case 'truncate':
        await this.ingest();
        truncateSync(this.live, 0);
        break;
      case 'rotate-dated':
        // logrotate's dateext: the live file renamed to NAME.jsonl-DATE.
        renameSync(this.live, `${this.live}-${++this.stamp}`);
        writeFileSync(this.live, '');
        break;
      case 'rotate-olddir':
        // logrotate's olddir: the live file renamed into the history folder, its generations there renumbered.
        this.shift(join(this.dir, HISTORY));
        renameSync(this.live, join(this.dir, HISTORY, 'events.jsonl.1'));
        writeFileSync(this.live, '');
        break;
      case 'gzip-now':
      case 'gzip-delayed': {
        // compress (the newest rotated generation at once) or delaycompress (the one before it).
        const target = this.plainRotated()[op === 'gzip-now' ? 0 : 1];
        if (target) this.gzip(target);
        break;
      }
      case 'rename-away': {
        // Renamed to a name no listing knows (moved out of the folder): only a reader that kept it open can drain it.
        renameSync(this.live, join(this.dir, 'away', `events-${++this.stamp}.log`));
        writeFileSync(this.live, '');
        break;
      }
      case 'symlink-retarget': {
        // rotatelogs/cronolog: the live name is a symlink, switched to a new target; the old target stays where it is.
        // Absolute targets: a rotation may rename the link itself into the history folder.
        const next = join(this.dir, 'targets', `gen-${++this.stamp}.log`);
        if (!lstatSync(this.live).isSymbolicLink()) {
          const first = join(this.dir, 'targets', `gen-${++this.stamp}.log`);
          renameSync(this.live, first);
          symlinkSync(first, this.live);
        }
        writeFileSync(next, '');
        symlinkSync(next, `${this.live}.switch`);
        renameSync(`${this.live}.switch`, this.live);
        break;
      }
      case 'recreate':
        await this.ingest();
        rmSync(this.live);
        writeFileSync(this.live, '');
        break;
    }
  }

  /** The truncate-inside-a-pass operation: a copytruncate done from inside the ingest's read of a file. */
  copytruncateNow(): void {
    this.shift();
    copyFileSync(this.live, `${this.live}.1`);
    truncateSync(this.live, 0);
  }

  get exists(): boolean {
    return existsSync(this.live);
  }
}

const w = (weight: number, op: string) => ({ weight, arbitrary: fc.constant(op) });

/** Random sequences of the operations, each with a small number that sizes it. */
export function opsArbitrary<T extends string>(extra: { weight: number; op: T }[]) {
  const ops: [number, Op][] = [
    [12, 'valid'], [2, 'bad'], [2, 'half'], [1, 'short'], [2, 'rotate'], [1, 'copytruncate'], [1, 'copytruncate-split'],
    [1, 'copytruncate-split-ingest'], [2, 'tail-rewrite'], [1, 'samesize'], [1, 'truncate'], [1, 'recreate'],
    [1, 'rotate-dated'], [1, 'rotate-olddir'], [1, 'gzip-now'], [1, 'gzip-delayed'], [1, 'rename-away'], [1, 'symlink-retarget'],
  ];
  return fc.array(
    fc.tuple(
      fc.oneof(
        ...ops.map(([weight, op]) => w(weight, op)),
        ...extra.map((e) => w(e.weight, e.op)),
      ) as fc.Arbitrary<Op | T>,
      fc.nat(1000),
    ),
    { minLength: 5, maxLength: 40 },
  );
}
