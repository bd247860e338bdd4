import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLog } from '../fixtures/generate.js';
import { importAll } from '../src/import/import.js';
import { createReader, type Reader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { openPgStore } from '../src/store/pg/open.js';
import { verifyMirror } from '../src/ops/verify.js';
import { tmp, withPgClient } from './helpers.js';
import { startPg, type PgServer } from '../fixtures/pg-server.js';
import { allHelpers as answersOf, defaultCases, type ParityCases } from './all-helpers.js';
import { undatedLog, writeLog } from './metrics-helpers.js';
import { DATED_EPOCHS } from '../src/model/rules.js';

const NOW = 1770768000; // the generator's last event, 2026-02-11T00:00:00Z

/**
 * Shipwright's legacy state beside the logs: costs.json entries of today
 * and of yesterday, two equal entries (both count) and one that is no
 * object (a reject), plus the daily budget cost-today compares against.
 */
function writeLegacyState(dir: string): void {
  const entry = (hours: number, issue: number, cost: number, model: string) => ({
    input_tokens: 1000 * issue, output_tokens: 200 * issue, model, stage: 'build', issue, cost_usd: cost,
    ts: new Date((NOW + hours * 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ts_epoch: NOW + hours * 3600,
  });
  const entries = [entry(-6, 1, 0.5, 'opus'), entry(1, 2, 1.25, 'sonnet'), entry(5, 3, 0.75, 'opus'), entry(5, 3, 0.75, 'opus'), 'oops', entry(11, 4, 2, 'haiku')];
  writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries }));
  writeFileSync(join(dir, 'budget.json'), JSON.stringify({ daily_budget_usd: 10 }));
}

/** The default cases, with the costs stream, wider timelines and other days where PostgreSQL's SQL differs most. */
function pgCases(now: number): ParityCases {
  const noon = now + 12 * 3600; // the costs.json entries are dated the half day after the generator's last event
  return {
    ...defaultCases(now),
    activity: [{ limit: 7, now }, { type: 'stage', limit: 5, offset: 2, now }, { issue: 2, now }, { stream: 'costs', now: noon }],
    costBreakdown: [{ now }, { now, period: 30 }, { now: noon, streams: ['costs'] }],
    costTrend: [{ now }, { now: noon, streams: ['costs'] }],
    metricsHistory: [{ now }, { now: now - 5 * 86400 }],
    costToday: [{ now }, { now: noon }],
    timeline: [{ now, range: 72 }],
    issueEvents: [{ issue: 2, now }, { issue: 7, now: now - 86400 }],
  };
}

/** The answers of every case, and the page after the first by cursor (cursors are each backend's own; the events must be the same). */
function allHelpers(r: Reader, now: number): Record<string, unknown> {
  const first = r.activity({ limit: 5, type: 'stage', now });
  return {
    ...answersOf(r, now, pgCases(now)),
    activityAfterCursor: r.activity({ limit: 5, type: 'stage', now, cursor: first.nextCursor! }).events,
    newestEpoch: [r.newestEpoch(), r.newestEpoch(['costs']), r.newestEpoch(['nosuch'])],
  };
}

let server: PgServer;
beforeAll(async () => {
  server = await startPg();
});
afterAll(() => server?.stop());

