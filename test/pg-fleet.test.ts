import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore } from '../src/store/pg/open.js';
import { createPgTailer } from '../src/tailer/pg-tailer.js';
import { CLI, cli, tmp } from './helpers.js';
import { startPg, type PgServer } from '../fixtures/pg-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: PgServer;
beforeAll(async () => {
  server = await startPg();
});
afterAll(() => server?.stop());

interface Proc {
  child: ChildProcess;
  stderr: string;
  exit: Promise<number | null>;
}

function run(args: string[], input?: string): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const p: Proc = { child, stderr: '', exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stderr!.on('data', (d) => (p.stderr += d));
  child.stdout!.resume();
  child.stdin!.end(input ?? '');
  return p;
}

async function rowsByHost(url: string): Promise<Map<string, { n: number; distinct: number }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query('SELECT host, COUNT(*)::int AS n, COUNT(DISTINCT line)::int AS d FROM events GROUP BY host');
    return new Map(r.rows.map((x) => [x.host as string, { n: x.n as number, distinct: x.d as number }]));
  } finally {
    await c.end();
  }
}

async function costsRows(url: string, host: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query("SELECT COUNT(*)::int AS n FROM events WHERE host = $1 AND stream = 'costs' AND type = 'cost.record'", [host]);
    return r.rows[0].n as number;
  } finally {
    await c.end();
  }
}

/** Lines of every file of the stream, the rotated ones included. */
const linesIn = (dir: string): number =>
  readdirSync(dir).filter((f) => /^events\.jsonl(\.\d+)?$/.test(f))
    .reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length, 0);

