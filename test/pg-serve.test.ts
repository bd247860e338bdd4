import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReader, type Reader } from '../src/api/reader.js';
import { createAsyncReader, type AsyncReader } from '../src/api/async-reader.js';
import { openPgStore } from '../src/store/pg/open.js';
import { createPgTailer, type PgTailer } from '../src/tailer/pg-tailer.js';
import { startPg, type PgServer } from '../fixtures/pg-server.js';
import { CLI, cli, FIXTURES, tmp, withPgClient } from './helpers.js';
import { CASES } from './serve-cases.js';
import { get, serve, subscribe, until, type SseMessage } from './serve-helpers.js';
import { promValue, promValues, startPrometheus } from './prometheus-helpers.js';

let server: PgServer;
beforeAll(async () => {
  server = await startPg();
});
afterAll(() => server?.stop());

const HOSTS = ['h0', 'h1', 'h2'];

/** Each host's folder: a copy of the bundled example (the same lines, three machines' events). */
function hostDirs(): Map<string, string> {
  return new Map(HOSTS.map((h) => {
    const dir = join(tmp(`jm-pgserve-${h}-`), 'logs');
    cpSync(join(FIXTURES, 'example'), dir, { recursive: true });
    return [h, dir];
  }));
}

const tick = (host: string, n: number) => `${JSON.stringify({ ts_epoch: 1770789000 + n, type: 'fleet.tick', host, n })}\n`;
const ticks = (messages: SseMessage[]) =>
  messages.flatMap((m) => m.data.events.filter((e: any) => e.event.type === 'fleet.tick').map((e: any) => `${e.host}:${e.event.n}`));

