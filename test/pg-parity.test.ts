import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLog } from '../fixtures/generate.js';
import { importAll } from '../src/import/import.js';
import { createReader, type Reader } from '../src/read/reader.js';
import { openStore } from '../src/store/open.js';
import { openPgStore } from '../src/store/pg/open.js';
import { tmp } from './helpers.js';
import { startPg, type PgServer } from '../fixtures/pg-server.js';

const NOW = 1770768000; // the generator's last event, 2026-02-11T00:00:00Z

/** Every helper in METRICS.md, with windows, ties, pagination and filters. */
function allHelpers(r: Reader, now: number): Record<string, unknown> {
  const feed = (o: Parameters<Reader['activity']>[0]) => {
    const f = r.activity(o);
    return { events: f.events, total: f.total, hasMore: f.hasMore };
  };
  // Cursors are each backend's own; the page after the first must be the same events.
  const first = r.activity({ limit: 5, type: 'stage', now });
  return {
    activityAfterCursor: r.activity({ limit: 5, type: 'stage', now, cursor: first.nextCursor! }).events,
    activity: feed({ limit: 7, now }),
    activityTyped: feed({ type: 'stage', limit: 5, offset: 2, now }),
    activityIssue: feed({ issue: 2, now }),
    costs: r.costBreakdown({ now }),
    costs30: r.costBreakdown({ now, period: 30 }),
    costTrend: r.costTrend({ now }),
    dora: r.doraGrades({ now }),
    dora3: r.doraGrades({ now, period: 3 }),
    doraTrend: r.doraTrend({ now }),
    stages: r.stagePerformance({ now }),
    stages4: r.stagePerformance({ now, period: 4 }),
    bottlenecks: r.bottlenecks({ now }),
    heatmap: r.failureHeatmap({ now }),
    throughput: r.throughputTrend({ now }),
    history: r.metricsHistory({ now }),
    historyLater: r.metricsHistory({ now: now - 5 * 86400 }),
    costToday: r.costToday({ now }),
    timeline: r.timeline({ now, range: 72 }),
    issue2: r.issueEvents({ issue: 2, now }),
    issue7: r.issueEvents({ issue: 7, now: now - 86400 }),
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
    const url = await server.createDb('parity');

    const lite = openStore(join(dir, 'mirror.db'));
    const liteSummary = importAll(lite, dir);
    lite.close();
    const store = openPgStore(url, { hostId: 'alpha' });
    const pgSummary = importAll(store, dir, { legacy: false });
    expect(pgSummary.rows).toBe(liteSummary.rows);
    expect(pgSummary.rejects).toBe(liteSummary.rejects);
    // A second import finds nothing new: the checkpoints are in PostgreSQL.
    expect(importAll(store, dir, { legacy: false }).rows).toBe(0);
    store.close();

    const sqlite = createReader({ dir, source: 'sqlite' });
    const fleet = createReader({ dir, db: url });
    const oneHost = createReader({ dir, db: url, host: 'alpha' });
    const noHost = createReader({ dir, db: url, host: 'nobody' });
    try {
      expect(fleet.backend).toBe('postgres');
      const expected = allHelpers(sqlite, NOW);
      expect((expected.costs as { total: number }).total).toBeGreaterThan(0);
      expect(allHelpers(fleet, NOW)).toEqual(expected);
      expect(allHelpers(oneHost, NOW)).toEqual(expected);
      expect(noHost.activity({ now: NOW }).total).toBe(0);
    } finally {
      for (const r of [sqlite, fleet, oneHost, noHost]) r.close();
    }

    // A second host with the same logs: each host alone still answers as SQLite does, and the fleet counts both.
    const beta = openPgStore(url, { hostId: 'beta' });
    expect(importAll(beta, dir, { legacy: false }).rows).toBe(liteSummary.rows);
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
  });
});
