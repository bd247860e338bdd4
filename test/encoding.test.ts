import { copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReader } from '../src/api/reader.js';
import { cli, tmp, withSql } from './helpers.js';

const NOW = 1_764_633_600;

function json(r: { stdout: string; code: number; stderr: string }): any {
  if (r.stdout.trim() === '') throw new Error(`no JSON (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The helpers whose answers group by a text field, from both backends. */
function grouped(dir: string) {
  const answers = (source: 'sqlite' | 'scan') => {
    const r = createReader({ dir, source });
    try {
      return {
        stages: r.stagePerformance({ now: NOW }),
        costs: r.costBreakdown({ now: NOW }),
        history: r.metricsHistory({ now: NOW }),
        heatmap: r.failureHeatmap({ now: NOW }),
        feed: r.activity({ now: NOW, type: 'stage' }),
      };
    } finally {
      r.close();
    }
  };
  return { sqlite: answers('sqlite'), scan: answers('scan') };
}

describe('a string cut inside an emoji (a lone surrogate, "\\ud83d")', () => {
  it('is one value everywhere, kept as its JSON escape: SQLite, the scan and day_totals agree, and verify passes after import and rebuild', () => {
    const dir = tmp();
    const ev = (stage: string, type = 'stage.completed', model = 'opus') =>
      `${JSON.stringify({ ts_epoch: NOW - 60, type, stage, duration_s: 10, cost_usd: 1, model, issue: 1 })}\n`;
    // Two different stages that differ only in the half emoji each was cut at, and a model cut the same way.
    writeFileSync(join(dir, 'events.jsonl'), ev('ship\ud83d') + ev('ship\ud83e') + ev('ship\ud83e') + ev('ship\ud83d', 'stage.failed') +
      ev('ship\ud83d', 'pipeline.cost', 'son\udc00') + ev('ship\ud83e', 'pipeline.cost'));
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8')).toContain('"stage":"ship\\ud83d"');
    cli(['--dir', dir, 'import']);
    const { sqlite, scan } = grouped(dir);
    expect(sqlite).toEqual(scan);
    expect(sqlite.stages.stages.map((s) => [s.name, s.count])).toEqual([['ship\\ud83d', 1], ['ship\\ud83e', 2]]);
    expect(Object.keys(sqlite.costs.byModel).sort()).toEqual(['opus', 'son\\udc00']);
    expect(sqlite.history.stage_durations).toEqual({ 'ship\\ud83d': 10, 'ship\\ud83e': 10 });
    // The line itself is as written.
    const lines = withSql(join(dir, 'mirror.db'), (c) => c.prepare('SELECT line FROM events ORDER BY id').all()) as { line: string }[];
    expect(lines.map((l) => `${l.line}\n`).join('')).toBe(readFileSync(join(dir, 'events.jsonl'), 'utf8'));
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
    expect(json(cli(['--dir', dir, '--json', 'doctor'])).ok).toBe(true);
    cli(['--dir', dir, 'rebuild', '--yes']);
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
    expect(grouped(dir).sqlite).toEqual(scan);
  });
});

describe('a UTF-8 byte-order mark at the start of a file', () => {
  const BOM = '\ufeff';
  const line = (n: number) => `{"ts_epoch":${NOW - 100 + n},"type":"stage.completed","stage":"build","duration_s":${n}}\n`;

  it('is an encoding mark, not part of the first event: offsets stay byte-exact, and verify, export and the scan agree', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), BOM + line(1) + line(2));
    const imported = json(cli(['--dir', dir, '--json', 'import']));
    expect(imported).toMatchObject({ rows: 2, rejects: 0 });
    const rows = withSql(join(dir, 'mirror.db'), (c) => c.prepare('SELECT "offset", line FROM events ORDER BY id').all()) as { offset: number; line: string }[];
    expect(rows).toEqual([{ offset: 0, line: line(1).trimEnd() }, { offset: 3 + Buffer.byteLength(line(1)), line: line(2).trimEnd() }]);
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
    expect(cli(['--dir', dir, 'export']).stdout).toBe(line(1) + line(2));
    const { sqlite, scan } = grouped(dir);
    expect(sqlite).toEqual(scan);
    expect(scan.stages.stages[0]!.count).toBe(2);
  });

  it('only at offset 0: elsewhere the same bytes are part of a line (a reject)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), line(1) + BOM + line(2));
    expect(json(cli(['--dir', dir, '--json', 'import']))).toMatchObject({ rows: 1, rejects: 1 });
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
  });

  it('a copytruncate copy of a file that starts with one holds its lines: nothing twice', () => {
    const dir = tmp();
    const live = join(dir, 'events.jsonl');
    writeFileSync(live, BOM + line(1) + line(2));
    cli(['--dir', dir, 'import']);
    copyFileSync(live, `${live}.1`);
    truncateSync(live, 0);
    writeFileSync(live, line(3));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(1);
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
    expect(createReader({ dir, source: 'sqlite' }).activity({ now: NOW }).total).toBe(3);
  });
});
