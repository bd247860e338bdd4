import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { cli, tmp, withSql } from './helpers.js';
import { at, expectBoth, H, NOW, writeLog } from './metrics-helpers.js';

const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** costs.json as Shipwright writes it: issue a string or "". */
function costsJson(dir: string, entries: Record<string, unknown>[]): void {
  writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries }));
}

describe('cost today (helper 11)', () => {
  const entry = (epoch: number, extra: Record<string, unknown>) =>
    ({ input_tokens: 0, output_tokens: 0, model: 'sonnet', stage: 'build', issue: '', ts: iso(epoch), ts_epoch: epoch, ...extra });
  const now = NOW + 10 * H; // 2026-02-11T10:00:00Z
  function logDir(): string {
    const dir = writeLog([at(NOW + H, { type: 'pipeline.cost', cost_usd: 7, issue: 42 }), at(NOW + H, { type: 'cost.record', cost_usd: 7, issue: 42 })]);
    costsJson(dir, [
      entry(NOW - H, { cost_usd: 5 }), // yesterday
      entry(NOW, { cost_usd: 1.25 }), // 00:00 of now's day: in
      entry(NOW + 2 * H, { cost_usd: 2.5, issue: '42' }),
      // Tokens without a positive cost_usd count 0 (the dashboard sums cost_usd alone; pricing them would add 0.75 each).
      entry(NOW + 3 * H, { model: 'haiku', input_tokens: 1_000_000, output_tokens: 400_000 }),
      entry(NOW + 4 * H, { cost_usd: 0, model: 'haiku', input_tokens: 1_000_000, output_tokens: 400_000 }),
      entry(NOW + 11 * H, { cost_usd: 100 }), // after now
    ]);
    return dir;
  }

  it('sums today\'s costs.json entries up to now (stream costs only) against daily_budget_usd of budget.json', () => {
    const dir = logDir();
    writeFileSync(join(dir, 'budget.json'), JSON.stringify({ daily_budget_usd: 20, monthly_budget_usd: 400 }));
    // 1.25 + 2.5 = 3.75 of 20 = 18.75 %
    expectBoth(dir, (r) => r.costToday({ now }), { today_spent: 3.75, daily_budget: 20, pct_used: 18.75 });
  });

  it('no budget.json, no key, or not a positive number: budget 0 and 0 % used', () => {
    const dir = logDir();
    expectBoth(dir, (r) => r.costToday({ now }), { today_spent: 3.75, daily_budget: 0, pct_used: 0 });
    writeFileSync(join(dir, 'budget.json'), JSON.stringify({ monthly_budget_usd: 400 }));
    expectBoth(dir, (r) => r.costToday({ now }), { today_spent: 3.75, daily_budget: 0, pct_used: 0 });
    writeFileSync(join(dir, 'budget.json'), JSON.stringify({ daily_budget_usd: -3 }));
    expectBoth(dir, (r) => r.costToday({ now }), { today_spent: 3.75, daily_budget: 0, pct_used: 0 });
  });

  it('a malformed budget.json is reported, not fatal', () => {
    const dir = logDir();
    writeFileSync(join(dir, 'budget.json'), '{"daily_budget_usd": 20,');
    expectBoth(dir, (r) => r.costToday({ now }), { today_spent: 3.75, daily_budget: 0, pct_used: 0 });
    const problems: string[] = [];
    const r = createReader({ dir, source: 'scan', onProblem: (m) => problems.push(m) });
    r.costToday({ now });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^budget.json is not valid JSON .*fix the file$/);
    const out = cli(['--dir', dir, 'metrics', 'cost-today', '--now', String(now), '--json']);
    expect(out.code).toBe(0);
    expect(out.json).toEqual({ today_spent: 3.75, daily_budget: 0, pct_used: 0 });
    expect(out.stderr).toMatch(/budget.json is not valid JSON/);
  });

  it('entries added to costs.json after the import are seen by both backends', () => {
    const dir = logDir();
    expectBoth(dir, (r) => r.costToday({ now }).today_spent, 3.75);
    costsJson(dir, [entry(NOW, { cost_usd: 1.25 }), entry(NOW + 5 * H, { cost_usd: 0.5 })]);
    const sqlite = createReader({ dir, source: 'sqlite' });
    // The mirror keeps the trimmed entries (2.5 and the two token-only ones) and adds the new one; the scan sees the file as it is now.
    expect(sqlite.costToday({ now }).today_spent).toBe(4.25);
    sqlite.close();
    expect(createReader({ dir, source: 'scan' }).costToday({ now }).today_spent).toBe(1.75);
  });
});

