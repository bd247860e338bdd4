import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MirrorError } from '../src/errors.js';
import { importAll } from '../src/import/import.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import { verifyMirror } from '../src/ops/verify.js';
import { openStore } from '../src/store/open.js';
import { createWriter } from '../src/writer/writer.js';
import { serializeEvent } from '../src/writer/serialize.js';
import { cli, tmp, withSql } from './helpers.js';

function withMirror(): string {
  const dir = tmp();
  openStore(join(dir, 'mirror.db')).close();
  return dir;
}
const rows = (dir: string): number => {
  const s = openStore(join(dir, 'mirror.db'), { readonly: true });
  const n = s.countEvents();
  s.close();
  return n;
};
const fileLines = (dir: string, name = 'events.jsonl'): string[] => readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1);

describe('serializeEvent', () => {
  it('writes the emit_event shape: ts, ts_epoch, type first; adds missing times; one line whatever the content', () => {
    const t = Date.parse('2026-02-10T01:02:03.456Z');
    expect(serializeEvent({ stage: 'build', type: 'stage.completed', note: 'a\nb\r\u2028' }, t).toString()).toBe(
      '{"ts":"2026-02-10T01:02:03Z","ts_epoch":1770685323,"type":"stage.completed","stage":"build","note":"a\\nb\\r\u2028"}\n',
    );
    expect(serializeEvent({ type: 'x', ts: '2026-01-01T00:00:00Z' }, t).toString()).toBe('{"ts":"2026-01-01T00:00:00Z","ts_epoch":1767225600,"type":"x"}\n');
    expect(serializeEvent({ type: 'x', ts_epoch: 5 }, t).toString()).toBe('{"ts":"1970-01-01T00:00:05Z","ts_epoch":5,"type":"x"}\n');
  });

  it('refuses what is not a plain object with a type, with a typed error', () => {
    for (const bad of [null, [], 'str', 5, new Date(), { notype: 1 }, { type: '' }, { type: 'x', n: 10n }]) {
      expect(() => serializeEvent(bad)).toThrowError(MirrorError);
    }
  });
});