describe('serve over a PostgreSQL fleet mirror', () => {
  it('three hosts with tailers: every endpoint equals its helper (all hosts and ?host=), SSE has every event of every host once across a reconnect, a slow query holds only its own request', async () => {
    const url = await server.createDb('serve');
    openPgStore(url, { hostId: 'setup' }).close();
    const dirs = hostDirs();
    // h1 and h2 run their own tailers; h0's is the server's.
    const tailers: PgTailer[] = ['h1', 'h2'].map((h) => createPgTailer({ dir: dirs.get(h)!, url, hostId: h, pollIntervalMs: 50, onError: () => {} }));
    const readers: Reader[] = [];
    const readersAsync: AsyncReader[] = [];
    try {
      for (const t of tailers) await t.start();
      const s = await serve({ dir: dirs.get('h0')!, db: url, hostId: 'h0' });
      const reader = createReader({ dir: dirs.get('h0')!, db: url });
      readers.push(reader);
      const perHost = createReader({ dir: dirs.get('h0')!, db: url, host: 'h1' });
      readers.push(perHost);
      const own = createReader({ dir: dirs.get('h0')!, db: url, host: 'h0' });
      readers.push(own);
      await until('every host mirrored', () => {
        const one = perHost.activity({ limit: 1 }).total;
        return one > 0 && own.activity({ limit: 1 }).total === one && reader.activity({ limit: 1 }).total === 3 * one;
      }, 60_000);
      expect(s.reader.backend).toBe('postgres');

      for (const [path, helper] of CASES) {
        const r = await get(s.url, path);
        expect(r.status, `${path}: ${r.text}`).toBe(200);
        expect(r.json, path).toEqual(JSON.parse(JSON.stringify(helper(reader))));
        const h = await get(s.url, `${path}${path.includes('?') ? '&' : '?'}host=h1`);
        expect(h.status, `${path} host=h1: ${h.text}`).toBe(200);
        expect(h.json, `${path} host=h1`).toEqual(JSON.parse(JSON.stringify(helper(perHost))));
      }
      // An unchanged answer is a 304, as on SQLite.
      const first = await get(s.url, CASES[0]![0]);
      expect((await get(s.url, CASES[0]![0], { 'if-none-match': String(first.headers.etag) })).status).toBe(304);
      const status = await get(s.url, '/api/status');
      expect(status.status).toBe(200);
      expect(status.json.fleet.hosts.map((h: { host: string }) => h.host)).toEqual(expect.arrayContaining(HOSTS));
      expect((await get(s.url, '/api/status?host=h1')).status).toBe(400);

      // The live feed: every host's appends, exactly once, across a reconnect.
      const sub = subscribe(s.url);
      expect(await sub.opened).toBe(200);
      const expected: string[] = [];
      const append = (from: number, to: number) => {
        for (const h of HOSTS) for (let n = from; n < to; n++) {
          appendFileSync(join(dirs.get(h)!, 'events.jsonl'), tick(h, n));
          expected.push(`${h}:${n}`);
        }
      };
      append(0, 20);
      await until('the first appends of every host', () => ticks(sub.messages).length === 60, 30_000);
      sub.close();
      const lastId = sub.messages.at(-1)!.id!;
      append(20, 40);
      const again = subscribe(s.url, '/api/stream', { 'last-event-id': lastId });
      expect(await again.opened).toBe(200);
      append(40, 50);
      await until('every append after the reconnect', () => ticks(sub.messages).length + ticks(again.messages).length === 150, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      again.close();
      const seen = [...ticks(sub.messages), ...ticks(again.messages)];
      expect(seen.sort()).toEqual([...expected].sort());
      // Ids only grow, across hosts: the order Last-Event-ID resumes by.
      const ids = [...sub.messages, ...again.messages].flatMap((m) => m.data.events.map((e: any) => e.id as number));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));

      // A slow query: the rollup table locked by another session; only the request that reads it waits.
      await withPgClient(url, async (c) => {
        await c.query('BEGIN');
        await c.query('LOCK TABLE day_totals IN ACCESS EXCLUSIVE MODE');
        // Three clients asking the same answer: one computation waits on the lock, not one per read thread.
        const slows = [1, 2, 3].map(() => get(s.url, '/api/metrics/history?period=7'));
        const slow = slows[0]!;
        let slowDone = false;
        void Promise.race(slows).then(() => (slowDone = true));
        await new Promise((r) => setTimeout(r, 300));
        const waiting = await withPgClient(url, async (w) => (await w.query(
          "SELECT application_name AS app, left(query, 300) AS q FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%day_totals%'")).rows);
        // Each to a thread of its own were it not for the coalescing; two when a tailer's checkpoint moved the state between them.
        expect(waiting.length, JSON.stringify(waiting)).toBeGreaterThan(0);
        expect(waiting.length, JSON.stringify(waiting)).toBeLessThan(3);
        const started = performance.now();
        const quick = await get(s.url, '/api/events/201');
        const health = await get(s.url, '/api/health');
        const elapsed = performance.now() - started;
        expect(quick.status).toBe(200);
        expect(quick.json).toEqual(JSON.parse(JSON.stringify({ events: reader.issueEvents({ issue: 201 }).events })));
        expect(health.status).toBe(200);
        expect(slowDone).toBe(false);
        expect(elapsed).toBeLessThan(5000);
        // The library's async reader, the same way: one helper waits on the lock, another answers meanwhile.
        const lib = createAsyncReader({ dir: dirs.get('h0')!, db: url, threads: 2 });
        readersAsync.push(lib);
        let libSlowDone = false;
        const libSlow = lib.metricsHistory({ period: 7 }).then((x) => ((libSlowDone = true), x));
        await new Promise((r) => setTimeout(r, 300));
        expect(await lib.issueEvents({ issue: 201 })).toEqual(reader.issueEvents({ issue: 201 }));
        expect(libSlowDone).toBe(false);
        await c.query('ROLLBACK');
        const r = await slow;
        expect(r.status).toBe(200);
        for (const other of await Promise.all(slows)) expect(other.text).toBe(r.text);
        expect(r.json).toEqual(JSON.parse(JSON.stringify(reader.metricsHistory({ period: 7 }))));
        expect(await libSlow).toEqual(reader.metricsHistory({ period: 7 }));
      });
    } finally {
      for (const r of readers) r.close();
      for (const r of readersAsync) await r.close();
      for (const t of tailers) await t.stop();
    }
  });
});

