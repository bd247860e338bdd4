import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { importAll } from '../src/import/import.js';
import { openStore } from '../src/store/open.js';
import { createWriter } from '../src/writer/writer.js';
import { cli, FIXTURES, snapshot, tmp, withSql } from './helpers.js';

function withLog(): string {
  const dir = tmp();
  copyFileSync(join(FIXTURES, 'shipwright/events-b.jsonl'), join(dir, 'events.jsonl'));
  return dir;
}

describe('jsonl-mirror import / status / verify (CLI)', () => {
  it('imports, prints one JSON document with --json, re-runs as a no-op, and verifies', () => {
    const dir = withLog();
    const before = snapshot(dir);
    const r = cli(['--dir', dir, 'import', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows: 28_083, rejects: 49, files: 1, streams: ['events'] });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(cli(['--dir', dir, 'import', '--json']).json).toMatchObject({ rows: 0, rejects: 0 });
    const status = cli(['--dir', dir, 'status', '--json']);
    expect(status.code).toBe(0);
    expect(status.json.totals).toMatchObject({ events: 28_083, rejects: 49, behindBytes: 0 });
    expect(status.json.files[0]).toMatchObject({ path: 'events.jsonl', stream: 'events', rows: 28_083, rejects: 49, behindBytes: 0 });
    expect(status.json.lastImport.completedAt).toMatch(/^\d{4}-/);
    const verify = cli(['--dir', dir, 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('verify passed');
    expect(snapshot(dir)).toEqual(before);
  });

  it('human output names what was done and where the rejects are', () => {
    const dir = withLog();
    const r = cli(['--dir', dir, 'import']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 28,083 events from 1 file\b/);
    expect(r.stdout).toMatch(/49 rejected lines \(invalid_json 49\)/);
  });

  it('verify fails, naming the line, when the mirror lost a row or holds a changed one', () => {
    const dir = withLog();
    cli(['--dir', dir, 'import']);
    const db = new Database(join(dir, 'mirror.db'));
    db.prepare('DELETE FROM event_rows WHERE id = 10').run();
    db.prepare('DELETE FROM lines WHERE id = 10').run();
    db.prepare("UPDATE lines SET line = '{}' WHERE id = 20").run();
    db.close();
    const r = cli(['--dir', dir, 'verify', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.ok).toBe(false);
    const problems: { path: string; problem: string }[] = r.json.problems;
    expect(problems.filter((p) => p.path === 'events.jsonl').map((p) => p.problem).sort()).toEqual(['changed', 'missing']);
    // The rollup still counts the row that was deleted behind its back.
    expect(problems.filter((p) => p.path === 'day_totals').map((p) => p.problem)).toEqual(['changed']);
    expect(problems).toHaveLength(3);
  });

  it('verify compares every row with what its line gives: odd values kept as written pass, a row changed behind the ingest is named', () => {
    const dir = tmp();
    const odd = [
      { ts: '2026-02-10T12:00:00.5Z', type: 'stage.started', stage: 'build', issue: '12', duration_s: ' 7 ' },
      { ts: '2026-02-10 12:05:00', type: 7, stage: true, result: 0, model: 'opus\ud83d', estimated_cost_usd: '0.25' },
      { ts: 'x\0y', ts_epoch: 1_770_000_000, issue: -0, cost_usd: 1e300, input_tokens: 2 ** 63, output_tokens: 2 ** 53 + 2 },
      { ts: '\uffff{"not":"json"}', ts_epoch: '1770000001.5', type: 'stage.completed', duration_s: 'NaN', cost_usd: Infinity },
      { ts: '\ud83d lone', type: '', stage: '', issue: 1.5 },
      { ts_epoch: 1_770_000_002, type: 'pipeline.completed', result: 'success' },
    ];
    const filler = Array.from({ length: 60 }, (_, i) => ({ ts_epoch: 1_770_000_100 + i, type: 'stage.completed', stage: 's', duration_s: i }));
    const text = [...filler.slice(0, 30), ...odd, ...filler.slice(30)].map((e) => JSON.stringify(e)).join('\n') + '\n';
    writeFileSync(join(dir, 'events.jsonl'), text + '{"dup":1,"type":"a","type":"b","ts":"2026-02-10T12:00:00Z"}\n');
    // Through the parse worker (a bulk load of a file of several batches), and a line at a time through the writer.
    const store = openStore(join(dir, 'mirror.db'));
    importAll(store, dir, { bulk: true, batchBytes: 1024 });
    store.close();
    const w = createWriter({ dir });
    w.append('events', { ts: '2026-02-10T12:30:00.25Z', type: 'stage.failed', stage: 'odd\0stage', issue: 4 });
    w.close();
    const v = cli(['--dir', dir, '--json', 'verify']);
    expect(v.json.problems).toEqual([]);
    expect(v.json.events).toBe(68);

    withSql(join(dir, 'mirror.db'), (db) => {
      db.exec("UPDATE event_rows SET cost_usd = 2 WHERE cost_usd = 1e300");
      // What a process older than sql/011 writes: no ts_text, so the timeline would show the epoch's second.
      db.exec("UPDATE event_rows SET ts_text = NULL WHERE ts_text = '2026-02-10 12:05:00'");
      db.exec("UPDATE event_rows SET stage = 'odd' WHERE stage = 'odd' || char(0) || 'stage'");
      db.exec('DELETE FROM event_rows WHERE duration_s = 59');
    });
    const after = cli(['--dir', dir, '--json', 'verify']);
    expect(after.code).toBe(1);
    const rows = (after.json.problems as { path: string; problem: string; detail: string }[]).filter((p) => p.path === 'events.jsonl');
    expect(rows).toEqual([
      expect.objectContaining({ problem: 'changed', detail: 'events row ts_text is null, the line gives "2026-02-10 12:05:00"; run `jsonl-mirror rebuild`' }),
      expect.objectContaining({ problem: 'changed', detail: 'events row cost_usd is 2, the line gives 1e+300; run `jsonl-mirror rebuild`' }),
      expect.objectContaining({ problem: 'missing', detail: expect.stringMatching(/^mirrored line with no event_rows row: metrics miss it; run `jsonl-mirror rebuild`/) }),
      expect.objectContaining({ problem: 'changed', detail: 'events row stage is "odd", the line gives "odd\\u0000stage"; run `jsonl-mirror rebuild`' }),
    ]);
    expect(cli(['--dir', dir, '--json', 'rebuild', '--yes']).code).toBe(0);
    expect(cli(['--dir', dir, '--json', 'verify']).json.ok).toBe(true);
  });

  it('verify reports lines not mirrored yet', () => {
    const dir = withLog();
    cli(['--dir', dir, 'import']);
    writeFileSync(join(dir, 'extra.jsonl'), '{"type":"x"}\n');
    const r = cli(['--dir', dir, 'verify', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.problems).toEqual([{ path: 'extra.jsonl', offset: 0, problem: 'not_mirrored', detail: '13 bytes never mirrored' }]);
  });

  it('reports pending bytes of an unterminated last line', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"a"}\n{"type":"b"}');
    const r = cli(['--dir', dir, 'import', '--json']);
    expect(r.json).toMatchObject({ rows: 1, pendingBytes: 12 });
    expect(cli(['--dir', dir, 'import', '--final', '--json']).json).toMatchObject({ rows: 1, pendingBytes: 0 });
  });

  describe('errors a user can cause: one line naming the fix, non-zero exit, no log touched', () => {
    const expectClean = (r: ReturnType<typeof cli>, pattern: RegExp): void => {
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    };

    it('missing log directory', () => {
      const r = cli(['--dir', join(tmp(), 'nope'), 'import']);
      expectClean(r, /log directory .* does not exist.*pass --dir/);
    });

    it('DB path in a missing directory', () => {
      const dir = withLog();
      const before = snapshot(dir);
      expectClean(cli(['--dir', dir, '--db', join(dir, 'no/such/m.db'), 'import']), /directory of the database .* does not exist; create/);
      expect(snapshot(dir)).toEqual(before);
    });

    it('DB file that is not SQLite: refused, left in place untouched, logs untouched', () => {
      const dir = withLog();
      writeFileSync(join(dir, 'mirror.db'), 'definitely not a database file\n'.repeat(100));
      const before = snapshot(dir, () => true);
      const r = cli(['--dir', dir, 'import', '--json']);
      expectClean(r, /is not a SQLite database, so not a jsonl-mirror mirror; nothing was changed/);
      expect(r.json.error.code).toBe('DB_NOT_A_DATABASE');
      expect(snapshot(dir, () => true)).toEqual(before);
    });

    it('DB from a newer schema', () => {
      const dir = withLog();
      cli(['--dir', dir, 'import']);
      const db = new Database(join(dir, 'mirror.db'));
      db.prepare("INSERT INTO schema_migrations VALUES (999, '999_future.sql', 'x', 'now')").run();
      db.close();
      const before = snapshot(dir);
      expectClean(cli(['--dir', dir, 'import']), /newer than this jsonl-mirror knows.*upgrade jsonl-mirror/);
      expectClean(cli(['--dir', dir, 'status']), /newer than this jsonl-mirror knows/);
      expect(snapshot(dir)).toEqual(before);
    });

    it('unreadable log file (a symlink loop: open fails as it would without permission, even for root)', () => {
      const dir = tmp();
      symlinkSync('loop.jsonl', join(dir, 'loop.jsonl'));
      expectClean(cli(['--dir', dir, 'import']), /cannot read .*loop.jsonl \(ELOOP\).*read permission/);
    });

    it('a log path that is a directory: skipped with one warning, the import goes on', () => {
      const dir = tmp();
      mkdirSync(join(dir, 'events.jsonl'));
      const r = cli(['--dir', dir, 'import']);
      expect(r.code).toBe(0);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/skipped .*events.jsonl: it is a directory, not a log file/)]);
    });

    it('status on a directory with no mirror yet', () => {
      expectClean(cli(['--dir', withLog(), 'status']), /no mirror at .*run `jsonl-mirror import`/);
    });
  });
});
