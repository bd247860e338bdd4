import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../src/ingest/normalize.js';
import { mergeConfig } from '../src/metrics/config.js';
import { round2 } from '../src/metrics/common.js';
import { createReader, type Reader } from '../src/api/reader.js';
import { cli, FIXTURES, tmp } from './helpers.js';
import { at, D, expectBoth, H, NOW, writeLog } from './metrics-helpers.js';

const started = (t: number, issue: unknown, extra = {}) => at(t, { type: 'pipeline.started', issue, ...extra });
const completed = (t: number, issue: unknown, result = 'success', extra = {}) => at(t, { type: 'pipeline.completed', issue, result, ...extra });

describe('normalisation', () => {
  it('derives a missing or non-numeric ts_epoch from ts, and numeric strings count as numbers', () => {
    const dir = writeLog([
      { ts: new Date((NOW - H) * 1000).toISOString(), type: 'stage.completed', stage: 'build', duration_s: '12' },
      { ts: new Date((NOW - H) * 1000).toISOString(), ts_epoch: 'soon', type: 'stage.completed', stage: 'build', duration_s: 20 },
      at(NOW - H, { type: 'stage.completed', stage: 'build', duration_s: '.' }), // not numeric: absent, counts as 0
    ]);
    expectBoth(dir, (r) => r.stagePerformance({ now: NOW }).stages, [
      { name: 'build', avgDuration: Math.round(32 / 3), minDuration: 0, maxDuration: 20, count: 3, cost: 0, trend: 0 },
    ]);
  });

  it('an event with no usable time has epoch 0: it counts where time is ignored, not in date-keyed helpers', () => {
    const dir = writeLog([
      { type: 'stage.failed', stage: 'test' },
      at(NOW - H, { type: 'stage.failed', stage: 'test' }),
      { type: 'pipeline.completed', result: 'success', duration_s: 10 },
    ]);
    expectBoth(dir, (r) => r.failureHeatmap({ now: NOW }), { heatmap: { test: { '2026-02-10': 1 } } });
    expectBoth(dir, (r) => r.metricsHistory({ now: NOW }).total_completed, 1);
  });

  it('estimated_cost_usd stands in for a missing cost_usd', () => {
    const dir = writeLog([at(NOW - H, { type: 'pipeline.cost', stage: 'plan', model: 'opus', estimated_cost_usd: '1.25' })]);
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW }).total, 1.25);
  });
});

describe('cost of an event', () => {
  const tokens = (model: unknown, inTok: number, outTok: number, extra = {}) =>
    at(NOW - H, { type: 'cost.record', model, input_tokens: inTok, output_tokens: outTok, stage: 's', ...extra });

  it('prices tokens per million by lower-cased model; unknown or missing model uses sonnet prices', () => {
    const dir = writeLog([
      tokens('Opus', 1_000_000, 100_000), // 15 + 7.5
      tokens('haiku', 2_000_000, 0), // 0.5
      tokens('gpt-x', 1_000_000, 0), // sonnet: 3
      tokens(undefined, 0, 1_000_000), // sonnet: 15
    ]);
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW }).byModel, { Opus: 22.5, haiku: 0.5, 'gpt-x': 3, unknown: 15 });
  });

  it('a positive cost_usd wins over tokens; zero or negative cost_usd falls back to tokens; cost <= 0 is skipped', () => {
    const dir = writeLog([
      tokens('opus', 1_000_000, 0, { cost_usd: 2 }), // 2
      tokens('opus', 1_000_000, 0, { cost_usd: 0 }), // 15
      tokens('opus', 0, 0, { cost_usd: -1 }), // 0: skipped
      tokens('opus', 0, 0, { stage: 'zero' }), // 0: skipped, so no 'zero' stage
    ]);
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW }), { byStage: { s: 17 }, byModel: { opus: 17 }, byIssue: {}, total: 17 });
  });

  it('the price table is configurable', () => {
    const dir = writeLog([tokens('opus', 1_000_000, 0), tokens('mystery', 1_000_000, 0)]);
    const config = mergeConfig({ prices: { opus: { input: 1, output: 1 }, mystery: { input: 2, output: 2 } } });
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW, config } as never).total, 3);
  });
});

