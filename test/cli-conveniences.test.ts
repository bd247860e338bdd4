import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytes } from '../src/cli/format.js';
import { encodeLine } from '../src/model/line-tokens.js';
import { CLI, cli, mirrored, tmp } from './helpers.js';

/** Issue 11, part B: what users of sqlite-utils, jq and ccusage expect. */


const NOW = ['--now', '2026-02-12'];

describe('metrics --csv, --tsv, --nl for list results', () => {
  it('each row of the JSON list is one CSV/TSV line and one NDJSON object, nested fields as dotted columns', () => {
    const dir = mirrored();
    for (const name of ['stages', 'cost-trend', 'throughput', 'bottlenecks', 'dora-trend', 'activity']) {
      const json = cli(['--dir', dir, 'metrics', name, ...NOW, '--json']).json;
      const list: Record<string, unknown>[] = Object.values(json).find(Array.isArray) as Record<string, unknown>[];
      expect(list.length, name).toBeGreaterThan(0);
      const nl = cli(['--dir', dir, 'metrics', name, ...NOW, '--nl']);
      expect(nl.code, nl.stderr).toBe(0);
      expect(nl.stdout.trim().split('\n').map((l) => JSON.parse(l)).length).toBe(list.length);
      const csv = cli(['--dir', dir, 'metrics', name, ...NOW, '--csv']).stdout.trim().split('\n');
      const tsv = cli(['--dir', dir, 'metrics', name, ...NOW, '--tsv']).stdout.trim().split('\n');
      expect(csv).toHaveLength(list.length + 1);
      expect(tsv).toHaveLength(list.length + 1);
      if (name === 'stages') {
        expect(csv[0]).toBe('name,avgDuration,minDuration,maxDuration,count,cost,trend');
        const s = list[0] as { name: string; count: number };
        expect(csv[1]!.startsWith(`${s.name},`)).toBe(true);
        expect(tsv[1]!.split('\t')[4]).toBe(String(s.count));
      }
      if (name === 'dora-trend') expect(csv[0]!.split(',')).toContain('grades.cfr.grade');
    }
  });

  it('an answer that is not a list (dora, costs, history, heatmap) is one row of dotted columns', () => {
    const dir = mirrored();
    for (const name of ['dora', 'costs', 'history', 'heatmap']) {
      const json = cli(['--dir', dir, 'metrics', name, ...NOW, '--json']).json;
      const csv = cli(['--dir', dir, 'metrics', name, ...NOW, '--csv']);
      expect(csv.code, csv.stderr).toBe(0);
      const [head, row, more] = csv.stdout.split('\n');
      expect(more, name).toBe('');
      if (name === 'dora') {
        expect(head!.split(',').slice(0, 3)).toEqual(['deploy_freq.value', 'deploy_freq.unit', 'deploy_freq.grade']);
        expect(row!.split(',')[2]).toBe(json.deploy_freq.grade);
      }
      const nl = cli(['--dir', dir, 'metrics', name, ...NOW, '--nl']).stdout.trim().split('\n');
      expect(nl, name).toHaveLength(1);
      if (name === 'dora') expect(JSON.parse(nl[0]!)['cfr.value']).toBe(json.cfr.value);
    }
  });

  it('an empty list still prints its header with --csv and --tsv, as query does', () => {
    const dir = mirrored();
    for (const format of ['--csv', '--tsv']) {
      const r = cli(['--dir', dir, 'metrics', 'bottlenecks', '--now', '2001-01-01', format]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(format === '--csv' ? 'stage,avgDuration,count,impact\n' : 'stage\tavgDuration\tcount\timpact\n');
    }
  });
});

describe('prune', () => {
  it('--dry-run says what would go, --yes drops it with a summary, verify still passes, status said how much', () => {
    const dir = mirrored();
    // What the mirror stores of the file's events: each line token-coded, counted in characters as SQLite's length() does.
    const isObject = (l: string): boolean => {
      try {
        const v = JSON.parse(l);
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      } catch {
        return false;
      }
    };
    const stored = readFileSync(join(dir, 'events.jsonl.1'), 'utf8').split('\n').filter(isObject).reduce((a, l) => a + [...encodeLine(l)].length, 0);
    rmSync(join(dir, 'events.jsonl.1'));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const status = cli(['--dir', dir, 'status']);
    expect(status.stdout).toContain(`\`jsonl-mirror prune\` would drop 29,471 rows of files that are gone (${bytes(stored)} stored)`);
    expect(cli(['--dir', dir, 'prune']).stderr).toMatch(/--dry-run.*--yes/);
    const dry = cli(['--dir', dir, 'prune', '--dry-run', '--json']);
    expect(dry.json).toMatchObject({ dryRun: true, rows: 29_471, rejects: 342, bytes: stored });
    expect(cli(['--dir', dir, 'query', 'SELECT COUNT(*) AS n FROM events', '--json']).json).toEqual([{ n: 57_554 }]);
    const yes = cli(['--dir', dir, 'prune', '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/dropped 29,471 rows and 342 rejects of 1 file/);
    expect(cli(['--dir', dir, 'query', 'SELECT COUNT(*) AS n FROM events', '--json']).json).toEqual([{ n: 28_083 }]);
    const v = cli(['--dir', dir, 'verify', '--json']);
    expect(v.json.problems).toEqual([]); // day_totals lost exactly the pruned rows' share
    expect(cli(['--dir', dir, 'prune', '--dry-run']).stdout).toMatch(/nothing to prune/);
  });

  it('--before keeps files whose events are newer', () => {
    const dir = mirrored();
    rmSync(join(dir, 'events.jsonl.1'));
    cli(['--dir', dir, 'import']);
    expect(cli(['--dir', dir, 'prune', '--dry-run', '--before', '2020-01-01', '--json']).json).toMatchObject({ rows: 0 });
    expect(cli(['--dir', dir, 'prune', '--dry-run', '--before', '2030-01-01', '--json']).json).toMatchObject({ rows: 29_471 });
  });
});

describe('help and completion', () => {
  it('every command help shows the global options and examples', () => {
    const commands = ['import', 'append', 'tail', 'metrics', 'status', 'verify', 'doctor', 'query', 'export', 'rebuild', 'migrate', 'prune', 'shell-init', 'completion'];
    for (const c of commands) {
      const r = cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(/Global Options:[\s\S]*--dir <dir>[\s\S]*--db <file>[\s\S]*--json/);
      expect(r.stdout, c).toMatch(/Examples:\n {2}\S/);
    }
  });

  it('bash completion completes commands, metric names and a command\'s options', () => {
    const script = cli(['completion', 'bash']).stdout;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _jsonl_mirror; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    expect(complete(['jsonl-mirror', 'pr'])).toBe('prune');
    expect(complete(['jsonl-mirror', '--dir', 'logs', 'metrics', 'dora']).split(' ')).toEqual(['dora', 'dora-trend']);
    expect(complete(['jsonl-mirror', 'query', '--n']).split(' ')).toEqual(['--nl']);
    expect(cli(['completion', 'zsh']).stdout).toMatch(/bashcompinit[\s\S]*complete -o default -F _jsonl_mirror jsonl-mirror/);
    expect(cli(['completion', 'fish']).stderr).toMatch(/bash or zsh, not "fish"/);
  });
});

describe('append --quiet and tail --status-every', () => {
  it('append --quiet prints nothing on success, and still reports a refusal', () => {
    const dir = tmp();
    const ok = cli(['--dir', dir, 'append', 'events', '{"type":"x"}', '--quiet', '--no-mirror']);
    expect(ok).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const bad = cli(['--dir', dir, 'append', 'events', '-', '--quiet', '--no-mirror'], { input: 'not json\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refused line 1/);
  });

  it('the status line gives the rate over the last interval, not the lifetime average', async () => {
    const dir = tmp();
    appendFileSync(join(dir, 'events.jsonl'), '{"type":"a"}\n'.repeat(500));
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--status-every', '1', '--poll-interval', '50'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    await new Promise((r) => setTimeout(r, 3500));
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
    const lines = err.split('\n').filter((l) => l.startsWith('jsonl-mirror tail:'));
    expect(lines.length, err).toBeGreaterThanOrEqual(2);
    // The 500 rows came at the start: a later line says 0/s, where the lifetime average would not.
    expect(lines.at(-1)).toMatch(/^jsonl-mirror tail: 500 rows \(0\/s over the last 1 s\), 0 rejects, 0 B behind$/);
  });
});