describe('timeline (helper 12)', () => {
  const ev = (dt: number, type: string, issue: unknown, extra: Record<string, unknown> = {}) => at(NOW - dt, { type, issue, ...extra });
  function logDir(): string {
    return writeLog([
      ev(3 * H, 'stage.started', 1, { stage: 'build' }), // before a 2 h range
      ev(7000, 'stage.completed', 1, { stage: 'build' }), // its start is out of range: no running segment, ignored
      ev(6000, 'stage.started', 1, { stage: 'test' }),
      ev(5000, 'stage.failed', '1', { stage: 'test' }),
      { ts_epoch: NOW - 4000, type: 'stage.started', issue: 1, stage: 'test' }, // no ts: ISO form of its epoch
      ev(3000, 'stage.started', 1, { stage: 'test' }),
      ev(2000, 'stage.completed', 1, { stage: 'test' }), // closes the latest running test segment
      ev(1000, 'pipeline.completed', 1, { title: '', result: 'success' }),
      ev(900, 'pipeline.completed', 1, { title: 'Fix login', result: 'success' }),
      ev(800, 'pipeline.completed', 1, { title: 'Later title', result: 'success' }),
      ev(500, 'stage.started', 10), // no stage: ""
      { ts: '2026-02-10 23:53:20 UTC', ts_epoch: NOW - 400, type: 'stage.started', issue: '9', stage: 'plan' }, // ts as written
      ev(300, 'stage.started', 0, { stage: 'x' }),
      ev(300, 'stage.started', undefined, { stage: 'x' }),
      ev(-60, 'stage.completed', 9, { stage: 'plan' }), // after now
      ev(200, 'pipeline.completed', 11, { title: 'no segments', result: 'success' }),
    ]);
  }

  it('opens a segment per stage.started, closes the latest running one of that stage, per issue in log order', () => {
    expectBoth(logDir(), (r) => r.timeline({ now: NOW, range: 2 }), {
      timeline: [
        {
          issue: 1,
          title: 'Fix login',
          segments: [
            { stage: 'test', start: iso(NOW - 6000), end: iso(NOW - 5000), status: 'failed' },
            { stage: 'test', start: '2026-02-10T22:53:20Z', end: null, status: 'running' },
            { stage: 'test', start: iso(NOW - 3000), end: iso(NOW - 2000), status: 'complete' },
          ],
        },
        { issue: 9, title: '', segments: [{ stage: 'plan', start: '2026-02-10 23:53:20 UTC', end: null, status: 'running' }] },
        { issue: 10, title: '', segments: [{ stage: '', start: iso(NOW - 500), end: null, status: 'running' }] },
      ],
    });
  });

  it('range defaults to 24 hours; now inside the data leaves out later events', () => {
    const dir = logDir();
    expectBoth(dir, (r) => r.timeline({ now: NOW }).timeline[0]!.segments[0],
      { stage: 'build', start: iso(NOW - 3 * H), end: iso(NOW - 7000), status: 'complete' });
    expectBoth(dir, (r) => r.timeline({ now: NOW + H }).timeline.find((i) => i.issue === 9)!.segments[0]!.status, 'complete');
    expectBoth(dir, (r) => r.timeline({ now: NOW - 5500, range: 1 }), {
      timeline: [{ issue: 1, title: '', segments: [{ stage: 'test', start: iso(NOW - 6000), end: null, status: 'running' }] }],
    });
  });

  it('metrics timeline --json prints exactly that shape, from SQLite and from the scan', () => {
    const dir = logDir();
    const expected = createReader({ dir, source: 'scan' }).timeline({ now: NOW, range: 2 });
    expect(expected.timeline).toHaveLength(3);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    for (const source of ['scan', 'sqlite']) {
      const out = cli(['--dir', dir, 'metrics', 'timeline', '--range', '2', '--now', String(NOW), '--source', source, '--json']);
      expect(out.json).toEqual(expected);
    }
  });

  const t = (m: number) => NOW - H + m * 60; // minutes past 23:00 of the day before NOW
  /** A stage event of issue 5 whose ts is the JSON text `ts`, or none. */
  const e = (type: string, stage: string, epoch: number, ts?: string) => `{${ts === undefined ? '' : `"ts":${ts},`}"type":"${type}","issue":5,"stage":"${stage}","ts_epoch":${epoch}}`;

  it('shows each stage event ts as written however it is written, from the scan, a fresh mirror and rows mirrored before sql/011 kept it', () => {
    const dir = writeLog([
      e('stage.started', 'build', t(0), `"${iso(t(0))}"`), // as its epoch would show it
      e('stage.completed', 'build', t(10), '"2026-02-10T23:10:00.250Z"'),
      e('stage.started', 'test', t(12)), // no ts
      e('stage.completed', 'test', t(14), '""'),
      e('stage.started', 'lint', t(16), '12345'), // not a string
      // Two ts keys: JSON.parse, as the dashboard, keeps the last.
      `{"ts":"first","type":"stage.failed","issue":5,"stage":"lint","ts":"${iso(t(30))}","ts_epoch":${t(30)}}`,
      e('stage.started', 'deploy', t(40), '"2026-02-10T23:40:00+00:00"'),
      e('stage.completed', 'deploy', t(45), `"${iso(t(50))}"`), // a second other than its epoch's
      e('stage.started', 'cut', t(52), '"\\ud83d"'), // half an emoji, which no UTF-8 store keeps as it is
      e('stage.completed', 'cut', t(53), '"\\\\ud83d"'), // the six characters of its escape: another ts
      e('stage.started', 'nul', t(54), '"23:54\\u0000Z"'), // a NUL, which PostgreSQL text refuses
      e('stage.completed', 'nul', t(55), '"\\uffff23:55"'), // what marks a ts kept as JSON, as written
    ]);
    const expected = {
      timeline: [{
        issue: 5, title: '', segments: [
          { stage: 'build', start: iso(t(0)), end: '2026-02-10T23:10:00.250Z', status: 'complete' },
          { stage: 'test', start: iso(t(12)), end: '', status: 'complete' },
          { stage: 'lint', start: iso(t(16)), end: iso(t(30)), status: 'failed' },
          { stage: 'deploy', start: '2026-02-10T23:40:00+00:00', end: iso(t(50)), status: 'complete' },
          { stage: 'cut', start: '\ud83d', end: '\\ud83d', status: 'complete' },
          { stage: 'nul', start: '23:54\0Z', end: '\uffff23:55', status: 'complete' },
        ],
      }],
    };
    const timeline = (r: ReturnType<typeof createReader>) => r.timeline({ now: NOW, range: 2 });
    expectBoth(dir, timeline, expected);
    // As a mirror migrated to sql/011 holds them: no ts_text, each read from its line.
    withSql(join(dir, 'mirror.db'), (db) => db.exec("UPDATE event_rows SET ts_text = NULL; INSERT OR REPLACE INTO meta (key, value) VALUES ('ts_text_from', '1000000')"));
    expect(timeline(createReader({ dir, source: 'sqlite' }))).toEqual(expected);
  });

  it('reads the ts of rows sql/011 kept in its own form from their lines once sql/012 has run', () => {
    const dir = writeLog([
      e('stage.started', 'cut', t(1), '"\\ud83d"'),
      e('stage.completed', 'cut', t(2), '"\\uffff23:02"'),
    ]);
    const expected = { timeline: [{ issue: 5, title: '', segments: [{ stage: 'cut', start: '\ud83d', end: '\uffff23:02', status: 'complete' }] }] };
    const timeline = (r: ReturnType<typeof createReader>) => r.timeline({ now: NOW, range: 2 });
    expectBoth(dir, timeline, expected);
    // As 011's code wrote them: a lone surrogate as its escape, a ts starting with U+FFFF as it is.
    const db = join(dir, 'mirror.db');
    withSql(db, (sql) => {
      sql.prepare('UPDATE event_rows SET ts_text = ? WHERE ts_text = ?').run('\\ud83d', `\uffff${JSON.stringify('\ud83d')}`);
      sql.prepare('UPDATE event_rows SET ts_text = ? WHERE ts_text = ?').run('\uffff23:02', `\uffff${JSON.stringify('\uffff23:02')}`);
    });
    // Rows an older writer still running after 012 would add: a raw ts behind U+FFFF is shown as it is, the escape as it was kept.
    expect(timeline(createReader({ dir, source: 'sqlite' }))).toEqual({ timeline: [{ ...expected.timeline[0]!, segments: [{ ...expected.timeline[0]!.segments[0]!, start: '\\ud83d' }] }] });
    // A mirror 012 has not yet migrated: its rows so far read their ts from their lines.
    withSql(db, (sql) => sql.exec('DELETE FROM schema_migrations WHERE version = 12'));
    openStore(db).close();
    expect(timeline(createReader({ dir, source: 'sqlite' }))).toEqual(expected);
  });

  it('pairs random stage events as the definition reads: a close takes the latest still-running segment of its stage', () => {
    const eventArb = fc.record({
      type: fc.constantFrom('stage.started', 'stage.completed', 'stage.failed'),
      issue: fc.integer({ min: 1, max: 3 }),
      stage: fc.constantFrom('a', 'b', undefined),
    });
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 40 }), (events) => {
      const timed = events.map((e, i) => at(NOW - 3600 + i, e));
      // The definition, literally: search the issue's segments from the end.
      const byIssue = new Map<number, { stage: string; start: string; end: string | null; status: string }[]>();
      for (const e of timed) {
        const list = byIssue.get(e.issue as number) ?? [];
        byIssue.set(e.issue as number, list);
        const stage = (e.stage as string | undefined) ?? '';
        if (e.type === 'stage.started') list.push({ stage, start: e.ts as string, end: null, status: 'running' });
        else {
          const open = list.findLast((x) => x.status === 'running' && x.stage === stage);
          if (open) Object.assign(open, { end: e.ts, status: e.type === 'stage.completed' ? 'complete' : 'failed' });
        }
      }
      const expected = [...byIssue].filter(([, list]) => list.length > 0).sort(([a], [b]) => a - b).map(([issue, segments]) => ({ issue, title: '', segments }));
      const dir = writeLog(timed.length > 0 ? timed : [at(NOW - 10, { type: 'other' })]);
      expect(createReader({ dir, source: 'scan' }).timeline({ now: NOW })).toEqual({ timeline: expected });
    }), { numRuns: 150 });
  });

  it('refuses a range that is not a whole number of hours from 1 to a century', () => {
    const r = createReader({ dir: logDir(), source: 'scan' });
    for (const range of [0, -1, 1.5, 876_001]) expect(() => r.timeline({ now: NOW, range })).toThrow(/range \(hours\) must be a whole number from 1 to 876000/);
    expect(r.timeline({ now: NOW, range: 876_000 }).timeline.length).toBeGreaterThan(0);
  });
});