describe('cost breakdown and trend', () => {
  it('groups by stage, model and issue with "unknown" for missing ones; issue 0 or absent only leaves byIssue; window is now - period days', () => {
    const dir = writeLog([
      at(NOW - 8 * D, { type: 'pipeline.cost', cost_usd: 100, stage: 'old', issue: 1 }), // outside 7 days
      at(NOW - 7 * D, { type: 'pipeline.cost', cost_usd: 1.111, stage: 'build', model: 'opus', issue: 7 }), // on the edge: in
      at(NOW - H, { type: 'cost.record', cost_usd: 2.222, issue: '7' }),
      at(NOW - H, { type: 'cost.record', cost_usd: 3.335, stage: 'build', issue: 0 }),
      at(NOW - H, { type: 'stage.completed', cost_usd: 50, stage: 'build' }), // not a cost event
    ]);
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW }), {
      byStage: { build: round2(1.111 + 3.335), unknown: 2.22 },
      byModel: { opus: 1.11, unknown: round2(2.222 + 3.335) },
      byIssue: { 7: round2(1.111 + 2.222) },
      total: round2(1.111 + 2.222 + 3.335),
    });
  });

  it('round2 rounds half up after summing, whatever the order', () => {
    expect(round2(1.005)).toBe(1.01);
    expect(round2(0.1 + 0.2)).toBe(0.3);
    expect(round2(2.675)).toBe(2.68);
    const dir = writeLog([0.1, 0.2, 0.005].map((c) => at(NOW - H, { type: 'cost.record', cost_usd: c })));
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW }).total, 0.31);
  });

  it('cost trend: one zero-filled entry per UTC day ending at now\'s day, ascending', () => {
    const dir = writeLog([
      at(NOW - 2 * D + 5, { type: 'cost.record', cost_usd: 1 }),
      at(NOW - 1, { type: 'cost.record', cost_usd: 2 }),
      at(NOW + 10, { type: 'cost.record', cost_usd: 4 }), // now's day
      at(NOW + 10, { type: 'cost.record', cost_usd: 8 }),
    ]);
    expectBoth(dir, (r) => r.costTrend({ now: NOW + 3600, period: 3 }), {
      daily: [{ date: '2026-02-09', cost: 1 }, { date: '2026-02-10', cost: 2 }, { date: '2026-02-11', cost: 12 }],
    });
  });
});

