import { assertDir } from '../../ingest/layout.js';
import { catchUpAdvice, INDEXES_PENDING_ADVICE, mirrorStatus, type MirrorStatus } from '../../ops/status.js';
import type { Run } from '../context.js';
import { withStore } from '../../ops/mirror.js';
import { bytes, count, plural, table } from '../format.js';

function describe(s: MirrorStatus): string {
  const rows = s.files.map((f) => [f.stream, f.path, f.state, f.size === null ? '-' : bytes(f.size), bytes(f.checkpoint),
    bytes(f.behindBytes), count(f.rows), count(f.rejects)]);
  const out = [
    table(['stream', 'file', 'state', 'size', 'checkpoint', 'behind', 'rows', 'rejects'], rows),
    `mirror ${s.db}: ${bytes(s.dbBytes)}, schema v${s.schemaVersion}, ${plural(s.totals.events, 'event')}, ${plural(s.totals.rejects, 'reject')}` +
      (Object.keys(s.rejectsByReason).length ? ` (${Object.entries(s.rejectsByReason).map(([r, n]) => `${r} ${count(n)}`).join(', ')})` : ''),
    s.totals.behindBytes > 0 ? `${bytes(s.totals.behindBytes)} not mirrored yet: ${catchUpAdvice(s.totals.behindBytes, s.totals.unterminatedBytes)}` : 'up to date with the files',
    s.tailer ? `a tailer runs on this mirror (pid ${s.tailer.pid} on ${s.tailer.host}, since ${s.tailer.startedAt})` : 'no tailer runs on this mirror',
    s.lastImport ? `last import completed ${s.lastImport.completedAt}` : 'no import has completed on this mirror',
  ];
  if (s.indexesPending) out.push(INDEXES_PENDING_ADVICE);
  if (s.totals.goneSources > 0) {
    out.push(`${plural(s.totals.goneSources, 'source file is', 'source files are')} gone; ${s.totals.goneSources === 1 ? 'its' : 'their'} ${plural(s.totals.historyRows, 'row')} are kept as history`);
  }
  if (s.prunable.rows > 0) {
    out.push(`\`jsonl-mirror prune\` would drop ${plural(s.prunable.rows, 'row')} of files that are gone (${bytes(s.prunable.bytes)} stored)`);
  }
  if (s.fleet) {
    out.push(`fleet: this machine is host ${s.fleet.host}`,
      table(['host', 'sources', 'rows', 'rejects', 'behind', 'last change'],
        s.fleet.hosts.map((h) => [h.host, count(h.sources), count(h.rows), count(h.rejects), bytes(h.lag_bytes), h.updated_at ?? '-'])));
  }
  if (s.integrity !== 'ok') out.push(`the mirror is damaged (${s.integrity.split('\n')[0]}): run \`jsonl-mirror rebuild\``);
  if (s.mirrorSkips > 0) out.push(`${plural(s.mirrorSkips, 'append')} skipped the mirror step (picked up by later ingests)`);
  return out.join('\n');
}

export const run: Run = (g) => {
  assertDir(g.dir);
  return withStore(g.db, { readonly: true }, (store) => {
    const s = mirrorStatus(store, g.dir);
    return { json: s, human: () => describe(s), exitCode: s.integrity === 'ok' ? 0 : 1 };
  }, g.hostId);
};