describe('tail --feed on a PostgreSQL fleet mirror', () => {
  it('prints every host\'s new events once, tagged with stream and host; the summary goes to stderr', async () => {
    const url = await server.createDb('feed');
    openPgStore(url, { hostId: 'setup' }).close();
    const dirs = hostDirs();
    const other = createPgTailer({ dir: dirs.get('h1')!, url, hostId: 'h1', pollIntervalMs: 50, onError: () => {} });
    await other.start();
    const child = spawn(process.execPath, [CLI, '--dir', dirs.get('h0')!, '--db', url, '--host-id', 'h0', 'tail', '--feed', '--tag-stream'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until('the tailer to start', () => err.includes('tailing'), 30_000);
      const expected: string[] = [];
      for (let n = 0; n < 30; n++) for (const h of ['h0', 'h1']) {
        appendFileSync(join(dirs.get(h)!, 'events.jsonl'), tick(h, n));
        expected.push(`${h}:${n}`);
      }
      const seen = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((x) => x.event.type === 'fleet.tick');
      await until('every new event on stdout', () => seen().length >= 60, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen().map((x) => `${x.host}:${x.event.n}`).sort()).toEqual(expected.sort());
      expect(seen().every((x) => x.stream === 'events' && x.host === x.event.host)).toBe(true);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(err).toMatch(/stopped: mirrored [\d,]+ events/);
    } finally {
      child.kill('SIGKILL');
      await other.stop();
    }
  });
});

describe('prune and rebuild on a PostgreSQL fleet mirror', () => {
  it('act on one host: prune drops its deleted file\'s rows, rebuild reads its folder again, the other host keeps every row; verify passes', async () => {
    const url = await server.createDb('ops');
    const dirs = hostDirs();
    const as = (h: string, ...args: string[]) => cli(['--dir', dirs.get(h)!, '--db', url, '--host-id', h, '--json', ...args]);
    for (const h of ['h0', 'h1']) expect(as(h, 'import', '--no-progress').code).toBe(0);
    const counts = async () => withPgClient(url, async (c) =>
      Object.fromEntries((await c.query('SELECT host, COUNT(*)::int AS n FROM events GROUP BY host')).rows.map((r) => [r.host, r.n])));
    const before = await counts();
    expect(before.h0).toBe(before.h1);

    rmSync(join(dirs.get('h0')!, 'events.jsonl.1'));
    const dry = as('h0', 'prune', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.sources.map((s: { path: string }) => s.path)).toEqual(['events.jsonl.1']);
    expect(as('h0', 'prune').code).toBe(1);
    const pruned = as('h0', 'prune', '--yes');
    expect(pruned.code, pruned.stderr).toBe(0);
    const after = await counts();
    expect(after.h0).toBe(before.h0 - pruned.json.rows);
    expect(pruned.json.rows).toBeGreaterThan(1000);
    expect(after.h1).toBe(before.h1);
    for (const h of ['h0', 'h1']) expect(as(h, 'verify').code, h).toBe(0);

    // Rebuild h1 after a line was lost from its mirror: its folder read again, h0 untouched.
    await withPgClient(url, (c) => c.query("DELETE FROM events WHERE host = 'h1' AND id = (SELECT MIN(id) FROM events WHERE host = 'h1')"));
    expect(as('h1', 'verify').code).toBe(1);
    const rebuilt = as('h1', 'rebuild', '--yes');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.json.rows).toBeGreaterThan(1000);
    expect(await counts()).toEqual({ h0: after.h0, h1: before.h1 });
    for (const h of ['h0', 'h1']) expect(as(h, 'verify').code, h).toBe(0);

    // Not under a running tailer of that host and folder.
    const tailer = createPgTailer({ dir: dirs.get('h1')!, url, hostId: 'h1', onError: () => {} });
    await tailer.start();
    try {
      const refused = as('h1', 'rebuild', '--yes');
      expect(refused.code).toBe(1);
      expect(refused.json.error.code).toBe('TAILER_RUNNING');
      expect(refused.json.error.message).toMatch(/stop it, then run the rebuild again/);
    } finally {
      await tailer.stop();
    }
  });
});