describe('DORA grades', () => {
  it('deploy frequency counts successful completions per day of the period; the grade is that of the value as shown', () => {
    const dir = writeLog([completed(NOW - D, 1), completed(NOW - D, 2, 'failure')]);
    // 1 deploy in 7 days shows 0.14 per day, and 0.14 < 1/7: Medium, as the dashboard grades it.
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).deploy_freq, { value: 0.14, unit: 'per day', grade: 'Medium' });
    // The documented deviation: 0.142857... >= 1/7 is High.
    expectBoth(dir, (r) => r.doraGrades({ now: NOW, gradeUnrounded: true }).deploy_freq, { value: 0.14, unit: 'per day', grade: 'High' });
    expectBoth(dir, (r) => r.doraGrades({ now: NOW, period: 1 }).deploy_freq, { value: 1, unit: 'per day', grade: 'Elite' });
    expectBoth(dir, (r) => r.doraGrades({ now: NOW, period: 60 }).deploy_freq, { value: 0.02, unit: 'per day', grade: 'Low' });
  });

  it('lead time pairs each successful completion with the latest start of its issue; issue 0 never pairs', () => {
    const dir = writeLog([
      started(NOW - 10 * H, 5),
      started(NOW - 4 * H, 5), // the latest start wins
      completed(NOW - 2 * H, 5), // 2 h
      completed(NOW - H, 5), // 3 h: the start is not consumed
      started(NOW - 3 * H, 0),
      completed(NOW - 2 * H, 0), // issue 0: no sample
      started(NOW - H, 6),
      completed(NOW - H, 6), // same second: not later, no sample
    ]);
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).lead_time, { value: 2.5, unit: 'hours', grade: 'High' });
  });

  it('lead time with no samples is Low', () => {
    const dir = writeLog([completed(NOW - H, 1)]);
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).lead_time, { value: 0, unit: 'hours', grade: 'Low' });
  });

  it('change failure rate: anything but "success" is a failure; no completions is Low', () => {
    const dir = writeLog([completed(NOW - H, 1), completed(NOW - H, 1, 'failed'), completed(NOW - H, 1, 'success'), at(NOW - H, { type: 'pipeline.completed' })]);
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).cfr, { value: 50, unit: '%', grade: 'Low' });
    expectBoth(writeLog([started(NOW - H, 1)]), (r) => r.doraGrades({ now: NOW }).cfr, { value: 0, unit: '%', grade: 'Low' });
  });

  it('time to restore: the latest failure per issue to the next later success, then forgotten; no samples is Elite (known quirk)', () => {
    const dir = writeLog([
      completed(NOW - 10 * H, 3, 'failure'),
      completed(NOW - 9 * H, 3, 'failure'), // latest failure
      completed(NOW - 8 * H, 3), // 1 h
      completed(NOW - 7 * H, 3), // failure forgotten: no sample
      completed(NOW - 6 * H, 4, 'failure'),
      completed(NOW - 6 * H, 4), // same second: not later, no sample, and the failure is forgotten...
      completed(NOW - 4 * H, 4), // ...so this later success pairs with nothing
      completed(NOW - 9 * H, 0, 'failure'), // issue 0 and an absent issue are skipped
      completed(NOW - 5 * H, 0),
      at(NOW - 9 * H, { type: 'pipeline.completed', result: 'failure' }),
      at(NOW - 5 * H, { type: 'pipeline.completed', result: 'success' }),
      completed(NOW - 3 * H, '7', 'failure'),
      completed(NOW - H, 7), // 2 h: "7" and 7 are one issue
    ]);
    // Samples 1 h and 2 h: mean 1.5 h. cfr still counts every completion: 6 failures of 13.
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).mttr, { value: 1.5, unit: 'hours', grade: 'High' });
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).cfr, { value: round2((6 / 13) * 100), unit: '%', grade: 'Low' });
    expectBoth(writeLog([completed(NOW - H, 1)]), (r) => r.doraGrades({ now: NOW }).mttr, { value: 0, unit: 'hours', grade: 'Elite' });
  });

  it('walks events in log order: ascending ts_epoch, ties by position in the log, rotated files first', () => {
    // In file order the completion comes first, but its epoch is later than the start's.
    const dir = writeLog([completed(NOW - H, 9), started(NOW - 3 * H, 9)]);
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).lead_time.value, 2);
    // A tie: start and completion in the same second, the start first in the log: not later, no sample...
    const tie = writeLog([started(NOW - 2 * H, 9)], 'events.jsonl.1');
    writeFileSync(join(tie, 'events.jsonl'), `${JSON.stringify(started(NOW - H, 9))}\n${JSON.stringify(completed(NOW - H + 1800, 9))}\n`);
    // ...and the latest start (from the live file, later in the log) is the one paired.
    expectBoth(tie, (r) => r.doraGrades({ now: NOW }).lead_time.value, 0.5);
  });

  it('bands are configurable', () => {
    const dir = writeLog([completed(NOW - H, 1)]);
    const config = mergeConfig({ bands: { deploy_freq: [10, 5, 1] } });
    expectBoth(dir, (r) => r.doraGrades({ now: NOW, period: 1, config } as never).deploy_freq.grade, 'Medium');
  });

  it('DORA trend: ceil(period/7) windows [end-7d, end) ending at now, now-7d, ..., oldest first', () => {
    const dir = writeLog([completed(NOW - 8 * D, 1), completed(NOW - D, 1), completed(NOW - 1, 1), completed(NOW, 1)]);
    expectBoth(dir, (r) => r.doraTrend({ now: NOW, period: 10 }).weeks.map((w) => [w.week, w.grades.deploy_freq.value]), [
      ['2026-02-04', round2(1 / 7)],
      ['2026-02-11', round2(2 / 7)], // the event at exactly `now` is outside [end-7d, end)
    ]);
  });
});

