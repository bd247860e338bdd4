import { copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, tmp } from './helpers.js';

const NAMES = ['dora', 'dora-trend', 'costs', 'cost-trend', 'stages', 'bottlenecks', 'heatmap', 'throughput', 'history', 'activity'];
const NOW = '2026-01-20T00:00:00Z';

function imported(): string {
  const dir = tmp();
  copyFileSync(join(FIXTURES, 'example/events.jsonl.1'), join(dir, 'events.jsonl.1'));
  copyFileSync(join(FIXTURES, 'example/events.jsonl'), join(dir, 'events.jsonl'));
  copyFileSync(join(FIXTURES, 'example/costs.json'), join(dir, 'costs.json'));
  expect(cli(['--dir', dir, 'import']).code).toBe(0);
  return dir;
}

function answers(dir: string, source: string, env?: NodeJS.ProcessEnv) {
  const out: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const name of NAMES) {
    const r = cli(['--dir', dir, 'metrics', name, '--json', '--now', NOW, '--source', source], { env });
    expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    if (name === 'activity') delete r.json.nextCursor;
    out[name] = r.json;
    notes.push(r.stderr.trim());
  }
  return { out, notes };
}

describe('auto falls back to the files, with the reason, when SQLite is not usable', () => {
  const reference = () => {
    const dir = imported();
    return { dir, expected: answers(dir, 'sqlite').out };
  };

  it('answers every helper the same from sqlite, scan and auto on a healthy mirror, without a note', () => {
    const { dir, expected } = reference();
    expect(answers(dir, 'scan').out).toEqual(expected);
    const auto = answers(dir, 'auto');
    expect(auto.out).toEqual(expected);
    expect(auto.notes.every((n) => n === '')).toBe(true);
  });

  const cases: [string, (dir: string) => NodeJS.ProcessEnv | undefined, RegExp][] = [
    ['the DB deleted', (dir) => { rmSync(join(dir, 'mirror.db')); rmSync(join(dir, 'mirror.db-wal'), { force: true }); return undefined; }, /no mirror at/],
    ['the DB corrupt', (dir) => { rmSync(join(dir, 'mirror.db-wal'), { force: true }); writeFileSync(join(dir, 'mirror.db'), 'x'.repeat(8192)); return undefined; }, /not a SQLite database/],
    ['the DB from a newer schema', (dir) => {
      const db = new Database(join(dir, 'mirror.db'));
      db.prepare("INSERT INTO schema_migrations VALUES (999, '999_x.sql', 'x', 'now')").run();
      db.close();
      return undefined;
    }, /newer than this jsonl-mirror knows/],
    ['better-sqlite3 unloadable', () => ({ JSONL_MIRROR_SQLITE_MODULE: 'better-sqlite3-that-is-not-installed' }), /cannot load better-sqlite3-that-is-not-installed/],
    ['bun:sqlite asked for under Node', () => ({ JSONL_MIRROR_SQLITE_MODULE: 'bun:sqlite' }), /cannot load bun:sqlite .*exists only under Bun/],
  ];

  for (const [what, breakIt, reason] of cases) {
    it(`with ${what}`, () => {
      const { dir, expected } = reference();
      const env = breakIt(dir);
      const auto = answers(dir, 'auto', env);
      expect(auto.out).toEqual(expected);
      expect(auto.notes[0]).toMatch(reason);
      expect(auto.notes[0]).toMatch(/reading the files/);
      // A file that is not SQLite is not provably ours: it stays where it is, and every read says why it scans.
      for (const n of auto.notes) expect(n).toMatch(reason);
      expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toEqual([]);
      if (what === 'the DB from a newer schema' || what.startsWith('better-sqlite3') || what.startsWith('bun:sqlite')) {
        const forced = cli(['--dir', dir, 'metrics', 'dora', '--source', 'sqlite'], { env });
        expect(forced.code).toBe(1);
        expect(forced.stderr).toMatch(reason);
      }
    });
  }
});

describe('metrics CLI', () => {
  it('catches the mirror up before answering: a line appended after import is counted', () => {
    const dir = imported();
    const before = cli(['--dir', dir, 'metrics', 'activity', '--json', '--source', 'sqlite']).json.total;
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"late.event","ts_epoch":1790000000}\n', { flag: 'a' });
    const after = cli(['--dir', dir, 'metrics', 'activity', '--json', '--source', 'sqlite', '--limit', '1']).json;
    expect(after.total).toBe(before + 1);
    expect(after.events[0].type).toBe('late.event');
  });

  it('reads prices and bands from --config and refuses a bad one clearly', () => {
    const dir = imported();
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ bands: { deploy_freq: [1000, 999, 998] } }));
    const r = cli(['--dir', dir, 'metrics', 'dora', '--json', '--now', NOW, '--config', cfg]);
    expect(r.json.deploy_freq.grade).toBe('Low');
    writeFileSync(cfg, '{"bands": {"cfr": [1]}}');
    const bad = cli(['--dir', dir, 'metrics', 'dora', '--config', cfg]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/band "cfr" needs three numbers/);
  });

  it('refuses unknown metrics, sources and malformed --now', () => {
    const dir = imported();
    expect(cli(['--dir', dir, 'metrics', 'velocity']).stderr).toMatch(/unknown metric "velocity"; one of: dora/);
    expect(cli(['--dir', dir, 'metrics', 'dora', '--source', 'redis']).stderr).toMatch(/--source is auto, sqlite or scan/);
    expect(cli(['--dir', dir, 'metrics', 'dora', '--now', 'yesterday-ish']).code).not.toBe(0);
  });
});
