import { MirrorError } from '../../errors.js';
import { assertDir } from '../../ingest/layout.js';
import { importAll, type ImportSummary } from '../../import/import.js';
import { note, type Run } from '../context.js';
import { openMirror } from '../../ops/mirror.js';
import { isMirrorFile } from '../../ops/place.js';
import { refuseEmptyFolder } from '../no-logs.js';
import { progressHooks } from '../progress.js';
import { bytes, count, plural } from '../format.js';

/** The summary; stream names only when asked for (`--verbose`): a folder may hold thousands. */
export function describe(s: ImportSummary, db: string, verbose = false): string {
  const reasons = Object.entries(s.rejectsByReason).map(([r, n]) => `${r} ${count(n)}`).join(', ');
  const lines = [
    `imported ${plural(s.rows, 'event')} from ${plural(s.files, 'file')} of ${plural(s.streams.length, 'stream')} into ${db} in ${s.seconds.toFixed(1)} s`,
    `  read ${bytes(s.bytes)}; ${plural(s.rejects, 'rejected line')}${reasons ? ` (${reasons})` : ''}; ${plural(s.blanks, 'blank line')} skipped`,
  ];
  if (s.pendingBytes > 0) lines.push(`  ${bytes(s.pendingBytes)} pending in unterminated last lines (taken once finished, or with --final)`);
  if (s.legacy) {
    lines.push(`  ${s.legacy.file}: ${s.legacy.added} cost entries added, ${s.legacy.alreadyImported} already imported` +
      (s.legacy.error ? `; ${s.legacy.error}` : ''));
  }
  if (s.rejects > 0) lines.push('  see them with: jsonl-mirror status, or jsonl-mirror query "SELECT * FROM rejects"');
  if (verbose && s.streams.length > 0) lines.push(`  streams: ${s.streams.join(', ')}`);
  return lines.join('\n');
}

/** How long an import waits for another writer's lock before it gives up with DB_LOCKED. */
const IMPORT_BUSY_MS = 60_000;

export const run: Run = (g, o) => {
  assertDir(g.dir);
  refuseEmptyFolder(g, isMirrorFile(g.db) ? 'nothing was created' : 'nothing was imported', false);
  // A batch job waits its turn: another process's import may hold the write lock for a batch, or an index build, of seconds.
  const store = openMirror(g.db, { busyTimeoutMs: IMPORT_BUSY_MS }, g.hostId);
  const progress = progressHooks(Boolean(o.progress) && !g.json, 'import');
  try {
    const summary = importAll(store, g.dir, {
      streams: o.stream as string[] | undefined,
      final: Boolean(o.final),
      maxLineBytes: o.maxLineBytes as number | undefined,
      legacy: o.legacy as boolean,
      ...progress.hooks,
    });
    const skipped = [...new Map(summary.skipped.map((k) => [k.path, k])).values()];
    for (const k of skipped) if (k.kind === 'not-a-file') note(`jsonl-mirror: ${k.reason}`);
    // A damaged archive is reported like an unreadable file: none of its lines were taken, and the exit says so.
    const unreadable = skipped.filter((k) => k.kind === 'unreadable' || k.kind === 'corrupt-archive');
    if (unreadable.length > 0) {
      throw new MirrorError('FILE_UNREADABLE', `${unreadable.map((k) => k.reason).join('; ')} (every other file was imported)`);
    }
    return { json: summary, human: () => describe(summary, g.db, Boolean(o.verbose)) };
  } finally {
    progress.stop();
    store.close();
  }
};
