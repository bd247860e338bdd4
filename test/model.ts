import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/**
 * The log side of the model-based tests: a live file and its rotated files,
 * changed the ways real tools change them. Every line carries its number n
 * and has the same length (so a rewrite in place can swap lines), valid
 * lines `{"ts_epoch":n,"type":"t","n":n,"p":"..."}`, malformed ones `{"broken":n,...`.
 */
export type Op =
  | 'valid' | 'bad' | 'half' | 'short' | 'rotate' | 'copytruncate' | 'copytruncate-split' | 'copytruncate-split-ingest'
  | 'tail-rewrite' | 'samesize' | 'truncate' | 'recreate';

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

/** Complete lines of every file of stream `events`. */
export function linesInFiles(dir: string): Lines {
  const out: Lines = { valid: [], bad: [] };
  for (const f of readdirSync(dir)) {
    if (!/^events\.jsonl(\.\d+)?$/.test(f)) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const l of complete.split('\n')) {
      if (l === '') continue;
      if (l.startsWith('{"ts_epoch"') && l.endsWith('"}')) out.valid.push(numberOf(l));
      else out.bad.push(numberOf(l));
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

  constructor(readonly dir: string, private readonly ingest: () => Promise<void> | void) {
    this.live = join(dir, 'events.jsonl');
    writeFileSync(this.live, '');
  }

  /** Ends a half-written line (its writer finishes it) or a fragment (the next append of a writer ends it with a newline). */
  settle(): void {
    if (this.partial !== undefined) appendFileSync(this.live, this.partial);
    else if (this.fragment) appendFileSync(this.live, '\n');
    this.partial = undefined;
    this.fragment = false;
  }

  private shift(): void {
    const rotated = readdirSync(this.dir).filter((f) => /^events\.jsonl\.\d+$/.test(f)).map((f) => Number(f.split('.').pop())).sort((a, b) => b - a);
    for (const k of rotated) renameSync(`${this.live}.${k}`, `${this.live}.${k + 1}`);
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
  return fc.array(
    fc.tuple(
      fc.oneof(
        w(12, 'valid'), w(2, 'bad'), w(2, 'half'), w(1, 'short'), w(2, 'rotate'), w(1, 'copytruncate'), w(1, 'copytruncate-split'),
        w(1, 'copytruncate-split-ingest'), w(2, 'tail-rewrite'), w(1, 'samesize'), w(1, 'truncate'), w(1, 'recreate'),
        ...extra.map((e) => w(e.weight, e.op)),
      ) as fc.Arbitrary<Op | T>,
      fc.nat(1000),
    ),
    { minLength: 5, maxLength: 40 },
  );
}
