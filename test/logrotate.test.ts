import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CLI, withSql } from './helpers.js';

/*
 * Issue 21's acceptance test: Debian's own logrotate (installed by
 * .ci/system-deps; without it these tests fail, never skip) rotates a live
 * events.jsonl six times while a bash `echo >>` loop and one long-lived
 * `jsonl-mirror append events -` write lines with unique seqs, and either
 * `jsonl-mirror tail` follows or `jsonl-mirror import` runs between the
 * rotations. Every line a file holds at the end must be exactly one row, the
 * writers must have lost no line from disk, verify must pass, and a fresh
 * `import --final` must hold every line on disk once.
 */

const ROTATIONS = 6;
const SH = 100_000;
const APPEND = 200_000;
const TS = 1767225600;
const event = (seq: number): string => `{"type":"t","ts_epoch":${TS},"seq":${seq}}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Lines the live log must hold before each rotation, beside the gap: on a
 * loaded machine the writers may write a tenth of their usual rate, and a
 * generation of a few lines tests little (rotate 2's check that its deleted
 * generations held lines failed so: 523 lines written, 452 on disk).
 */
const MIN_LINES_PER_GENERATION = 60;

/** Waits until `file` holds at least `n` lines, or says how far the writers got. */
async function untilLines(file: string, n: number, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);
  while (lines() < n) {
    if (Date.now() > end) throw new Error(`the writers put ${lines()} lines into ${file} in ${ms} ms; a generation needs ${n}`);
    await sleep(20);
  }
}

interface Mode {
  name: string;
  /** logrotate directives beside rotate, missingok, nomail; `hist` is the history folder (olddir). */
  directives: (hist: string) => string[];
  /** How many generations logrotate keeps. */
  keep: number;
  /** ms between rotations: dateext names a generation by the second, so two may not share one. */
  gapMs: number;
  /** logrotate's olddir: the running processes are told of the folder by JSONL_MIRROR_HISTORY_DIR, the fresh import by --history-dir. */
  history?: boolean;
  /**
   * What a correct mirror cannot keep on disk: `deleted` (rotate 2 deletes the
   * oldest generations: the rows stay as history), `copy-window` (copytruncate
   * loses the lines written between its copy and its truncate, logrotate's
   * documented limitation: those lines are in no file), `in-flight`
   * (compress without delaycompress deletes a generation the moment it is
   * renamed: a write in flight at that moment is lost, see inFlight()).
   */
  loses?: 'deleted' | 'copy-window' | 'in-flight';
  /** The rotated files logrotate leaves, sorted, a dateext stamp written DATE. */
  generations: string[];
}

const DATED = 'dateformat -%Y%m%d%H%M%S';
/** events.jsonl.FROM .. events.jsonl.TO, each with ext. */
const numbered = (from: number, to: number, ext = ''): string[] => Array.from({ length: to - from + 1 }, (_, k) => `events.jsonl.${from + k}${ext}`);
const dated = (n: number, ext = ''): string[] => Array.from({ length: n }, () => `events.jsonl-DATE${ext}`);
const MODES: Mode[] = [
  { name: 'create', directives: () => ['create'], keep: 10, gapMs: 400, generations: numbered(1, 6) },
  {
    name: 'create + compress + delaycompress', directives: () => ['create', 'compress', 'delaycompress'], keep: 10, gapMs: 400,
    generations: [...numbered(1, 1), ...numbered(2, 6, '.gz')],
  },
  {
    name: 'create + compress', directives: () => ['create', 'compress'], keep: 10, gapMs: 400, loses: 'in-flight',
    generations: numbered(1, 6, '.gz'),
  },
  { name: 'create + dateext', directives: () => ['create', 'dateext', DATED], keep: 10, gapMs: 1100, generations: dated(6) },
  {
    name: 'create + dateext + compress + delaycompress', directives: () => ['create', 'dateext', DATED, 'compress', 'delaycompress'], keep: 10,
    gapMs: 1100, generations: [...dated(1), ...dated(5, '.gz')],
  },
  {
    name: 'create + olddir DIR', directives: (hist) => ['create', `olddir ${hist}`], keep: 10, gapMs: 400, history: true,
    generations: numbered(1, 6).map((n) => `old/${n}`),
  },
  { name: 'copytruncate', directives: () => ['copytruncate'], keep: 10, gapMs: 400, loses: 'copy-window', generations: numbered(1, 6) },
  { name: 'create + rotate 2', directives: () => ['create'], keep: 2, gapMs: 400, loses: 'deleted', generations: numbered(1, 2) },
];

/** logrotate lives in /usr/sbin, which a non-root PATH often lacks. */
function logrotateBin(): string {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']) {
    try {
      accessSync(join(d, 'logrotate'), constants.X_OK);
      return join(d, 'logrotate');
    } catch {
      // not in this folder
    }
  }
  throw new Error('logrotate is not installed: run .ci/system-deps (Debian package logrotate)');
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function exited(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((r) => p.once('exit', (code) => r(code)));
}

function collect(p: ChildProcess): { out: string; err: string } {
  const got = { out: '', err: '' };
  p.stdout?.on('data', (d) => (got.out += d));
  p.stderr?.on('data', (d) => (got.err += d));
  return got;
}

/** seq -> the files (names relative to the log directory) holding its line; .gz read with node:zlib. */
function linesOnDisk(dir: string, hist: string | undefined): Map<number, string[]> {
  const where = new Map<number, string[]>();
  const files = readdirSync(dir).filter((n) => n.startsWith('events.jsonl')).map((n) => [n, join(dir, n)]);
  if (hist && existsSync(hist)) files.push(...readdirSync(hist).filter((n) => n.startsWith('events.jsonl')).map((n) => [`old/${n}`, join(hist, n)]));
  for (const [name, path] of files) {
    const raw = readFileSync(path!);
    const text = (name!.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const l of text.split('\n')) {
      if (l === '') continue;
      const seq = JSON.parse(l).seq as number;
      where.set(seq, [...(where.get(seq) ?? []), name!]);
    }
  }
  return where;
}

function rowsOf(db: string): { seqs: number[]; rejects: number } {
  return withSql(db, (c) => ({
    seqs: (c.prepare('SELECT line FROM events').all() as { line: string }[]).map((r) => JSON.parse(r.line).seq as number),
    rejects: (c.prepare('SELECT COUNT(*) AS n FROM rejects').get() as { n: number }).n,
  }));
}

/** The mirror's seqs, or none while another process is still creating it. */
function seqsNow(db: string): Set<number> {
  try {
    return new Set(existsSync(db) ? rowsOf(db).seqs : []);
  } catch {
    return new Set();
  }
}

function counts(xs: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

const writerOf = (seq: number): string => (seq >= APPEND ? 'append' : seq >= SH ? 'sh' : 'seed');
const writerBase = (seq: number): number => (seq >= APPEND ? APPEND : seq >= SH ? SH : 0);

/** The files holding the nearest lines of the same writer before and after `seq` (undefined: none). */
function around(seq: number, disk: Map<number, string[]>, last: number): [string | undefined, string | undefined] {
  let before: string | undefined;
  let after: string | undefined;
  for (let s = seq - 1; s > writerBase(seq) && !before; s--) before = disk.get(s)?.join('+');
  for (let s = seq + 1; s <= last && writerOf(s) === writerOf(seq) && !after; s++) after = disk.get(s)?.join('+');
  return [before, after];
}

/** Seqs grouped by the file that holds them, or for a line in no file the files of its writer's lines around it: a failure names the generation. */
function byFile(seqs: number[], disk: Map<number, string[]>): Record<string, string> {
  const last = Math.max(0, ...seqs, ...disk.keys());
  const groups: Record<string, number[]> = {};
  for (const s of [...seqs].sort((a, b) => a - b)) {
    const at = disk.get(s)?.join('+') ?? ((n) => `nowhere, between ${n[0] ?? 'the start'} and ${n[1] ?? 'the end'}`)(around(s, disk, last));
    (groups[at] ??= []).push(s);
  }
  return Object.fromEntries(Object.entries(groups).map(([f, s]) => [f, `${s.length}: ${s.slice(0, 8).join(' ')}${s.length > 8 ? ' …' : ''}`]));
}

/**
 * Written lines missing from disk after the writer's oldest line still in a
 * generation (rotate 2 deletes only whole, older generations; a .backup
 * logrotate made of a recreated log is never deleted, so it does not count).
 */
function lostFromDisk(written: number[], disk: Map<number, string[]>): number[] {
  const oldest = new Map<string, number>();
  for (const [s, files] of disk) {
    if (files.some((f) => !f.endsWith('.backup'))) oldest.set(writerOf(s), Math.min(oldest.get(writerOf(s)) ?? Infinity, s));
  }
  return written.filter((s) => !disk.has(s) && s > (oldest.get(writerOf(s)) ?? Infinity));
}

/**
 * Lost lines that were a writer's one write in flight at a rotation: the
 * line before it is in one generation, the line after it in the next. A
 * writer that checks the path before each write still loses such a line
 * when logrotate renames, gzips and deletes the file between its check and
 * its write, and so does `echo >>` between its open and its write.
 */
function inFlight(lost: number[], disk: Map<number, string[]>): Set<number> {
  return new Set(lost.filter((s) => writerOf(s - 1) === writerOf(s) && disk.has(s - 1) && disk.has(s + 1) &&
    disk.get(s - 1)!.join('+') !== disk.get(s + 1)!.join('+')));
}

interface Outcome {
  written: number[];
  disk: Map<number, string[]>;
  generations: string[];
  mirror: { seqs: number[]; rejects: number };
  verify: Ran & { json: any };
  fresh: { code: number; stderr: string; seqs: number[]; rejects: number };
}

/**
 * Six logrotate runs over a live events.jsonl written by a bash loop and an
 * `append -` process, followed by `tail` or by an `import` between
 * rotations; returns what the writers acknowledged, what is on disk and
 * what the mirrors hold.
 */
async function rotateLive(mode: Mode, follow: 'tail' | 'import'): Promise<Outcome> {
  const logrotate = logrotateBin();
  // Not helpers.tmp(): its afterEach would remove the folders of the tests still running beside this one.
  const dir = mkdtempSync(join(tmpdir(), 'jm-lr-'));
  const etc = mkdtempSync(join(tmpdir(), 'jm-lr-etc-'));
  const hist = join(dir, 'old');
  const { JSONL_MIRROR_HISTORY_DIR: _, ...plain } = process.env;
  const env = { ...plain, ...(mode.history ? { JSONL_MIRROR_HISTORY_DIR: hist } : {}) };
  if (mode.history) mkdirSync(hist);
  const conf = join(etc, 'logrotate.conf');
  const directives = [`rotate ${mode.keep}`, 'missingok', 'nomail', ...mode.directives(hist)];
  writeFileSync(conf, `${join(dir, 'events.jsonl')} {\n${directives.map((d) => `  ${d}\n`).join('')}}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'events.jsonl'), event(1));
  const jm = (args: string[]) => exec(process.execPath, [CLI, '--dir', dir, ...args], env);
  const db = join(dir, 'mirror.db');

  const procs: ChildProcess[] = [];
  const start = (file: string, args: string[], opts: { cwd?: string; stdin?: boolean } = {}) => {
    const p = spawn(file, args, { cwd: opts.cwd, env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    procs.push(p);
    return p;
  };
  const stop = join(etc, 'stop');
  try {
    const tail = follow === 'tail' ? start(process.execPath, [CLI, '--dir', dir, 'tail', '--poll-interval', '100']) : undefined;
    const tailOut = tail && collect(tail);
    if (tail) {
      // The writers start once the tailer follows the log (it has mirrored the first line), as on a host where it runs already.
      const end = Date.now() + 20_000;
      while (!seqsNow(db).has(1)) {
        if (Date.now() > end || tail.exitCode !== null) throw new Error(`the tailer did not start: ${tailOut!.err}`);
        await sleep(50);
      }
    } else {
      const first = await jm(['import']);
      expect(first.code, first.stderr).toBe(0);
    }
    // `echo >>` opens, appends and closes per line; it prints the seq once the echo succeeded.
    const sh = start('bash', ['-c',
      `i=0; while [ ! -e "${stop}" ]; do i=$((i+1)); s=$((${SH}+i)); ` +
      `if echo "{\\"type\\":\\"t\\",\\"ts_epoch\\":${TS},\\"seq\\":$s}" >> events.jsonl; then echo $s; fi; sleep 0.004; done`], { cwd: dir });
    const shOut = collect(sh);
    const app = start(process.execPath, [CLI, '--dir', dir, 'append', 'events', '-', '--json'], { stdin: true });
    const appOut = collect(app);
    app.stdin!.on('error', () => {}); // a writer that died is reported by its exit code below
    let sent = 0;
    const feed = setInterval(() => app.stdin!.write(JSON.stringify({ type: 't', ts_epoch: TS, seq: APPEND + ++sent }) + '\n'), 4);

    try {
      for (let r = 0; r < ROTATIONS; r++) {
        await sleep(mode.gapMs / 2);
        if (follow === 'import') {
          const i = await jm(['import']);
          expect(i.code, i.stderr).toBe(0);
        }
        await sleep(mode.gapMs / 2);
        await untilLines(join(dir, 'events.jsonl'), MIN_LINES_PER_GENERATION);
        const lr = await exec(logrotate, ['-f', '-s', join(etc, 'logrotate.state'), conf], env);
        expect(lr.code, `logrotate: ${lr.stderr}`).toBe(0);
      }
      await sleep(mode.gapMs / 2);
    } finally {
      clearInterval(feed);
      app.stdin!.end();
      writeFileSync(stop, '');
    }
    expect(await exited(sh), shOut.err).toBe(0);
    expect(await exited(app), appOut.err).toBe(0);
    // Every line given to `append -` was acknowledged: appended, none refused.
    expect(JSON.parse(appOut.out)).toMatchObject({ appended: sent, refused: [] });
    const written = [1, ...shOut.out.split('\n').filter(Boolean).map(Number), ...Array.from({ length: sent }, (_, k) => APPEND + k + 1)];

    const disk = linesOnDisk(dir, mode.history ? hist : undefined);
    if (tail) {
      // The tailer drains what the rotations left; a correct one is done in well under a second.
      const end = Date.now() + 8000;
      const drained = () => ((rows: Set<number>) => [...disk.keys()].every((k) => rows.has(k)))(seqsNow(db));
      while (Date.now() < end && !drained()) await sleep(100);
      await sleep(300);
      tail.kill('SIGTERM');
      expect(await exited(tail), tailOut!.err).toBe(0);
    } else {
      const last = await jm(['import']);
      expect(last.code, last.stderr).toBe(0);
    }

    const verified = await jm(['verify', '--json']);
    const freshDb = join(etc, 'fresh.db');
    const fresh = await exec(process.execPath, [CLI, '--dir', dir, '--db', freshDb, ...(mode.history ? ['--history-dir', hist] : []), 'import', '--final'], plain);
    const generations = [...new Set([...disk.values()].flat())].filter((f) => f !== 'events.jsonl').sort();
    return {
      written,
      disk,
      generations,
      mirror: rowsOf(db),
      verify: { ...verified, json: JSON.parse(verified.stdout || 'null') },
      fresh: { code: fresh.code ?? -1, stderr: fresh.stderr, ...(existsSync(freshDb) ? rowsOf(freshDb) : { seqs: [], rejects: -1 }) },
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all(procs.map(exited));
    rmSync(dir, { recursive: true, force: true });
    rmSync(etc, { recursive: true, force: true });
  }
}

/** A check a mode's own loss makes meaningless (see Mode.loses); another check covers what it would. */
const NOT_CHECKED = 'not checked in this mode';

/** What was found, in the words of the promise, so one failure shows every break at once. */
function findings(mode: Mode, o: Outcome) {
  const written = new Set(o.written);
  const rows = counts(o.mirror.seqs);
  const freshRows = counts(o.fresh.seqs);
  const onDisk = [...o.disk.keys()];
  const lost = lostFromDisk(o.written, o.disk);
  const excused = mode.loses === 'in-flight' ? inFlight(lost, o.disk) : new Set<number>();
  return {
    // A .backup is logrotate's answer to a writer that recreated the log between its rename and its create; its lines are checked as any.
    generations: o.generations.filter((f) => !f.endsWith('.backup')).map((f) => f.replace(/-\d{14}/, '-DATE')).sort(),
    duplicatedOnDisk: byFile(onDisk.filter((s) => o.disk.get(s)!.length > 1), o.disk),
    lostFromDisk: mode.loses === 'copy-window' ? NOT_CHECKED : byFile(lost.filter((s) => !excused.has(s)), o.disk),
    rowMissing: byFile(onDisk.filter((s) => !rows.has(s)), o.disk),
    rowDuplicated: byFile([...rows].filter(([, n]) => n > 1).map(([s]) => s), o.disk),
    rowNeverWritten: byFile([...rows.keys()].filter((s) => !written.has(s)), o.disk),
    // A line in no file is a row only as the history of a generation the mirror read before it went.
    rowNotOnDisk: mode.loses === 'copy-window' || mode.loses === 'deleted' ? NOT_CHECKED :
      byFile([...rows.keys()].filter((s) => !o.disk.has(s) && !excused.has(s)), o.disk),
    // rotate 2: every line written is a row, those of the deleted generations kept as history.
    writtenNotRow: mode.loses === 'deleted' ? byFile(o.written.filter((s) => !rows.has(s)), o.disk) : NOT_CHECKED,
    rejects: o.mirror.rejects,
    verify: { code: o.verify.code, ok: o.verify.json?.ok, problems: (o.verify.json?.problems ?? []).slice(0, 5) },
    fresh: {
      code: o.fresh.code,
      ...(o.fresh.code === 0 ? {} : { error: o.fresh.stderr }),
      missing: byFile(onDisk.filter((s) => !freshRows.has(s)), o.disk),
      duplicated: byFile([...freshRows].filter(([, n]) => n > 1).map(([s]) => s), o.disk),
      notOnDisk: byFile([...freshRows.keys()].filter((s) => !o.disk.has(s)), o.disk),
      rejects: o.fresh.rejects,
    },
  };
}

function expected(mode: Mode) {
  return {
    generations: mode.generations,
    duplicatedOnDisk: {},
    lostFromDisk: mode.loses === 'copy-window' ? NOT_CHECKED : {},
    rowMissing: {},
    rowDuplicated: {},
    rowNeverWritten: {},
    rowNotOnDisk: mode.loses === 'copy-window' || mode.loses === 'deleted' ? NOT_CHECKED : {},
    writtenNotRow: mode.loses === 'deleted' ? {} : NOT_CHECKED,
    rejects: 0,
    verify: { code: 0, ok: true, problems: [] },
    fresh: { code: 0, missing: {}, duplicated: {}, notOnDisk: {}, rejects: 0 },
  };
}

/** Two runs at a time: more would starve the writers and the tailer of the two cores CI has. */
const slots = { free: 2, waiting: [] as (() => void)[] };
async function inSlot<T>(fn: () => Promise<T>): Promise<T> {
  while (slots.free === 0) await new Promise<void>((r) => slots.waiting.push(r));
  slots.free--;
  try {
    return await fn();
  } finally {
    slots.free++;
    slots.waiting.shift()?.();
  }
}

describe.concurrent('logrotate rotating a live log six times, two writers running', () => {
  for (const mode of MODES) {
    for (const follow of ['tail', 'import'] as const) {
      it(`${mode.name}, ${follow === 'tail' ? 'tail following' : 'import between rotations'}: every line on disk is one row, verify passes, a fresh import agrees`, async () => {
        const o = await inSlot(() => rotateLive(mode, follow));
        // rotate 2 keeps three of the seven generations.
        expect(o.disk.size).toBeGreaterThan(mode.loses === 'deleted' ? 100 : 300);
        if (mode.loses === 'deleted') expect(o.written.length).toBeGreaterThan(o.disk.size + 100);
        expect(findings(mode, o)).toEqual(expected(mode));
      });
    }
  }
});