describe('createWriter', () => {
  it('appends to the file first and mirrors each event at once', () => {
    const dir = withMirror();
    const w = createWriter({ dir });
    expect(w.append('events', { type: 'a' })).toMatchObject({ mirrored: true });
    expect(rows(dir)).toBe(1);
    w.append('events', { type: 'b' });
    expect(rows(dir)).toBe(2);
    expect(w.stats()).toMatchObject({ appended: 2, mirrored: 2, skipped: 0, problem: null });
    w.close();
    expect(fileLines(dir)).toHaveLength(2);
  });

  it('refuses an invalid event without writing anything', () => {
    const dir = withMirror();
    const w = createWriter({ dir });
    w.append('events', { type: 'ok' });
    expect(() => w.append('events', { nope: true })).toThrowError(/needs a "type"/);
    expect(() => w.append('../escape', { type: 'x' })).toThrowError(/stream name/);
    w.close();
    expect(fileLines(dir)).toHaveLength(1);
  });

  it('fails with WRITE_FAILED, and mirrors nothing, when the file cannot be written', () => {
    const dir = withMirror();
    mkdirSync(join(dir, 'events.jsonl'));
    const w = createWriter({ dir });
    expect(() => w.append('events', { type: 'x' })).toThrowError(/cannot (open|append)/);
    w.close();
    expect(rows(dir)).toBe(0);
  });

  it('batched mode: appends reach the file at once and the mirror in one group commit; close leaves nothing unmirrored', async () => {
    const dir = withMirror();
    const w = createWriter({ dir, mode: 'batched', batchMaxEvents: 1000, batchMaxDelayMs: 30 });
    for (let i = 0; i < 2500; i++) w.append('events', { type: 't', i });
    expect(fileLines(dir)).toHaveLength(2500);
    expect(rows(dir)).toBe(2000); // two full batches
    await new Promise((r) => setTimeout(r, 80));
    expect(rows(dir)).toBe(2500); // the timer committed the rest
    for (let i = 0; i < 10; i++) w.append('events', { type: 't', i });
    w.close();
    expect(rows(dir)).toBe(2510);
    expect(w.stats()).toMatchObject({ appended: 2510, mirrored: 2510, pending: 0 });
  });

  it('follows a rename rotation: later appends go to the new file, and nothing is lost or doubled', async () => {
    const dir = withMirror();
    const w = createWriter({ dir });
    w.append('events', { type: 'a' });
    renameSync(join(dir, 'events.jsonl'), join(dir, 'events.jsonl.1'));
    w.append('events', { type: 'b' }); // may still land in the renamed file: within the recheck interval
    await new Promise((r) => setTimeout(r, 120));
    w.append('events', { type: 'c' });
    w.close();
    expect(fileLines(dir)).toContainEqual(expect.stringContaining('"type":"c"'));
    const s = openStore(join(dir, 'mirror.db'));
    ingestStream(s, dir, 'events');
    expect(verifyMirror(s, dir).ok).toBe(true);
    expect(s.countEvents()).toBe(3);
    s.close();
  });

  it('with the DB deleted, appends succeed and the problem is reported once', () => {
    const dir = withMirror();
    const problems: string[] = [];
    const w = createWriter({ dir, retryAfterMs: 0, onProblem: (e) => problems.push(e.code) });
    w.append('events', { type: 'a' });
    for (const f of ['mirror.db', 'mirror.db-wal', 'mirror.db-shm']) rmSync(join(dir, f), { force: true });
    const before = Date.now();
    while (Date.now() - before < 150) w.append('events', { type: 'b' });
    w.close();
    expect(problems).toEqual(['DB_MISSING']);
    expect(w.stats().skipped).toBeGreaterThan(0);
    expect(fileLines(dir).length).toBe(w.stats().appended);
  });

  it('with the DB replaced by garbage, appends succeed and the problem is reported once', () => {
    const dir = withMirror();
    const problems: string[] = [];
    writeFileSync(join(dir, 'mirror.db'), 'garbage '.repeat(2000));
    rmSync(join(dir, 'mirror.db-wal'), { force: true });
    const w = createWriter({ dir, retryAfterMs: 0, onProblem: (e) => problems.push(e.code) });
    for (let i = 0; i < 200; i++) expect(w.append('events', { type: 'x', i }).mirrored).toBe(false);
    w.close();
    expect(problems).toEqual(['DB_NOT_A_DATABASE']);
    expect(fileLines(dir)).toHaveLength(200);
  });

  it('while another process holds the write lock for 5 s, appends keep their budget and all are mirrored afterwards', async () => {
    const dir = withMirror();
    const db = join(dir, 'mirror.db');
    const holder = spawn(process.execPath, ['-e', `
      const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new D(${JSON.stringify(db)}); db.exec('BEGIN EXCLUSIVE'); console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 5000);`]);
    await new Promise((r) => holder.stdout.once('data', r));
    const w = createWriter({ dir, budgetMs: 20, retryAfterMs: 200, onProblem: () => {} });
    let worst = 0;
    let n = 0;
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const t = performance.now();
      w.append('events', { type: 'during.lock', n: n++ });
      worst = Math.max(worst, performance.now() - t);
      if (n % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => holder.on('exit', r));
    const skipped = w.stats().skipped;
    expect(skipped).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 250)); // past retryAfterMs
    expect(w.append('events', { type: 'after.lock', n: n++ }).mirrored).toBe(true);
    w.close();
    // The budget is the 20 ms busy timeout; the bound allows for a noisy shared machine and is still far from the 5 s lock.
    expect(worst).toBeLessThan(400);
    const s = openStore(db);
    ingestStream(s, dir, 'events');
    expect(s.countEvents()).toBe(n);
    // The skips are counted where `status` shows them.
    expect(s.getMeta('mirror_skips')).toBe(String(skipped));
    s.close();
  });

  it('the fast path mirrors its own lines from memory only while nobody else moved the checkpoint or wrote after it', () => {
    const dir = withMirror();
    const log = join(dir, 'events.jsonl');
    const lines = (): string[] => {
      const rows = withSql(join(dir, 'mirror.db'), (db) => db.prepare('SELECT line FROM events ORDER BY "offset"').all()) as { line: string }[];
      return rows.map((r) => r.line);
    };
    const w = createWriter({ dir, mode: 'batched', batchMaxEvents: 1000, batchMaxDelayMs: 60_000 });
    w.append('events', { type: 'a', ts_epoch: 1 });
    w.flush();
    w.append('events', { type: 'b', ts_epoch: 2 });
    w.flush();
    // Another ingester takes the writer's pending line, then another program appends a line of exactly its length.
    w.append('events', { type: 'c', ts_epoch: 3 });
    const other = openStore(join(dir, 'mirror.db'));
    importAll(other, dir);
    other.close();
    writeFileSync(log, '{"ts":"1970-01-01T00:00:04Z","ts_epoch":4,"type":"d"}\n', { flag: 'a' });
    w.append('events', { type: 'e', ts_epoch: 5 });
    w.flush();
    // And an echo >> between two of the writer's lines.
    w.append('events', { type: 'f', ts_epoch: 6 });
    writeFileSync(log, '{"type":"g","ts_epoch":7}\n', { flag: 'a' });
    w.append('events', { type: 'h', ts_epoch: 8 });
    w.close();
    expect(lines()).toEqual(fileLines(dir));
    expect(lines().map((l) => JSON.parse(l).type)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    const s = openStore(join(dir, 'mirror.db'), { readonly: true });
    expect(verifyMirror(s, dir).ok).toBe(true);
    s.close();
  });

  it('the fast path reuses the source it committed only while no other connection committed since', () => {
    const dir = withMirror();
    const db = join(dir, 'mirror.db');
    const w = createWriter({ dir });
    for (const type of ['a', 'b', 'c']) w.append('events', { type, ts_epoch: 1 });
    // Another process retires this generation (as resolution does for a file replaced under its path).
    withSql(db, (c) => c.prepare("UPDATE sources SET state = 'replaced'").run());
    w.append('events', { type: 'd', ts_epoch: 2 });
    w.close();
    // Without re-reading it, the writer would have moved the retired generation's checkpoint over its new line.
    const got = withSql(db, (c) => c.prepare('SELECT s.state, e.type FROM events e JOIN sources s ON s.id = e.source_id ORDER BY e.id').all());
    expect(got).toEqual([
      { state: 'replaced', type: 'a' }, { state: 'replaced', type: 'b' }, { state: 'replaced', type: 'c' }, { state: 'active', type: 'd' },
    ]);
    const retired = withSql(db, (c) => c.prepare('SELECT "offset", rows FROM sources WHERE state = \'replaced\'').get()) as { offset: number; rows: number };
    expect(retired).toEqual({ offset: fileLines(dir).slice(0, 3).join('\n').length + 1, rows: 3 });
  });

  it('the fast path checks the bytes before its checkpoint even while nobody committed: a file rewritten in place still verifies', () => {
    const dir = withMirror();
    const log = join(dir, 'events.jsonl');
    const w = createWriter({ dir });
    for (const type of ['a', 'b', 'c']) w.append('events', { type, ts_epoch: 1 });
    // Another program rewrites the last line in place (same length), touching only the file.
    writeFileSync(log, readFileSync(log, 'utf8').replace('"type":"c"', '"type":"x"'));
    w.append('events', { type: 'd', ts_epoch: 2 });
    w.close();
    const s = openStore(join(dir, 'mirror.db'), { readonly: true });
    const lines = [...s.exportLines({})];
    expect(verifyMirror(s, dir).ok).toBe(true);
    s.close();
    // The rewritten generation's line is mirrored as it is now (the first generation keeps its own rows).
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['a', 'b', 'c', 'x', 'd']);
  });

  it('durability modes write the same bytes', () => {
    for (const durability of ['fsync', { intervalMs: 10 }] as const) {
      const dir = withMirror();
      const w = createWriter({ dir, durability });
      for (let i = 0; i < 20; i++) w.append('events', { type: 'd', i });
      w.close();
      expect(fileLines(dir)).toHaveLength(20);
      expect(rows(dir)).toBe(20);
    }
  });
});

