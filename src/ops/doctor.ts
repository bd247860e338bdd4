import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MID_LINE_MS } from '../ingest/lag.js';
import type { Store } from '../store/api.js';
import { bytes } from '../units.js';
import { catchUpAdvice, INDEXES_PENDING_ADVICE, mirrorStatus, type MirrorStatus } from './status.js';
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

/** Was the file written to in the last minute (its unfinished last line is then a writer mid-line)? */
function midLine(dir: string, path: string): boolean {
  const st = statSync(join(dir, path), { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs < MID_LINE_MS;
}

/** Everything an operator asks first, each problem with the command that fixes it. */
export function doctor(store: Store, dir: string): DoctorReport {
  const checks: DoctorCheck[] = [];
  const status = mirrorStatus(store, dir);
  const { integrity } = status;
  checks.push({ name: 'integrity', ok: integrity === 'ok', detail: integrity, fix: integrity === 'ok' ? undefined : 'jsonl-mirror rebuild' });
  checks.push({ name: 'schema', ok: true, detail: `version ${status.schemaVersion}` });
  if (status.indexesPending) checks.push({ name: 'indexes', ok: false, detail: INDEXES_PENDING_ADVICE, fix: 'jsonl-mirror import' });
  const { behindBytes: behind, unterminatedBytes: unterminated } = status.totals;
  // A last line its writer is still writing waits by design: a healthy live log mid-write is up to date.
  const pending = status.files.reduce((n, f) => n + (f.unterminatedBytes > 0 && midLine(dir, f.path) ? f.unterminatedBytes : 0), 0);
  const lagging = behind - pending;
  checks.push({
    name: 'lag',
    ok: lagging === 0 || status.tailer !== null,
    detail: lagging === 0
      ? `up to date with the files${pending > 0 ? ` (${bytes(pending)} of an unfinished last line wait for their newline)` : ''}`
      : `${bytes(lagging)} not mirrored${status.tailer ? ' (a tailer is catching up)' : ''}`,
    fix: lagging > 0 && !status.tailer ? catchUpAdvice(behind, unterminated) : undefined,
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
  if (status.fleet) checks.push(...fleetChecks(status.fleet));
  let walBytes = 0;
  try {
    walBytes = status.fleet ? 0 : statSync(`${store.path}-wal`).size;
  } catch {
    walBytes = 0;
  }
  if (!status.fleet) checks.push({ name: 'wal', ok: true, detail: bytes(walBytes) });
  return { ok: checks.every((c) => c.ok), checks, status, walBytes };
}

/** A host silent for this long while others write is worth a look (its tailer stopped, or its machine is away). */
const QUIET_HOST_MS = 60 * 60 * 1000;

/** PostgreSQL: which hosts feed the mirror, how far behind each recorded itself, and which went quiet. */
function fleetChecks(fleet: NonNullable<MirrorStatus['fleet']>): DoctorCheck[] {
  const newest = Math.max(0, ...fleet.hosts.map((h) => Date.parse(h.updated_at ?? '') || 0));
  const quiet = fleet.hosts.filter((h) => newest - (Date.parse(h.updated_at ?? '') || 0) > QUIET_HOST_MS);
  const me = fleet.hosts.find((h) => h.host === fleet.host);
  return [
    {
      name: 'fleet',
      ok: true,
      detail: `${fleet.hosts.length} host(s): ${fleet.hosts.map((h) => `${h.host} ${h.rows} rows, ${bytes(h.lag_bytes)} behind`).join('; ') || 'none yet'}`,
    },
    {
      name: 'this host',
      ok: me !== undefined,
      detail: me ? `${fleet.host} last wrote ${me.updated_at}` : `no rows from host ${fleet.host} yet`,
      fix: me ? undefined : `jsonl-mirror import --host-id ${fleet.host} (or run jsonl-mirror tail on this machine)`,
    },
    {
      // Not a failure by itself: a machine may simply have logged nothing.
      name: 'quiet hosts',
      ok: true,
      detail: quiet.length
        ? `${quiet.map((h) => `${h.host} (last ${h.updated_at})`).join(', ')} sent nothing for over an hour while others did; if they logged meanwhile, check that \`jsonl-mirror tail\` runs there`
        : 'every host sent rows within the hour of the newest',
    },
  ];
}
