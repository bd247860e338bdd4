import { parseIntOption, parseTime } from '../../values.js';
import type { Command } from 'commander';
import { MirrorError } from '../../errors.js';
import { assertDir } from '../../ingest/layout.js';
import { DEFAULT_CONFIG, loadConfig } from '../../metrics/config.js';
import { METRIC_KEYS, METRICS, type MetricArgs, type MetricKey, type View } from '../../api/metric-list.js';
import { createReader, type SourceChoice } from '../../api/reader.js';
import { action, note } from '../context.js';
import { bytes, listOf, printList, rowFormatOf, table } from '../format.js';

/** The metrics by their CLI name, from the one list. */
const BY_NAME = new Map<string, MetricKey>(METRIC_KEYS.map((k) => [METRICS[k].name, k]));

/** The metric names, for completion. */
export const METRIC_NAMES = [...BY_NAME.keys()];

const render = (view: View): string =>
  view.map((part) => (typeof part === 'string' ? part : table(part.head, part.rows.map((r) => r.map((c) => c ?? ''))))).join('\n');

/** A duration: 500ms, 5s, 2m, 1h, or plain seconds. */
function parseDuration(name: string) {
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return (v: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
    if (!m) throw new MirrorError('INVALID_ARGUMENT', `${name} takes a duration such as 5s, 500ms, 2m or 1h, got "${v}"`);
    return Number(m[1]) * unit[m[2] ?? 's']!;
  };
}

function parseNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new MirrorError('INVALID_ARGUMENT', `${name} takes a number, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('metrics')
    .description(`dashboard metrics (METRICS.md): ${METRIC_NAMES.join(', ')}`)
    .argument('<name>', METRIC_KEYS.map((k) => `${METRICS[k].name}: ${METRICS[k].help}`).join('; '))
    .option('--period <days>', 'window in days (each metric has its default)', parseIntOption('--period', 1))
    .option('--now <when>', 'evaluate as of this time: epoch seconds or ISO date (default: now)', parseTime('--now'))
    .option('--stream <name...>', 'streams to read (default events; cost-today reads costs)')
    .option('--grade-unrounded', 'DORA: grade the unrounded values (default: the value as shown, as the dashboard does)')
    .option('--range <hours>', 'timeline: hours before --now (default 24)', parseIntOption('--range'))
    .option('--source <kind>', 'auto | sqlite | scan', 'auto')
    .option('--host <id>', 'with a postgres:// --db: only this host (default: every host)')
    .option('--max-lag <duration>', 'auto: answer from a mirror that cannot catch up if it is at most this far behind (e.g. 5s); default: the files answer',
      parseDuration('--max-lag'))
    .option('--config <file>', 'JSON with prices, fallbackModel and DORA bands')
    .option('--type <type>', 'activity: type t or any t.* (all: every type)')
    .option('--issue <n>', 'activity: one issue; issue-events: the issue', parseNumber('--issue'))
    .option('--limit <n>', 'activity: page size, at most 200', parseIntOption('--limit', 1))
    .option('--offset <n>', 'activity: skip this many', parseIntOption('--offset'))
    .option('--cursor <cursor>', 'activity: continue after a previous page')
    .option('--csv', 'a list result (trends, stages, bottlenecks, activity, ...) as CSV with a header row')
    .option('--tsv', 'a list result as TSV with a header row')
    .option('--nl', 'a list result as one JSON object per line')
    .action(
      action((g, o, args) => {
        const name = args[0]!;
        const key = BY_NAME.get(name);
        if (!key) throw new MirrorError('INVALID_ARGUMENT', `unknown metric "${name}"; one of: ${METRIC_NAMES.join(', ')}`);
        const format = rowFormatOf(g.json, o);
        const source = o.source as SourceChoice;
        if (!['auto', 'sqlite', 'scan'].includes(source)) throw new MirrorError('INVALID_ARGUMENT', `--source is auto, sqlite or scan, not "${source}"`);
        assertDir(g.dir);
        const reader = createReader({
          dir: g.dir, db: g.db, source, host: o.host as string | undefined,
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
          if (reader.lagBytes > 0 && reader.answeredBy === 'sqlite') {
            note(`jsonl-mirror: answered from SQLite ${bytes(reader.lagBytes)} (${reader.lagSeconds.toFixed(1)} s) behind the files: it could not catch up (read-only or locked)`);
          }
          if (format === 'csv' || format === 'tsv' || format === 'nl') {
            const list = listOf(result);
            if (!list) throw new MirrorError('INVALID_ARGUMENT', `metrics ${name} is not a list, so it has no --${format} form; use --json`);
            printList(format, list);
            return { json: null, printed: true };
          }
          return { json: result, human: render(METRICS[key].view(result as never)) };
        } finally {
          reader.close();
        }
      }),
    );
}
