import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createReader, type Reader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { importAll } from '../src/import/import.js';
import { tmp } from './helpers.js';

export const NOW = 1770768000; // 2026-02-11T00:00:00Z
export const H = 3600;
export const D = 86400;

export function at(epoch: number, e: Record<string, unknown>): Record<string, unknown> {
  return { ts: new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ts_epoch: epoch, ...e };
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
