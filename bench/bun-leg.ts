import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createReader, type Reader } from '../src/api/reader.js';
import { importAll } from '../src/import/import.js';
import { metricsHistory } from '../src/metrics/history.js';
import { patrol } from '../src/metrics/patrol.js';
import type { EventSource } from '../src/read/source.js';
import { openStore } from '../src/store/open.js';
import { streamPaths, WholeFileSource } from './baselines.js';
import { measure, type Measure } from './util.js';

/** The reads a dashboard makes, through the reader (its catch-up included), as under each runtime. */
const READS: [string, (r: Reader, now: number) => unknown][] = [
  ['activity (page 1)', (r) => r.activity({ limit: 50 })],
  ['cost breakdown (7 d)', (r, now) => r.costBreakdown({ now })],
  ['DORA grades (7 d)', (r, now) => r.doraGrades({ now })],
  ['DORA trend (30 d)', (r, now) => r.doraTrend({ now })],
  ['stage performance (7 d)', (r, now) => r.stagePerformance({ now })],
  ['metrics history (all time)', (r, now) => r.metricsHistory({ now })],
  ['timeline (24 h)', (r, now) => r.timeline({ now })],
  ['patrol', (r, now) => r.patrol({ now })],
];

/** What a dashboard does per request today (re-parse every file), for the README's before and after. */
const WHOLE_FILE: [string, (s: EventSource, now: number) => unknown][] = [
  ['metrics history (all time)', (s, now) => metricsHistory(s, { now })],
  ['patrol', (s, now) => patrol(s, { now })],
];

export interface RuntimeLeg {
  runtime: string;
  import: Measure & { rows: number };
  reads: Record<string, Measure>;
  wholeFile: Record<string, Measure>;
}

/**
 * The import of `logs` into a fresh `db` and the reads on it, measured by
 * whichever runtime runs this: the bench calls it under Node and runs this
 * file under Bun, so both legs time the same code on the same files.
 */
export function runtimeLeg(logs: string, db: string, runs: number, now: number): RuntimeLeg {
  let rows = 0;
  const imp = measure(runs, () => {
    for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
    const store = openStore(db);
    rows = importAll(store, logs).rows;
    store.close();
  });
  const reader = createReader({ dir: logs, db, source: 'sqlite' });
  const reads: Record<string, Measure> = {};
  try {
    for (const [name, fn] of READS) reads[name] = measure(5 + runs, () => fn(reader, now));
  } finally {
    reader.close();
  }
  const whole = new WholeFileSource(streamPaths(logs));
  const wholeFile: Record<string, Measure> = {};
  for (const [name, fn] of WHOLE_FILE) wholeFile[name] = measure(runs, () => fn(whole, now));
  const runtime = typeof process.versions.bun === 'string' ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
  return { runtime, import: { ...imp, rows }, reads, wholeFile };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [logs, db, runs, now] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(runtimeLeg(logs!, db!, Number(runs), Number(now))));
}
