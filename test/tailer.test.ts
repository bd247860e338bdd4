import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importAll } from '../src/import/import.js';
import { verifyMirror } from '../src/ops/verify.js';
import { openStore } from '../src/store/open.js';
import { createTailer, type Tailer } from '../src/tailer/tailer.js';
import { CLI, cli, tmp, withSql } from './helpers.js';
import { linesInFiles, LogModel, numberOf, opsArbitrary, type Op } from './model.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function count(db: string, table: 'events' | 'rejects' = 'events'): number {
  if (!existsSync(db)) return -1;
  try {
    const s = openStore(db, { readonly: true, busyTimeoutMs: 1000 });
    try {
      return table === 'events' ? s.countEvents() : s.countRejects();
    } finally {
      s.close();
    }
  } catch {
    return -1;
  }
}

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function withTailer(dir: string, fn: (t: Tailer) => Promise<void>, pollIntervalMs = 200): Promise<void> {
  const t = createTailer({ dir, pollIntervalMs, onError: () => {} });
  await t.start();
  try {
    await fn(t);
  } finally {
    await t.stop();
  }
}

const line = (n: number, extra = '') => `{"ts_epoch":${n},"type":"t","n":${n}${extra}}\n`;

describe('tailer (library)', () => {
  it('catches up on start, follows appends, and feeds each committed batch in log order', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), line(1) + line(2));
    await withTailer(dir, async (t) => {
      await t.idle();
      expect(count(join(dir, 'mirror.db'))).toBe(2);
      const seen: unknown[] = [];
      t.subscribe((b) => seen.push(...b.events.map((e) => e.n)));
      appendFileSync(join(dir, 'events.jsonl'), line(4) + line(3));
      await until('the feed', () => seen.length === 2);
      expect(seen).toEqual([3, 4]); // log order: by ts_epoch
    });
  });

  it('two appends 1 ms apart, a burst of 10,000 lines in a second, and a line finished 10 s later are all ingested', async () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    writeFileSync(join(dir, 'events.jsonl'), '');
    await withTailer(dir, async () => {
      appendFileSync(join(dir, 'events.jsonl'), line(1));
      await sleep(1);
      appendFileSync(join(dir, 'events.jsonl'), line(2));
      await until('two quick appends', () => count(db) === 2);
      for (let k = 0; k < 20; k++) {
        appendFileSync(join(dir, 'events.jsonl'), Array.from({ length: 500 }, (_, i) => line(1000 + k * 500 + i)).join(''));
        await sleep(50);
      }
      await until('the burst', () => count(db) === 10_002);
      appendFileSync(join(dir, 'events.jsonl'), '{"ts_epoch":5,"type":"slow",');
      await sleep(10_000);
      expect(count(db)).toBe(10_002);
      appendFileSync(join(dir, 'events.jsonl'), '"n":5}\n');
      await until('the slow line', () => count(db) === 10_003);
    });
  });

  it('an async iterator sees batches committed by another writer of the mirror too', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '');
    await withTailer(dir, async (t) => {
      const it = t[Symbol.asyncIterator]();
      expect(cli(['--dir', dir, 'append', 'events', '{"type":"from.writer"}']).code).toBe(0);
      const first = await it.next();
      expect(first.value.events[0].type).toBe('from.writer');
      await it.return!();
    });
  });

  it('reports lag per file while running', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), line(1));
    await withTailer(dir, async (t) => {
      await t.idle();
      const s = t.stats();
      expect(s.rows).toBe(1);
      expect(s.files).toEqual([expect.objectContaining({ path: 'events.jsonl', lagBytes: 0, lagSeconds: 0 })]);
    });
  });
});

describe('jsonl-mirror tail (CLI)', () => {
  it('allows one tailer per mirror, shows it in status, and stops cleanly on SIGTERM', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), line(1));
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    await until('the tailer', () => count(join(dir, 'mirror.db')) === 1);
    const second = cli(['--dir', dir, 'tail']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/a tailer already runs on .* \(pid \d+/);
    expect(cli(['--dir', dir, 'status', '--json']).json.tailer.pid).toBe(p.pid);
    p.kill('SIGTERM');
    const code = await new Promise((r) => p.on('exit', r));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ rows: 1, rejects: 0 });
    expect(cli(['--dir', dir, 'status', '--json']).json.tailer).toBeNull();
  });
});

type TailOp = Op | 'kill' | 'deletedb' | 'pause' | 'import';