describe('PostgreSQL engine: parity with SQLite', () => {
  it('every helper answers the same from SQLite and from PostgreSQL on the same generated logs', async () => {
    const dir = tmp();
    generateLog({ dir, lines: 20_000, seed: 16, linesPerFile: 6000, corruptRate: 0.01 });
    writeLegacyState(dir);
    // Values cut inside an emoji (lone surrogates): PostgreSQL cannot store them as text, SQLite would make them U+FFFD.
    for (const [stage, model] of [['ship\ud83d', 'opus\udc00'], ['ship\ud83e', 'opus']]) {
      appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts_epoch: NOW - 3600, type: 'stage.completed', stage, duration_s: 30, cost_usd: 0.5, model, issue: 3 })}\n`);
    }
    // Stage events whose ts the epoch does not tell (ts_text), inside the timeline's range.
    // Among them a NUL, which PostgreSQL's text cannot hold, and half an emoji.
    const odd = [['stage.started', '2026-02-10T12:00:00.5Z'], ['stage.completed', '2026-02-10 12:05:00'], ['stage.started', '2026-02-10T12:10:00\0Z'], ['stage.failed', '\ud83d 12:20']];
    for (const [type, ts] of odd) {
      appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts, ts_epoch: NOW - 12 * 3600, type, stage: 'odd', issue: 3 })}\n`);
    }
    const url = await server.createDb('parity');

    const lite = openStore(join(dir, 'mirror.db'));
    const liteSummary = importAll(lite, dir);
    lite.close();
    const store = openPgStore(url, { hostId: 'alpha' });
    const pgSummary = importAll(store, dir);
    expect(pgSummary.rows).toBe(liteSummary.rows);
    expect(pgSummary.rejects).toBe(liteSummary.rejects);
    expect(pgSummary.legacy).toEqual(liteSummary.legacy);
    expect(pgSummary.legacy?.added).toBe(5);
    // A second import finds nothing new: the checkpoints (and the costs.json entries seen) are in PostgreSQL.
    const again = importAll(store, dir);
    expect(again.rows).toBe(0);
    expect(again.legacy).toMatchObject({ added: 0, alreadyImported: 5 });
    store.close();

    const sqlite = createReader({ dir, source: 'sqlite' });
    const fleet = createReader({ dir, db: url });
    const oneHost = createReader({ dir, db: url, host: 'alpha' });
    const noHost = createReader({ dir, db: url, host: 'nobody' });
    try {
      expect(fleet.backend).toBe('postgres');
      const expected = allHelpers(sqlite, NOW);
      expect((expected['costBreakdown 0'] as { total: number }).total).toBeGreaterThan(0);
      expect((expected['costToday 1'] as { today_spent: number }).today_spent).toBeGreaterThan(0);
      expect((expected['costBreakdown 2'] as { total: number }).total).toBeCloseTo(5.25);
      expect(allHelpers(fleet, NOW)).toEqual(expected);
      expect(allHelpers(oneHost, NOW)).toEqual(expected);
      expect(noHost.activity({ now: NOW }).total).toBe(0);
    } finally {
      for (const r of [sqlite, fleet, oneHost, noHost]) r.close();
    }

    // A second host with the same logs: each host alone still answers as SQLite does, and the fleet counts both.
    const beta = openPgStore(url, { hostId: 'beta' });
    expect(importAll(beta, dir).rows).toBe(liteSummary.rows);
    beta.close();
    const sqlite2 = createReader({ dir, source: 'sqlite' });
    const alpha = createReader({ dir, db: url, host: 'alpha' });
    const both = createReader({ dir, db: url });
    try {
      expect(allHelpers(alpha, NOW)).toEqual(allHelpers(sqlite2, NOW));
      expect(both.activity({ now: NOW }).total).toBe(2 * sqlite2.activity({ now: NOW }).total);
      expect(both.failureHeatmap({ now: NOW })).not.toEqual(sqlite2.failureHeatmap({ now: NOW }));
    } finally {
      for (const r of [sqlite2, alpha, both]) r.close();
    }

    // The rows as sql/pg/009 finds them in a fleet mirrored before it: no ts_text, each read from its line.
    await withPgClient(url, async (c) => {
      await c.query('UPDATE events SET ts_text = NULL');
      await c.query("INSERT INTO meta (host, key, value) SELECT 'alpha', 'ts_text_from', (MAX(id) + 1)::text FROM events");
    });
    const sqlite3 = createReader({ dir, source: 'sqlite' });
    const migrated = createReader({ dir, db: url, host: 'beta' });
    try {
      const expected = sqlite3.timeline({ now: NOW, range: 72 });
      expect(JSON.stringify(expected)).toContain('2026-02-10 12:05:00');
      expect(migrated.timeline({ now: NOW, range: 72 })).toEqual(expected);
    } finally {
      for (const r of [sqlite3, migrated]) r.close();
    }

    // The rows as 009's code kept an odd ts (a NUL as U+FFFD, a lone surrogate as its escape; here any other text), which
    // sql/pg/010 sends back to their lines when it runs.
    await withPgClient(url, async (c) => {
      await c.query("UPDATE events SET ts_text = 'as 009 kept it' WHERE stage = 'odd'");
      await c.query("DELETE FROM meta WHERE key = 'ts_text_from'");
      await c.query('DELETE FROM schema_migrations WHERE version = 10');
    });
    openPgStore(url, { hostId: 'alpha' }).close();
    const sqlite4 = createReader({ dir, source: 'sqlite' });
    const remigrated = createReader({ dir, db: url, host: 'beta' });
    try {
      expect(remigrated.timeline({ now: NOW, range: 72 })).toEqual(sqlite4.timeline({ now: NOW, range: 72 }));
    } finally {
      for (const r of [sqlite4, remigrated]) r.close();
    }
  });
  it('with events stamped where no date can be named, every helper answers from PostgreSQL as from SQLite, and verify passes', async () => {
    const dir = writeLog(undatedLog(NOW));
    const url = await server.createDb('undated');
    const lite = openStore(join(dir, 'mirror.db'));
    importAll(lite, dir);
    lite.close();
    const store = openPgStore(url, { hostId: 'alpha' });
    try {
      importAll(store, dir);
      expect(verifyMirror(store, dir).ok).toBe(true);
    } finally {
      store.close();
    }
    const sqlite = createReader({ dir, source: 'sqlite' });
    const pgReader = createReader({ dir, db: url });
    try {
      for (const now of [NOW, DATED_EPOCHS[1]]) expect(answersOf(pgReader, now), String(now)).toEqual(answersOf(sqlite, now));
    } finally {
      sqlite.close();
      pgReader.close();
    }
  });

  it('verify on PostgreSQL compares every row with its line: a NUL kept as U+FFFD passes, a row changed behind the ingest is named', async () => {
    const dir = tmp();
    const lines = [
      { ts: 'odd\0ts', ts_epoch: NOW - 60, type: 'stage.completed', stage: 'a\0b', model: 'm\0', result: 'x\0', cost_usd: 1.5, issue: 3 },
      { ts: '2026-02-10 12:05:00', ts_epoch: NOW - 30, type: 'stage.started\0', stage: 'ship\ud83d', duration_s: '4' },
      { ts_epoch: NOW - 10, type: 'pipeline.completed', result: 'success', input_tokens: -5 },
    ];
    writeFileSync(join(dir, 'events.jsonl'), lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const url = await server.createDb('verifyrows');
    const store = openPgStore(url, { hostId: 'alpha' });
    try {
      expect(importAll(store, dir).rows).toBe(3);
      expect(verifyMirror(store, dir).problems).toEqual([]);
      // Rows as a fleet mirrored before sql/pg/009 holds them: no ts_text, each read from its line, which is no drift.
      await withPgClient(url, async (c) => {
        await c.query('UPDATE events SET ts_text = NULL');
        await c.query("INSERT INTO meta (host, key, value) VALUES ('alpha', 'ts_text_from', '1000')");
      });
      expect(verifyMirror(store, dir).problems).toEqual([]);
      await withPgClient(url, async (c) => {
        await c.query("DELETE FROM meta WHERE key = 'ts_text_from'");
        await c.query('UPDATE events SET cost_usd = 2 WHERE cost_usd = 1.5');
      });
      const rows = verifyMirror(store, dir).problems.filter((p) => p.path === 'events.jsonl');
      expect(rows).toEqual([
        expect.objectContaining({ problem: 'changed', detail: 'events row cost_usd is 2, the line gives 1.5; run `jsonl-mirror rebuild`' }),
        expect.objectContaining({ problem: 'changed', detail: 'events row ts_text is null, the line gives "2026-02-10 12:05:00"; run `jsonl-mirror rebuild`' }),
      ]);
    } finally {
      store.close();
    }
  });
});