describe('stages, bottlenecks, heatmap', () => {
  it('stage performance: per stage over stage.completed with a stage; trend compares the older and newer half', () => {
    const dir = writeLog([
      at(NOW - 6 * D, { type: 'stage.completed', stage: 'build', duration_s: 100, cost_usd: 0.5 }),
      at(NOW - 5 * D, { type: 'stage.completed', stage: 'build', duration_s: 200, cost_usd: -3 }),
      at(NOW - D, { type: 'stage.completed', stage: 'build', duration_s: 300, cost_usd: '0.25' }),
      at(NOW - D, { type: 'stage.completed', duration_s: 999 }), // no stage
      at(NOW - D, { type: 'stage.completed', stage: 'lint' }), // absent duration = 0
      at(NOW - D, { type: 'stage.started', stage: 'build', duration_s: 5000 }),
    ]);
    expectBoth(dir, (r) => r.stagePerformance({ now: NOW }), {
      stages: [
        // older half (before now - 3 d): mean 150; newer: 300 → +100 %
        { name: 'build', avgDuration: 200, minDuration: 100, maxDuration: 300, count: 3, cost: 0.75, trend: 100 },
        // empty older half uses the overall mean 0 → trend 0
        { name: 'lint', avgDuration: 0, minDuration: 0, maxDuration: 0, count: 1, cost: 0, trend: 0 },
      ],
    });
  });

  it('bottlenecks: the 5 slowest by rounded mean over 7 days, ties by name, with impact', () => {
    const stages = { a: 700, b: 601, c: 600, d: 301, e: 300, f: 1000 };
    const dir = writeLog([
      ...Object.entries(stages).map(([stage, d]) => at(NOW - D, { type: 'stage.completed', stage, duration_s: d })),
      at(NOW - D, { type: 'stage.completed', stage: 'g', duration_s: 300 }),
      at(NOW - 8 * D, { type: 'stage.completed', stage: 'z', duration_s: 9999 }),
    ]);
    expectBoth(dir, (r) => r.bottlenecks({ now: NOW }), {
      bottlenecks: [
        { stage: 'f', avgDuration: 1000, count: 1, impact: 'high' },
        { stage: 'a', avgDuration: 700, count: 1, impact: 'high' },
        { stage: 'b', avgDuration: 601, count: 1, impact: 'high' },
        { stage: 'c', avgDuration: 600, count: 1, impact: 'medium' },
        { stage: 'd', avgDuration: 301, count: 1, impact: 'medium' },
      ],
    });
  });

  it('failure heatmap: stage.failed by stage (missing → unknown) and UTC date, all time', () => {
    const dir = writeLog([
      at(NOW - 100 * D, { type: 'stage.failed', stage: 'test' }),
      at(NOW - 1, { type: 'stage.failed', stage: 'test' }),
      at(NOW - 2, { type: 'stage.failed', stage: 'test' }),
      at(NOW - 2, { type: 'stage.failed' }),
    ]);
    expectBoth(dir, (r) => r.failureHeatmap({ now: NOW }), {
      heatmap: { test: { '2025-11-03': 1, '2026-02-10': 2 }, unknown: { '2026-02-10': 1 } },
    });
  });
});

describe('throughput and history', () => {
  it('throughput: successful completions per UTC day / 24, zero-filled', () => {
    const dir = writeLog([completed(NOW - 1, 1), completed(NOW - 2, 1), completed(NOW - 3, 1, 'failure'), completed(NOW - 2 * D, 1)]);
    expectBoth(dir, (r) => r.throughputTrend({ now: NOW - 1, period: 3 }), {
      daily: [{ date: '2026-02-08', throughput: 0 }, { date: '2026-02-09', throughput: 0.04 }, { date: '2026-02-10', throughput: 0.08 }],
    });
  });

  it('metrics history: all-time rates and means, last 24 h, 7 daily counts, DORA grades', () => {
    const dir = writeLog([
      completed(NOW - 30 * D, 1, 'success', { duration_s: 100 }),
      completed(NOW - 2 * H, 2, 'success', { duration_s: '201' }),
      completed(NOW - 3 * H, 3, 'failure', { duration_s: 50 }),
      at(NOW - 40 * D, { type: 'stage.completed', stage: 'build', duration_s: 10 }),
      at(NOW - D, { type: 'stage.completed', stage: 'build', duration_s: 15 }),
      at(NOW - D, { type: 'stage.completed', stage: 'plan' }),
      at(NOW - D, { type: 'stage.completed', stage: 'test', duration_s: 10 }),
      at(NOW - D, { type: 'stage.completed', stage: 'test', duration_s: 10 }),
      at(NOW - D, { type: 'stage.completed', stage: 'test', duration_s: 11 }),
    ]);
    expectBoth(dir, (r) => r.metricsHistory({ now: NOW }), {
      success_rate: 66.67,
      avg_duration_s: 151, // (100 + 201) / 2 = 150.5 → 151
      throughput_per_hour: round2(1 / 24),
      total_completed: 2,
      total_failed: 1,
      stage_durations: { build: 13, plan: 0, test: 10 }, // whole seconds, as Shipwright's Math.round: 12.5 → 13, 10.33 → 10
      daily_counts: ['2026-02-05', '2026-02-06', '2026-02-07', '2026-02-08', '2026-02-09', '2026-02-10', '2026-02-11'].map((date) => ({
        date, completed: date === '2026-02-10' ? 1 : 0, failed: date === '2026-02-10' ? 1 : 0,
      })),
      dora_grades: {
        deploy_freq: { value: 0.14, unit: 'per day', grade: 'Medium' },
        lead_time: { value: 0, unit: 'hours', grade: 'Low' },
        cfr: { value: 50, unit: '%', grade: 'Low' },
        mttr: { value: 0, unit: 'hours', grade: 'Elite' },
      },
    });
  });
});