describe('tailer model: random sequences of appends, rotations, rewrites, truncations, crashes and DB loss', () => {
  it('ends with every complete valid line exactly once in log order, and every malformed line one reject', async () => {
    const ops = opsArbitrary<TailOp>([{ weight: 1, op: 'kill' }, { weight: 1, op: 'deletedb' }, { weight: 2, op: 'pause' }, { weight: 1, op: 'import' }]);
    // Replay a failure with TAILER_SEED=<seed> TAILER_PATH=<path> from the report.
    await fc.assert(fc.asyncProperty(ops, async (seq) => withWatchdog(seq)), {
      numRuns: Number(process.env.TAILER_RUNS ?? 30),
      verbose: 1,
      // Shrinking a failure under load can outlast the test's timeout, which then reports nothing: stop and report what it has.
      interruptAfterTimeLimit: 240_000,
      markInterruptAsFailure: true,
      ...(process.env.TAILER_SEED ? { seed: Number(process.env.TAILER_SEED), path: process.env.TAILER_PATH } : {}),
    });
    // Alone it takes ~10 s; next to the suite's heavy tests (the 1M-line crash import) the tailer's rounds slow many times over.
  }, Math.max(300_000, Number(process.env.TAILER_RUNS ?? 30) * 10_000));
});

const sortedNums = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

