import { assertDir } from '../../ingest/layout.js';
import { verifyMirror, type VerifyReport } from '../../ops/verify.js';
import { catchUpAdvice, mirrorStatus, type MirrorStatus } from '../../ops/status.js';
import type { Run } from '../context.js';
import { withStore } from '../../ops/mirror.js';
import { bytes, count, plural, table } from '../format.js';

function describe(r: VerifyReport, s: MirrorStatus): string {
  const head = `${r.ok ? 'verify passed' : 'verify FAILED'}: ${plural(r.files, 'file')}, ${plural(r.lines, 'line')}, ${plural(r.events, 'event')}, ${plural(r.rejects, 'reject')}` +
    (r.pendingBytes > 0 ? `; ${bytes(r.pendingBytes)} of an unfinished last line wait for their newline` : '');
  if (r.ok) return head;
  const rows = r.problems.slice(0, 50).map((p) => [p.path, count(p.offset), p.problem, p.detail]);
  const more = r.problems.length - rows.length + r.moreProblems;
  return [head, table(['file', 'offset', 'problem', 'detail'], rows), more > 0 ? `... and ${count(more)} more` : '',
    r.behindBytes > 0 ? `bytes after the checkpoint: ${catchUpAdvice(s.totals.behindBytes, s.totals.unterminatedBytes) ?? 'run `jsonl-mirror import` first'}` : '',
    r.problems.some((p) => p.problem !== 'behind' && p.problem !== 'not_mirrored') ? 'the mirror differs from the files: run `jsonl-mirror rebuild`' : '']
    .filter(Boolean).join('\n');
}

export const run: Run = (g) => {
  assertDir(g.dir);
  return withStore(g.db, { readonly: true }, (store) => {
    const r = verifyMirror(store, g.dir);
    const s = mirrorStatus(store, g.dir);
    const advice = catchUpAdvice(s.totals.behindBytes, s.totals.unterminatedBytes);
    return { json: advice ? { ...r, advice } : r, human: () => describe(r, s), exitCode: r.ok ? 0 : 1 };
  }, g.hostId);
};
