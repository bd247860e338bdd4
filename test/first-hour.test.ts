import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cli, tmp } from './helpers.js';

/** Issue 26: places where a new user stumbled in the first hour. */

describe('metrics in a folder with no logs', () => {
  it('refuses with the fix, as import does, and creates nothing', () => {
    const dir = tmp();
    const r = cli(['--dir', dir, 'metrics', 'dora']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^jsonl-mirror: no logs in .* and no mirror; there is nothing to measure\. Pass --dir with the folder/);
    const j = cli(['--dir', dir, '--json', 'metrics', 'dora']);
    expect(j.json.error.code).toBe('DIR_MISSING');
    // A folder whose logs are gone but whose mirror is there still answers from the mirror.
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"t"}\n');
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(cli(['--dir', dir, 'metrics', 'dora']).code).toBe(0);
  });
});

describe('verify and doctor on a healthy live log whose writer is mid-line', () => {
  it('pass, and say the unfinished last line waits for its newline', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"t","n":1}\n');
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    appendFileSync(join(dir, 'events.jsonl'), '{"type":"t","n":');
    const v = cli(['--dir', dir, 'verify']);
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/verify passed: .*; 16 B of an unfinished last line wait for their newline/);
    expect(cli(['--dir', dir, '--json', 'verify']).json).toMatchObject({ ok: true, pendingBytes: 16, behindBytes: 0 });
    const d = cli(['--dir', dir, '--json', 'doctor']);
    expect(d.code).toBe(0);
    expect(d.json.checks.find((c: { name: string }) => c.name === 'lag')).toMatchObject({ ok: true });
    // Complete lines not mirrored yet are still behind.
    appendFileSync(join(dir, 'events.jsonl'), '2}\n{"type":"t","n":3}\n');
    expect(cli(['--dir', dir, 'verify']).code).toBe(1);
    expect(cli(['--dir', dir, 'doctor']).code).toBe(1);
  });
});

describe('one shape per answer', () => {
  it('status prints every size in one unit family (the checkpoint too)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"t","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n'.repeat(40));
    cli(['--dir', dir, 'import']);
    const r = cli(['--dir', dir, 'status'], { env: { ...process.env, COLUMNS: '200' } });
    const row = r.stdout.split('\n').find((l) => l.includes('events.jsonl'))!;
    // size, checkpoint and behind alike: never 3,400 beside 3.3 KiB.
    expect(row).toMatch(/ 3\.3 KiB .* 3\.3 KiB .* 0 B /);
    expect(row).not.toMatch(/3,400/);
  });

  it('tail --feed --tag-stream tells streams apart: {"stream":NAME,"event":LINE}, the line as written', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.jsonl'), '{"type":"t","n":1}\n');
    writeFileSync(join(dir, 'b.jsonl'), '{"type":"t",  "n":2}\n');
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--feed', '--tag-stream', '--poll-interval', '100'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 200 && out.split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    p.kill('SIGINT');
    await new Promise((r) => p.on('exit', r));
    const lines = out.trim().split('\n').sort();
    expect(lines).toEqual(['{"stream":"a","event":{"type":"t","n":1}}', '{"stream":"b","event":{"type":"t",  "n":2}}']);
    expect(lines.map((l) => JSON.parse(l).event.n)).toEqual([1, 2]);
  });
});

describe('query output for jq, as sqlite-utils gives it', () => {
  it('--raw-lines prints the first column alone; --json-cols outputs JSON text as JSON', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"stage.failed","stage":"build"}\n{"type":"x","n":[1,2]}\n');
    cli(['--dir', dir, 'import']);
    const raw = cli(['--dir', dir, 'query', "SELECT line FROM events WHERE type = 'stage.failed'", '--raw-lines']);
    expect(raw.stdout).toBe('{"type":"stage.failed","stage":"build"}\n');
    const nl = cli(['--dir', dir, 'query', 'SELECT type, line FROM events ORDER BY id', '--nl', '--json-cols']);
    expect(nl.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { type: 'stage.failed', line: { type: 'stage.failed', stage: 'build' } },
      { type: 'x', line: { type: 'x', n: [1, 2] } },
    ]);
    // Without it, the column is the text, as SQLite holds it.
    expect(JSON.parse(cli(['--dir', dir, 'query', 'SELECT line FROM events LIMIT 1', '--nl']).stdout).line).toBe('{"type":"stage.failed","stage":"build"}');
    expect(cli(['--dir', dir, 'query', 'SELECT line FROM events', '--csv', '--json-cols']).code).toBe(1);
    expect(cli(['--dir', dir, 'query', 'SELECT line FROM events', '--raw-lines', '--csv']).code).toBe(1);
  });
});

describe('the messages of a first hour', () => {
  it('export > x.jsonl in the log folder says to remove the empty file the shell made', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"t"}\n');
    cli(['--dir', dir, 'import']);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" --dir "${dir}" export > "${dir}/x.jsonl"`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/your shell has already created it empty: remove it \(rm .*x\.jsonl\) or it becomes stream "x"/);
  });

  it('cost-today without a budget file says the budget is not set, not "daily budget USD 0"', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"t"}\n');
    const r = cli(['--dir', dir, 'metrics', 'cost-today']);
    expect(r.stdout).toMatch(/daily budget +│ not set/);
    expect(r.stdout).not.toMatch(/daily budget USD/);
    writeFileSync(join(dir, 'budget.json'), '{"daily_budget_usd": 25}');
    expect(cli(['--dir', dir, 'metrics', 'cost-today']).stdout).toMatch(/daily budget USD +│ 25/);
  });

  it('metrics on a log that ended long ago says why every window is empty and how to see it as of its end', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"ts":"2020-03-01T10:00:00Z","type":"pipeline.completed","result":"success"}\n');
    cli(['--dir', dir, 'import']);
    const r = cli(['--dir', dir, 'metrics', 'dora']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/the newest event is from 2020-03-01, \d+ days ago, and windows end now; to see the log as it stood then: --now 2020-03-01T10:00:00Z/);
    expect(cli(['--dir', dir, 'metrics', 'dora', '--now', '2020-03-01T10:00:00Z']).stderr).not.toMatch(/newest event/);
  });
});

describe('errors name what the caller can pass', () => {
  it('the library names its options, the CLI its flags, for the same error', async () => {
    const { importLogs } = await import('../src/import/import-logs.js');
    expect(() => importLogs({ dir: '/nonexistent-jm' })).toThrow(/pass the `dir` option with the folder/);
    expect(cli(['--dir', '/nonexistent-jm', 'import']).stderr).toMatch(/pass --dir with the folder/);
  });
});

describe('a writer that died mid-line', () => {
  it('leaves a last line that verify and doctor report after a minute, with import --final as the fix', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"t","n":1}\n{"type":"t","n":');
    cli(['--dir', dir, 'import']);
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(join(dir, 'events.jsonl'), old, old);
    expect(cli(['--dir', dir, 'verify']).code).toBe(1);
    const d = cli(['--dir', dir, '--json', 'doctor']);
    expect(d.code).toBe(1);
    expect(d.json.checks.find((c: { name: string }) => c.name === 'lag').fix).toMatch(/import --final/);
  });
});