describe('activity feed', () => {
  const dir = () => writeLog([
    at(NOW - 3, { type: 'stage.started', issue: 1, n: 1 }),
    at(NOW - 2, { type: 'stage', issue: '2', n: 2 }),
    at(NOW - 2, { type: 'stages.other', issue: 1, n: 3 }),
    at(NOW - 1, { type: 'pipeline.completed', issue: 1, n: 4, duration_s: '12' }),
    at(NOW - 1, { type: 'stage.completed', issue: 1, n: 5 }),
  ]);

  it('newest first (reverse log order), events as written, total and hasMore', () => {
    const d = dir();
    expectBoth(d, (r) => { const f = r.activity({ limit: 2 }); return { n: f.events.map((e) => e.n), total: f.total, hasMore: f.hasMore }; },
      { n: [5, 4], total: 5, hasMore: true });
    expectBoth(d, (r) => r.activity({ limit: 2, offset: 4 }).events.map((e) => e.n), [1]);
    expectBoth(d, (r) => r.activity({ limit: 1 }).events[0], at(NOW - 1, { type: 'stage.completed', issue: 1, n: 5 }));
    expectBoth(d, (r) => r.activity({ type: 'pipeline' }).events[0]!.duration_s, '12'); // not normalised
  });

  it('type t matches t and t.* only; issue filter compares numbers; limit is capped at 200', () => {
    const d = dir();
    expectBoth(d, (r) => r.activity({ type: 'stage' }).events.map((e) => e.n), [5, 2, 1]);
    expectBoth(d, (r) => r.activity({ issue: 2 }).events.map((e) => e.n), [2]);
    expectBoth(d, (r) => r.activity({ limit: 1000 }).hasMore, false);
  });

  it("type all, the dashboard's default, means no filter", () => {
    const d = dir();
    expectBoth(d, (r) => r.activity({ type: 'all' }).events.map((e) => e.n), [5, 4, 3, 2, 1]);
    expectBoth(d, (r) => r.activity({ type: 'all', limit: 2 }).total, 5);
    const out = cli(['--dir', d, 'metrics', 'activity', '--type', 'all', '--json', '--source', 'scan']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.json.events.map((e: { n: number }) => e.n)).toEqual([5, 4, 3, 2, 1]);
  });

  it('a cursor continues where the previous page ended', () => {
    const d = dir();
    expectBoth(d, (r) => {
      const seen: unknown[] = [];
      let page = r.activity({ limit: 2 });
      seen.push(...page.events.map((e) => e.n));
      while (page.nextCursor) {
        page = r.activity({ limit: 2, cursor: page.nextCursor });
        seen.push(...page.events.map((e) => e.n));
      }
      return seen;
    }, [5, 4, 3, 2, 1]);
  });
});

