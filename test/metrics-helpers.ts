import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createReader, type Reader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { importAll } from '../src/import/import.js';
import { DATED_EPOCHS } from '../src/model/rules.js';
import { tmp } from './helpers.js';

export const NOW = 1770768000; // 2026-02-11T00:00:00Z
export const H = 3600;
export const D = 86400;

export function at(epoch: number, e: Record<string, unknown>): Record<string, unknown> {
  return { ts: new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ts_epoch: epoch, ...e };
}

/**
 * Events of every kind the helpers read at epochs no date can name (a
 * microsecond count among them, and days no 64-bit integer holds), at the edges of the days a date can name,
 * and an hour before `now`; one issue per epoch.
 */
export function undatedLog(now: number): Record<string, unknown>[] {
  const epochs = [-1e13, DATED_EPOCHS[0] - 1, DATED_EPOCHS[0], DATED_EPOCHS[1] - H, DATED_EPOCHS[1], DATED_EPOCHS[1] + 0.5, 1.7e15, 1e300, -1e300, now - H];
  return epochs.flatMap((ts_epoch, i) => [
    { ts_epoch, type: 'pipeline.started', issue: 1 + i },
    { ts_epoch, type: 'stage.started', stage: 'build', issue: 1 + i },
    { ts_epoch, type: 'stage.failed', stage: 'build', issue: 1 + i },
    { ts_epoch, type: 'stage.completed', stage: 'test', duration_s: 30, issue: 1 + i },
    { ts_epoch, type: 'pipeline.completed', result: 'success', duration_s: 60, issue: 1 + i, title: `run ${i}` },
    { ts_epoch, type: 'pipeline.cost', model: 'opus', cost_usd: 0.5, issue: 1 + i },
  ]);
}

export function writeLog(events: (Record<string, unknown> | string)[], name = 'events.jsonl', dir = tmp()): string {
  writeFileSync(join(dir, name), events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n');
  return dir;
}

/** Runs `fn` on the scan and on a freshly imported mirror; both must give `expected`. */
export function expectBoth<T>(dir: string, fn: (r: Reader) => T, expected: T): void {
  const scan = createReader({ dir, source: 'scan' });
  expect(fn(scan), 'scan').toEqual(expected);
  const store = openStore(join(dir, 'mirror.db'));
  importAll(store, dir);
  store.close();
  const sqlite = createReader({ dir, source: 'sqlite' });
  try {
    expect(fn(sqlite), 'sqlite').toEqual(expected);
  } finally {
    sqlite.close();
  }
}

export { allHelpers, defaultCases, uncoveredMetrics } from './all-helpers.js';
