import { MirrorError } from '../../errors.js';
import { isoSecond } from '../../model/rules.js';
import { assertDir } from '../../ingest/layout.js';
import { DEFAULT_CONFIG, loadConfig } from '../../metrics/config.js';
import { METRICS, type MetricArgs, type View } from '../../api/metric-list.js';
import { METRIC_BY_NAME, METRIC_NAMES } from '../../api/metric-names.js';
import { loadReader, type Reader, type SourceChoice } from '../../api/reader-core.js';
import { note, type Run } from '../context.js';
import { refuseEmptyFolder } from '../no-logs.js';
import { bytes, listOf, printList, rowFormatOf, table } from '../format.js';

const render = (view: View): string =>
  view.map((part) => (typeof part === 'string' ? part : table(part.head, part.rows.map((r) => r.map((c) => c ?? ''))))).join('\n');

/** A log far older than every window answers zeros, which looks broken: say why, and how to see it as of its end. */
function staleNote(reader: Reader): void {
  if (reader.answeredBy !== 'sqlite') return; // the scan would read every file again to find out
  const epoch = reader.newestEpoch() ?? 0;
  const days = (Date.now() / 1000 - epoch) / 86400;
  if (epoch === 0 || days < 30) return;
  const at = isoSecond(Math.floor(epoch));
  if (at === null) return; // no date to name, nor a --now to offer
  note(`jsonl-mirror: the newest event is from ${at.slice(0, at.indexOf('T'))}, ${Math.round(days)} days ago, and windows end now; ` +
    `to see the log as it stood then: --now ${at}`);
}

export const run: Run = async (g, o, args) => {
  const name = args[0]!;
  const key = METRIC_BY_NAME.get(name);
  if (!key) throw new MirrorError('INVALID_ARGUMENT', `unknown metric "${name}"; one of: ${METRIC_NAMES.join(', ')}`);
  const format = rowFormatOf(g.json, o);
  const source = o.source as SourceChoice;
  if (!['auto', 'sqlite', 'scan'].includes(source)) throw new MirrorError('INVALID_ARGUMENT', `--source is auto, sqlite or scan, not "${source}"`);
  assertDir(g.dir);
  refuseEmptyFolder(g, 'there is nothing to measure', true);
  // Only the backends --db and --source can use are loaded: neither PostgreSQL's modules for a SQLite mirror nor the scan for --source sqlite.
  const reader = await loadReader({
    dir: g.dir, db: g.db, source, host: (o.fromHost ?? o.host) as string | undefined,
    config: o.config ? loadConfig(o.config as string) : DEFAULT_CONFIG,
    onFallback: (reason) => note(`jsonl-mirror: ${reason}`),
    onProblem: (message) => note(`jsonl-mirror: ${message}`),
    maxLagSeconds: o.maxLag as number | undefined,
  });
  try {
    // commander hands options over untyped; their parsers above give each its type.
    const f = o as MetricArgs & { stream?: string[] };
    const args: MetricArgs = {
      period: f.period, now: f.now, streams: f.stream, gradeUnrounded: f.gradeUnrounded, range: f.range,
      issue: f.issue, type: f.type, limit: f.limit, offset: f.offset, cursor: f.cursor,
    };
    const result = reader.ask(key, args);
    // Of the answer's read: the stale-log check below is a read of its own, which would report its own lag.
    if (reader.lagBytes > 0 && reader.answeredBy === 'sqlite') {
      note(`jsonl-mirror: answered from SQLite ${bytes(reader.lagBytes)} (${reader.lagSeconds.toFixed(1)} s) behind the files: it could not catch up (read-only or locked)`);
    }
    if (f.now === undefined && key !== 'issueEvents') staleNote(reader);
    if (format === 'csv' || format === 'tsv' || format === 'nl') {
      // A list is a row per item; any other answer (dora, costs, history, heatmap) one row of dotted columns (deploy_freq.grade).
      const list = listOf(result);
      printList(format, list ?? [result as Record<string, unknown>], list ? METRICS[key].columns : undefined);
      return { json: null, printed: true };
    }
    return { json: result, human: () => render(METRICS[key].view(result as never)) };
  } finally {
    reader.close();
  }
};
