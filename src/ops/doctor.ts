import { statSync } from 'node:fs';
import type { Store } from '../store/open.js';
import { bytes } from '../units.js';
import { catchUpAdvice, mirrorStatus, type MirrorStatus } from './status.js';
import { findDuplicates } from './verify.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** The command that fixes it. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  status: MirrorStatus;
  walBytes: number;
}

/** Everything an operator asks first, each problem with the command that fixes it. */
export function doctor(store: Store, dir: string): DoctorReport {
  const checks: DoctorCheck[] = [];
  const status = mirrorStatus(store, dir);
  const { integrity } = status;
  checks.push({ name: 'integrity', ok: integrity === 'ok', detail: integrity, fix: integrity === 'ok' ? undefined : 'jsonl-mirror rebuild' });
  checks.push({ name: 'schema', ok: true, detail: `version ${status.schemaVersion}` });
  const { behindBytes: behind, unterminatedBytes: pending } = status.totals;
  checks.push({
    name: 'lag',
    ok: behind === 0 || status.tailer !== null,
    detail: behind === 0 ? 'up to date with the files' : `${bytes(behind)} not mirrored${status.tailer ? ' (a tailer is catching up)' : ''}`,
    fix: behind > 0 && !status.tailer ? catchUpAdvice(behind, pending) : undefined,
  });
  checks.push({
    name: 'import',
    ok: status.lastImport !== null,
    detail: status.lastImport ? `last completed ${status.lastImport.completedAt}` : 'no import has completed on this mirror',
    fix: status.lastImport ? undefined : 'jsonl-mirror import',
  });
  checks.push({ name: 'rejects', ok: true, detail: `${status.totals.rejects} rejected lines` });
  const dups = findDuplicates(store, dir);
  checks.push({
    name: 'duplicates',
    ok: dups.length === 0,
    detail: dups.length === 0 ? 'no line is mirrored twice' : dups.map((d) => `${d.path}: ${d.detail}`).join('; '),
    fix: dups.length === 0 ? undefined : 'jsonl-mirror rebuild (a fresh mirror from the files)',
  });
  checks.push({
    name: 'tailer',
    ok: true,
    detail: status.tailer ? `pid ${status.tailer.pid} on ${status.tailer.host} since ${status.tailer.startedAt}` : 'no tailer runs',
  });
  if (status.totals.goneSources > 0) {
    checks.push({ name: 'history', ok: true, detail: `${status.totals.historyRows} rows from ${status.totals.goneSources} deleted files are kept` });
  }
  let walBytes = 0;
  try {
    walBytes = statSync(`${store.path}-wal`).size;
  } catch {
    walBytes = 0;
  }
  checks.push({ name: 'wal', ok: true, detail: bytes(walBytes) });
  return { ok: checks.every((c) => c.ok), checks, status, walBytes };
}