describe('8 processes appending 5,000 events each to one stream', () => {
  it('half through the writer, half through bash >>: 40,000 intact lines, 40,000 rows, verify passes', async () => {
    const dir = withMirror();
    const input = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ type: 'w', i, pad: 'x'.repeat(i % 300) })).join('\n');
    const runCli = (k: number) => new Promise<number>((res) => {
      const p = spawn(process.execPath, [join(import.meta.dirname, '../dist/src/cli/main.js'), '--dir', dir, 'append', 'events', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
      p.stdin.end(input.replaceAll('"type":"w"', `"type":"w","proc":${k}`));
      p.on('exit', (c) => res(c ?? -1));
    });
    const runBash = (k: number) => new Promise<number>((res) => {
      const script = `for i in $(seq 1 5000); do echo '{"type":"bash","proc":${k},"i":'$i',"pad":"${'y'.repeat(200)}"}' >> events.jsonl; done`;
      spawn('bash', ['-c', script], { cwd: dir, stdio: 'inherit' }).on('exit', (c) => res(c ?? -1));
    });
    const codes = await Promise.all([0, 1, 2, 3].flatMap((k) => [runCli(k), runBash(k + 4)]));
    expect(codes).toEqual(Array(8).fill(0));
    const lines = fileLines(dir);
    expect(lines).toHaveLength(40_000);
    for (const l of lines) JSON.parse(l); // every line intact
    const s = openStore(join(dir, 'mirror.db'));
    importAll(s, dir);
    expect(s.countEvents()).toBe(40_000);
    expect((withSql(s.path, (db) => db.prepare('SELECT COUNT(DISTINCT line) AS n FROM events').get()) as { n: number }).n).toBe(40_000);
    expect(verifyMirror(s, dir).ok).toBe(true);
    s.close();
  });
});

