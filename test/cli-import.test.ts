import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, snapshot, tmp } from './helpers.js';

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