describe('revised rules: as of now, periods, where costs are read', () => {
  const allAsOf = (r: Reader, now: number) => ({
    activity: { ...r.activity({ now, limit: 20 }), nextCursor: 'backend-specific' },
    costs: r.costBreakdown({ now, period: 30, streams: ['events', 'costs'] }),
    costTrend: r.costTrend({ now }),
    costToday: r.costToday({ now }),
    dora: r.doraGrades({ now }),
    doraTrend: r.doraTrend({ now }),
    stages: r.stagePerformance({ now }),
    bottlenecks: r.bottlenecks({ now }),
    heatmap: r.failureHeatmap({ now }),
    throughput: r.throughputTrend({ now }),
    history: r.metricsHistory({ now }),
    timeline: r.timeline({ now, range: 48 }),
    issue: r.issueEvents({ issue: 191, now }),
  });

  it('now inside the data: every helper answers as the log stood then, whatever was written later', () => {
    const T = Date.parse('2026-02-05T12:00:00Z') / 1000;
    const full = tmp();
    const cut = tmp();
    for (const name of ['events.jsonl', 'events.jsonl.1']) {
      const lines = readFileSync(join(FIXTURES, 'example', name), 'utf8').split('\n').filter((l) => l !== '');
      writeFileSync(join(full, name), `${lines.join('\n')}\n`);
      // Corrupt lines stay; events stamped after T go.
      const kept = lines.filter((l) => { try { return normalize(JSON.parse(l)).ts_epoch <= T; } catch { return true; } });
      writeFileSync(join(cut, name), `${kept.join('\n')}\n`);
    }
    const entries = [1, 2, 3, 4].map((i) => ({ cost_usd: i, stage: 'build', issue: i % 2 ? '' : '42', ts_epoch: T - 3600 * 3 + i * 3600 }));
    writeFileSync(join(full, 'costs.json'), JSON.stringify({ entries }));
    writeFileSync(join(cut, 'costs.json'), JSON.stringify({ entries: entries.filter((e) => e.ts_epoch <= T) }));
    for (const d of [full, cut]) writeFileSync(join(d, 'budget.json'), '{"daily_budget_usd": 12}');
    const expected = allAsOf(createReader({ dir: cut, source: 'scan' }), T);
    // The 4th entry is an hour after T: 1 + 2 + 3 of 12.
    expect(expected.costToday).toEqual({ today_spent: 6, daily_budget: 12, pct_used: 50 });
    expect(expected.issue.events).toHaveLength(26); // of issue 191's 52 events, those up to T
    expectBoth(full, (r) => allAsOf(r, T), expected);
  });

  it('cost breakdown and trend read stream events only by default; costs.json entries when the caller names stream costs', () => {
    const dir = writeLog([
      at(NOW - H, { type: 'pipeline.cost', cost_usd: 1, issue: 42, stage: 'build' }),
      at(NOW - H, { type: 'cost.record', cost_usd: 1, issue: 42, stage: 'build' }), // the same spend again: counted (known quirk)
    ]);
    writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries: [
      { cost_usd: 1, issue: '42', stage: 'build', model: 'opus', ts_epoch: NOW - H }, // the third record of that spend
      { cost_usd: 0.5, issue: '', stage: 'plan', ts_epoch: NOW - H },
    ] }));
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW }), { byStage: { build: 2 }, byModel: { unknown: 2 }, byIssue: { 42: 2 }, total: 2 });
    expectBoth(dir, (r) => r.costBreakdown({ now: NOW, streams: ['events', 'costs'] }), {
      byStage: { build: 3, plan: 0.5 }, byModel: { opus: 1, unknown: 2.5 }, byIssue: { 42: 3 }, total: 3.5,
    });
    expectBoth(dir, (r) => r.costTrend({ now: NOW, period: 1 }).daily, [{ date: '2026-02-11', cost: 0 }]);
    expectBoth(dir, (r) => r.costTrend({ now: NOW + H, period: 2, streams: ['costs'] }).daily, [
      { date: '2026-02-10', cost: 1.5 }, { date: '2026-02-11', cost: 0 },
    ]);
  });

  it('a period is a whole number of days from 1 to a century: 0, negative, fractional and longer ones are refused, never NaN', () => {
    const r = createReader({ dir: writeLog([completed(NOW - H, 1)]), source: 'scan' });
    for (const period of [0, -7, 1.5, Number.NaN, 36_501, 1e8]) {
      for (const call of [() => r.doraGrades({ now: NOW, period }), () => r.costTrend({ now: NOW, period }), () => r.doraTrend({ now: NOW, period }),
        () => r.throughputTrend({ now: NOW, period }), () => r.stagePerformance({ now: NOW, period })]) {
        expect(call).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^period \(days\) must be a whole number from 1 to 36500, got/) }));
      }
    }
    // A century is still an answer: one zero-filled entry per day.
    expect(r.throughputTrend({ now: NOW, period: 36_500 }).daily).toHaveLength(36_500);
    expect(() => r.doraGrades({ now: Number.NaN })).toThrow(/now must be epoch seconds/);
    const out = cli(['--dir', writeLog([completed(NOW - H, 1)]), 'metrics', 'dora', '--period', '0', '--json']);
    expect(out.code).toBe(1);
    expect(out.json.error.message).toMatch(/^--period takes a whole number from 1 to 36500, got "0"/);
    expect(cli(['--dir', writeLog([]), 'metrics', 'dora', '--period', '-3']).stderr).toMatch(/--period takes a whole number from 1 to 36500, got "-3"/);
    expect(cli(['--dir', writeLog([]), 'metrics', 'cost-trend', '--period', '100000000']).stderr).toMatch(/--period takes a whole number from 1 to 36500, got "100000000"/);
  });

  it('a mean of exactly half a second rounds up from SQLite and the scan alike, whatever order its durations are added in', () => {
    // 0.7 + 0.6 + 0.2 is 1.4999999999999998 in log order, 1.5 in others: a mean of 0.5 either way, which rounds to 1.
    const durations = [0.7, 0.6, 0.2];
    const events = [
      ...durations.map((d, i) => at(NOW - (3 - i) * D + H, { type: 'stage.completed', stage: 'build', duration_s: d })),
      ...durations.map((d, i) => at(NOW - (3 - i) * D + H, { type: 'pipeline.completed', result: 'success', duration_s: d })),
    ];
    const dir = writeLog(events);
    const means = (r: Reader) => {
      const h = r.metricsHistory({ now: NOW });
      return { stage: h.stage_durations.build, pipeline: h.avg_duration_s, bottleneck: r.bottlenecks({ now: NOW }).bottlenecks[0]?.avgDuration, stages: r.stagePerformance({ now: NOW }).stages[0]?.avgDuration };
    };
    expectBoth(dir, means, { stage: 1, pipeline: 1, bottleneck: 1, stages: 1 });
  });

  it('graded unrounded, a mean exactly on a band edge grades the same from SQLite and the scan, whatever order its samples are added in', () => {
    // 1 + 2029 + 8770 s is 3 h: a mean of exactly 1 h, High, not Elite. Summed as hours, SQLite's TOTAL makes it 2.9999999999999996.
    const gaps = [1, 2029, 8770];
    const leads = gaps.flatMap((g, i) => [started(NOW - 5 * H - g, i + 1), completed(NOW - 5 * H, i + 1)]);
    const restores = gaps.flatMap((g, i) => [completed(NOW - 4 * H - g, i + 11, 'failure'), completed(NOW - 4 * H, i + 11)]);
    const dir = writeLog([...leads, ...restores]);
    const grade = (r: Reader) => {
      const g = r.doraGrades({ now: NOW, gradeUnrounded: true });
      return [g.lead_time, g.mttr];
    };
    expectBoth(dir, grade, [{ value: 1, unit: 'hours', grade: 'High' }, { value: 1, unit: 'hours', grade: 'High' }]);
  });

  it('the shown value is graded: 0.999 h of lead time shows 1 and is High; --grade-unrounded grades it Elite', () => {
    const dir = writeLog([started(NOW - 3596, 5), completed(NOW, 5)]);
    expectBoth(dir, (r) => r.doraGrades({ now: NOW }).lead_time, { value: 1, unit: 'hours', grade: 'High' });
    expectBoth(dir, (r) => r.doraGrades({ now: NOW, gradeUnrounded: true }).lead_time.grade, 'Elite');
    const shown = cli(['--dir', dir, 'metrics', 'dora', '--now', String(NOW), '--json']);
    const exact = cli(['--dir', dir, 'metrics', 'dora', '--now', String(NOW), '--grade-unrounded', '--json']);
    expect([shown.json.lead_time.grade, exact.json.lead_time.grade]).toEqual(['High', 'Elite']);
  });
});