describe('PostgreSQL fleet mirror', () => {
  it('4 hosts with tailers and concurrent writers into one database: kill -9, a rotation and a server restart lose nothing, take nothing twice', async () => {
    const url = await server.createDb('fleet');
    openPgStore(url, { hostId: 'setup' }).close();
    const hosts = ['h0', 'h1', 'h2', 'h3'].map((id) => ({ id, dir: tmp() }));
    const tailArgs = (h: { id: string; dir: string }) => ['--dir', h.dir, '--db', url, '--host-id', h.id, 'tail'];
    const tailers = new Map(hosts.map((h) => [h.id, run(tailArgs(h))]));
    const writers: Proc[] = [];
    let seq = 0;
    /** Each round: per host, two CLI writers (append with the PostgreSQL mirror step) and a bash-style raw append. */
    const round = (r: number) => {
      for (const h of hosts) {
        for (let w = 0; w < 2; w++) {
          const lines = Array.from({ length: 150 }, (_, i) => JSON.stringify({ type: 'fleet.tick', ts_epoch: 1770000000 + r, host: h.id, r, w, i, seq: seq++ }));
          writers.push(run(['--dir', h.dir, '--db', url, '--host-id', h.id, 'append', 'events', '-', '--quiet'], `${lines.join('\n')}\n`));
        }
        for (let i = 0; i < 50; i++) appendFileSync(join(h.dir, 'events.jsonl'), `${JSON.stringify({ type: 'raw', host: h.id, r, i, seq: seq++ })}\n`);
      }
    };

    round(0);
    await sleep(800);
    // A second tailer for the same host and folder is refused while the first holds the lock.
    const dup = run(tailArgs(hosts[0]!));
    // 60 s: on a loaded machine (eight writers and four tailers starting beside it) it was seen still starting at 20 s.
    const dupCode = await Promise.race([dup.exit, sleep(60_000).then(() => dup.child.kill('SIGKILL') && 'still running')]);
    expect(dupCode).toBe(1);
    expect(dup.stderr).toMatch(/a tailer for host h0 .* already runs/);
    const statusOf = (h: { id: string; dir: string }) => cli(['--dir', h.dir, '--db', url, '--host-id', h.id, '--json', 'status']).json;
    expect(statusOf(hosts[0]!).tailer).toMatchObject({ pid: tailers.get('h0')!.child.pid });
    round(1);
    // kill -9 two tailers mid-run, and start them again.
    for (const id of ['h0', 'h1']) tailers.get(id)!.child.kill('SIGKILL');
    round(2);
    // The killed tailer's lock went with its connection: status no longer names it.
    let after = statusOf(hosts[0]!);
    for (let i = 0; i < 20 && after.tailer !== null; i++) {
      await sleep(100);
      after = statusOf(hosts[0]!);
    }
    expect(after.tailer).toBeNull();
    await sleep(300);
    for (const h of hosts.slice(0, 2)) tailers.set(h.id, run(tailArgs(h)));
    round(3);
    // Host h2 rotates its log by rename while its writers run.
    renameSync(join(hosts[2]!.dir, 'events.jsonl'), join(hosts[2]!.dir, 'events.jsonl.1'));
    // The server crashes (immediate stop) and stays away while writers go on; tailers and writers retry.
    server.down();
    round(4);
    await sleep(1500);
    round(5);
    server.up();
    round(6);
    // And once more: a restart under load.
    await sleep(300);
    server.restart();
    round(7);

    const codes = await Promise.all(writers.map((w) => w.exit));
    expect(codes.every((c) => c === 0), writers.map((w) => w.stderr).join('')).toBe(true);

    const want = new Map(hosts.map((h) => [h.id, linesIn(h.dir)]));
    expect([...want.values()].every((n) => n === 8 * (300 + 50))).toBe(true);
    let got = new Map<string, { n: number; distinct: number }>();
    for (let i = 0; i < 120; i++) {
      got = await rowsByHost(url).catch(() => got);
      if (hosts.every((h) => got.get(h.id)?.n === want.get(h.id))) break;
      await sleep(500);
    }
    for (const h of hosts) expect(got.get(h.id), h.id).toEqual({ n: want.get(h.id), distinct: want.get(h.id) });

    for (const t of tailers.values()) t.child.kill('SIGTERM');
    const tailCodes = await Promise.all([...tailers.values()].map((t) => t.exit));
    expect(tailCodes).toEqual([0, 0, 0, 0]);
    // They saw the server go away and said so, retrying.
    expect([...tailers.values()].some((t) => /cannot reach PostgreSQL.*retrying/.test(t.stderr))).toBe(true);
  });

  it('a tailer started while the server is away retries with a doubling backoff, then mirrors everything', async () => {
    const url = await server.createDb('late');
    const dir = tmp();
    for (let i = 0; i < 300; i++) appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ type: 'early', i })}\n`);
    server.down();
    const problems: string[] = [];
    const tailer = createPgTailer({ dir, url, hostId: 'late', maxBackoffMs: 800, onError: (e) => problems.push((e as Error).message) });
    try {
      const started = tailer.start();
      await sleep(2500);
      const waits = problems.map((m) => /retrying in ([\d.]+) s/.exec(m)?.[1]).filter(Boolean).map(Number);
      expect(waits.slice(0, 4)).toEqual([0.1, 0.2, 0.4, 0.8]);
      expect(waits.every((w) => w <= 0.8)).toBe(true);
      expect(problems[0]).toMatch(/cannot reach PostgreSQL/);
      server.up();
      await started;
      for (let i = 0; i < 300; i++) appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ type: 'later', i })}\n`);
      let n = 0;
      for (let i = 0; i < 60 && n < 600; i++) {
        await sleep(250);
        n = (await rowsByHost(url)).get('late')?.n ?? 0;
      }
      expect(n).toBe(600);
      expect((await rowsByHost(url)).get('late')).toEqual({ n: 600, distinct: 600 });
    } finally {
      server.up();
      await tailer.stop();
    }
  });

  it('the tailer brings costs.json into stream costs, and after a change only the new entries', async () => {
    const url = await server.createDb('legacy');
    const dir = tmp();
    appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ type: 'early' })}\n`);
    const entry = (i: number) => ({ model: 'opus', stage: 'build', issue: i, cost_usd: 0.25, ts_epoch: 1770768000 + i });
    writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries: [entry(1), entry(2)] }));
    const problems: string[] = [];
    const tailer = createPgTailer({ dir, url, hostId: 'ledger', onError: (e) => problems.push((e as Error).message) });
    const settle = async (want: number) => {
      let n = 0;
      for (let i = 0; i < 40 && n !== want; i++) {
        await sleep(250);
        n = await costsRows(url, 'ledger');
      }
      return n;
    };
    try {
      await tailer.start();
      expect(await settle(2)).toBe(2);
      // Shipwright trims the oldest entry and appends two: one new event each, none twice.
      writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries: [entry(2), entry(3), entry(4)] }));
      expect(await settle(4)).toBe(4);
      await sleep(750);
      expect(await costsRows(url, 'ledger')).toBe(4);
      expect(problems).toEqual([]);
    } finally {
      await tailer.stop();
    }
  });
});