describe('a real Prometheus scraping a fleet server', () => {
  it("stores each host's rows and this host's lag from one server's /metrics", async () => {
    const url = await server.createDb('prom');
    const dirs = hostDirs();
    for (const h of ['h0', 'h1']) expect(cli(['--dir', dirs.get(h)!, '--db', url, '--host-id', h, 'import', '--no-progress']).code).toBe(0);
    const s = await serve({ dir: dirs.get('h0')!, db: url, hostId: 'h0', tail: false, token: 'fleet-scrape-0123456789abcdef' });
    const line = tick('h0', 0);
    appendFileSync(join(dirs.get('h0')!, 'events.jsonl'), line);
    const rowsOf = async (h: string) => withPgClient(url, async (c) => (await c.query("SELECT COUNT(*)::int AS n FROM events WHERE host = $1 AND stream = 'events'", [h])).rows[0].n as number);

    const prom = await startPrometheus(new URL(s.url).host, 'fleet-scrape-0123456789abcdef');
    const [h0, h1, lag] = await promValues(prom, [
      'jsonl_mirror_rows{host="h0",stream="events"}', 'jsonl_mirror_rows{host="h1",stream="events"}', 'jsonl_mirror_lag_bytes{host="h0",stream="events"}',
    ]);
    expect({ h0, h1, lag }, `Prometheus: ${prom.log().slice(-2000)}`).toEqual({ h0: await rowsOf('h0'), h1: await rowsOf('h1'), lag: Buffer.byteLength(line) });
    expect(await promValue(prom.base, 'jsonl_mirror_up{host="h0"}')).toBe(1);
  });
});

describe('the fleet mirror hands out events as the local mirror does', () => {
  it('an event nested deeper than 64 levels comes out of activity with the field as JSON text, from PostgreSQL as from SQLite', async () => {
    const url = await server.createDb('nesting');
    const dir = join(tmp('jm-pgnest-'), 'logs');
    cpSync(join(FIXTURES, 'example'), dir, { recursive: true });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 80; i++) deep = { d: deep };
    appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts_epoch: 1770789000, type: 'deep.one', deep })}\n`);
    expect(cli(['--dir', dir, '--db', url, '--host-id', 'h0', 'import', '--no-progress']).code).toBe(0);
    expect(cli(['--dir', dir, 'import', '--no-progress']).code).toBe(0);
    const fleet = createReader({ dir, db: url });
    const local = createReader({ dir, source: 'sqlite' });
    try {
      const fromPg = fleet.activity({ type: 'deep.one' });
      expect(fromPg.events).toHaveLength(1);
      expect(typeof (fromPg.events[0] as { deep: unknown }).deep).toBe('string');
      expect(fromPg).toEqual(local.activity({ type: 'deep.one' }));
    } finally {
      fleet.close();
      local.close();
    }
  });
});

describe('serve over PostgreSQL keeps its connections bounded', () => {
  it('a client naming host after host with ?host= does not open a connection per name', async () => {
    const url = await server.createDb('hosts');
    const dirs = hostDirs();
    expect(cli(['--dir', dirs.get('h0')!, '--db', url, '--host-id', 'h0', 'import', '--no-progress']).code).toBe(0);
    const s = await serve({ dir: dirs.get('h0')!, db: url, hostId: 'h0', tail: false });
    const connections = () => withPgClient(url, async (c) =>
      (await c.query("SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = 'hosts' AND application_name = 'jsonl-mirror'")).rows[0].n as number);
    expect((await get(s.url, '/api/activity?limit=1')).status).toBe(200);
    const before = await connections();
    for (let i = 0; i < 20; i++) expect((await get(s.url, `/api/activity?limit=1&host=nobody-${i}`)).json.total).toBe(0);
    // The requests go one at a time, so to one thread, which keeps at most 8 readers (its default one among them):
    // 7 more, and up to 3 for the other threads' default readers if they connected after `before` was counted.
    // A reader let go closes its connection, which the server sees ended a moment later. Unbounded, this is 20.
    let added = Number.POSITIVE_INFINITY;
    for (const end = Date.now() + 10_000; Date.now() < end && added > 10; await new Promise((r) => setTimeout(r, 200))) added = (await connections()) - before;
    expect(added).toBeLessThanOrEqual(10);
  });
});