describe('jsonl-mirror append (CLI)', () => {
  it('appends one event from the argument and mirrors it', () => {
    const dir = withMirror();
    const r = cli(['--dir', dir, 'append', 'events', '{"type":"cli.one","n":1}', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ stream: 'events', appended: 1, mirrored: 1, skipped: 0, rejected: 0, refused: [], problem: null });
    expect(rows(dir)).toBe(1);
  });

  it("says so when its line was glued onto another writer's unfinished line and became a rejected line", () => {
    const dir = withMirror();
    // Another program is in the middle of a line (written a moment ago: the writer leaves a fresh fragment alone).
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"other","n":');
    const r = cli(['--dir', dir, 'append', 'events', '{"type":"cli.one"}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^appended 1 to events\.jsonl; mirrored 1 \(the mirror took a malformed line as a reject: a line of ours glued onto another writer's unfinished one/);
    const j = cli(['--dir', dir, 'append', 'events', '{"type":"cli.two"}', '--json']).json;
    expect(j).toMatchObject({ appended: 1, mirrored: 1, rejected: 0 });
    expect(rows(dir)).toBe(1);
  });

  it('reads NDJSON from stdin, refusing bad lines by number and writing the good ones', () => {
    const dir = withMirror();
    const r = cli(['--dir', dir, 'append', 'events', '-', '--json'], { input: '{"type":"a"}\n[1,2]\n{"type":\n\n{"type":"b"}\n' });
    expect(r.code).toBe(1);
    expect(r.json.appended).toBe(2);
    expect(r.json.refused.map((x: { line: number }) => x.line)).toEqual([2, 3]);
    expect(r.stderr).toMatch(/refused line 2: an event must be a plain JSON object/);
    expect(r.stderr).toMatch(/refused line 3: not valid JSON/);
    expect(fileLines(dir).map((l) => JSON.parse(l).type)).toEqual(['a', 'b']);
    expect(rows(dir)).toBe(2);
  });

  it('without a mirror, still appends and says how to catch up', () => {
    const dir = tmp();
    const r = cli(['--dir', dir, 'append', 'events', '{"type":"x"}']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no mirror at .*run `jsonl-mirror import`/);
    expect(fileLines(dir)).toHaveLength(1);
  });
});

/**
 * logrotate's `compress` without `delaycompress`: the live file is renamed,
 * gzip reads it whole and removes it at once. A writer that goes on writing
 * into the renamed file after that puts its lines in no file.
 */
function rotateAndCompress(dir: string): string {
  renameSync(join(dir, 'events.jsonl'), join(dir, 'events.jsonl.1'));
  const archived = readFileSync(join(dir, 'events.jsonl.1'), 'utf8');
  rmSync(join(dir, 'events.jsonl.1'));
  return archived;
}

describe('the writer never writes into a generation the path no longer names', () => {
  for (const mode of ['per-event', 'batched'] as const) {
    it(`createWriter (${mode}): a line appended right after a rename lands in the new file`, () => {
      const dir = withMirror();
      const w = createWriter({ dir, mode, onProblem: () => {} });
      try {
        const archived: string[] = [];
        for (let i = 0; i < 20; i++) {
          w.append('events', { type: 't', seq: 2 * i });
          archived.push(rotateAndCompress(dir));
          // Well within the 100 ms the writer used to wait before looking at the path again.
          w.append('events', { type: 't', seq: 2 * i + 1 });
        }
        w.flush();
        const onDisk = [...archived.join('').split('\n'), ...readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n')]
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l).seq);
        expect(onDisk.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      } finally {
        w.close();
      }
    });
  }

  it('append - (one long-lived process): every acknowledged line is on disk', async () => {
    const dir = withMirror();
    const p = spawn(process.execPath, [join(import.meta.dirname, '../dist/src/cli/main.js'), '--dir', dir, 'append', 'events', '-'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const archived: string[] = [];
    const live = () => {
      try {
        return readFileSync(join(dir, 'events.jsonl'), 'utf8');
      } catch {
        return '';
      }
    };
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
      return what();
    };
    let lost = 0;
    for (let i = 0; i < 10; i++) {
      p.stdin.write(`{"type":"t","seq":${2 * i}}\n`);
      await until(() => live().includes(`"seq":${2 * i}}`));
      archived.push(rotateAndCompress(dir));
      p.stdin.write(`{"type":"t","seq":${2 * i + 1}}\n`);
      if (!(await until(() => live().includes(`"seq":${2 * i + 1}}`)))) lost++;
    }
    p.stdin.end();
    await new Promise((r) => p.on('exit', r));
    expect(lost).toBe(0);
  });
});
