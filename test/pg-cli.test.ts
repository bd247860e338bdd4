import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLog } from '../fixtures/generate.js';
import { startPg, type PgServer } from '../fixtures/pg-server.js';
import { cli, tmp } from './helpers.js';

let server: PgServer;
beforeAll(async () => {
  server = await startPg();
});
afterAll(() => server?.stop());

async function sql(url: string, text: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

describe('the CLI on a PostgreSQL mirror', () => {
  it('import, status, metrics --host, export, verify, migrate and doctor, for two hosts in one database', async () => {
    const url = await server.createDb('cli');
    const a = tmp();
    const b = tmp();
    generateLog({ dir: a, lines: 3000, seed: 1 });
    generateLog({ dir: b, lines: 2000, seed: 2 });
    const ia = cli(['--dir', a, '--db', url, '--host-id', 'alpha', '--json', 'import', '--no-progress']);
    expect(ia.code, ia.stderr).toBe(0);
    // JSONL_MIRROR_DB and JSONL_MIRROR_HOST_ID name the database and the host as --db and --host-id do.
    const ib = cli(['--dir', b, '--json', 'import', '--no-progress'], { env: { JSONL_MIRROR_DB: url, JSONL_MIRROR_HOST_ID: 'beta' } });
    expect(ib.code, ib.stderr).toBe(0);
    expect(ia.json.rows).toBeGreaterThan(2900);

    const st = cli(['--dir', a, '--db', url, '--host-id', 'alpha', '--json', 'status']);
    expect(st.code, st.stderr).toBe(0);
    expect(st.json.fleet.host).toBe('alpha');
    expect(st.json.fleet.hosts.map((h: { host: string; rows: number }) => [h.host, h.rows])).toEqual([['alpha', ia.json.rows], ['beta', ib.json.rows]]);
    expect(st.json.totals.events).toBe(ia.json.rows);

    const count = (host?: string) => {
      const r = cli(['--dir', a, '--db', url, '--json', 'metrics', 'activity', '--limit', '1', ...(host ? ['--host', host] : [])]);
      expect(r.code, r.stderr).toBe(0);
      return r.json.total as number;
    };
    expect(count('alpha') + count('beta')).toBe(count());
    expect(count('beta')).toBeGreaterThan(0);

    // export: every line of host alpha's log, byte for byte, in file order.
    const ex = cli(['--dir', a, '--db', url, 'export', '--from-host', 'alpha']);
    expect(ex.code, ex.stderr).toBe(0);
    const mirrored = new Set(ex.stdout.split('\n').filter(Boolean));
    const fileLines = readFileSync(join(a, 'events.jsonl'), 'utf8').split('\n');
    expect(mirrored.size).toBe(ia.json.rows);
    expect(fileLines.filter((l) => mirrored.has(l)).length).toBe(ia.json.rows);

    const v = cli(['--dir', b, '--db', url, '--host-id', 'beta', '--json', 'verify']);
    expect(v.code, v.stdout).toBe(0);
    expect(v.json.events).toBe(ib.json.rows);
    // verify reads one host's rows: as alpha, b's folder was never mirrored.
    expect(cli(['--dir', b, '--db', url, '--host-id', 'alpha', 'verify']).code).toBe(1);

    const m = cli(['--dir', a, '--db', url, '--json', 'migrate']);
    expect(m.code, m.stderr).toBe(0);
    expect(m.json.migrations.map((x: { name: string }) => x.name)).toEqual(readdirSync('sql/pg').filter((f) => f.endsWith('.sql')).sort());

    const d = cli(['--dir', a, '--db', url, '--host-id', 'alpha', '--json', 'doctor']);
    expect(d.json.checks.find((c: { name: string }) => c.name === 'fleet').detail).toMatch(/2 host\(s\): alpha .*beta/);
    const dNew = cli(['--dir', a, '--db', url, '--host-id', 'gamma', '--json', 'doctor']);
    expect(dNew.code).toBe(1);
    expect(dNew.json.checks.find((c: { name: string }) => c.name === 'this host').fix).toMatch(/--host-id gamma/);

    // costs.json: `import` takes it into PostgreSQL as into SQLite, and cost-today answers the same from both.
    const entry = (issue: number, cost: number) => ({ model: 'opus', stage: 'build', issue, cost_usd: cost, ts_epoch: 1770768000 + issue * 600 });
    writeFileSync(join(b, 'costs.json'), JSON.stringify({ entries: [entry(1, 0.5), entry(2, 1.5), entry(2, 1.5)] }));
    writeFileSync(join(b, 'budget.json'), JSON.stringify({ daily_budget_usd: 4 }));
    const again = cli(['--dir', b, '--db', url, '--host-id', 'beta', '--json', 'import', '--no-progress']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.legacy).toMatchObject({ added: 3, rejects: 0 });
    const lite = join(tmp(), 'lite.db');
    expect(cli(['--dir', b, '--db', lite, 'import', '--no-progress']).code).toBe(0);
    const today = (db: string, ...more: string[]) => cli(['--dir', b, '--db', db, '--json', 'metrics', 'cost-today', '--now', '1770800000', ...more]).json;
    expect(today(url, '--from-host', 'beta')).toEqual({ today_spent: 3.5, daily_budget: 4, pct_used: 87.5 });
    expect(today(url, '--host', 'beta')).toEqual(today(lite));
    expect(cli(['--dir', b, '--db', url, '--host-id', 'beta', 'verify']).code).toBe(0);
  });

  it('query reads in a READ ONLY transaction and refuses writes, also ones hidden in WITH or after a semicolon', async () => {
    const url = await server.createDb('query');
    const dir = tmp();
    generateLog({ dir, lines: 500, seed: 3 });
    expect(cli(['--dir', dir, '--db', url, '--host-id', 'q', 'import', '--no-progress']).code).toBe(0);
    const q = (s: string) => cli(['--dir', dir, '--db', url, '--json', 'query', s]);
    const ok = q("SELECT host, COUNT(*) AS n FROM events GROUP BY host");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json[0].host).toBe('q');
    for (const bad of ['DELETE FROM events', 'SELECT 1; DELETE FROM events', 'WITH d AS (DELETE FROM events RETURNING 1) SELECT COUNT(*) FROM d',
      "SELECT set_config('default_transaction_read_only', 'off', false); UPDATE meta SET value = ''", 'CREATE TABLE x (a int)']) {
      const r = q(bad);
      expect(r.code, bad).toBe(1);
      expect(r.json.error.code).toBe('INVALID_ARGUMENT');
    }
    // A function that writes is stopped by the server: the transaction is READ ONLY.
    const fn = q("SELECT nextval('events_id_seq')");
    expect(fn.code).toBe(1);
    expect(fn.json.error.message).toMatch(/read-only transaction/);
    expect((await sql(url, 'SELECT COUNT(*)::int AS n FROM events'))[0]).toEqual({ n: ok.json[0].n });
  });

  it('a server that is not there: a clear error for commands, appends still succeed', async () => {
    const url = await server.createDb('away');
    const dir = tmp();
    generateLog({ dir, lines: 100, seed: 4 });
    expect(cli(['--dir', dir, '--db', url, '--host-id', 'w', 'import', '--no-progress']).code).toBe(0);
    const deadUrl = url.replace(/:\d+\//, ':1/');
    const r = cli(['--dir', dir, '--db', deadUrl, '--json', 'status']);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('DB_UNREACHABLE');
    expect(r.stderr).toMatch(/cannot reach PostgreSQL at .*start the server or check --db/);

    server.down();
    try {
      const before = readFileSync(join(dir, 'events.jsonl'), 'utf8');
      const ap = cli(['--dir', dir, '--db', url, '--host-id', 'w', 'append', 'events', '{"type":"while.away","n":1}']);
      expect(ap.code, ap.stderr).toBe(0);
      expect(ap.stderr).toMatch(/mirror skipped.*cannot reach PostgreSQL/);
      const after = readFileSync(join(dir, 'events.jsonl'), 'utf8');
      expect(after.startsWith(before)).toBe(true);
      expect(after.slice(before.length)).toMatch(/^\{[^\n]*"type":"while\.away","n":1\}\n$/);
    } finally {
      server.up();
    }
    // The next append's mirror step takes it, and its own line.
    const ap2 = cli(['--dir', dir, '--db', url, '--host-id', 'w', 'append', 'events', '{"type":"back","n":2}']);
    expect(ap2.code, ap2.stderr).toBe(0);
    const rows = await sql(url, "SELECT type FROM events WHERE type IN ('while.away', 'back') ORDER BY \"offset\"");
    expect(rows).toEqual([{ type: 'while.away' }, { type: 'back' }]);
  });

  it('a migration recorded with other contents is refused, as SQLite does', async () => {
    const url = await server.createDb('changed');
    const dir = tmp();
    generateLog({ dir, lines: 50, seed: 5 });
    expect(cli(['--dir', dir, '--db', url, 'import', '--no-progress']).code).toBe(0);
    await sql(url, "UPDATE schema_migrations SET checksum = 'x' WHERE version = 1");
    const r = cli(['--dir', dir, '--db', url, '--json', 'status']);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('DB_MIGRATION_CHANGED');
  });
});
