import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
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
