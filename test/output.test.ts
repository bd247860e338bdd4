import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { table } from '../src/cli/format.js';
import { CLI, mirrored, ROOT } from './helpers.js';

describe('writeOut', () => {
  it('writes everything to a non-blocking pipe that takes part of a write at a time', () => {
    const module = pathToFileURL(join(ROOT, 'dist/src/cli/output.js')).href;
    // Touching process.stdout on a pipe makes fd 1 non-blocking, as a pg worker or a library may do.
    const child = `import { writeOut } from ${JSON.stringify(module)};
process.stdout;
writeOut('x'.repeat(8 * 1024 * 1024) + '\\n');`;
    const r = spawnSync('bash', ['-c', `"${process.execPath}" --input-type=module -e "$CHILD" | (sleep 0.5; wc -c)`], {
      env: { ...process.env, CHILD: child }, encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBe(8 * 1024 * 1024 + 1);
  });
});

describe('tables fit the terminal', () => {
  const lines = (t: string) => t.split('\n');
  const widthOf = (t: string) => Math.max(...lines(t).map((l) => [...l].length));

  it('a table that fits keeps its natural widths, one line per row', () => {
    expect(table(['check', 'ok'], [['integrity', 'ok'], ['lag', 'PROBLEM']], 80)).toBe([
      '┌───────────┬─────────┐',
      '│ check     │ ok      │',
      '│ integrity │ ok      │',
      '│ lag       │ PROBLEM │',
      '└───────────┴─────────┘',
    ].join('\n'));
  });

  it('a wider table wraps its long cells between words; narrow columns keep their width and no word is lost', () => {
    const detail = 'the mirror is 12 MiB behind the files and no tailer runs here, so every read scans the files again';
    const t = table(['check', 'ok', 'detail'], [['lag', 'PROBLEM', detail], ['wal', 'ok', '0 B']], 40);
    expect(widthOf(t)).toBeLessThanOrEqual(40);
    expect(lines(t)[1]).toMatch(/^│ check │ ok {6}│ detail/);
    const cells = lines(t).slice(2, -1).map((l) => l.split('│')[3]!.trim());
    expect(cells.join(' ').replace(/ +/g, ' ').trim()).toBe(`${detail} 0 B`);
    expect(cells.filter(Boolean).length).toBeGreaterThan(3);
  });

  it('a word longer than its column is broken only when the words alone cannot fit', () => {
    const t = table(['id', 'url'], [['1', `https://example.com/${'x'.repeat(60)}`]], 40);
    expect(widthOf(t)).toBeLessThanOrEqual(40);
    expect(lines(t).slice(2, -1).map((l) => l.split('│')[2]!.trim()).join('')).toBe(`https://example.com/${'x'.repeat(60)}`);
  });

  it("doctor's report fits 80 columns when stdout is not a terminal, with each fix whole below the table", () => {
    const dir = mirrored();
    appendFileSync(join(dir, 'events.jsonl'), '{"type":"stage.started","issue":9,"stage":"build","ts_epoch":1770768000}\n');
    const r = spawnSync(process.execPath, [CLI, '--dir', dir, 'doctor'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '' } });
    expect(r.status).toBe(1);
    expect(widthOf(r.stdout)).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/\nto fix:\n {2}lag: .*jsonl-mirror import/);
    // $COLUMNS stands for the terminal's width when there is none: narrower, the details wrap.
    const narrow = spawnSync(process.execPath, [CLI, '--dir', dir, 'doctor'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '50' } });
    const tableLines = (t: string) => lines(t).filter((l) => l.startsWith('│'));
    expect(Math.max(...tableLines(narrow.stdout).map((l) => [...l].length))).toBeLessThanOrEqual(50);
    expect(tableLines(narrow.stdout).length).toBeGreaterThan(tableLines(r.stdout).length);
  });
});