/** A run alone takes well under a second: one that hangs fails with its sequence and where it stood, so fast-check reports and shrinks it. */
async function withWatchdog(seq: [TailOp, number][]): Promise<void> {
  const where = { step: 'start' };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a run hung for 120 s at ${where.step} (${JSON.stringify(seq)})`)), 120_000);
  });
  try {
    await Promise.race([runModel(seq, where), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The same operations with a real tailer process running (and now and then an
 * `import` from this process at the same time). Lines a rotation dropped
 * before the tailer saw them may or may not be in the mirror; every other
 * line must be there exactly once.
 */
async function runModel(seq: [TailOp, number][], where: { step: string }): Promise<void> {
  const dir = tmp();
  const db = join(dir, 'mirror.db');
  const must = { valid: new Set<number>(), bad: new Set<number>() };
  const maybe = { valid: new Set<number>(), bad: new Set<number>() };
  let tailer: ChildProcess | undefined;
  const tailerLog = join(tmp(), 'tail.log');
  /** A tailer that died of a signal we did not send (a crash): the run fails with it, not with a later timeout. */
  let crashed: string | undefined;
  const start = async () => {
    const fd = openSync(tailerLog, 'a');
    const t = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--poll-interval', '50'], { stdio: ['ignore', 'ignore', fd] });
    t.once('exit', (code, signal) => {
      if (signal !== null && !t.killed) crashed = `the tailer died of ${signal} (exit ${code}): ${readFileSync(tailerLog, 'utf8').replace(/\n/g, ' ')}`;
    });
    tailer = t;
    closeSync(fd);
    await sleep(30);
  };
  const state = () => {
    try {
      const s = openStore(db, { readonly: true, busyTimeoutMs: 1000 });
      try {
        const rows = (withSql(db, (conn) => conn.prepare('SELECT line FROM events').all()) as { line: string }[]).map((r) => numberOf(r.line));
        const rejects = (withSql(db, (conn) => conn.prepare('SELECT sample FROM rejects').all()) as { sample: string }[]).map((r) => numberOf(r.sample));
        return { rows, rejects, ok: verifyMirror(s, dir).ok };
      } finally {
        s.close();
      }
    } catch {
      return undefined;
    }
  };
  const complete = () => {
    const now = linesInFiles(dir);
    const have = state();
    if (!have || !have.ok) return false;
    const rows = new Set(have.rows);
    const rejects = new Set(have.rejects);
    return now.valid.every((n) => rows.has(n)) && now.bad.every((n) => rejects.has(n)) &&
      [...must.valid].every((n) => rows.has(n)) && [...must.bad].every((n) => rejects.has(n));
  };
  /** Waits until the mirror holds every complete line in the files; they then count as mirrored for good. */
  const caughtUp = async () => {
    model.settle(); // a half line or a fragment cannot be mirrored yet
    if (!tailer) await start();
    try {
      // 30 s, not until's 10: next to the suite's heaviest tests a catch-up takes several times its usual second.
      await until(`catch-up (${JSON.stringify(seq)})`, complete, 30_000);
    } catch (err) {
      const said = readFileSync(tailerLog, 'utf8').replace(/\n/g, ' ');
      let problems = '';
      try {
        const s = openStore(db, { readonly: true });
        problems = JSON.stringify(verifyMirror(s, dir).problems.slice(0, 5));
        s.close();
      } catch {
        problems = '(mirror unreadable)';
      }
      throw new Error(`${(err as Error).message}: files ${readdirSync(dir).join(' ')}; tailer said: ${said}; mirror: ${JSON.stringify(state())}; ` +
        `verify: ${problems}; must: ${JSON.stringify(sortedNums(must.valid))}`);
    }
    const now = linesInFiles(dir);
    for (const n of now.valid) must.valid.add(n);
    for (const n of now.bad) must.bad.add(n);
  };
  const model = new LogModel(dir, caughtUp);
  await start();
  try {
    for (const [i, [op, k]] of seq.entries()) {
      where.step = `op ${i} (${op} ${k})`;
      const before = linesInFiles(dir);
      const lastBefore = model.n;
      switch (op) {
        case 'kill': {
          const t = tailer;
          // Already gone (its own exit, or a signal) or about to be: 'exit' may have fired before we listen.
          const gone = !t || t.exitCode !== null || t.signalCode !== null ? Promise.resolve() : new Promise((r) => t.once('exit', r));
          t?.kill('SIGKILL');
          await gone;
          tailer = undefined;
          await start();
          break;
        }
        case 'deletedb':
          await caughtUp();
          for (const f of ['mirror.db', 'mirror.db-wal', 'mirror.db-shm']) rmSync(join(dir, f), { force: true });
          for (const set of [must.valid, must.bad, maybe.valid, maybe.bad]) set.clear();
          break;
        case 'pause':
          await sleep(60);
          break;
        case 'import': {
          // A second process ingesting the same files at the same time as the tailer.
          try {
            const s = openStore(db, { busyTimeoutMs: 2000 });
            try {
              importAll(s, dir);
            } finally {
              s.close();
            }
          } catch {
            // the mirror was just deleted or is being moved aside: the tailer rebuilds it
          }
          break;
        }
        default:
          await model.apply(op, k);
      }
      if (crashed) throw new Error(`${crashed} (${JSON.stringify(seq)})`);
      // Lines an operation destroyed before the tailer could be waited for may or may not have been mirrored.
      const after = linesInFiles(dir);
      for (const n of before.valid) if (!after.valid.includes(n) && !must.valid.has(n)) maybe.valid.add(n);
      for (const n of before.bad) if (!after.bad.includes(n) && !must.bad.has(n)) maybe.bad.add(n);
      // So may lines written and destroyed within the operation (copytruncate-split: appended between the copy and the truncate).
      for (let n = lastBefore + 1; n <= model.n; n++) {
        if (!after.valid.includes(n) && !must.valid.has(n)) maybe.valid.add(n);
        if (!after.bad.includes(n) && !must.bad.has(n)) maybe.bad.add(n);
      }
    }
    where.step = 'the final catch-up';
    model.settle();
    await caughtUp();
    const final = state()!;
    const check = (got: number[], sure: Set<number>, perhaps: Set<number>) => {
      const counts = new Map<number, number>();
      for (const n of got) counts.set(n, (counts.get(n) ?? 0) + 1);
      for (const n of sure) expect({ n, count: counts.get(n) ?? 0 }).toEqual({ n, count: 1 });
      for (const [n, c] of counts) if (!sure.has(n)) expect({ n, count: c, maybe: perhaps.has(n) }).toEqual({ n, count: 1, maybe: true });
    };
    check(final.rows, must.valid, maybe.valid);
    check(final.rejects, must.bad, maybe.bad);
    const s = openStore(db, { readonly: true });
    expect(verifyMirror(s, dir).problems).toEqual([]);
    s.close();
  } finally {
    tailer?.kill('SIGKILL');
  }
}

describe('tail heals a corrupt mirror', () => {
  it('moves the bad file aside, rebuilds from the files and keeps running', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), line(1) + line(2));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    // Every page but the header page scribbled over: the header still proves the file is our mirror, so it may be moved.
    const db = readFileSync(join(dir, 'mirror.db'));
    db.fill(0x5a, db.readUInt16BE(16));
    writeFileSync(join(dir, 'mirror.db'), db);
    rmSync(join(dir, 'mirror.db-wal'), { force: true });
    rmSync(join(dir, 'mirror.db-shm'), { force: true });
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--poll-interval', '50'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    await until('the rebuilt mirror', () => count(join(dir, 'mirror.db')) === 2);
    appendFileSync(join(dir, 'events.jsonl'), line(3));
    await until('the next line', () => count(join(dir, 'mirror.db')) === 3);
    p.kill('SIGTERM');
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    expect(err).toMatch(/is corrupt; moved it aside to .*mirror\.db\.corrupt-.* and rebuilding the mirror from the files/);
    expect(readdirSync(dir).some((f) => f.startsWith('mirror.db.corrupt-'))).toBe(true);
    expect(cli(['--dir', dir, 'verify']).code).toBe(0);
  });
});

describe('tail --feed', () => {
  it('prints only the events on stdout, status lines and the summary on stderr', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), line(1));
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--feed', '--json', '--status-every', '1', '--poll-interval', '100'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    await until('the tailer', () => count(join(dir, 'mirror.db')) === 1);
    await sleep(300);
    appendFileSync(join(dir, 'events.jsonl'), line(2) + line(3));
    await until('the feed', () => out.split('\n').length === 4);
    await sleep(1200);
    p.kill('SIGINT');
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    // The catch-up at start is committed after the subscriber attached: it is fed too.
    expect(out.trim().split('\n').map((l) => JSON.parse(l).n)).toEqual([1, 2, 3]);
    expect(err).toMatch(/jsonl-mirror tail: 3 rows \(\d+\/s over the last 1 s\), 0 rejects, 0 B behind/);
    expect(err).toMatch(/\{"rows":3,"rejects":0,/);
  });
});