describe('issue events (helper 13)', () => {
  function logDir(): string {
    const dir = writeLog([at(NOW - 10, { type: 'rotated', issue: 42 })], 'events.jsonl.1');
    return writeLog([
      at(NOW - 10, { type: 'x', issue: '42' }),
      { type: 'no.time', issue: 42 },
      at(NOW - 20, { type: 'y', issue: 42, duration_s: '.' }),
      at(NOW - 10, { type: 'z', issue: 42 }),
      at(NOW - 5, { type: 'other', issue: 7 }),
      at(NOW + 5, { type: 'future', issue: 42 }),
    ], 'events.jsonl', dir);
  }

  it('every event of the issue up to now, in log order (older file first on ties), as written', () => {
    expectBoth(logDir(), (r) => r.issueEvents({ issue: 42, now: NOW }), {
      issue: 42,
      events: [
        { type: 'no.time', issue: 42 },
        at(NOW - 20, { type: 'y', issue: 42, duration_s: '.' }),
        at(NOW - 10, { type: 'rotated', issue: 42 }),
        at(NOW - 10, { type: 'x', issue: '42' }),
        at(NOW - 10, { type: 'z', issue: 42 }),
      ],
    });
    expectBoth(logDir(), (r) => r.issueEvents({ issue: 42, now: NOW + 5 }).events.at(-1), at(NOW + 5, { type: 'future', issue: 42 }));
    expectBoth(logDir(), (r) => r.issueEvents({ issue: 8, now: NOW }), { issue: 8, events: [] });
  });

  it('finds the issue through its index, already in log order (no table scan, no sort)', () => {
    const store = openStore(join(tmp(), 'm.db'));
    const plan = store.explain('records', { streams: ['events'], issue: 42, upTo: NOW } as never);
    store.close();
    expect(plan).toEqual([
      'SEARCH e USING INDEX event_rows_issue (stream_id=? AND issue=? AND ts_epoch<?)',
      'SEARCH l USING INTEGER PRIMARY KEY (rowid=?)',
    ]);
  });

  it('the activity feed filtered by a non-zero issue counts and pages through the same index', () => {
    const store = openStore(join(tmp(), 'm.db'));
    const q = { streams: ['events'], issue: 42, upTo: NOW, limit: 50, offset: 0 };
    const plans = (['feedCount', 'feedPage'] as const).map((read) => store.explain(read, q as never).join(' | '));
    store.close();
    expect(plans).toEqual([
      expect.stringMatching(/^SEARCH e USING COVERING INDEX event_rows_issue \(stream_id=\? AND issue=\? AND ts_epoch<\?\)$/),
      expect.stringMatching(/^SEARCH e USING COVERING INDEX event_rows_issue \(stream_id=\? AND issue=\? AND ts_epoch<\?\) \| SEARCH l USING INTEGER PRIMARY KEY \(rowid=\?\)$/),
    ]);
  });

  it('needs an issue other than 0', () => {
    const r = createReader({ dir: logDir(), source: 'scan' });
    expect(() => r.issueEvents({ issue: 0 })).toThrow(/issue number other than 0/);
    expect(() => r.issueEvents({} as never)).toThrow(/issue number other than 0/);
    const out = cli(['--dir', logDir(), 'metrics', 'issue-events', '--json']);
    expect(out.code).toBe(1);
    expect(out.json.error).toEqual({ code: 'INVALID_ARGUMENT', message: 'issue-events needs --issue N (an issue number other than 0)' });
  });

  it('the CLI prints exactly the METRICS.md shapes with --json', () => {
    const dir = logDir();
    const ev = cli(['--dir', dir, 'metrics', 'issue-events', '--issue', '42', '--now', String(NOW), '--json', '--source', 'scan']);
    expect(ev.code).toBe(0);
    expect(Object.keys(ev.json)).toEqual(['issue', 'events']);
    expect(ev.json.events.map((e: { type: string }) => e.type)).toEqual(['no.time', 'y', 'rotated', 'x', 'z']);
    const tl = cli(['--dir', dir, 'metrics', 'timeline', '--range', '48', '--now', String(NOW), '--json']);
    expect(tl.json).toEqual({ timeline: [] });
    const bad = cli(['--dir', dir, 'metrics', 'timeline', '--range', '0', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.json.error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('patrol (helper 14)', () => {
  // 55 findings and 22 runs, one a second, with a rotated file holding the oldest and a tie across the rotation.
  function logDir(): string {
    const finding = (i: number) => at(NOW - 100 + i, { type: 'patrol.finding', check: `c${i}`, count: '1' });
    const run = (i: number) => at(NOW - 100 + i * 2, { type: 'patrol.completed', findings: i, issues_created: 0, dry_run: false });
    const dir = writeLog([finding(0), finding(1), run(0), finding(5)], 'events.jsonl.1');
    return writeLog([
      finding(2), finding(3), finding(4),
      at(NOW - 95, { type: 'patrol.finding', check: 'tie after the rotated one' }),
      ...Array.from({ length: 49 }, (_, i) => finding(6 + i)),
      ...Array.from({ length: 21 }, (_, i) => run(1 + i)),
      at(NOW - 50, { type: 'patrol.findings', check: 'another type' }),
      at(NOW - 50, { type: 'patrol.started', dry_run: false }),
      at(NOW + 1, { type: 'patrol.finding', check: 'after now' }),
      at(NOW + 1, { type: 'patrol.completed', findings: 99 }),
    ], 'events.jsonl', dir);
  }

  it('the last 50 findings and the last 20 runs up to now, each in log order, as written', () => {
    const dir = logDir();
    const findings = Array.from({ length: 49 }, (_, i) => at(NOW - 94 + i, { type: 'patrol.finding', check: `c${6 + i}`, count: '1' }));
    // 56 findings up to now: on the tie at NOW - 95 the rotated file's c5 comes first, so it is the last one left out.
    findings.unshift(at(NOW - 95, { type: 'patrol.finding', check: 'tie after the rotated one' }));
    const runs = Array.from({ length: 20 }, (_, i) => at(NOW - 100 + (i + 2) * 2, { type: 'patrol.completed', findings: i + 2, issues_created: 0, dry_run: false }));
    expectBoth(dir, (r) => r.patrol({ now: NOW }), { findings, runs });
    // One second later the future finding and run are in, and the oldest of each goes.
    expectBoth(dir, (r) => {
      const p = r.patrol({ now: NOW + 1 });
      return [p.findings.length, p.findings[0]!.check, p.findings.at(-1)!.check, p.runs.length, p.runs[0]!.findings, p.runs.at(-1)!.findings];
    }, [50, 'c6', 'after now', 20, 3, 99]);
  });

  it('fewer than the limit: all of them; none: empty lists', () => {
    const dir = writeLog([at(NOW - 2, { type: 'patrol.completed', findings: 1 }), at(NOW - 3, { type: 'patrol.finding', check: 'x' })]);
    expectBoth(dir, (r) => r.patrol({ now: NOW }), { findings: [at(NOW - 3, { type: 'patrol.finding', check: 'x' })], runs: [at(NOW - 2, { type: 'patrol.completed', findings: 1 })] });
    expectBoth(writeLog([at(NOW, { type: 'stage.completed' })]), (r) => r.patrol({ now: NOW }), { findings: [], runs: [] });
  });

  it('reads the last rows newest first and stops (no sort of every patrol event)', () => {
    const store = openStore(join(tmp(), 'm.db'));
    const plan = store.explain('records', { streams: ['events'], types: ['patrol.finding'], upTo: NOW, last: 50 } as never);
    store.close();
    expect(plan.join(' | ')).not.toMatch(/TEMP B-TREE/);
  });

  it('metrics patrol --json prints {findings, runs}; the table names each finding and run', () => {
    const dir = logDir();
    for (const source of ['scan', 'sqlite']) {
      const out = cli(['--dir', dir, 'metrics', 'patrol', '--now', String(NOW), '--json', '--source', source]);
      expect(out.code, out.stderr).toBe(0);
      expect(Object.keys(out.json)).toEqual(['findings', 'runs']);
      expect([out.json.findings.length, out.json.runs.length]).toEqual([50, 20]);
    }
    const human = cli(['--dir', dir, 'metrics', 'patrol', '--now', String(NOW), '--source', 'scan']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/finding ts .*check .*count/);
    expect(human.stdout).toContain('c54');
    expect(human.stdout).toMatch(/run ts .*findings .*issues created .*dry run/);
    const bad = cli(['--dir', dir, 'metrics', 'patrol', '--now', 'yesterday', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.json.error.code).toBe('INVALID_ARGUMENT');
  });
});
